"""Calibration page: how far QA reviewers agree per criterion, each reviewer's bias against the
group with drifting reviewers flagged, and the QA rubric editor (versioned, with a reason)."""

import streamlit as st
import yaml

from lib.core import errors
from lib.core.i18n import message
from lib.present import charts, views
from lib.quality import calibration, rubric
from pages._ui import con, guard, lang, safe, t

who = guard("calibration")
st.header(t("nav.calibration"))
if "calib_flash" in st.session_state:
    st.success(st.session_state.pop("calib_flash"))
st.caption(t("calib.intro"))
rub = rubric.current(con())

bias = calibration.reviewer_bias(con(), who)
flagged = bias[bias["flagged"]]
for r in flagged.itertuples():
    st.warning(t("calib.flag", reviewer=safe(r.reviewer), bias=f"{r.bias:+.1f}", n=r.tickets),
               icon=":material/balance:")  # fmt: skip
left, right = st.columns(2)
with left:
    st.subheader(t("calib.bias"))
    if bias.empty:
        st.info(t("calib.none"))
    else:
        labels = {"reviewer": t("qa.col.reviewer"), "bias": t("calib.col.bias"),
                  "flagged": t("calib.col.flagged")}  # fmt: skip
        fig = charts.reviewer_bias(bias, rub.flag_bias, labels, t("common.yes"), t("common.no"))
        st.plotly_chart(fig, width="stretch")
        st.dataframe(bias.rename(columns=lambda c: t(f"calib.col.{c}")), hide_index=True, placeholder="–",
                     width="stretch", column_config={t("calib.col.bias"): st.column_config.NumberColumn(format="%+.1f"),
                                                     t("calib.col.spread"): st.column_config.NumberColumn(format="%.1f")})  # fmt: skip
        st.caption(t("calib.bias_help", flag=f"{rub.flag_bias:g}", n=rub.min_shared))
with right:
    st.subheader(t("calib.agreement"))
    agree = calibration.agreement(con(), who, lang())
    st.dataframe(agree.drop(columns=["criterion_id"]).rename(columns=lambda c: t(f"calib.col.{c}")),
                 hide_index=True, placeholder="–", width="stretch",
                 column_config={t("calib.col.agreement"): st.column_config.NumberColumn(format="percent"),
                                t("calib.col.alpha"): st.column_config.NumberColumn(format="%.2f")})  # fmt: skip
    st.caption(t("calib.agreement_help"))

st.subheader(t("calib.rubric"))
st.caption(t("calib.rubric_version", version=rub.version))
body, version = rubric.current_body(con())
if who.can("edit_schemes"):
    with st.form("rubric"):
        text = st.text_area(t("calib.rubric_yaml"), yaml.safe_dump(body, allow_unicode=True, sort_keys=False),
                            height=380)  # fmt: skip
        reason = st.text_input(t("calib.reason"))
        if st.form_submit_button(t("calib.save"), type="primary"):
            try:
                saved = rubric.save(con(), who, yaml.safe_load(text), reason=reason,
                                    base_version=version)  # fmt: skip
                st.session_state["calib_flash"] = t("calib.saved", version=saved)
                st.rerun()
            except (errors.RubricError, errors.ConflictError, yaml.YAMLError) as exc:
                st.error(message(str(exc), lang()))
else:
    st.code(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), language="yaml")
st.dataframe(
    views.column_names(rubric.versions(con()), None, lang()),
    hide_index=True,
    placeholder="–",
    width="stretch",
)
