"""Account page: who you are signed in as, and changing your own password."""

import streamlit as st

from lib.auth import users
from lib.core import errors
from lib.core.i18n import message
from pages._auth import auth_path, log_path
from pages._ui import con, guard, lang, t

who = guard("account")
st.header(t("nav.account"))
st.write(t("account.who", user=who.username, role=t(f"role.{who.role}")))
if who.agent:
    st.write(t("account.agent", agent=who.agent))
with st.form("change_password", clear_on_submit=True):
    st.subheader(t("account.change"))
    current = st.text_input(t("account.current"), type="password")
    new = st.text_input(t("account.new"), type="password", help=t("account.rule"))
    repeat = st.text_input(t("account.repeat"), type="password")
    if st.form_submit_button(t("account.save"), type="primary"):
        if new != repeat:
            st.error(t("account.mismatch"))
        else:
            try:
                users.change_password(auth_path(), who, current, new, log=log_path(con()))
            except errors.UserError as exc:
                st.error(message(str(exc), lang()))
            else:  # other sessions end; this one goes on with a fresh cookie
                st.session_state["session_gen"] = users.session(auth_path(), who.username)
                st.session_state["cookie_due"] = True
                st.success(t("account.changed"))
