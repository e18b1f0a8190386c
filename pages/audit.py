"""Audit page (admins and managers): who did what and when, newest first; read-only."""

import streamlit as st

from lib.auth import audit
from lib.present import export, views
from pages._auth import log_path
from pages._ui import con, guard, lang, t

who = guard("audit")
st.header(t("nav.audit"))
st.caption(t("audit.intro"))
everything = audit.entries(log_path(con()), who, limit=None)
a, b = st.columns(2)
actions = a.multiselect(t("audit.action"), sorted(everything["action"].unique()), key="audit_actions", placeholder=t("common.choose"),
                        format_func=lambda x: views.action_label(x, lang()))  # fmt: skip
people = b.multiselect(
    t("audit.who"),
    sorted(everything["who"].unique()),
    key="audit_who",
    placeholder=t("common.choose"),
)
shown = audit.entries(log_path(con()), who, limit=None, actions=actions, people=people)
st.dataframe(views.audit_view(shown, lang()), hide_index=True, placeholder="–",
             width="stretch")  # fmt: skip
st.download_button(t("audit.download"), export.csv_bytes(shown),
                   file_name="audit.csv", mime="text/csv")  # fmt: skip
