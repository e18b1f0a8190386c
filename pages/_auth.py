"""Sign-in for the app: first start, the login form, the signed-in viewer and logout.

streamlit-authenticator draws the form, checks the bcrypt hash, limits failed attempts and
keeps the login cookie; `lib.users` owns the accounts file and `lib.audit` the log. Every run
re-reads the account, so a disabled or changed user takes effect at once.
"""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from lib import access, audit, users
from pages._ui import t


def auth_path():
    return users.auth_path()


def log_path(db):
    return audit.log_of(db)


def announce(made) -> None:
    """Passwords created for this installation go to the terminal that started the app, once."""
    if made:
        print(users.announcement(made), flush=True)


def authenticator(path) -> tuple[stauth.Authenticate, dict]:
    creds = users.credentials(path)
    cookie = users.cookie(path)
    auth = stauth.Authenticate(creds, cookie["name"], cookie["key"], cookie["expiry_days"],
                               auto_hash=False, login_sleep_time=0.3)  # fmt: skip
    return auth, creds


def sign_in(db) -> tuple[access.Viewer, stauth.Authenticate]:
    """The signed-in viewer (and the authenticator, for logout); draws the login form and
    stops the page until someone signs in."""
    path = auth_path()
    announce(users.first_start(path, log_path(db)))
    auth, creds = authenticator(path)
    before = users.failed_logins(creds)
    was_signed_in = bool(st.session_state.get("authentication_status"))
    fields = {"Form name": t("auth.title"), "Username": t("auth.username"),
              "Password": t("auth.password"), "Login": t("auth.login")}  # fmt: skip
    try:
        auth.login(location="main", max_login_attempts=users.MAX_LOGIN_ATTEMPTS, fields=fields)
    except LoginError as exc:
        locked = "attempts" in str(exc)
        st.error(t("auth.locked") if locked else t("auth.refused"))
        if locked:
            audit.record(log_path(db), "", "login.locked", "", str(exc))
    users.save_failed_logins(path, before, creds, log_path(db))
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error(t("auth.wrong"))
    if not status:
        st.caption(t("auth.help"))
        st.stop()
    username = st.session_state.get("username")
    viewer = users.viewer(path, username)
    if viewer is None:  # disabled or removed since the cookie was set
        auth.logout(location="unrendered")
        st.session_state.pop("viewer", None)
        st.error(t("auth.disabled", user=username))
        st.stop()
    if not was_signed_in and not _signed_in_by_cookie(auth, username):
        st.session_state["cookie_due"] = True
    elif st.session_state.pop("cookie_due", False):
        # The run that signs in ends in a rerun (see app.py) that can drop the element which
        # writes the login cookie, so it is written again on the next run.
        auth.cookie_controller.set_cookie()
    if st.session_state.get("audited_login") != username:
        st.session_state["audited_login"] = username
        audit.record(log_path(db), username, "login", username, {"role": viewer.role})
    st.session_state["viewer"] = viewer
    return viewer, auth


def _signed_in_by_cookie(auth: stauth.Authenticate, username: str) -> bool:
    """Whether this tab's valid login cookie (not the form) signed `username` in. Such a tab
    need not write the cookie again: doing so reruns the page from the browser, which may
    then land on the main page instead of the one in the address bar."""
    token = auth.cookie_controller.get_cookie()
    return bool(token) and token.get("username") == username


def account_box(db, viewer: access.Viewer, auth: stauth.Authenticate) -> None:
    """Who is signed in, with a logout button, in the sidebar."""
    st.sidebar.caption(t("auth.signed_in", user=viewer.username, role=t(f"role.{viewer.role}")))
    if st.sidebar.button(t("auth.logout"), key="sign_out", icon=":material/logout:"):
        audit.record(log_path(db), viewer.username, "logout", viewer.username)
        auth.logout(location="unrendered")
        for key in ("viewer", "audited_login", "agent"):
            st.session_state.pop(key, None)
        st.rerun()
