"""Shared page helpers: the cached store connection, the current language, translated text,
the signed-in viewer and the page guard, sticky sidebar choices, and sections that fail alone.

Pages import these so that each page stays a thin script: read widgets, call `lib`, render.
"""

from __future__ import annotations

import logging
import sys
import uuid
from contextlib import contextmanager
from urllib.parse import urlparse

import streamlit as st

from lib.app import handoff, warmup
from lib.app.stores import open_store
from lib.auth import users
from lib.auth.access import may_open
from lib.core import errors, store, textsafe
from lib.core.i18n import LANGUAGES
from lib.core.i18n import t as translate
from pages._text import lang, t  # shared with the sign-in page

LOG = logging.getLogger("scorecard")
ALL = "*"  # the team choice meaning every team (a None option would show as "no choice")


def db_path_from_args() -> str | None:
    """`streamlit run app.py -- --db PATH` chooses the store; otherwise env or default."""
    argv = sys.argv[1:]
    if "--db" in argv and argv.index("--db") + 1 < len(argv):
        return argv[argv.index("--db") + 1]
    return None


@st.cache_resource(show_spinner=False)
def connection(path: str):
    """One DuckDB connection per store file and process; lib functions take a cursor per call.
    Opening it starts the warm-up, so the first page is ready when the first person signs in,
    and the hand-off of command-line jobs (the app holds the store's only write access)."""
    db = open_store(path)
    warmup.start(db)
    handoff.serve(path)  # commands run while the app is open are carried out here
    return db


def con():
    # Keyed by the resolved path, so SCORECARD_DB and --db each get their own connection.
    return connection(str(store.resolve_db_path(db_path_from_args())))


def language_switch() -> None:
    """The sidebar language choice, starting from the browser's language."""
    sticky_select(translate("sidebar.language", lang()), list(LANGUAGES), "lang", LANGUAGES.get,
                  relabel=False)  # fmt: skip


def sticky_select(label: str, options: list, key: str, format_func=str, where=st.sidebar,
                  default=None, relabel: bool = True):  # fmt: skip
    """A selectbox whose choice lives in its own session key, so it survives every page.

    The widget's key carries the language: a keyed selectbox keeps showing the label it had
    when the language changes, so a new widget per language shows the same choice re-labelled."""
    if key not in st.session_state or st.session_state[key] not in options:
        first = options[0] if options else None
        st.session_state[key] = default if default in options else first
    widget = f"{key}_choice_{lang()}" if relabel else f"{key}_choice"

    def keep():
        # A choice made while a rerun starts can arrive without its widget key: keep the old.
        st.session_state[key] = st.session_state.get(widget, st.session_state.get(key))

    return where.selectbox(label, options, index=options.index(st.session_state[key]) if options else None,
                           format_func=format_func, key=widget, on_change=keep)  # fmt: skip


def safe(value) -> str:
    """Text a person or a file wrote, ready for any Markdown element (see lib.core.textsafe)."""
    return textsafe.md(value)


def viewer():
    """The signed-in user (app.py signs in before any page runs), read again from the
    accounts file on every run so that a disabled account or a new role applies at once."""
    signed = st.session_state.get("viewer")
    current = users.viewer(users.auth_path(), signed.username) if signed else None
    if (
        signed
        and current
        and users.session(users.auth_path(), signed.username)
        != (st.session_state.get("session_gen"))
    ):  # signed out elsewhere, a new password or role: this session has ended
        st.warning(t("auth.ended"))
        for key in ("viewer", "username", "session_gen"):
            st.session_state.pop(key, None)
        st.session_state["authentication_status"] = None
        st.stop()
    if current is None:
        if signed:
            st.error(t("auth.disabled", user=signed.username))
        st.session_state.pop("viewer", None)
        st.session_state["authentication_status"] = None
        st.stop()
    st.session_state["viewer"] = current
    return current


def guard(page: str):
    """The viewer, after checking that their role may open `page` (else the page stops)."""
    if st.session_state.get("viewer") is None:
        # Run without app.py, which signs in before any page: on a fresh server's first run,
        # Streamlit runs a page named in the address by itself (it lists pages/ until the app
        # declares its navigation). Sign in through the app, which then comes back here.
        st.session_state["opened_page"] = page
        st.switch_page("app.py")
    who = viewer()
    if not may_open(who, page):
        st.error(t("auth.not_allowed", role=t(f"role.{who.role}")))
        st.stop()
    return who


def opened_page(url: str | None) -> str | None:
    """The page name in an app URL (`http://host:8501/weights` → `weights`), if any."""
    path = urlparse(url or "").path.strip("/")
    return path.rsplit("/", 1)[-1] or None


def listing(items: list[str]) -> str:
    """Items joined as the language writes a list."""
    return ("、" if lang() == "zh" else ", ").join(items)


def report_failure(key: str = "error.section") -> None:
    """Show a short translated message with an error id; the full traceback goes to the log."""
    error_id = uuid.uuid4().hex[:8]
    LOG.exception("error %s", error_id)
    st.error(t(key, error_id=error_id), icon=":material/error:")


@contextmanager
def section():
    """A part of a page: if it fails, it says so in a line and the rest of the page renders.
    Streamlit's own stop and rerun signals are not errors and pass through, and so does a
    failed save (the app names the full disk or read-only folder)."""
    try:
        yield
    except errors.StoreError:
        raise
    except Exception:  # noqa: BLE001 - any failure of one section must not take the page down
        report_failure()


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
