"""Service Scorecard (客服绩效看板): the app's entry point.

Sets up the page, opens the store (loading the demo data and creating the accounts on a first
start), signs the user in, shows the demo banner, the language switch, and the navigation
over the pages in `pages/` that the user's role may open, with the menu of those pages drawn by
the app itself (none before sign-in); the others are refused by URL too.
Start it with `streamlit run app.py` (add `-- --db PATH` to use another store file).

`streamlit run` reads this file twice over. When the server starts it imports it once, finds
`app` (an `st.App`) and serves it, with the route that sets the login cookie as HttpOnly
(pages/_auth.py); the app's start-up hook opens the store, loads the demo into an empty one and
creates the accounts, so their passwords are printed in the terminal before anyone opens the
page. Every run of a session then executes the file as `__main__`: the page.
"""

import asyncio
import time
from contextlib import asynccontextmanager

import streamlit as st

from lib.app import demo
from lib.auth import users
from lib.auth.access import may_open
from lib.core import store
from lib.core.errors import StoreError
from lib.core.i18n import message
from pages._auth import (
    account_box,
    announce,
    auth_path,
    log_path,
    server_start,
    session_routes,
    sign_in,
    start_accounts,
)
from pages._filters import filters
from pages._ui import con, lang, language_switch, opened_page, report_failure, t


@asynccontextmanager
async def started(_app):
    """The server's start-up hook: the store, the demo and the accounts, before the first view."""
    await asyncio.to_thread(server_start)
    yield


if __name__ != "__main__":  # imported by the server when it starts
    app = st.App(__file__, lifespan=started, routes=session_routes())
else:  # a session's run: the page
    st.set_page_config(
        page_title="Service Scorecard · 客服绩效看板",
        page_icon="📊",  # drawn by the browser: a Material icon here is fetched from Google
        layout="wide",
    )
    menu = st.sidebar.container(key="app_menu")  # the pages this viewer may open, drawn below
    language_switch()
    if "session_started" not in st.session_state and not st.session_state.get("opened_page"):
        # The page in the address bar when the tab opened (the browser may not have said yet).
        st.session_state["opened_page"] = opened_page(st.context.url)

    try:
        db = con()
    except StoreError as exc:
        st.error(t("store.error", message=str(exc)))
        st.stop()

    if store.is_empty(db) and not demo.was_cleared(db):
        with st.spinner(t("demo.loading")):
            demo.load(db)
            start_accounts(db)
            announce(users.add_demo(auth_path(), log_path(db)))

    viewer, authenticator = sign_in(db)
    account_box(db, viewer, authenticator)

    @st.dialog(t("demo.clear"))
    def confirm_clear_demo():
        st.write(t("demo.clear_confirm"))
        yes, no = st.columns(2)
        if yes.button(t("demo.clear"), type="primary", key="demo_clear_confirm"):
            removed = demo.clear(db, viewer)
            users.remove_demo(auth_path(), viewer=viewer, log=log_path(db))
            st.session_state["flash"] = t("demo.cleared", rows=f"{removed:,}")
            st.rerun()
        if no.button(t("common.cancel"), key="demo_clear_cancel"):
            st.rerun()

    if demo.has_demo(db):
        banner, action = st.columns([5, 1], vertical_alignment="center")
        banner.info(t("demo.banner" if viewer.can("upload") else "demo.banner_viewer"),
                    icon=":material/info:")  # fmt: skip
        if viewer.can("upload") and action.button(
            t("demo.clear"), key="demo_clear", icon=":material/delete:"
        ):
            confirm_clear_demo()
    filters(db, viewer)
    if "flash" in st.session_state:
        st.success(st.session_state.pop("flash"))

    PAGES = [  # page, icon
        ("overview", ":material/dashboard:"),
        ("scorecard", ":material/badge:"),
        ("weights", ":material/tune:"),
        ("upload", ":material/upload_file:"),
        ("coaching", ":material/school:"),
        ("plans", ":material/flag:"),
        ("rewards", ":material/emoji_events:"),
        ("monitoring", ":material/notifications:"),
        ("quality", ":material/fact_check:"),
        ("calibration", ":material/balance:"),
        ("users", ":material/group:"),
        ("audit", ":material/history:"),
        ("account", ":material/account_circle:"),
    ]

    OPENING_SECONDS = 8  # how long after signing in a move to another page counts as the browser's

    def refused(name: str):
        """A page the role may not open: hidden from the menu, and refused when opened by URL."""

        def page():
            st.error(t("auth.not_allowed", role=t(f"role.{viewer.role}")))

        page.__name__ = f"refused_{name}"
        return st.Page(page, title=t(f"nav.{name}"), url_path=name, visibility="hidden")

    default = "overview" if may_open(viewer, "overview") else "scorecard"
    pages = {
        name: st.Page(f"pages/{name}.py", title=t(f"nav.{name}"), icon=icon, default=name == default)
        if may_open(viewer, name) else refused(name)
        for name, icon in PAGES
    }  # fmt: skip
    # Streamlit's own menu is off (.streamlit/config.toml): the app draws the pages this role may
    # open, and nothing at all before sign-in.
    page = st.navigation(list(pages.values()), position="hidden")
    for name, _ in PAGES:
        if may_open(viewer, name):
            menu.page_link(pages[name])
    wanted = pages.get(st.session_state.get("opened_page"))
    returns = st.session_state.get("page_returns", 0)
    shown_since = st.session_state.setdefault("pages_shown_at", time.monotonic())  # signed in
    early = time.monotonic() - shown_since < OPENING_SECONDS
    if wanted is not None and wanted.title != page.title and early and returns < 3:
        # Signing in first loses the page the tab was opened on, and a rerun the browser sends in
        # the tab's first moments can ask for the main page: in those first seconds, go back to
        # the page in the address bar.
        st.session_state["session_started"] = True
        st.session_state["page_returns"] = returns + 1
        st.switch_page(wanted)
    if "session_started" not in st.session_state:
        # A session's first run is registered under the main script; the browser's first
        # interaction then looks like a page change, and Streamlit drops its button click.
        # One rerun as soon as the page is known aligns the two, so the first click counts.
        st.session_state["session_started"] = True
        st.rerun()
    try:
        page.run()
    except StoreError as exc:  # a full disk or read-only folder met while saving: say so, go on
        st.error(message(str(exc), lang()), icon=":material/error:")
    except Exception:  # noqa: BLE001 - no traceback reaches a user: a message with an error id
        report_failure("error.page")
