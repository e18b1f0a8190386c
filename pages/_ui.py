"""Shared page helpers: the cached store connection, the current language, translated text.

Pages import these so that each page stays a thin script: read widgets, call `lib`, render.
"""

from __future__ import annotations

import sys

import streamlit as st

from lib import store
from lib.i18n import DEFAULT, LANGUAGES, language_from_locale
from lib.i18n import t as translate


def db_path_from_args() -> str | None:
    """`streamlit run app.py -- --db PATH` chooses the store; otherwise env or default."""
    argv = sys.argv[1:]
    if "--db" in argv and argv.index("--db") + 1 < len(argv):
        return argv[argv.index("--db") + 1]
    return None


@st.cache_resource(show_spinner=False)
def connection(path: str | None):
    """One DuckDB connection per process; lib functions take a cursor per call."""
    return store.connect(path)


def con():
    return connection(db_path_from_args())


def lang() -> str:
    if "lang" not in st.session_state:
        try:
            st.session_state["lang"] = language_from_locale(st.context.locale)
        except Exception:  # noqa: BLE001 - no browser context (tests, scripts)
            st.session_state["lang"] = DEFAULT
    return st.session_state["lang"]


def t(key: str, **values) -> str:
    return translate(key, lang(), **values)


def language_switch() -> None:
    """The sidebar language choice; kept in its own session key so it survives every page."""
    codes = list(LANGUAGES)

    def chosen():
        st.session_state["lang"] = st.session_state["lang_choice"]

    st.sidebar.selectbox(
        translate("sidebar.language", lang()),
        codes,
        index=codes.index(lang()),
        format_func=LANGUAGES.get,
        key="lang_choice",
        on_change=chosen,
    )
