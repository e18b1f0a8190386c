"""Scorecards as tables for people and other programs: text, CSV, JSON and Excel.

A wide table puts each agent on a row: composite, grade, rank (with the range the intervals
allow), then each KPI's value and score, then flags. For programs the headers are snake_case and
the values raw (rates 0–1, times in seconds); for people (`lang`) the headers are words in the
chosen language, rates are percentages, times are in the KPI's unit and grades have names.
Every export says which version of the scheme scored it: for people, a column with the scheme
and the version in words ("第 4 版，自 2026-10-01 起生效"); for programs, the columns
`scheme_version` and `in_force_from` (empty for the built-in preset). Text cells that a spreadsheet would run
as a formula (starting with =, +, -, @, tab or carriage return) are neutralised with a
leading apostrophe, since agent names and comments come from uploaded files.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from lib.core.i18n import t
from lib.core.jsontext import plain as _plain
from lib.core.jsontext import strict_json
from lib.metrics.kpis import Catalogue, format_value, load_catalogue
from lib.metrics.schemes import in_force_words, unit_of
from lib.metrics.scoring import Scorecard
from lib.present.views import gate_label, kpi_list

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(value):
    """A text cell a spreadsheet would run as a formula, with a leading apostrophe. Leading
    spaces are looked through, since some spreadsheets drop them before parsing."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_START) or value.lstrip(" ").startswith(FORMULA_START)
    ):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """Any table as a CSV download (UTF-8 with a BOM, which Excel needs for Chinese), formula
    cells neutralised: every CSV the app or the command line writes goes through here."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")


def wide(card: Scorecard) -> pd.DataFrame:
    """One row per agent: summary columns, then value and score per KPI (with the mean beside
    the median of durations), then flags."""
    catalogue = load_catalogue()
    a = card.agents
    rng = [f"{b}–{w}" if pd.notna(b) else "" for b, w in zip(a["rank_best"], a["rank_worst"])]
    out = pd.DataFrame({
        "agent": a["agent"], "team": a["team"], "composite": a["composite"].round(1),
        "composite_low": a["composite_lo"].round(1), "composite_high": a["composite_hi"].round(1),
        "grade": a["grade"], "rank": a["rank"], "rank_range": rng,
        "percentile": a["percentile"].round(0),
    })  # fmt: skip
    shrinks = card.scheme.shrinkage > 0
    for rule in card.scheme.rules:  # an empty period still gets every header
        rows = card.details[card.details["kpi"] == rule.kpi].set_index("agent").reindex(a["agent"])
        out[f"{rule.kpi} value"] = rows["value"].to_numpy()
        if shrinks:  # observed and adjusted side by side; the score uses the adjusted one
            out[f"{rule.kpi} adjusted"] = rows["adjusted"].to_numpy()
        if catalogue.get(rule.kpi).kind == "duration":  # the median's mean beside it
            out[f"{rule.kpi} mean"] = rows["mean"].to_numpy()
        out[f"{rule.kpi} score"] = np.where(rows["status"].to_numpy() == "scored",
                                            rows["score"].round(1).to_numpy(), np.nan)  # fmt: skip
    flags = []
    for gate, left in zip(a["gate"], a["kpis_left_out"]):
        parts = [p for p in (gate_label(gate), f"too little data: {left}" if left else "") if p]
        flags.append("; ".join(parts))
    out["flags"] = flags
    out["scheme_version"] = card.scheme.version
    out["in_force_from"] = str(card.scheme.in_force_from or "")
    return out


def scored_by(scheme, lang: str) -> str:
    """The scheme and the version that scored a table, in words: "均衡方案 · 第 4 版，自
    2026-10-01 起生效"."""
    return f"{scheme.label(lang)} · {in_force_words(scheme, lang)}"


def for_people(card: Scorecard, lang: str, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """The wide table in a language: headers in words with their unit (满意度（%）, 首次响应时长
    （秒）), rates as percentages, times in the KPI's unit, grades by name, flags in words."""

    catalogue = catalogue or load_catalogue()
    raw = wide(card)
    grades = {g.code: g.label(lang) for g in card.scheme.grades}
    out = pd.DataFrame({
        t("board.agent", lang): raw["agent"], t("board.team", lang): raw["team"],
        t("board.score", lang): raw["composite"], t("board.low", lang): raw["composite_low"],
        t("board.high", lang): raw["composite_high"],
        t("board.grade", lang): [grades.get(g, g) if isinstance(g, str) else "" for g in raw["grade"]],
        t("board.rank", lang): raw["rank"], t("board.could_be", lang): raw["rank_range"],
        t("export.percentile", lang): raw["percentile"],
        t("export.scored_by", lang): scored_by(card.scheme, lang),
    })  # fmt: skip
    for rule in card.scheme.rules:
        kpi = catalogue.get(rule.kpi)
        unit, factor = unit_of(kpi)
        unit = t(f"export.unit.{unit}", lang) if unit else ""
        label = kpi.label(lang)
        digits = 0 if kpi.kind == "duration" or kpi.unit in ("currency", "count") else 1
        for part in ("value", "adjusted", "mean"):
            if f"{rule.kpi} {part}" in raw:
                header = t(f"export.{part}", lang, kpi=label) + (
                    t("export.in", lang, unit=unit) if unit else ""
                )
                out[header] = (raw[f"{rule.kpi} {part}"] * factor).round(digits)
        out[t("export.score", lang, kpi=label)] = raw[f"{rule.kpi} score"]
    flags = []
    for gate, left in zip(card.agents["gate"], card.agents["kpis_left_out"]):
        parts = [gate_label(gate, lang) if gate else "",
                 t("export.too_little", lang, kpis=kpi_list(left, lang, catalogue)) if left else ""]  # fmt: skip
        flags.append(("；" if lang == "zh" else "; ").join(p for p in parts if p))
    out[t("board.flags", lang)] = flags
    return out


def bonus_lines(lines: pd.DataFrame, scheme, lang: str) -> pd.DataFrame:
    """A bonus split for payroll, in a language: headers in words, yes/no in words, and the
    scheme version that scored the grades and scores it was split by."""
    out = lines.copy()
    for column in ("eligible", "capped"):
        out[column] = [t("common.yes" if v else "common.no", lang) for v in out[column]]
    out = out.rename(columns={c: t(f"bonus.{c}", lang) for c in out.columns})
    out[t("export.scored_by", lang)] = scored_by(scheme, lang)
    return out


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where Chinese characters take two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 0)


def as_text(card: Scorecard, catalogue: Catalogue | None = None) -> str:
    catalogue = catalogue or load_catalogue()
    a = card.agents
    lines = [
        f"{scored_by(card.scheme, 'en')} · {card.period.label} · {len(a)} agents",
        f"{'rank':>4} {'range':>7}  {'agent':<12} {'team':<8} {'score':>5} {'grade':<5} flags",
    ]
    for row in a.itertuples():
        rank = "" if pd.isna(row.rank) else str(row.rank)
        rng = "" if pd.isna(row.rank_best) else f"{row.rank_best}–{row.rank_worst}"
        comp = "—" if pd.isna(row.composite) else f"{row.composite:.1f}"
        flags = "; ".join(
            p for p in (row.gate, row.kpis_left_out and f"left out: {row.kpis_left_out}") if p
        )
        team, grade = ("" if pd.isna(v) else str(v) for v in (row.team, row.grade))
        lines.append(f"{rank:>4} {rng:>7}  {_pad(str(row.agent), 12)} "
                     f"{_pad(team, 8)} {comp:>5} {grade:<5} {flags}")  # fmt: skip
    lines.append("")
    lines.append("KPIs: " + ", ".join(
        f"{r.kpi} {r.share:.0%}" for r in card.scheme.rules))  # fmt: skip
    return "\n".join(lines)


def as_json(card: Scorecard, catalogue: Catalogue | None = None) -> str:
    catalogue = catalogue or load_catalogue()
    agents = []
    details = card.details
    for row in card.agents.to_dict("records"):
        own = details[details["agent"] == row["agent"]]
        agents.append({
            **{k: _plain(v) for k, v in row.items()},
            "kpis": {
                r["kpi"]: {
                    "value": _plain(r["value"]), "display": format_value(catalogue.get(r["kpi"]), r["value"]),
                    "adjusted": _plain(r["adjusted"]), "mean": _plain(r["mean"]),
                    "low": _plain(r["lo"]), "high": _plain(r["hi"]), "n": _plain(r["n"]),
                    "source": r["source"], "score": _plain(r["score"]),
                    "weight_share": _plain(r["weight_share"]), "contribution": _plain(r["contribution"]),
                    "status": r["status"],
                }
                for r in own.to_dict("records")
            },
        })  # fmt: skip
    return strict_json({"scheme": card.scheme.name, "version": card.scheme.version,
                        "in_force_from": str(card.scheme.in_force_from or "") or None,
                        "period": card.period.label, "agents": agents})  # fmt: skip


def table(card: Scorecard, lang: str | None = None, catalogue=None) -> pd.DataFrame:
    """The wide table for programs (no language) or for people (a language)."""
    return for_people(card, lang, catalogue) if lang else wide(card)


def xlsx_bytes(card: Scorecard, lang: str | None = None) -> bytes:
    """The scorecard as an Excel workbook, in memory (for a download button)."""
    import io

    buffer = io.BytesIO()
    safe_frame(table(card, lang)).to_excel(buffer, index=False, sheet_name=card.period.label[:31])
    return buffer.getvalue()


def write(card: Scorecard, fmt: str, out: str | Path | None, catalogue=None,
          lang: str | None = None) -> str | None:  # fmt: skip
    """Write the scorecard in a format (table, csv, json, xlsx) to a file, or return text.
    CSV and Excel are for programs (snake_case headers, raw values) unless a language is given."""
    if fmt == "table":
        text = as_text(card, catalogue)
    elif fmt == "json":
        text = as_json(card, catalogue)
    elif fmt == "csv":
        text = safe_frame(table(card, lang, catalogue)).to_csv(index=False)
    elif fmt == "xlsx":
        if not out:
            raise ValueError("--format xlsx needs --out FILE.xlsx")
        Path(out).write_bytes(xlsx_bytes(card, lang))
        return None
    else:
        raise ValueError(f"unknown format '{fmt}'; use table, csv, json or xlsx")
    if out:
        Path(out).write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        return None
    return text
