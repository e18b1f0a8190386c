"""Mapping files: which source header feeds which canonical column, and how to read values.

A mapping is YAML with `name`, `kind` (a canonical table), `columns` (canonical column →
source header, or a list of alternative headers) and optional `options`. Built-in presets
live in `config/mappings/`; a user's own file works the same way. Loading checks the mapping
against named rules so a mistake is reported in words, and `guess_columns` proposes a mapping
for an unknown export from every preset's headers, for the interactive builder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lib.problems import RuleProblems
from lib.reader import normalise_header
from lib.store import ROOT
from lib.tables import TABLES, get_table
from lib.values import DURATION_UNITS, Options

PRESETS_DIR = ROOT / "config" / "mappings"

KNOWN_OPTIONS = {
    "dayfirst": "true/false: 26/08/2023 is day-first",
    "encoding": "auto (default), utf-8, gb18030, utf-16 …",
    "csat_scale": "the top rating, e.g. 5 or 10",
    "csat_positive": "text ratings that mean satisfied, e.g. [Good]",
    "csat_negative": "text ratings that mean dissatisfied, e.g. [Bad]",
    "duration_unit": "unit of bare numbers in duration columns (seconds, minutes, hours), "
    "or a map from column to unit",
    "skip_footer_rows": "how many lines at the end are not data",
    "header_row": "the row number of the header, when it cannot be found automatically",
    "sheet": "the Excel sheet to read",
    "extract": "column: regular expression whose first group is the value",
    "constants": "column: value, for columns the export does not have",
    "line_items": "an order over several rows (one per item): `sum` adds up money and count "
    "columns per order (marketplace item exports); `first` keeps the order's first row, for "
    "exports such as Shopify's that give order totals on the first line only",
    "max_duration_days": "plausibility limit for waits and durations, in days (default 90)",
}
LINE_ITEMS = ("sum", "first")

# Canonical columns that can be filled from another column when the export lacks them.
DERIVED = {
    ("tickets", "first_response_at"): "first_response_s",
    ("tickets", "resolved_at"): "resolution_s",
}


class MappingError(RuleProblems):
    """A mapping breaks one or more rules; `problems` lists (rule, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        super().__init__(f"Mapping {source} has problems", problems)


@dataclass
class Mapping:
    name: str
    kind: str
    columns: dict[str, list[str]]
    options: dict = field(default_factory=dict)
    description: str | dict = ""  # text, or {zh: …, en: …}
    path: Path | None = None

    def describe(self, lang: str = "en") -> str:
        if isinstance(self.description, dict):
            return str(self.description.get(lang) or self.description.get("en") or "")
        return self.description

    @property
    def table(self):
        return get_table(self.kind)

    def expected_headers(self) -> set[str]:
        return {normalise_header(h) for alts in self.columns.values() for h in alts}

    def resolve(self, headers: list[str]) -> tuple[dict[str, str], list[str]]:
        """Map canonical columns to the file's actual headers; also list unmet required ones."""
        by_norm: dict[str, str] = {}
        for h in headers:
            by_norm.setdefault(normalise_header(h), h)
        found = {}
        for canonical, alternatives in self.columns.items():
            for alt in alternatives:
                actual = by_norm.get(normalise_header(alt))
                if actual is not None:
                    found[canonical] = actual
                    break
        constants = self.options.get("constants") or {}
        missing = []
        for col in self.table.required:
            if col in found or col in constants:
                continue
            derived = DERIVED.get((self.kind, col))
            if derived and derived in found:
                continue
            missing.append(col)
        return found, missing

    def duration_unit(self, column: str) -> str:
        unit = self.options.get("duration_unit", "seconds")
        if isinstance(unit, dict):
            return unit.get(column, "seconds")
        return unit

    def parse_options(self, column: str) -> Options:
        return Options(
            dayfirst=self.options.get("dayfirst"),
            duration_unit=self.duration_unit(column),
            csat_scale=int(self.options.get("csat_scale", 5)),
            csat_positive=tuple(self.options.get("csat_positive") or ()),
            csat_negative=tuple(self.options.get("csat_negative") or ()),
            rescale_to_5=(self.kind == "tickets"),
        )

    @property
    def line_items(self) -> str | None:
        """How an order over several rows is stored: 'sum', 'first' or None (one row each).
        `true`, from earlier mappings, means 'first'."""
        items = self.options.get("line_items")
        return "first" if items is True else items or None

    @property
    def max_duration_days(self) -> float:
        return float(self.options.get("max_duration_days", 90))

    def to_yaml(self) -> str:
        data = {"name": self.name, "kind": self.kind}
        if self.description:
            data["description"] = self.description
        data["columns"] = {k: (v[0] if len(v) == 1 else list(v)) for k, v in self.columns.items()}
        if self.options:
            data["options"] = self.options
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)] if str(value).strip() else []


def check(data: dict, source: str) -> list[tuple[str, str]]:
    """Named rules a mapping must follow; returns (rule, message) for each broken one."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        return [("mapping.is_mapping", "the file must be a YAML mapping with name, kind, columns")]
    if not str(data.get("name") or "").strip():
        problems.append(("mapping.has_name", "give the mapping a `name`"))
    kind = data.get("kind")
    if kind not in TABLES:
        problems.append(
            ("mapping.kind_known", f"`kind` is '{kind}'; use one of {', '.join(TABLES)}")
        )
        return problems
    table = TABLES[kind]
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        problems.append(("mapping.has_columns", "`columns` must map canonical columns to headers"))
        return problems
    for col, src in columns.items():
        if not table.has(col):
            names = ", ".join(c.name for c in table.columns)
            problems.append(
                ("mapping.column_known", f"'{col}' is not a column of {kind}; columns: {names}")
            )
        elif not _as_list(src):
            problems.append(("mapping.header_given", f"'{col}' has no source header"))
    options = data.get("options") or {}
    if not isinstance(options, dict):
        problems.append(("mapping.options_mapping", "`options` must be a mapping"))
        options = {}
    for key in options:
        if key not in KNOWN_OPTIONS:
            problems.append(
                (
                    "mapping.option_known",
                    f"unknown option '{key}'; known: {', '.join(KNOWN_OPTIONS)}",
                )
            )
    constants = options.get("constants") or {}
    for col in list(constants) + list(options.get("extract") or {}):
        if not table.has(col):
            problems.append(("mapping.column_known", f"option names unknown column '{col}'"))
    for col, pattern in (options.get("extract") or {}).items():
        try:
            if re.compile(str(pattern)).groups < 1:
                problems.append(
                    ("mapping.extract_group", f"extract pattern for '{col}' needs a (group)")
                )
        except re.error as exc:
            problems.append(("mapping.extract_regex", f"extract pattern for '{col}': {exc}"))
    units = options.get("duration_unit", "seconds")
    for unit in units.values() if isinstance(units, dict) else [units]:
        if str(unit).lower() not in DURATION_UNITS:
            problems.append(("mapping.duration_unit", f"unknown duration unit '{unit}'"))
    scale = options.get("csat_scale", 5)
    if not isinstance(scale, int) or not 2 <= scale <= 10:
        problems.append(("mapping.csat_scale", "`csat_scale` must be a whole number from 2 to 10"))
    if "dayfirst" in options and not isinstance(options["dayfirst"], bool):
        problems.append(("mapping.dayfirst", "`dayfirst` must be true or false"))
    items = options.get("line_items")
    if items is not None and items not in LINE_ITEMS and items is not True:
        problems.append(("mapping.line_items", f"`line_items` must be sum or first, not '{items}'"))
    limit = options.get("max_duration_days", 90)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
        problems.append(("mapping.max_duration_days",
                         f"`max_duration_days` must be a number of days above 0, not '{limit}'"))  # fmt: skip
    mapped = {c for c, s in columns.items() if _as_list(s)} | set(constants)
    for col in table.required:
        derived = DERIVED.get((kind, col))
        if col not in mapped and not (derived and derived in mapped):
            problems.append(
                ("mapping.required_mapped", f"required column '{col}' of {kind} is not mapped")
            )
    return problems


def from_dict(data: dict, source: str = "mapping", path: Path | None = None) -> Mapping:
    problems = check(data, source)
    if problems:
        raise MappingError(source, problems)
    return Mapping(
        name=str(data["name"]).strip(),
        kind=data["kind"],
        columns={k: _as_list(v) for k, v in data["columns"].items() if _as_list(v)},
        options=dict(data.get("options") or {}),
        description=data.get("description") or "",
        path=path,
    )


def load_file(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(
            str(path), [("mapping.readable", f"cannot read the file: {exc}")]
        ) from None
    except yaml.YAMLError as exc:
        raise MappingError(str(path), [("mapping.valid_yaml", f"not valid YAML: {exc}")]) from None
    return from_dict(data, str(path), path)


def preset_names(kind: str | None = None) -> list[str]:
    names = []
    for p in sorted(PRESETS_DIR.glob("*.yaml")):
        if kind is None or load_file(p).kind == kind:
            names.append(p.stem)
    return names


def load(name_or_path: str | Path) -> Mapping:
    """A preset by name (e.g. `zendesk`) or a mapping file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise MappingError(str(path), [("mapping.exists", "the mapping file does not exist")])
        return load_file(path)
    preset = PRESETS_DIR / f"{name_or_path}.yaml"
    if not preset.exists():
        raise MappingError(
            str(name_or_path),
            [("mapping.exists", f"no preset of that name; presets: {', '.join(preset_names())}")],
        )
    return load_file(preset)


def all_presets() -> list[Mapping]:
    return [load_file(p) for p in sorted(PRESETS_DIR.glob("*.yaml"))]


def guess_columns(headers: list[str], kind: str) -> dict[str, str]:
    """Propose a source header for each canonical column, from names and every preset."""
    table = get_table(kind)
    synonyms: dict[str, list[str]] = {
        c.name: [c.name, c.name.replace("_", " "), c.label_zh] for c in table.columns
    }
    for preset in all_presets():
        if preset.kind == kind:
            for col, alts in preset.columns.items():
                synonyms[col].extend(alts)
    by_norm = {normalise_header(h): h for h in headers}
    guesses: dict[str, str] = {}
    taken: set[str] = set()
    for col, names in synonyms.items():
        for name in names:
            actual = by_norm.get(normalise_header(name)) if name else None
            if actual and actual not in taken:
                guesses[col] = actual
                taken.add(actual)
                break
    return guesses


def suggest_presets(headers: list[str]) -> list[str]:
    """Presets whose required columns are all present, those that map most columns first."""
    fits = []
    for preset in all_presets():
        found, missing = preset.resolve(headers)
        if not missing:
            fits.append((-len(found), preset.name))
    return [name for _, name in sorted(fits)]


def save(mapping: Mapping, directory: Path | None = None) -> Path:
    """Write a mapping as YAML (into the presets folder unless told otherwise)."""
    directory = directory or PRESETS_DIR
    from_dict(yaml.safe_load(mapping.to_yaml()), mapping.name)  # same rules as loading
    safe = re.sub(r"[^\w\-]+", "_", mapping.name.strip()).strip("_") or "mapping"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{safe}.yaml"
    path.write_text(mapping.to_yaml(), encoding="utf-8")
    return path


def from_selection(name: str, kind: str, chosen: dict[str, str | None], options: dict) -> Mapping:
    """A mapping from the builder's picks (canonical column → header or None); checked."""
    data = {
        "name": name.strip() or "my_mapping",
        "kind": kind,
        "columns": {col: header for col, header in chosen.items() if header},
        "options": {k: v for k, v in options.items() if v not in (None, "", [], {})},
    }
    return from_dict(data, data["name"])
