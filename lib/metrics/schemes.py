"""Scoring schemes: weights, thresholds, grades and gates, checked, versioned and looked up.

A scheme is YAML (presets in `config/schemes/`): dimensions with a weight each, KPIs inside a
dimension with a weight, a floor (scores 0) and a target (scores 100) and optional step bands,
grade bands with Chinese and English names, gates, and optional shrinkage of small-sample
rates toward the team. Weights are shares of 100 % whatever numbers are typed.

Every save is a new version recording who, when, why and what changed; a period is scored
with the version in force at its end, unless "what if today's weights had applied" is asked.
A built-in preset counts as version 1 until someone saves a change.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from lib.auth import access, audit
from lib.core import errors, store, yamlio
from lib.core.errors import SchemeError
from lib.core.i18n import t
from lib.core.paths import ROOT
from lib.metrics.kpis import Catalogue, load_catalogue

PRESETS_DIR = ROOT / "config" / "schemes"
DEFAULT = "balanced"
GATE_ACTIONS = ("cap", "zero")
PRESET_SAVED_AT = dt.datetime(1970, 1, 1)  # a preset applies to every past period


ConflictError = errors.ConflictError  # someone saved the scheme since it was opened


@dataclass(frozen=True)
class Rule:
    kpi: str
    dimension: str
    share: float  # effective weight: dimension share × KPI share inside it
    floor: float
    target: float
    bands: tuple[tuple[float, float], ...] = ()
    min_sample: int | None = None


@dataclass(frozen=True)
class Grade:
    min: float
    code: str
    zh: str
    en: str

    def label(self, lang: str = "en") -> str:
        return f"{self.zh} {self.code}" if lang == "zh" else f"{self.code} · {self.en}"


@dataclass(frozen=True)
class Scheme:
    name: str
    zh: str
    en: str
    description: dict
    rules: tuple[Rule, ...]
    grades: tuple[Grade, ...]
    gates: dict = field(default_factory=dict)
    shrinkage: float = 0.0
    body: dict = field(default_factory=dict, compare=False, hash=False)
    version: int | None = None
    business_hours: bool = False  # time-based KPIs count only the shop's service hours
    in_force_from: dt.date | None = None  # None: the built-in preset, in force from the start

    def label(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def kpi_ids(self) -> list[str]:
        return [r.kpi for r in self.rules]


def _num(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check(body: dict, catalogue: Catalogue | None = None) -> list[tuple[str, str]]:
    """Named rules a scheme must follow; (rule, message) for each broken one."""
    catalogue = catalogue or load_catalogue()
    problems: list[tuple[str, str]] = []
    if not isinstance(body, dict):
        return [("scheme.is_mapping", "a scheme is a YAML mapping")]
    if not str(body.get("name") or "").strip():
        problems.append(("scheme.has_name", "give the scheme a name"))
    for lang in ("zh", "en"):
        if not str(body.get(lang) or "").strip():
            problems.append(("scheme.has_labels", f"no {lang} title"))
    dims = body.get("dimensions") or {}
    if not isinstance(dims, dict) or not dims:
        return problems + [("scheme.has_dimensions", "the scheme has no dimensions")]
    any_weight = False
    for dim, spec in dims.items():
        if dim not in catalogue.dimensions:
            problems.append(("scheme.dimension_known", f"unknown dimension '{dim}'"))
        spec = spec or {}
        dw = _num(spec.get("weight"))
        if dw is None or dw < 0:
            problems.append(("scheme.weight_valid", f"{dim}: the weight must be a number ≥ 0"))
        for kid, rule in (spec.get("kpis") or {}).items():
            rule = rule or {}
            if kid not in catalogue.kpis:
                problems.append(("scheme.kpi_known", f"unknown KPI '{kid}'"))
                continue
            kpi = catalogue.get(kid)
            w = _num(rule.get("weight", 1))
            if w is None or w < 0:
                problems.append(("scheme.weight_valid", f"{kid}: the weight must be a number ≥ 0"))
            elif w > 0 and (dw or 0) > 0:
                any_weight = True
            floor, target = _num(rule.get("floor")), _num(rule.get("target"))
            if floor is None or target is None:
                problems.append(("scheme.thresholds_given", f"{kid}: give a floor and a target"))
                continue
            if floor == target:
                problems.append(
                    ("scheme.thresholds_distinct", f"{kid}: floor and target are equal")
                )
            elif kpi.higher_is_better and target < floor:
                problems.append(("scheme.thresholds_direction",
                                 f"{kid}: higher is better, so the target must be above the floor"))  # fmt: skip
            elif not kpi.higher_is_better and target > floor:
                problems.append(("scheme.thresholds_direction",
                                 f"{kid}: lower is better, so the target must be below the floor"))  # fmt: skip
            if kpi.kind == "rate" and not (0 <= floor <= 1 and 0 <= target <= 1):
                problems.append(("scheme.rate_range",
                                 f"{kid}: rates are shares from 0 to 1 (0.95 means 95 %)"))  # fmt: skip
            for band in rule.get("bands") or []:
                if not (isinstance(band, (list, tuple)) and len(band) == 2 and
                        _num(band[0]) is not None and 0 <= (_num(band[1]) or -1) <= 100):  # fmt: skip
                    problems.append(("scheme.bands_valid",
                                     f"{kid}: a band is [threshold, score 0–100]"))  # fmt: skip
            ms = rule.get("min_sample")
            if ms is not None and (not isinstance(ms, int) or ms < 1):
                problems.append(
                    ("scheme.min_sample", f"{kid}: min_sample must be a whole number ≥ 1")
                )
    if not any_weight:
        problems.append(("scheme.weights_not_all_zero", "all weights are zero; give some weight"))
    grades = body.get("grades") or []
    if not grades:
        problems.append(("scheme.has_grades", "give at least one grade band"))
    mins = [_num(g.get("min")) for g in grades]
    if any(m is None for m in mins) or mins != sorted(mins, reverse=True):
        problems.append(("scheme.grades_ordered", "grade bands go from the highest minimum down"))
    for g in grades:
        if not all(str(g.get(k) or "").strip() for k in ("code", "zh", "en")):
            problems.append(("scheme.grade_labels", "each grade needs a code, zh and en names"))
    for gate, spec in (body.get("gates") or {}).items():
        if gate != "critical_qa_failure":
            problems.append(("scheme.gate_known", f"unknown gate '{gate}'"))
        elif (spec or {}).get("action") not in GATE_ACTIONS:
            problems.append(("scheme.gate_action", f"{gate}: action is cap or zero"))
        elif spec["action"] == "cap" and not 0 <= (_num(spec.get("value")) or -1) <= 100:
            problems.append(("scheme.gate_value", f"{gate}: the cap is a score from 0 to 100"))
    shrink = _num(body.get("shrinkage", 0))
    if shrink is None or shrink < 0:
        problems.append(("scheme.shrinkage", "shrinkage is a number of samples ≥ 0 (0 = off)"))
    if not isinstance(body.get("business_hours", False), bool):
        problems.append(("scheme.business_hours", "business_hours is true or false"))
    return problems


def from_dict(body: dict, catalogue: Catalogue | None = None, version: int | None = None) -> Scheme:
    catalogue = catalogue or load_catalogue()
    problems = check(body, catalogue)
    if problems:
        raise SchemeError(str(body.get("name", "?")) if isinstance(body, dict) else "?", problems)
    dims = body["dimensions"]
    dim_total = sum(float(d.get("weight", 0)) for d in dims.values())
    rules = []
    for dim, spec in dims.items():
        kpis = spec.get("kpis") or {}
        k_total = sum(float((r or {}).get("weight", 1)) for r in kpis.values())
        for kid, r in kpis.items():
            r = r or {}
            share = 0.0
            if dim_total > 0 and k_total > 0:
                share = float(spec["weight"]) / dim_total * float(r.get("weight", 1)) / k_total
            bands = tuple(sorted((float(a), float(b)) for a, b in r.get("bands") or []))
            rules.append(Rule(kid, dim, share, float(r["floor"]), float(r["target"]), bands,
                              r.get("min_sample")))  # fmt: skip
    grades = tuple(
        Grade(float(g["min"]), str(g["code"]), str(g["zh"]), str(g["en"])) for g in body["grades"]
    )
    return Scheme(
        str(body["name"]), str(body["zh"]), str(body["en"]), dict(body.get("description") or {}),
        tuple(rules), grades, dict(body.get("gates") or {}), float(body.get("shrinkage", 0)),
        body, version, bool(body.get("business_hours", False)),
    )  # fmt: skip


@lru_cache(maxsize=128)
def _from_text(text: str, version: int | None) -> Scheme:
    """A stored scheme, parsed and checked once per distinct text."""
    return from_dict(yamlio.load(text), None, version)


def load_file(path: str | Path, catalogue: Catalogue | None = None) -> Scheme:
    return from_dict(yamlio.load(Path(path).read_text(encoding="utf-8")), catalogue)


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_body(name: str) -> dict:
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.exists():
        raise SchemeError(name, [("scheme.exists", f"no preset '{name}'; presets: "
                                  f"{', '.join(preset_names())}")])  # fmt: skip
    return yamlio.load(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- versions


def names(con) -> list[str]:
    saved = [
        r[0] for r in con.cursor().execute("SELECT DISTINCT scheme FROM scheme_versions").fetchall()
    ]
    return sorted(set(preset_names()) | set(saved))


def versions(con, name: str) -> pd.DataFrame:
    """The version history of a scheme, newest first (a preset never saved: its one version)."""
    frame = (
        con.cursor()
        .execute(
            f"SELECT version, saved_at, {EFFECTIVE} AS in_force_from, saved_by, reason, diff "
            "FROM scheme_versions WHERE scheme = ? ORDER BY version DESC",
            [name],
        )
        .df()
    )
    if frame.empty and name in preset_names():
        frame = pd.DataFrame([{"version": 1, "saved_at": PRESET_SAVED_AT, "in_force_from": None,
                               "saved_by": "preset", "reason": "built-in preset", "diff": ""}])  # fmt: skip
    return frame


def get(con, name: str, version: int | None = None, catalogue: Catalogue | None = None) -> Scheme:
    """A scheme by name: the given version, or the latest."""
    sql = "SELECT version, body, in_force_from, saved_at FROM scheme_versions WHERE scheme = ?"
    params: list = [name]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    row = con.cursor().execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchone()
    if row:
        return _dated(_stored(row[1], row[0], catalogue), row[2], row[3])
    if version not in (None, 1):
        raise SchemeError(name, [("scheme.version_exists", f"there is no version {version}")])
    path = PRESETS_DIR / f"{name}.yaml"
    if path.exists():
        return _stored(path.read_text(encoding="utf-8"), 1, catalogue)
    return from_dict(preset_body(name), catalogue, 1)  # raises: no such preset


def _stored(text: str, version: int, catalogue: Catalogue | None) -> Scheme:
    """A scheme from YAML text; with the standard catalogue, parsed once per distinct text."""
    if catalogue is None:  # a copy: pages edit bodies, and the parsed scheme is shared
        cached = _from_text(text, version)
        return dataclasses.replace(cached, body=copy.deepcopy(cached.body))
    return from_dict(yamlio.load(text), catalogue, version)


EFFECTIVE = "coalesce(in_force_from, CAST(saved_at AS DATE))"


def _dated(scheme: Scheme, in_force_from, saved_at) -> Scheme:
    """The scheme with the day its version is in force from (None for the built-in preset)."""
    day = in_force_from or (saved_at.date() if saved_at and saved_at > PRESET_SAVED_AT else None)
    return dataclasses.replace(scheme, in_force_from=day)


def in_force(con, name: str, when: dt.date | dt.datetime, catalogue=None) -> Scheme:
    """The version in force for a period ending (exclusive) on `when`: the one whose
    in-force day is latest on or before the period's last day (the newest version on a tie)."""
    day = when.date() if isinstance(when, dt.datetime) else when
    row = con.cursor().execute(
        f"SELECT version, body, in_force_from, saved_at FROM scheme_versions WHERE scheme = ? "
        f"AND {EFFECTIVE} < ? ORDER BY {EFFECTIVE} DESC, version DESC LIMIT 1", [name, day],
    ).fetchone()  # fmt: skip
    if row is None:  # nothing in force yet: the first version is the best account of the rules
        row = con.cursor().execute(
            "SELECT version, body, in_force_from, saved_at FROM scheme_versions WHERE scheme = ? "
            "ORDER BY version LIMIT 1", [name]).fetchone()  # fmt: skip
    if row:
        return _dated(_stored(row[1], row[0], catalogue), row[2], row[3])
    return get(con, name, 1, catalogue)  # the preset


def in_force_words(scheme: Scheme, lang: str = "en") -> str:
    """Which version scored a period, in words: "第 4 版，自 2026-10 起生效" / "version 4, in
    force from 2026-10-01"; the built-in preset says so."""

    if not scheme.version:
        return t("scheme.from_file", lang)
    if scheme.in_force_from is None:
        return t("scheme.builtin", lang, version=scheme.version)
    return t("scheme.in_force", lang, version=scheme.version, day=f"{scheme.in_force_from}")


def _flatten(body, prefix: str = "") -> dict[str, object]:
    out = {}
    if isinstance(body, dict):
        for k, v in body.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(body, list):  # grade bands: grades.0.min
        for i, v in enumerate(body):
            out.update(_flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = body
    return out


def diff(old: dict, new: dict) -> list[str]:
    """Changes between two scheme bodies, one readable line each."""
    a, b = _flatten(old), _flatten(new)
    lines = []
    for key in sorted(set(a) | set(b)):
        if key in a and key not in b:
            lines.append(f"{key}: removed (was {a[key]!r})")
        elif key not in a:
            lines.append(f"{key}: added {b[key]!r}")
        elif a[key] != b[key]:
            lines.append(f"{key}: {a[key]!r} → {b[key]!r}")
    return lines


FIELD_WORDS = {"weight": ("权重", "weight"), "floor": ("0 分线", "floor"),
               "target": ("满分线", "target"), "min_sample": ("最少样本", "minimum sample"),
               "bands": ("分档", "bands")}  # fmt: skip


def diff_words(
    old: dict, new: dict, lang: str = "en", catalogue: Catalogue | None = None
) -> list[str]:
    """`diff` in words people use: "质检得分 权重 2 → 5", "CSAT floor 60% → 70%", not the
    keys of the YAML; anything else is shown as `diff` shows it."""
    catalogue = catalogue or load_catalogue()
    a, b = _flatten(old), _flatten(new)
    zh = lang == "zh"
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) == b.get(key):
            continue
        parts = key.split(".")
        if parts[0] == "dimensions" and len(parts) == 3 and parts[2] == "weight":
            what = catalogue.dimensions.get(parts[1], {}).get(lang, parts[1])
            field, factor = FIELD_WORDS["weight"][0 if zh else 1], 1.0
        elif parts[0] == "dimensions" and len(parts) == 5 and parts[4] in FIELD_WORDS:
            kpi = catalogue.kpis.get(parts[3])
            what = kpi.label(lang) if kpi else parts[3]
            field = FIELD_WORDS[parts[4]][0 if zh else 1]
            factor = unit_of(kpi)[1] if parts[4] in ("floor", "target") else 1.0
        else:
            out.append(next(line for line in diff(old, new) if line.startswith(key + ":")))
            continue
        unit = "%" if factor == 100.0 else ""

        def shown(v, factor=factor, unit=unit):
            if v is None:
                return "—"
            return (
                f"{_plain_number(round(float(v) * factor, 6))}{unit}"
                if isinstance(v, (int, float))
                else str(v)
            )

        out.append(f"{what} {field} {shown(a.get(key))} → {shown(b.get(key))}")
    return out


def save(con, viewer: access.Viewer, body: dict, *, reason: str, base_version: int | None = None,
         catalogue: Catalogue | None = None, now: dt.datetime | None = None,
         in_force_from: dt.date | None = None) -> int:  # fmt: skip
    """Save a new version; returns its number. Refuses invalid schemes, a missing reason, and
    (with `base_version`) a save on top of a version someone else has replaced meanwhile. The
    version is in force from `in_force_from` (default: the day it is saved); a day in the past
    scores the periods since then again under it, on purpose, and the audit log says so."""
    access.require(viewer, "edit_schemes")
    user = viewer.username
    scheme = from_dict(body, catalogue)
    if not str(reason or "").strip():
        raise SchemeError(scheme.name, [("scheme.reason_given", "say why the scheme changes")])
    with store.transaction(con) as cur:
        latest = cur.execute(
            "SELECT max(version) FROM scheme_versions WHERE scheme = ?", [scheme.name]
        ).fetchone()[0]
        if latest is None and scheme.name in preset_names():
            cur.execute(
                "INSERT INTO scheme_versions (scheme, version, saved_at, saved_by, reason, body, "
                "diff) VALUES (?, 1, ?, 'preset', 'built-in preset', ?, '')",
                [scheme.name, PRESET_SAVED_AT, yaml.safe_dump(preset_body(scheme.name),
                                                              allow_unicode=True, sort_keys=False)],
            )  # fmt: skip
            latest = 1
        current = latest or 0
        if base_version is not None and base_version != current:
            raise ConflictError(
                f"'{scheme.name}' was saved as version {current} after you opened version "
                f"{base_version}; reload it and apply your change again."
            )
        row = cur.execute(
            "SELECT body FROM scheme_versions WHERE scheme = ? ORDER BY version DESC LIMIT 1",
            [scheme.name],
        ).fetchone()
        changes = diff(yamlio.load(row[0]) if row else {}, body)
        version = current + 1
        saved_at = now or dt.datetime.now()
        cur.execute(
            "INSERT INTO scheme_versions (scheme, version, saved_at, saved_by, reason, body, diff, "
            "in_force_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [scheme.name, version, saved_at, user, reason.strip(),
             yaml.safe_dump(body, allow_unicode=True, sort_keys=False), "\n".join(changes),
             in_force_from or saved_at.date()],
        )  # fmt: skip
    day = in_force_from or saved_at.date()
    audit.record(audit.log_of(con), user, "scheme.save", f"{scheme.name} v{version}",
                 {"reason": reason.strip(), "changes": changes, "in_force_from": str(day),
                  "rescores_past": day < saved_at.date()})  # fmt: skip
    return version


def resolve(con, name_or_path: str | None, when: dt.date | None = None, *, what_if: bool = False,
            catalogue=None) -> Scheme:  # fmt: skip
    """A scheme from a name (in force at `when`, or latest with what_if) or a YAML path."""
    name_or_path = name_or_path or DEFAULT
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise SchemeError(name_or_path, [("scheme.exists", "the scheme file does not exist")])
        return load_file(path, catalogue)
    if name_or_path not in names(con):
        raise SchemeError(name_or_path, [("scheme.exists", f"no scheme of that name; schemes: "
                                          f"{', '.join(names(con))}")])  # fmt: skip
    if what_if or when is None:
        return get(con, name_or_path, catalogue=catalogue)
    return in_force(con, name_or_path, when, catalogue)


# ---------------------------------------------------------------- editing as tables


def unit_of(kpi) -> tuple[str, float]:
    """The unit people edit a KPI's floor and target in, and its factor from stored values:
    rates in %, times in seconds, money in ¥."""
    if kpi is None:
        return "", 1.0
    if kpi.kind == "rate" or kpi.unit == "share":
        return "%", 100.0
    if kpi.kind == "duration":
        return "s", 1.0
    return ("¥", 1.0) if kpi.unit == "currency" else ("", 1.0)


def to_tables(body: dict, catalogue: Catalogue | None = None, lang: str = "en"):
    """A scheme as two editable tables: dimension weights, and KPI weights and thresholds (in
    the unit people think in: 70 for a 70 % floor, with a unit column)."""
    catalogue = catalogue or load_catalogue()
    dims, rows = [], []
    for dim, spec in (body.get("dimensions") or {}).items():
        dims.append({"dimension": dim, "name": catalogue.dimensions.get(dim, {}).get(lang, dim),
                     "weight": float(spec.get("weight", 0))})  # fmt: skip
        for kid, rule in (spec.get("kpis") or {}).items():
            kpi = catalogue.kpis.get(kid)
            unit, factor = unit_of(kpi)
            rows.append({
                "kpi": kid, "name": kpi.label(lang) if kpi else kid, "dimension": dim,
                "dimension_name": catalogue.dimensions.get(dim, {}).get(lang, dim),
                "weight": float(rule.get("weight", 1)), "unit": unit,
                "floor": round(float(rule["floor"]) * factor, 9),
                "target": round(float(rule["target"]) * factor, 9),
                # The KPI's own minimum unless the scheme sets another.
                "min_sample": int(rule.get("min_sample") or (kpi.min_sample if kpi else 1)),
            })  # fmt: skip
    return pd.DataFrame(dims), pd.DataFrame(rows)


def grades_table(body: dict) -> pd.DataFrame:
    """The grade bands as an editable table (minimum score, code, Chinese and English names)."""
    return pd.DataFrame([{"min": float(g["min"]), "code": str(g["code"]), "zh": str(g["zh"]),
                          "en": str(g["en"])} for g in body.get("grades") or []],
                        columns=["min", "code", "zh", "en"])  # fmt: skip


def from_tables(body: dict, dims: pd.DataFrame, rows: pd.DataFrame, grades: pd.DataFrame | None = None,
                catalogue: Catalogue | None = None) -> dict:  # fmt: skip
    """A new scheme body from edited tables; everything else (gates, shrinkage…) kept."""
    catalogue = catalogue or load_catalogue()
    new = {k: v for k, v in body.items() if k != "dimensions"}
    if grades is not None:
        new["grades"] = [{"min": _plain_number(g.min), "code": g.code, "zh": g.zh, "en": g.en}
                         for g in grades.itertuples()]  # fmt: skip
    new["dimensions"] = {}
    for d in dims.itertuples():
        kpis = {}
        for r in rows[rows["dimension"] == d.dimension].itertuples():
            rule = {k: v for k, v in (body["dimensions"].get(d.dimension, {}).get("kpis", {})
                                      .get(r.kpi) or {}).items()}  # fmt: skip
            factor = unit_of(catalogue.kpis.get(r.kpi))[1]
            rule.update(weight=_plain_number(r.weight),
                        floor=_plain_number(round(float(r.floor) / factor, 12)),
                        target=_plain_number(round(float(r.target) / factor, 12)))  # fmt: skip
            default = catalogue.kpis[r.kpi].min_sample if r.kpi in catalogue.kpis else None
            if pd.notna(r.min_sample) and int(r.min_sample) != default:
                rule["min_sample"] = int(r.min_sample)
            else:
                rule.pop("min_sample", None)
            kpis[r.kpi] = rule
        new["dimensions"][d.dimension] = {"weight": _plain_number(d.weight), "kpis": kpis}
    return new


def _plain_number(v):
    """Numbers as people typed them: 3 not 3.0, and None for a blank cell."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    v = float(v)
    return int(v) if v.is_integer() else v


def shares(scheme: Scheme) -> pd.DataFrame:
    """Each KPI's share of the composite, and each dimension's, as fractions."""
    return pd.DataFrame(
        [{"kpi": r.kpi, "dimension": r.dimension, "share": r.share} for r in scheme.rules]
    )
