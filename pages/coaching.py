"""Coaching page: an agent's feedback notes (write, edit with history, acknowledge, reply) and
the training recommended for their weak KPIs, with reasons and a mentor."""

import streamlit as st

from lib.coaching import notes, plans, training
from lib.core import errors
from lib.core.i18n import message
from lib.metrics.kpis import load_catalogue
from lib.present import views
from pages._filters import context
from pages._ui import con, guard, lang, safe, t

who = guard("coaching")
st.header(t("nav.coaching"))
period, team, scheme, card = context()
agents = [who.agent] if who.is_agent else list(card.agents["agent"])
if not agents:
    st.info(t("scorecard.no_own_data") if who.is_agent else t("scorecard.no_agents"))
    st.stop()
agent = st.selectbox(t("scorecard.agent"), agents, key="coach_agent", disabled=who.is_agent)
catalogue = load_catalogue()
kpi_names = views.kpi_names(lang(), catalogue)
kind_names = {k: t(f"note.{k}") for k in notes.KINDS}
tab_notes, tab_recs = st.tabs([t("coaching.notes"), t("coaching.recommendations")])

with tab_notes:
    if who.can("coach"):
        with st.form("new_note", clear_on_submit=True):
            a, b, c = st.columns(3)
            kind = a.selectbox(t("note.kind"), notes.KINDS, format_func=kind_names.get)
            kpi = b.selectbox(
                t("note.kpi"), ["", *scheme.kpi_ids], format_func=lambda k: kpi_names.get(k, "—")
            )
            ticket = c.text_input(t("note.ticket"))
            body = st.text_area(t("note.body"))
            if st.form_submit_button(t("note.add"), type="primary"):
                try:
                    notes.add(con(), who, agent, kind, body, period=period.label, kpi=kpi or None,
                              ticket_id=ticket or None)  # fmt: skip
                    st.success(t("note.added"))
                except errors.NoteError as exc:
                    st.error(message(str(exc), lang()))
    timeline = notes.timeline(con(), who, agent)
    if timeline.empty:
        st.caption(t("note.none"))
    for n in timeline.itertuples():
        with st.container(border=True):
            st.markdown(f"**{kind_names[n.kind]}** · {n.created_at:%Y-%m-%d} · {safe(n.author)}"
                        + (f" · {kpi_names.get(n.kpi, n.kpi)}" if n.kpi else "")
                        + (f" · #{safe(n.ticket_id)}" if n.ticket_id else "")
                        + (f" · {t('note.edited', version=n.version)}" if n.version > 1 else ""))  # fmt: skip
            st.markdown(safe(n.body))
            if n.reply:
                st.info(t("note.reply_shown", reply=safe(n.reply)), icon=":material/reply:")
            if n.acknowledged_at == n.acknowledged_at and n.acknowledged_at is not None:
                st.caption(t("note.acknowledged", at=f"{n.acknowledged_at:%Y-%m-%d}"))
            elif who.is_agent:
                reply = st.text_input(t("note.reply"), key=f"reply_{n.note_id}")
                if st.button(t("note.acknowledge"), key=f"ack_{n.note_id}"):
                    notes.acknowledge(con(), who, n.note_id, reply)
                    st.rerun()
            if who.can("coach"):
                with st.expander(t("note.edit")):
                    text = st.text_area(t("note.body"), n.body, key=f"edit_{n.note_id}")
                    if st.button(t("note.save"), key=f"save_{n.note_id}"):
                        try:
                            notes.edit(con(), who, n.note_id, text, base_version=n.version)
                            st.rerun()
                        except (errors.ConflictError, errors.NoteError) as exc:
                            st.error(message(str(exc), lang()))
                    st.dataframe(
                        notes.history(con(), who, n.note_id),
                        hide_index=True,
                        placeholder="–",
                        width="stretch",
                    )

with tab_recs:
    recs = training.for_agent(con(), who, scheme, period, agent, lang())
    if recs.empty:
        st.success(t("coaching.no_recommendations"))
    else:
        st.caption(t("coaching.recommendations_help"))
        shown = recs.assign(method=[t(f"method.{m}") for m in recs["method"]],
                            impact=[t("recs.points", points=f"{v:.1f}") for v in recs["impact"]])  # fmt: skip
        columns = ["title", "method", "hours", "kpi_label", "impact", "reason", "mentor"]
        st.dataframe(shown[columns].rename(columns={c: t(f"recs.{c}") for c in columns}),
                     hide_index=True, placeholder="–", width="stretch")  # fmt: skip
        if who.can("coach"):
            pick = st.selectbox(t("coaching.plan_from"), range(len(recs)), key="plan_from_rec",
                                format_func=lambda i: f"{recs['title'].iloc[i]} · {recs['kpi_label'].iloc[i]}")  # fmt: skip
            if st.button(t("coaching.make_plan"), key="make_plan"):
                # a new plan for this agent and this recommendation's KPI
                st.session_state["plan_draft"] = {
                    **plans.draft_from(recs.iloc[pick], agent),
                    "fresh": True,
                }
                st.switch_page("pages/plans.py")
