"""Config completeness: translations exist in both languages; every page's keys exist."""

import re

from lib.auth.access import SYSTEM
from lib.core.i18n import LANGUAGES, catalogue, language_from_locale, t
from lib.core.store import ROOT


def test_both_languages_have_the_same_keys_and_no_blanks():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    assert keys["zh"] == keys["en"]
    for lang in LANGUAGES:
        assert all(str(v).strip() for v in catalogue(lang).values())


def test_every_key_used_by_the_app_exists():
    used = set()
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'"((?:nav|placeholder)\.\w+)"', path.read_text(encoding="utf-8")))
    assert used, "no keys found: the pattern is wrong"
    missing = sorted(k for k in used if k not in catalogue("en"))
    assert missing == []


def test_locale_maps_to_a_language_and_text_formats():
    assert language_from_locale("zh-CN") == "zh"
    assert language_from_locale("en-US") == "en"
    assert language_from_locale("fr-FR") == "en"
    assert t("demo.cleared", "en", rows="12") == "Demo data removed (12 rows)."


def test_keys_built_from_column_names_exist(tmp_path, accounts):
    """Pages translate table headers as board.<column>, detail.<column>, rerank.<column>…"""
    from lib.auth import audit, users
    from lib.core.periods import parse
    from lib.metrics import schemes, scoring
    from lib.present import views
    from tests.kpi_fixtures import service_store

    con = service_store(tmp_path / "s.duckdb")
    scheme = schemes.get(con, "after_sales")
    card = scoring.scorecard(con, scheme, parse("2026-05"), viewer=SYSTEM)
    tables = {
        "board": views.leaderboard(card, "en", card).columns,
        "rerank": views.rerank(con, SYSTEM, card.period, None, scheme, scheme).columns,
        "users": users.listing(accounts).columns,
        "audit": audit.COLUMNS,
        "detail": ["label", "dimension", "shown", "interval", "n", "floor_shown", "target_shown",
                   "score", "weight_share", "contribution", "status", "source"],
    }  # fmt: skip
    assert set(tables["detail"]) <= set(views.agent_breakdown(card, "A", "en").columns)
    for lang in LANGUAGES:
        missing = [f"{p}.{c}" for p, cols in tables.items() for c in cols
                   if f"{p}.{c}" not in catalogue(lang)]  # fmt: skip
        assert missing == [], lang


def test_lib_messages_have_chinese_versions():
    from lib.core.i18n import MESSAGES, message
    from lib.ingest.validation import WIDE_RULES
    from lib.ingest.values import _REASONS

    for name, _ in MESSAGES:
        assert f"msg.{name}" in catalogue("zh") and f"msg.{name}" in catalogue("en")
    wide = [r[1].format(days="90") for r in WIDE_RULES.values()]  # as the limit fills them in
    reasons = [r for r in _REASONS.values() if r] + wide + [
        "duration longer than 90 days",
        "date outside the accepted range 1970-01-01 to 2100-12-31",
        "required value is missing", "negative value", "rating outside 1–5",
        "percentage above 100 %", "ticket_id repeats row 10 with different values",
        "row has 1 cell(s); the header has 3", "header found on row 2; rows above it were skipped",
        "订单.csv: binary data: this is not a CSV or text export",
        "20 row(s) without an agent took the agent of their ticket",
        "no agent, and ticket 9 is not stored: upload the tickets first or map an agent column",
        "no agent and no ticket to take one from",
    ]  # fmt: skip
    for text in reasons:
        shown = message(text, "zh")
        data = shown.replace("ticket_id", "").replace("订单.csv", "")  # names from the data stay
        assert shown != text and not re.search(r"[a-z]{3,}", data), text
    assert (
        message("ticket_id repeats row 10 with different values", "zh")
        == "ticket_id 与第 10 行重复，但内容不同"
    )
    assert message("something new", "zh") == "something new"  # unknown text is kept
    assert message("not a date", "en") == "not a date"


def test_missing_columns_message_in_chinese():
    from lib.core.i18n import message

    text = ("w.csv: required column(s) missing for tickets with mapping 'zendesk': ticket_id "
            "(expected header: ID). Headers found: 客服昵称, 日期. This file looks like it fits "
            "the preset(s): qianniu_agent_daily.")  # fmt: skip
    assert message(text, "zh") == (
        "w.csv：使用映射“zendesk”导入 tickets 时缺少必填列：ticket_id (expected header: ID)。"
        "文件中的表头：客服昵称, 日期。 此文件似乎适用预设：qianniu_agent_daily。"
    )
