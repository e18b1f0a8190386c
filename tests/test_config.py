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
    for page in (ROOT / "pages").glob("*.py"):
        if not page.name.startswith("_") and page.stem != "upload" and page.stem != "overview":
            used |= {f"nav.{page.stem}", f"placeholder.{page.stem}"}
    assert used, "no keys found: the pattern is wrong"
    missing = sorted(k for k in used if k not in catalogue("en"))
    assert missing == []


def test_locale_maps_to_a_language_and_text_formats():
    assert language_from_locale("zh-CN") == "zh"
    assert language_from_locale("en-US") == "en"
    assert language_from_locale("fr-FR") == "en"
    assert t("demo.cleared", "en", rows="12") == "Demo data removed (12 rows)."
