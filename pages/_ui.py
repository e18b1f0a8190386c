"""Shared page helpers: the cached store connection, the current language, translated text,
and work run off the page's script thread with its progress shown (`background`).

Pages import these so that each page stays a thin script: read widgets, call `lib`, render.
"""

from __future__ import annotations

import logging
import sys
import uuid
from contextlib import contextmanager

import streamlit as st

from lib.app import handoff, warmup
from lib.app.stores import open_store
from lib.core import errors, store
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
    from lib.core import textsafe

    return textsafe.md(value)


def viewer():
    """The signed-in user (app.py signs in before any page runs), read again from the
    accounts file on every run so that a disabled account or a new role applies at once."""
    from lib.auth import users

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
    from lib.auth.access import may_open

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
    from urllib.parse import urlparse

    path = urlparse(url or "").path.strip("/")
    return path.rsplit("/", 1)[-1] or None


def filters(db, who) -> None:
    """The sidebar choices every page shares: period, team (not for agents) and scheme."""
    from lib.core import shops
    from lib.metrics import schemes
    from lib.present import shopviews, views

    months = views.months_with_data(db)
    if not months:
        return
    if st.session_state.get("period") not in months:
        st.session_state["period"] = views.default_month(db, months)
    sticky_select(t("sidebar.period"), months, "period")
    everyone = t("sidebar.all_teams")
    if who.is_agent:
        st.session_state["team"] = ALL  # agents are ranked among everyone, and see only themselves
    else:
        sticky_select(t("sidebar.team"), [ALL, *views.teams(db)], "team",
                      format_func=lambda x: everyone if x == ALL else x)  # fmt: skip
    shop_keys = shopviews.shop_keys(db)
    if len(shop_keys) > 1:  # a shop filter only where there is more than one shop
        names = {ALL: t("sidebar.all_shops"), **{k: shops.label(k, lang()) for k in shop_keys}}
        sticky_select(t("sidebar.shop"), [ALL, *shop_keys], "shop", format_func=names.get)
    else:
        st.session_state["shop"] = ALL
    names = schemes.names(db)
    titles = {n: schemes.get(db, n).label(lang()) for n in names}
    default = schemes.DEFAULT if schemes.DEFAULT in names else names[0]
    if st.session_state.get("scheme") not in names:
        st.session_state["scheme"] = default
    sticky_select(t("sidebar.scheme"), names, "scheme", format_func=titles.get)


def context(score: bool = True):
    """(period, team, scheme, scorecard) for the sidebar's choices; the scheme is the version
    in force at the period's end (no scorecard with score=False). Stops the page with a message
    when there is no data."""
    from lib.core.periods import parse
    from lib.metrics import schemes, scoring

    if not st.session_state.get("period"):
        empty_state()
        st.stop()
    period = parse(st.session_state["period"])
    team = None if st.session_state.get("team") in (None, ALL) else st.session_state["team"]
    scheme = schemes.resolve(con(), st.session_state.get("scheme"), period.end)
    card = (scoring.scorecard(con(), scheme, period, viewer=viewer(), team=team, shops=chosen_shops())
            if score else None)  # fmt: skip
    return period, team, scheme, card


def chosen_shops() -> list[str] | None:
    """The sidebar's shop as a filter: None for all shops."""
    shop = st.session_state.get("shop")
    return None if shop in (None, ALL) else [shop]


def empty_state() -> None:
    """No data yet (or the demo was just cleared): what to do next. Who may upload gets the way
    to the first upload in three steps and a button that loads the demo again."""
    from lib.app import demo
    from lib.auth import users
    from pages._auth import announce, auth_path, log_path

    who = viewer()
    st.info(t("overview.empty"), icon=":material/inbox:")
    if not who.can("upload"):
        return
    st.markdown(t("empty.steps"))
    first, again = st.columns(2)
    first.page_link("pages/upload.py", label=t("empty.first_upload"), icon=":material/upload_file:")
    if again.button(t("demo.load_again"), key="demo_load_again", icon=":material/replay:"):
        with st.spinner(t("demo.loading_again")):
            demo.load_again(con(), who)
            announce(users.add_demo(auth_path(), log_path(con())))
        from lib.present import views

        months = views.months_with_data(con())  # the demo's months: start from their default
        st.session_state["period"] = views.default_month(con(), months)
        st.session_state["flash"] = t("demo.loaded_again")
        st.rerun()


def listing(items: list[str]) -> str:
    """Items joined as the language writes a list."""
    return ("、" if lang() == "zh" else ", ").join(items)


def report_failure(key: str = "error.section") -> None:
    """Show a short translated message with an error id; the full traceback goes to the log."""
    error_id = uuid.uuid4().hex[:8]
    LOG.exception("error %s", error_id)
    st.error(t(key, error_id=error_id), icon=":material/error:")


def background(key: tuple, work=None, label: str = ""):
    """Run `work(progress)` off the script thread, kept in the session under `key`.

    Returns the finished `lib.core.background.Job` (its `result`, or its `error`), or None while it
    runs: the page then shows a progress bar that updates itself, and reruns when the work is
    done, so the person can go on using the app meanwhile. Short work (up to the setting
    `upload_wait_s`) ends within the run that started it and shows no bar. With `work` None,
    only a job already started under `key` is looked at."""
    from lib.core import background as jobs
    from lib.core import settings

    running = st.session_state.setdefault("jobs", {})
    job = running.get(key)
    if job is None:
        if work is None:
            return None
        job = running[key] = jobs.Job(work, label)
        job.wait(settings.get("upload_wait_s"))
    if job.done:
        return job
    _watch(key)
    return None


def forget_jobs(keep) -> None:
    """Drop finished jobs whose key `keep(key)` refuses (another file, an older choice)."""
    running = st.session_state.get("jobs", {})
    for key in [k for k, job in running.items() if job.done and not keep(k)]:
        del running[key]


@st.fragment(run_every=0.5)
def _watch(key: tuple) -> None:
    job = st.session_state.get("jobs", {}).get(key)
    if job is None:
        return
    if job.done:
        st.rerun()  # the whole page, which now shows the result
    st.progress(job.fraction, text=job.message or t("upload.working"))
    st.caption(t("upload.working_since", seconds=f"{job.seconds:.0f}"))


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
