"""Sign-in for the app: first start, the login form, the signed-in viewer and logout.

`lib.auth.users` checks passwords, counts failures, pauses an account for a client address after
too many and signs the login cookie, which carries the account's session generation; this file
only draws the form, passes on the browser's address and moves the cookie between the browser
and lib (the web server sets the cookie as HttpOnly, so page scripts cannot read it: see
`session_routes`).
Every run checks the session generation again, so signing out, a new password or role, or
disabling ends every session at once.
"""

from __future__ import annotations

import json

import streamlit as st

from lib.app import demo
from lib.auth import access, audit, users
from lib.auth import cookies as cookie_route
from lib.core import errors, store
from lib.core.i18n import message
from pages._text import lang, t
from pages._ui import con

SIGNED_IN = ("authentication_status", "username", "session_gen")


def auth_path():
    return users.auth_path()


def log_path(db):
    return audit.log_of(db)


def announce(made) -> None:
    """Passwords created for this installation go to the terminal that started the app, once."""
    if made:
        print(users.announcement(made), flush=True)


def server_start() -> None:
    """When the server starts, before anyone opens the page: open the store (which starts its
    warm-up), create the accounts and load the demo into an empty store, printing the
    passwords in the terminal. A problem is printed here; the first page view meets it again
    and shows it (or, for the demo, loads it then)."""
    try:
        db = con()
        announce(users.first_start(auth_path(), log_path(db)))
        if store.is_empty(db) and not demo.was_cleared(db):
            print("Loading the demo data …", flush=True)
            demo.load(db)
            announce(users.add_demo(auth_path(), log_path(db)))
    except (errors.StoreError, errors.UserError) as exc:
        print(f"Not ready at start: {message(str(exc), 'en')}", flush=True)
    except Exception as exc:  # noqa: BLE001 - the server still starts; the pages report it
        print(f"Not ready at start: {exc}", flush=True)


def start_accounts(db) -> None:
    """Create the accounts file on a first start; a refused SCORECARD_ADMIN_PASSWORD stops the
    app with the reason instead of a traceback."""
    try:
        announce(users.first_start(auth_path(), log_path(db)))
    except errors.UserError as exc:
        st.error(message(str(exc), lang()))
        st.stop()


def _base() -> str:
    return str(st.get_option("server.baseUrlPath") or "")


def session_routes() -> list:
    """The web route that sets the login cookie as HttpOnly (`lib.auth.cookies`), under the
    app's base path; app.py serves it with `st.App`."""
    return cookie_route.routes(_base())


class Cookies:
    """The login cookie: set and removed by the web server as an HttpOnly cookie (see
    `session_routes`), read from the request that opened the tab."""

    def __init__(self, path):
        self.path = path
        self.settings = users.cookie(path)

    def token(self):
        return st.context.cookies.get(self.settings["name"])

    def write(self, path, username: str) -> None:
        _hand_over(users.cookie_handover(path, username))

    def delete(self) -> None:
        _hand_over(users.cookie_handover(self.path, None))


def _hand_over(code: str) -> None:
    """Have the browser trade `code` for the cookie: a script in the page posts it to the route."""
    url = json.dumps(f"{cookie_route.route_path(_base())}?code={code}")
    with st.sidebar:  # our own script, no user text: a random code in a JSON string
        st.html(f"<script>fetch({url}, {{method: 'POST', credentials: 'same-origin'}})</script>",
                unsafe_allow_javascript=True)  # fmt: skip


def _forget() -> None:
    for key in (*SIGNED_IN, "viewer", "audited_login", "agent", "cookie_due"):
        st.session_state.pop(key, None)


def sign_in(db) -> tuple[access.Viewer, Cookies]:
    """The signed-in viewer (and the cookie, for logout); draws the login form and stops the
    page until someone signs in."""
    path = auth_path()
    start_accounts(db)
    cookies = Cookies(path)
    state = st.session_state
    if state.pop("cookie_end", False):
        cookies.delete()
    username = state.get("username") if state.get("authentication_status") else None
    if username and users.session(path, username) != state.get("session_gen"):
        _forget()  # signed out elsewhere, new password or role, or disabled
        cookies.delete()
        st.warning(t("auth.ended"))
        username = None
    was_signed_in = bool(username)
    by_cookie = False
    if not username:
        found = users.read_token(path, cookies.token())
        if found:  # a valid cookie of the current session generation
            username, by_cookie = found[0], True
            state.update(authentication_status=True, username=username, session_gen=found[1])
    if not username:
        username = _login_form(db, path)
    viewer = users.viewer(path, username)
    if viewer is None:  # disabled or removed since the cookie was set
        _forget()
        st.error(t("auth.disabled", user=username))
        st.stop()
    if not was_signed_in and not by_cookie:
        state["cookie_due"] = True
        cookies.write(path, username)
    elif state.pop("cookie_due", False):
        # The run that signs in ends in a rerun (see app.py) that can drop the element which
        # writes the login cookie, so it is written again on the next run.
        cookies.write(path, username)
    if state.get("audited_login") != username:
        state["audited_login"] = username
        audit.record(log_path(db), username, "login", username, {"role": viewer.role})
    state["viewer"] = viewer
    return viewer, cookies


def client_address() -> str | None:
    """The address the browser connects from (the TCP peer; behind a reverse proxy on this
    machine, the address it forwards), or None on this machine: the sign-in pause is per
    account and address."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - no browser connection (tests, scripts)
        return None


def _login_form(db, path) -> str:
    """Draw the form; the username once the password is right, else the page stops."""
    with st.form("Login"):
        st.subheader(t("auth.title"))
        username = st.text_input(t("auth.username"), autocomplete="off")
        password = st.text_input(t("auth.password"), type="password", autocomplete="off")
        submitted = st.form_submit_button(t("auth.login"))
    if submitted:
        generation = users.login(path, username, password, log_path(db), client_address())
        if generation is not None:
            name = username.strip().lower()
            st.session_state.update(authentication_status=True, username=name,
                                    session_gen=generation)  # fmt: skip
            return name
        # One message for every failure: nobody learns which accounts exist or are paused.
        st.error(t("auth.wrong"))
    st.caption(t("auth.help"))
    st.stop()


def account_box(db, viewer: access.Viewer, cookies: Cookies) -> None:
    """Who is signed in, with a logout button, in the sidebar."""
    st.sidebar.caption(t("auth.signed_in", user=viewer.username, role=t(f"role.{viewer.role}")))
    if st.sidebar.button(t("auth.logout"), key="sign_out", icon=":material/logout:"):
        users.sign_out(auth_path(), viewer, log_path(db))  # every cookie dies
        _forget()
        st.session_state["cookie_end"] = True  # removed on the next run: a rerun drops frames
        st.rerun()


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
