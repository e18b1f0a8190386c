"""Interface text in Chinese and English, from the catalogues in `config/i18n/`.

Every label and message a page shows comes from here by key, so no screen mixes languages.
`t(key, lang, **values)` formats the entry; a missing key raises in tests (the catalogue
completeness test) and shows the key itself in the app rather than crashing.
"""

from __future__ import annotations

from functools import cache

import yaml

from lib.store import ROOT

LANGUAGES = {"zh": "简体中文", "en": "English"}
DEFAULT = "zh"
CATALOGUE_DIR = ROOT / "config" / "i18n"


@cache
def catalogue(lang: str) -> dict[str, str]:
    path = CATALOGUE_DIR / f"{lang}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


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
