"""The editor for a rule set people change in the app (alert rules, training rules,
recognition rules): the version in force as YAML, a reason, save, and the saved versions."""

from __future__ import annotations

import streamlit as st
import yaml

from lib.auth import rulesets
from lib.core import errors
from lib.core.i18n import message
from pages._ui import con, lang, t


def editor(name: str, who, may_edit: bool, save, after=None) -> None:
    """Show rule set `name`; `save(con, viewer, body, reason=, base_version=)` stores an edit
    and `after(con)` runs once it is stored."""
    version, text = rulesets.latest(con(), name)
    st.caption(t("rules.version", version=version) if version else t("rules.shipped"))
    body = st.text_area(t(f"rules.{name}"), text, height=360, disabled=not may_edit,
                        key=f"rules_{name}_{version}")  # fmt: skip
    if may_edit:
        reason = st.text_input(t("rules.reason"), key=f"rules_{name}_reason_{version}")
        if st.button(t("rules.save"), key=f"rules_{name}_save"):
            try:
                saved = save(con(), who, yaml.safe_load(body), reason=reason, base_version=version)
                if after:
                    after(con())
                st.session_state["flash"] = t("rules.saved", version=saved)
                st.rerun()
            except (errors.RuleProblems, errors.BonusError, errors.ConflictError,
                    yaml.YAMLError) as exc:  # fmt: skip
                st.error(message(str(exc), lang()))
    saved_versions = rulesets.history(con(), name)
    if len(saved_versions):
        st.caption(t("rules.history"))
        st.dataframe(saved_versions.rename(columns=lambda c: t(f"column.{c}")), hide_index=True,
                     placeholder="–", width="stretch")  # fmt: skip
