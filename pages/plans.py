"""Improvement plans: each plan's KPIs against baseline and target, judged net of the team
trend; check-ins; a new plan (pre-filled from recommendations); the trainer's overview."""

import streamlit as st

from lib.coaching import plans, training
from lib.core import errors
from lib.core.i18n import message
from lib.metrics.kpis import load_catalogue
from lib.present import charts, views
from pages._filters import context
from pages._rules import editor as rules_editor
from pages._ui import con, guard, lang, safe, t

who = guard("plans")
st.header(t("nav.plans"))
period, team, scheme, card = context()
catalogue = load_catalogue()
kpi_names = views.kpi_names(lang(), catalogue)
modules = training.load(con()).modules
module_names = {m: modules[m].label(lang()) for m in modules}
tabs = [t("plans.list")] + ([t("plans.new"), t("plans.board")] if who.can("coach") else [])
draft = st.session_state.get("plan_draft", {}) if who.can("coach") else {}
# A plan drafted from a recommendation opens on the new plan, not on an existing one.
tab_list, *coach_tabs = st.tabs(tabs, default=t("plans.new") if draft else None)

with tab_list:
    listing = plans.listing(con(), who)
    if listing.empty:
        st.info(t("plans.none"))
    else:
        names = {p.plan_id: f"#{p.plan_id} {p.agent} · {p.title} ({p.start_date:%Y-%m-%d} → {p.due_date:%Y-%m-%d})"
                 for p in listing.itertuples()}  # fmt: skip
        pid = st.selectbox(t("plans.pick"), list(names), format_func=names.get, key="plan_pick")
        plan = listing.set_index("plan_id").loc[pid]
        result = views.plan_outcome(con(), who, pid, lang())
        st.subheader(t("plans.verdict", verdict=result.verdict))
        st.caption(t("plans.about", owner=safe(plan["owner"]), mentor=safe(plan["mentor"]) or "–",
                     modules=", ".join(module_names.get(m, m) for m in plans.listed(plan["modules"])) or "–",
                     status=t(f"plans.status_{plans.shown_status(plan, plans.data_end(con()))}"), team=result.team or "–"))  # fmt: skip
        st.dataframe(result.table.rename(columns={c: t(f"outcome.{c}") for c in result.table.columns}),
                     hide_index=True, placeholder="–", width="stretch")  # fmt: skip
        st.caption(t("plans.method"))
        kpi = st.selectbox(
            t("plans.chart_kpi"),
            plans.listed(plan["kpis"]),
            format_func=kpi_names.get,
            key="plan_kpi",
        )
        base, target = plans.baseline_and_target(con(), who, pid, kpi)
        rows = views.trend(con(), who, kpi, period, team=None, agent=plan["agent"])
        st.plotly_chart(charts.plan_trend(rows.replace({"series": {"team": t("overview.team")}}),
                                          kpi_names[kpi], catalogue.get(kpi).kind == "rate", base, target,
                                          plan["start_date"], {k: t(f"plans.{k}") for k in ("baseline", "target", "start")}
                                          | {"axis": views.kpi_axis(catalogue.get(kpi), lang())}),
                        width="stretch")  # fmt: skip
        st.markdown(f"**{t('plans.checkins')}**")
        st.dataframe(
            views.column_names(plans.checkins(con(), who, pid), None, lang()),
            hide_index=True,
            placeholder="–",
            width="stretch",
        )
        if who.can("coach"):
            note = st.text_input(t("plans.checkin"), key="plan_checkin")
            a, b = st.columns(2)
            if a.button(t("plans.add_checkin"), disabled=not note.strip()):
                plans.check_in(con(), who, pid, note)
                st.rerun()
            if plan["status"] == "open" and b.button(t("plans.close"), key="plan_close"):
                try:
                    plans.set_status(con(), who, pid, "closed", base_version=int(plan["version"]))
                    st.rerun()
                except errors.ConflictError as exc:
                    st.error(str(exc))

if coach_tabs:
    with coach_tabs[0]:
        agents = list(card.agents["agent"])
        if draft.pop("fresh", False):  # just made from a recommendation: its agent and KPI
            st.session_state["plan_agent"] = (
                draft["agent"] if draft["agent"] in agents else agents[0]
            )
            st.session_state["plan_kpis"] = [k for k in draft["kpis"] if k in scheme.kpi_ids]
        agent = st.selectbox(t("scorecard.agent"), agents, key="plan_agent")
        chosen = st.multiselect(t("plans.kpis"), scheme.kpi_ids, format_func=kpi_names.get, key="plan_kpis",
                                placeholder=t("common.choose"))  # fmt: skip
        units = plans.target_inputs(
            scheme, catalogue, chosen
        )  # (unit, factor, default): rates in %
        typed = {k: st.number_input(t("plans.target_for", kpi=f"{kpi_names[k]} ({units[k][0]})"
                                      if units[k][0] else kpi_names[k]),
                                    value=units[k][2], key=f"plan_target_{k}", format="%.4g")
                 for k in chosen}  # fmt: skip
        targets = {k: v / units[k][1] for k, v in typed.items()}
        with st.form("new_plan"):
            title = st.text_input(t("plans.title"), value=draft.get("title", ""))
            first, last = plans.window(con())
            start = st.date_input(t("plans.start"), value=first)
            due = st.date_input(t("plans.due"), value=last)
            mentor = st.selectbox(t("plans.mentor"), ["", *agents],
                                  index=([""] + agents).index(draft["mentor"]) if draft.get("mentor") in agents else 0)  # fmt: skip
            picked = st.multiselect(t("plans.modules"), list(modules), format_func=module_names.get, placeholder=t("common.choose"),
                                    default=[m for m in draft.get("modules", []) if m in modules])  # fmt: skip
            if st.form_submit_button(t("plans.create"), type="primary"):
                try:
                    pid = plans.create(con(), who, agent, title, targets, start, due, mentor=mentor or None,
                                       modules=picked)  # fmt: skip
                    st.session_state.pop("plan_draft", None)
                    st.success(t("plans.created", id=pid))
                except (errors.PlanError, KeyError) as exc:
                    st.error(message(str(exc), lang()))
    with coach_tabs[1]:
        board = plans.board(con(), who)
        board["verdict"] = [t(f"verdict.{v}") for v in board["verdict"]]
        board["kpis"] = [views.kpi_list(k, lang(), catalogue) for k in board["kpis"]]
        st.dataframe(board.rename(columns={c: t(f"board_plans.{c}") for c in board.columns}),
                     hide_index=True, placeholder="–", width="stretch")  # fmt: skip
        st.subheader(t("plans.effects"))
        effects = plans.module_effects(con(), who).assign(
            module=lambda f: f["module"].map(module_names)
        )
        st.dataframe(effects.rename(columns={c: t(f"effects.{c}") for c in effects.columns}),
                     hide_index=True, placeholder="–", width="stretch",
                     column_config={t("effects.mean_progress"): st.column_config.NumberColumn(format="percent"),
                                    t("effects.met"): st.column_config.NumberColumn(format="percent")})  # fmt: skip

if who.can("coach"):
    with st.expander(t("plans.rules")):
        rules_editor("training", who, who.can("edit_schemes"), training.save)
