"""Config completeness: translations exist in both languages; every page's keys exist."""

import re

from lib.i18n import LANGUAGES, catalogue, language_from_locale, t
from lib.store import ROOT


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


def test_keys_built_from_column_names_exist(tmp_path):
    """Pages translate table headers as board.<column>, detail.<column>, rerank.<column>."""
    from lib import schemes, scoring, views
    from lib.periods import parse
    from tests.kpi_fixtures import service_store

    con = service_store(tmp_path / "s.duckdb")
    scheme = schemes.get(con, "after_sales")
    card = scoring.scorecard(con, scheme, parse("2026-05"))
    tables = {
        "board": views.leaderboard(card, "en", card).columns,
        "rerank": views.rerank(con, card.period, None, scheme, scheme).columns,
        "detail": ["label", "dimension", "shown", "interval", "n", "floor_shown", "target_shown",
                   "score", "weight_share", "contribution", "status", "source"],
    }  # fmt: skip
    assert set(tables["detail"]) <= set(views.agent_breakdown(card, "A", "en").columns)
    for lang in LANGUAGES:
        missing = [f"{p}.{c}" for p, cols in tables.items() for c in cols
                   if f"{p}.{c}" not in catalogue(lang)]  # fmt: skip
        assert missing == [], lang
