"""Weights and thresholds page: edit live, watch the ranking move, save a version with a reason."""

import streamlit as st

from lib.core import errors
from lib.core.i18n import message
from lib.metrics import hours, schemes
from lib.present import charts, views
from pages._filters import context
from pages._ui import con, guard, lang, safe, t

who = guard("weights")
st.header(t("nav.weights"))
period, team, _, _ = context(score=False)
name = st.session_state["scheme"]
saved = schemes.get(con(), name)
if st.session_state.get("edit_name") != name:  # a new scheme: start from its latest version
    st.session_state.pop("weights_conflict", None)
    st.session_state.update(edit_name=name, edit_body=saved.body, edit_version=saved.version,
                            edit_round=st.session_state.get("edit_round", 0) + 1)  # fmt: skip
st.caption(t("weights.intro", name=saved.label(lang()), version=saved.version))
editing = schemes.get(con(), name, st.session_state["edit_version"])
st.info(t("weights.editing", version=editing.version,
          words=schemes.in_force_words(editing, lang())))  # fmt: skip
if "weights_flash" in st.session_state:
    st.success(st.session_state.pop("weights_flash"))

pick, load = st.columns([3, 1], vertical_alignment="bottom")
titles = {n: schemes.get(con(), n).label(lang()) for n in schemes.preset_names()}
preset = pick.selectbox(
    t("weights.preset"), list(titles), format_func=titles.get, key="weights_preset"
)
if load.button(t("weights.load"), key="weights_load"):
    st.session_state["edit_body"] = {**schemes.preset_body(preset), "name": name}
    st.session_state["edit_round"] += 1
    st.rerun()


@st.fragment
def edit_and_rank() -> None:
    """The editors, the ranking they give and the save form. An edit reruns only this part:
    the ranking follows each keystroke in a meeting without the rest of the page."""
    who = guard("weights")  # checked again on each of its own runs: signed out elsewhere stops it
    body = st.session_state["edit_body"]
    dims, rows = schemes.to_tables(body, lang=lang())
    r = st.session_state["edit_round"]
    number = st.column_config.NumberColumn
    dims = st.data_editor(dims, key=f"dims_{r}", hide_index=True, placeholder="–", disabled=["dimension", "name"],
                          column_config={"dimension": None, "name": t("weights.dimension"),
                                         "weight": number(t("weights.weight"), min_value=0.0)})  # fmt: skip
    rows = st.data_editor(rows, key=f"kpis_{r}", hide_index=True, placeholder="–",
                          disabled=["kpi", "name", "dimension", "dimension_name", "unit"],
                          column_config={"kpi": None, "name": t("weights.kpi"), "dimension": None,
                                         "dimension_name": t("weights.dimension"), "unit": t("weights.unit"),
                                         "weight": number(t("weights.weight"), min_value=0.0),
                                         "floor": number(t("weights.floor")), "target": number(t("weights.target")),
                                         "min_sample": number(t("weights.min_sample"), min_value=1, step=1)})  # fmt: skip
    grades = st.data_editor(schemes.grades_table(body), key=f"grades_{r}", hide_index=True, placeholder="–",
                            column_config={"min": number(t("weights.grade_min"), min_value=0.0, max_value=100.0),
                                           "code": t("weights.grade_code"),  # each language edits its own names
                                           "zh": t("weights.grade_zh") if lang() == "zh" else None,
                                           "en": t("weights.grade_en") if lang() == "en" else None})  # fmt: skip
    edited_body = schemes.from_tables(body, dims, rows, grades)
    if st.checkbox(t("weights.business_hours"), value=bool(body.get("business_hours")), key=f"hours_{r}",
                   help=t("weights.business_hours_help", setting=hours.status(lang()))):  # fmt: skip
        edited_body["business_hours"] = True
    else:
        edited_body.pop("business_hours", None)
    problems = schemes.check(edited_body)
    if problems:
        st.error(t("weights.invalid") + "\n\n" + "\n".join(f"- {m}" for _, m in problems))
        return
    edited = schemes.from_dict(edited_body)

    shares = schemes.shares(edited).assign(share=lambda x: x["share"].map("{:.1%}".format))
    labels = dict(zip(rows["kpi"], rows["name"]))
    st.caption(
        t("weights.shares")
        + " "
        + " · ".join(f"{labels[k]} {s}" for k, s in zip(shares["kpi"], shares["share"]))
    )

    st.subheader(t("weights.ranking"))
    ranking, movers = views.rerank_with_movers(con(), who, period, team, saved, edited, lang())
    left, right = st.columns([3, 2])
    left.dataframe(ranking.rename(columns={c: t(f"rerank.{c}") for c in ranking.columns}),
                   hide_index=True, placeholder="–", width="stretch", key="rerank_table")  # fmt: skip
    right.plotly_chart(charts.rank_moves(ranking, t("weights.moves_chart"), t("weights.saved_side"),
                                         t("weights.edited_side"), set(movers)),
                       width="stretch")  # fmt: skip
    if movers:
        right.caption(t("weights.movers", names=safe(" · ".join(movers.values()))))

    changes = schemes.diff_words(saved.body, edited_body, lang())
    if changes:
        st.subheader(t("weights.save"))
        st.code("\n".join(changes), language=None)
        conflict = st.session_state.get("weights_conflict")
        if conflict:  # someone saved meanwhile: start again from theirs rather than overwrite it
            st.error(conflict)
            if st.button(t("weights.reload_latest"), key="weights_reload", type="primary"):
                st.session_state.pop("edit_name")
                st.rerun()
        else:
            reason = st.text_input(t("weights.reason"), key="weights_reason")
            # The period under discussion is the one the new weights are for, by default.
            start = st.date_input(t("weights.in_force_from"), value=period.start,
                                  help=t("weights.in_force_help"), key="weights_from")  # fmt: skip
            if st.button(t("weights.save_button"), type="primary", disabled=not reason.strip()):
                try:
                    v = schemes.save(con(), who, edited_body, reason=reason,
                                     base_version=st.session_state["edit_version"], in_force_from=start)  # fmt: skip
                except errors.ConflictError as exc:
                    st.session_state["weights_conflict"] = message(str(exc), lang())
                    st.rerun()
                else:  # start again from the saved version: its columns, history and ranking
                    st.session_state.pop("edit_name", None)
                    st.session_state["weights_flash"] = t("weights.saved", version=v)
                    st.rerun()


edit_and_rank()

st.subheader(t("weights.history"))
history = schemes.versions(con(), name)
st.dataframe(
    views.scheme_history(history, lang()), hide_index=True, placeholder="–", width="stretch"
)
versions = list(history["version"])
if len(versions) > 1:
    a, b, c = st.columns(3, vertical_alignment="bottom")
    va = a.selectbox(t("weights.compare_a"), versions, index=1, key="cmp_a")
    vb = b.selectbox(t("weights.compare_b"), versions, index=0, key="cmp_b")
    old, new = schemes.get(con(), name, va), schemes.get(con(), name, vb)
    st.code("\n".join(schemes.diff_words(old.body, new.body, lang())) or t("weights.same"),
            language=None)  # fmt: skip
    moves = views.rerank(con(), who, period, team, old, new)
    st.dataframe(moves.rename(columns={c: t(f"rerank.{c}") for c in moves.columns}), hide_index=True, placeholder="–",
                 width="stretch")  # fmt: skip
    if c.button(t("weights.revert", version=va), key="revert"):
        v = schemes.save(con(), who, old.body, in_force_from=period.start,
                         reason=t("weights.revert_reason", version=va))  # fmt: skip
        st.session_state.pop("edit_name", None)  # the editor follows the restored version
        st.session_state["weights_flash"] = t("weights.saved", version=v)
        st.rerun()
