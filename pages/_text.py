"""The current language and translated text for pages: chosen once per session from the
browser's locale, then by the language switch."""

from __future__ import annotations

import streamlit as st

from lib.core.i18n import DEFAULT, language_from_locale
from lib.core.i18n import t as translate


def lang() -> str:
    if "lang" not in st.session_state:
        try:
            st.session_state["lang"] = language_from_locale(st.context.locale)
        except Exception:  # noqa: BLE001 - no browser context (tests, scripts)
            st.session_state["lang"] = DEFAULT
    return st.session_state["lang"]


def t(key: str, **values) -> str:
    return translate(key, lang(), **values)
