"""Mapping files: which source header feeds which canonical column, and how to read values.

A mapping is YAML with `name`, `kind` (a canonical table), `columns` (canonical column →
source header, or a list of alternative headers) and optional `options` that reshape an export
(combine, formats, timezone, values, missing, skip_rows; see `KNOWN_OPTIONS`). Built-in presets
live read-only in `config/mappings/`; mappings people build or import are versioned in the
store (`save`, `saved`). Loading checks a mapping against named rules so a mistake is reported
in words, and `guess_columns` proposes a mapping for an unknown export from every preset's
headers, for the interactive builder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lib.auth import access, audit
from lib.core import store, yamlio
from lib.core.errors import MappingError, MappingSaveError
from lib.core.paths import ROOT
from lib.core.tables import SCOPE, TABLES, get_table
from lib.ingest.reader import normalise_header
from lib.ingest.values import DURATION_UNITS, Options, check_timezone, store_timezone

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
    "combine": "field: [header, header, …], joined with a space before parsing (a date and a "
    "time column; a key unique only over two columns)",
    "formats": "field: [strptime format, …], tried in order, e.g. ['%y%m%d %H:%M:%S']",
    "timezone": "zone of this file's times without an offset, e.g. America/New_York "
    "(default: the store's zone)",
    "values": "field: {source value: canonical value}, case and spaces ignored",
    "values_other": "keep: values that match none of `values` are kept as they are "
    "(default: quarantined with the allowed values listed)",
    "missing": "field or header: [values that mean 'no value'], e.g. {agent: [NO_SERVER]}",
    "skip_rows": "field or header: [values]; rows with them are left out on purpose, counted "
    "and listed in the quarantine report",
}
LINE_ITEMS = ("sum", "first")

# Canonical columns that can be filled from another column when the export lacks them.
DERIVED = {
    ("tickets", "first_response_at"): "first_response_s",
    ("tickets", "resolved_at"): "resolution_s",
}


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

    def title(self, lang: str = "en") -> str:
        """A short name for pickers: the description's first phrase (up to a bracket or the end
        of its first sentence), else the mapping's name."""
        text = re.split(r"[（(。]|\. ", self.describe(lang), maxsplit=1)[0].strip(" .")
        return text or self.name

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
        for canonical, parts in self.combined(headers).items():
            found[canonical] = " + ".join(parts)
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

    def combined(self, headers: list[str]) -> dict[str, list[str]]:
        """Fields built from several columns: field → the file's headers (only when every
        one of them is in the file)."""
        by_norm = {normalise_header(h): h for h in reversed(headers)}
        out = {}
        for canonical, parts in (self.options.get("combine") or {}).items():
            actual = [by_norm.get(normalise_header(p)) for p in _as_list(parts)]
            if all(a is not None for a in actual):
                out[canonical] = actual
        return out

    def header_for(self, key: str, found: dict[str, str], headers: list[str]) -> str | None:
        """The file's header that `missing`/`skip_rows` key names: a mapped field's, or a
        header of the file itself."""
        if key in found and found[key] in headers:
            return found[key]
        by_norm = {normalise_header(h): h for h in headers}
        return by_norm.get(normalise_header(key))

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
            formats=tuple(_as_list((self.options.get("formats") or {}).get(column))),
            timezone=self.options.get("timezone"),
            store_zone=store_timezone(),
            field=column,
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
    problems += _check_reshaping(options, table, kind)
    mapped = {c for c, s in columns.items() if _as_list(s)} | set(constants)
    mapped |= (
        set(options.get("combine") or {}) if isinstance(options.get("combine"), dict) else set()
    )
    for col in table.required:
        derived = DERIVED.get((kind, col))
        if col not in mapped and not (derived and derived in mapped):
            problems.append(
                ("mapping.required_mapped", f"required column '{col}' of {kind} is not mapped")
            )
    return problems


def _field_dict(options: dict, name: str, table, problems: list, fields_only: bool = True):
    """An option that maps fields (or headers) to something; wrong shapes are problems."""
    value = options.get(name) or {}
    if not isinstance(value, dict):
        problems.append((f"mapping.{name}", f"`{name}` must map fields to values"))
        return {}
    for key in value:
        if fields_only and not table.has(str(key)):
            problems.append((f"mapping.{name}", f"{name}.{key}: '{key}' is not a field of "
                             f"{table.name}"))  # fmt: skip
    return value


def _check_reshaping(options: dict, table, kind: str) -> list[tuple[str, str]]:
    """Rules for combine, formats, timezone, values, missing and skip_rows."""
    problems: list[tuple[str, str]] = []
    for col, parts in _field_dict(options, "combine", table, problems).items():
        if len(_as_list(parts)) < 2:
            problems.append(("mapping.combine", f"combine.{col}: give two or more headers"))
    for col, fmts in _field_dict(options, "formats", table, problems).items():
        if table.has(col) and table.column(col).kind not in ("timestamp", "date"):
            problems.append(("mapping.formats", f"formats.{col}: {col} is not a date or time"))
        for fmt in _as_list(fmts):
            if "%" not in fmt:
                problems.append(("mapping.formats", f"formats.{col}: '{fmt}' has no % code"))
    zone = options.get("timezone")
    if zone is not None and not check_timezone(zone):
        problems.append(("mapping.timezone", f"timezone: '{zone}' is not a time zone name "
                         "such as Asia/Shanghai or America/New_York"))  # fmt: skip
    for col, table_of in _field_dict(options, "values", table, problems).items():
        if not isinstance(table_of, dict) or not table_of:
            problems.append(("mapping.values", f"values.{col}: give source value: canonical value"))
    if options.get("values_other", "quarantine") not in ("keep", "quarantine"):
        problems.append(("mapping.values_other", "values_other: use keep or quarantine"))
    for name in ("missing", "skip_rows"):
        for key, listed in _field_dict(options, name, table, problems, fields_only=False).items():
            if not _as_list(listed):
                problems.append((f"mapping.{name}", f"{name}.{key}: list at least one value"))
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
        data = yamlio.load(path.read_text(encoding="utf-8"))
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


def load(name_or_path: str | Path, con=None) -> Mapping:
    """A preset by name (e.g. `zendesk`), a mapping saved in the store (with `con`), or a
    mapping file by path."""
    if con is not None and not (PRESETS_DIR / f"{name_or_path}.yaml").exists():
        found = saved(con).get(str(name_or_path))
        if found is not None:
            return found
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
    """Presets whose required columns are all present and that map a measure too, those
    that map most columns first and, among those, the ones expecting fewest columns the file
    lacks. A per-agent report without dates fits too: it is stored for the period stated at
    upload."""
    fits = []
    for preset in all_presets():
        found, missing = preset.resolve(headers)
        if preset.kind == "agent_daily":
            missing = [c for c in missing if c != "date"]
        if not missing and set(found) - set(preset.table.required) - set(SCOPE):
            fits.append((-len(found), len(preset.columns) - len(found), preset.name))
    return [name for *_, name in sorted(fits)]


def save(con, viewer, mapping: Mapping, why: str = "") -> int:
    """Save a mapping in the store as the next version of its name; returns the version.
    Shipped presets stay read-only: a name of theirs is refused, so a user's `zendesk` never
    replaces the preset."""
    access.require(viewer, "upload")
    from_dict(yamlio.load(mapping.to_yaml()), mapping.name)  # same rules as loading
    name = mapping.name.strip()
    if (PRESETS_DIR / f"{name}.yaml").exists():
        raise MappingSaveError(f"'{name}' is the name of a built-in preset; choose another name")

    def work(cur):
        version = cur.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM mapping_versions WHERE name = ?", [name]
        ).fetchone()[0]
        cur.execute(
            "INSERT INTO mapping_versions VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?)",
            [name, version, mapping.to_yaml(), viewer.username, why or None],
        )
        return version

    version = store.write(con, work, bump=False)
    audit.record(audit.log_of(con), viewer.username, "mapping.save", name,
                 {"version": version, "why": why})  # fmt: skip
    return version


def saved(con) -> dict[str, Mapping]:
    """The latest version of every saved mapping, by name."""
    rows = (
        con.cursor()
        .execute(
            "SELECT name, body FROM mapping_versions QUALIFY row_number() OVER "
            "(PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name"
        )
        .fetchall()
    )
    return {name: from_dict(yamlio.load(body), name) for name, body in rows}


def history(con, name: str):
    """Every version of a saved mapping: version, when, who, why."""
    return con.cursor().execute(
        "SELECT version, saved_at, saved_by, why FROM mapping_versions WHERE name = ? "
        "ORDER BY version DESC", [name]).df()  # fmt: skip


def import_yaml(con, viewer, text: str, why: str = "imported") -> Mapping:
    """A mapping from a YAML file someone exported, checked and saved as a new version."""
    try:
        data = yamlio.load(text)
    except yaml.YAMLError as exc:
        raise MappingError("import", [("mapping.valid_yaml", f"not valid YAML: {exc}")]) from None
    mapping = from_dict(data, "import")
    save(con, viewer, mapping, why)
    return mapping


def explain(mapping: Mapping) -> str:
    """A mapping in words: which header feeds which field, and what each option does."""
    table = mapping.table
    lines = [f"{mapping.name}: fills {table.name} ({table.label_en})."]
    if mapping.describe("en"):
        lines.append(mapping.describe("en"))
    for col, headers in mapping.columns.items():
        lines.append(f"- {col} from the column {' or '.join(repr(h) for h in headers)}")
    opts = mapping.options
    for col, parts in (opts.get("combine") or {}).items():
        lines.append(f"- {col} from {' + '.join(repr(p) for p in parts)}, joined with a space")
    for col, fmts in (opts.get("formats") or {}).items():
        lines.append(f"- {col} read with the format(s) {', '.join(_as_list(fmts))}")
    if opts.get("timezone"):
        lines.append(f"- times without an offset are in {opts['timezone']}")
    for col, table_of in (opts.get("values") or {}).items():
        pairs = ", ".join(f"{k} → {v}" for k, v in table_of.items())
        other = "kept" if opts.get("values_other") == "keep" else "quarantined"
        lines.append(f"- {col} values: {pairs}; any other value is {other}")
    for key, values in (opts.get("missing") or {}).items():
        lines.append(f"- {key}: {', '.join(map(repr, _as_list(values)))} mean no value")
    for key, values in (opts.get("skip_rows") or {}).items():
        lines.append(f"- rows whose {key} is {' or '.join(map(repr, _as_list(values)))} are "
                     "skipped, counted and listed in the quarantine report")  # fmt: skip
    for key in ("dayfirst", "duration_unit", "csat_scale", "line_items", "max_duration_days",
                "skip_footer_rows", "encoding"):  # fmt: skip
        if key in opts:
            lines.append(f"- {key}: {opts[key]} ({KNOWN_OPTIONS[key].split(';')[0]})")
    return "\n".join(lines)


def from_selection(name: str, kind: str, chosen: dict[str, str | None], options: dict) -> Mapping:
    """A mapping from the builder's picks (canonical column → header or None); checked."""
    data = {
        "name": name.strip() or "my_mapping",
        "kind": kind,
        "columns": {col: header for col, header in chosen.items() if header},
        "options": {k: v for k, v in options.items() if v not in (None, "", [], {})},
    }
    return from_dict(data, data["name"])
