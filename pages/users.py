"""Users page (admins): accounts, roles, agent links, password resets, disabling."""

import streamlit as st

from lib.auth import users
from lib.auth.access import ROLES
from lib.core import errors
from lib.core.i18n import message
from lib.ingest import accounts
from lib.present import views
from pages._auth import auth_path, log_path
from pages._ui import con, guard, lang, t

who = guard("users")
st.header(t("nav.users"))
path, log = auth_path(), log_path(con())
if "users_flash" in st.session_state:
    st.success(st.session_state.pop("users_flash"))

table = users.listing(path)
shown = views.readable_values(table, None, lang())
st.dataframe(shown.rename(columns={c: t(f"users.{c}") for c in shown.columns}), hide_index=True, placeholder="–",
             width="stretch")  # fmt: skip
agents = accounts.people(con())  # roster, linked people and every agent in the data
role_names = {r: t(f"role.{r}") for r in ROLES}


def done(text: str) -> None:
    st.session_state["users_flash"] = text
    st.rerun()


st.subheader(t("users.add"))
with st.form("add_user", clear_on_submit=True):
    a, b, c = st.columns(3)
    username = a.text_input(t("users.username"))
    role = b.selectbox(t("users.role"), ROLES, index=3, format_func=role_names.get)
    agent = c.selectbox(t("users.agent"), ["", *agents], help=t("users.agent_help"))
    if st.form_submit_button(t("users.add_button"), type="primary"):
        try:
            password = users.add(path, username, role, agent=agent or None, viewer=who, log=log)
        except errors.UserError as exc:
            st.error(message(str(exc), lang()))
        else:
            done(t("users.added", user=username.strip().lower(), password=password))

st.subheader(t("users.change"))
names = list(table["username"])
user = st.selectbox(t("users.username"), names, key="users_pick")
row = table.set_index("username").loc[user]
a, b = st.columns(2)
with a.form("set_role"):
    new_role = st.selectbox(
        t("users.role"), ROLES, index=ROLES.index(row["role"]), format_func=role_names.get
    )
    new_agent = st.selectbox(t("users.agent"), ["", *agents],
                             index=([""] + agents).index(row["agent"]) if row["agent"] in agents else 0)  # fmt: skip
    if st.form_submit_button(t("users.set_role")):
        try:
            users.set_role(path, user, new_role, agent=new_agent or None, viewer=who, log=log)
        except errors.UserError as exc:
            st.error(message(str(exc), lang()))
        else:
            done(t("users.role_set", user=user, role=role_names[new_role]))
with b:
    if st.button(t("users.reset"), key="users_reset"):
        password = users.reset_password(path, user, viewer=who, log=log)
        done(t("users.reset_done", user=user, password=password))
    disabled = bool(row["disabled"])
    if st.button(t("users.enable") if disabled else t("users.disable"), key="users_disable"):
        try:
            users.set_disabled(path, user, not disabled, viewer=who, log=log)
        except errors.UserError as exc:
            st.error(message(str(exc), lang()))
        else:
            done(t("users.enabled" if disabled else "users.disabled_done", user=user))
