"""Interface text in Chinese and English, from the catalogues in `config/i18n/`.

Every label and message a page shows comes from here by key, so no screen mixes languages.
`t(key, lang, **values)` formats the entry; a missing key raises in tests (the catalogue
completeness test) and shows the key itself in the app rather than crashing.
"""

from __future__ import annotations

import re
from functools import cache

from lib.core import yamlio
from lib.core.paths import ROOT

LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT = "zh"
CATALOGUE_DIR = ROOT / "config" / "i18n"


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = CATALOGUE_DIR / f"{lang}.yaml"
    return yamlio.load(path.read_text(encoding="utf-8")) or {}


def language_from_locale(locale: str | None) -> str:
    """Map a browser locale such as 'zh-CN' or 'en-US' to a supported language."""
    if not locale:
        return DEFAULT
    code = locale.replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else "en"


def t(key: str, lang: str = DEFAULT, **values) -> str:
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue("en").get(key, key)
    return text.format(**values) if values else text


# Messages that lib writes in English (ingestion reasons, notes, refusals), as patterns whose
# named parts carry over into the catalogue entry `msg.<name>`. Unknown text is shown as is.
MESSAGES = [
    ("required", r"required value is missing"),
    ("not_int", r"not a whole number"),
    ("int_too_large", r"number too large to store"),
    ("formula_error", r"formula error in the workbook"),
    ("whole_row", r"\(whole row\)"),
    ("not_number", r"not a number"),
    ("not_amount", r"not an amount"),
    ("not_rate", r"not a percentage"),
    ("not_duration", r"not a duration"),
    ("not_datetime", r"not a date/time"),
    ("not_date", r"not a date"),
    ("not_bool", r"not yes/no"),
    ("not_rating", r"not a rating"),
    ("negative", r"negative value"),
    ("negative_duration", r"negative duration"),
    ("long_duration", r"duration longer than (?P<days>[\d.]+) days"),
    ("negative_rate", r"negative percentage"),
    ("rate_above", r"percentage above 100 %"),
    ("rating_range", r"rating outside 1–(?P<scale>\d+)"),
    ("date_range", r"date outside the accepted range 1970-01-01 to 2100-12-31"),
    ("long_text", r"text longer than 32,767 characters"),
    ("response_first", r"first response is before the ticket was created"),
    ("resolved_first", r"resolved before the ticket was created"),
    ("resolved_before_reply", r"resolved before the first reply"),
    (
        "late_response",
        r"first response more than (?P<days>[\d.]+) days after the ticket was created",
    ),
    ("late_resolution", r"resolved more than (?P<days>[\d.]+) days after the ticket was created"),
    ("refund_above", r"refund is larger than the order amount"),
    ("score_above", r"score is above the criterion's maximum"),
    ("repeat", r"(?P<field>.+) repeats row (?P<row>\d+) with different values"),
    ("ragged", r"row has (?P<cells>\d+) cell\(s\); the header has (?P<header>\d+)"),
    ("beyond", r"row has values beyond the (?P<width>\d+) header columns"),
    ("blank", r"blank row"),
    ("total", r"total row"),
    (
        "agent_from_ticket",
        r"(?P<count>[\d,]+) row\(s\) without an agent took the agent of their ticket",
    ),
    (
        "agent_ticket_missing",
        r"no agent, and ticket (?P<ticket>.+) is not stored: upload the tickets first "
        r"or map an agent column",
    ),
    ("agent_no_ticket", r"no agent and no ticket to take one from"),
    ("footer", r"footer line(?: \(skip_footer_rows\))?"),
    ("header_row", r"header found on row (?P<row>\d+); rows above it were skipped"),
    ("dayfirst", r"(?P<column>.+): read as day-first dates \(DD/MM/YYYY\)"),
    ("monthfirst", r"(?P<column>.+): read as month-first dates \(MM/DD/YYYY\)"),
    (
        "ambiguous",
        r"(?P<column>.+): dates such as 03/04/2026 are ambiguous and were read "
        r"month-first; set `dayfirst: true` in the mapping if they are day-first",
    ),
    ("percent", r"(?P<column>.+): bare numbers read as percentages"),
    (
        "seen",
        r"this file was uploaded before \(upload #(?P<id>\d+), (?P<when>[^)]+)\); "
        r"rows already stored count as duplicates",
    ),
    ("line_items", r"(?P<count>[\d,]+) line-item row\(s\) continue an order read above"),
    ("skipped_by_mapping", r"skipped by the mapping \((?P<what>.+)\)"),
    (
        "summary_benchmark",
        r"summary row '(?P<label>.+)', not an agent: kept as the platform's benchmark",
    ),
    ("summary_row", r"summary row '(?P<label>.+)', not an agent"),
    ("period_report", r"stored as a report for the period (?P<first>\S+) – (?P<last>\S+)"),
    (
        "period_unused",
        r"the file has its own dates \((?P<column>.+)\); the period (?P<first>\S+) – (?P<last>\S+) was not used",
    ),
    ("benchmarks_kept", r"the platform's reference rows were kept: (?P<labels>.+)"),
    ("values_unlisted", r"values\.(?P<field>\w+): not one of (?P<allowed>.+)"),
    ("formats_mismatch", r"formats\.(?P<field>\w+): (?P<formats>.+) did not match"),
    ("preset_name", r"'(?P<name>.+)' is the name of a built-in preset; choose another name"),
    (
        "encoding",
        r"the mapping says (?P<declared>\S+), but the file is (?P<found>\S+); "
        r"it was read as \S+",
    ),
    ("empty", r"(?P<file>.+?): the file is empty\."),
    ("no_rows", r"(?P<file>.+?): the file has no rows\."),
    ("binary", r"(?P<file>.+?): binary data: this is not a CSV or text export"),
    ("xls", r"(?P<file>.+?): this is an old-style Excel \.xls workbook\..*"),
    ("pdf", r"(?P<file>.+?): this is a PDF, not a table\..*"),
    ("zip", r"(?P<file>.+?): this is a zip archive, not an Excel workbook\..*"),
    (
        "missing",
        r"(?P<file>.+?): required column\(s\) missing for (?P<kind>\S+) with mapping "
        r"'(?P<mapping>[^']+)': (?P<wanted>.+?)\. Headers found: (?P<found>.+?)\."
        r"(?P<period> If this is a report for a period[^.]*\.)?"
        r"(?: This file looks like it fits the preset\(s\): (?P<fits>.+)\.)?",
    ),
    ("bad_username", r"'(?P<user>.*)' is not a valid username: .*"),
    ("user_exists", r"User '(?P<user>.+)' already exists\."),
    ("no_user", r"No user '(?P<user>.+)'\."),
    ("last_admin", r"'(?P<user>.+)' is the last admin; make another admin first\."),
    ("agent_needed", r"An agent account needs --agent: .*"),
    ("short_password", r"A password needs at least 12 characters; .*"),
    ("long_password", r"A password may have at most (?P<n>\d+) characters\."),
    ("weak_password", r"This password is too common or too close to the username; .*"),
    ("repeated_password", r"This password repeats too few characters; .*"),
    ("wrong_password", r"The current password is not right\."),
    ("note_kind", r"Unknown kind of note .*"),
    ("note_empty", r"A note needs some text\."),
    ("plan_kpi", r"A plan needs at least one KPI with a target\."),
    ("plan_dates", r"The due date must come after the start date\."),
    ("plan_title", r"A plan needs a title\."),
    (
        "plan_rate_range",
        r"The target for (?P<kpi>.+) must be between 0% and 100%, not (?P<given>.+)%\.",
    ),
    ("plan_negative", r"The target for (?P<kpi>.+) cannot be negative\."),
    ("qa_own", r"nobody reviews their own tickets"),
    ("qa_unscored", r"score every criterion: '(?P<criterion>.+)' has no score"),
    ("qa_no_na", r"'(?P<criterion>.+)' cannot be marked N/A"),
    (
        "qa_points",
        r"'(?P<criterion>.+)' takes whole points from 0 to (?P<top>\d+), not (?P<given>.+)",
    ),
    ("qa_dispute_reason", r"say why you dispute the review"),
    ("qa_dispute_late", r"reviews can be disputed within (?P<days>\d+) days; this one is older"),
    ("qa_dispute_twice", r"this review is already disputed and waiting for a decision"),
    ("qa_decision_reason", r"say why you decide so; the agent will read it"),
    ("qa_no_reviewer", r"choose at least one reviewer"),
    (
        "scheme_conflict",
        r"'(?P<scheme>.+)' was saved as version (?P<current>\d+) after you opened version "
        r"(?P<base>\d+); reload it and apply your change again\.",
    ),
    ("mapping_required", r"required column '(?P<col>.+)' of (?P<kind>\w+) is not mapped"),
    ("mapping_name", r"give the mapping a `name`"),
    ("mapping_header", r"'(?P<col>.+)' has no source header"),
    ("mapping_combine", r"combine\.(?P<col>.+): give two or more headers"),
    ("mapping_timezone", r"timezone: '(?P<zone>.+)' is not a time zone name.*"),
    ("store_full", r"Nothing was saved: the disk holding (?P<path>.+?) is full, .*"),
    ("store_read_only", r"Nothing was saved: (?P<path>.+?) or its folder is read-only, .*"),
    (
        "audit_unwritable",
        r"The audit log (?P<path>.+?) could not be written \((?P<reason>.+?)\): .*"
        r"the action '(?P<action>.+)' was not logged\.",
    ),
]
_COMPILED = [(name, re.compile(pattern, re.S)) for name, pattern in MESSAGES]


def message(text: str, lang: str = DEFAULT, words: dict[str, str] | None = None) -> str:
    """A message from lib in the chosen language (English text is the source). `words` names
    values the message quotes (a column id → its label) in that language."""
    if lang == "en" or not text:
        return text
    words = words or {}
    for name, pattern in _COMPILED:
        m = pattern.fullmatch(text.strip())
        if m:
            values = {k: words.get(v or "", v or "") for k, v in m.groupdict().items()}
            out = t(f"msg.{name}", lang, **values)
            if name == "missing" and values.get("period"):
                out += t("msg.missing_period", lang)
            if name == "missing" and values.get("fits"):
                out += t("msg.missing_fits", lang, fits=values["fits"])
            return out
    return text
