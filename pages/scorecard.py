"""Agent scorecard page: one agent's score, rank, KPIs, trend and the tickets behind a KPI."""

import streamlit as st

from lib.metrics.kpis import drilldown, load_catalogue
from lib.present import charts, views
from pages._filters import chosen_shops, context
from pages._shops import render as render_shops
from pages._ui import con, guard, lang, listing, safe, section, t

who = guard("scorecard")
st.header(t("nav.scorecard"))
period, team, scheme, card = context()
if card.agents.empty:
    st.info(t("scorecard.no_own_data") if who.is_agent else t("scorecard.no_agents"))
    st.stop()
agents = list(card.agents["agent"])
if st.session_state.get("agent") not in agents:
    st.session_state["agent"] = agents[0]
agent = st.selectbox(t("scorecard.agent"), agents, key="agent")
row = card.agent(agent)
catalogue = load_catalogue()

a, b, c, d = st.columns(4)
if row["composite"] == row["composite"]:  # not NaN
    a.metric(t("scorecard.score"), f"{row['composite']:.1f}",
             help=t("scorecard.interval", low=f"{row['composite_lo']:.1f}", high=f"{row['composite_hi']:.1f}"))  # fmt: skip
    grade = next((g.label(lang()) for g in scheme.grades if g.code == row["grade"]), "—")
    b.metric(t("scorecard.grade"), grade)
    c.metric(t("scorecard.rank"), f"{row['rank']} / {card.ranked}",
             help=t("scorecard.rank_range", best=row["rank_best"], worst=row["rank_worst"]))  # fmt: skip
    d.metric(t("scorecard.percentile"), f"{row['percentile']:.0f}")
else:
    a.warning(t("scorecard.not_scored"))
if row["gate"]:
    st.error(views.gate_label(row["gate"], lang()))
alerting: set[str] = set()
with section():
    open_alerts, _ = views.alert_feed(con(), who, lang(), status="open", agent=agent)
    alerting = views.critical_kpis(open_alerts)
    for a in open_alerts.head(3).itertuples():
        st.warning(f"**{a.severity_shown}** · {safe(a.title)} · {a.when} — {safe(a.numbers)}")

words = views.strengths_and_weaknesses(card, agent, lang(), alerting=alerting)
st.markdown(t("scorecard.strong", items=listing(words["strong"])) if words["strong"]
            else t("scorecard.no_strong"))  # fmt: skip
if words["weak"]:
    st.markdown(t("scorecard.weak", items=listing(words["weak"])))
if words["left_out"]:
    st.caption(t("scorecard.left_out", items=listing(words["left_out"])))

breakdown = views.agent_breakdown(card, agent, lang())
with section():
    dims = views.dimension_scores(card, agent)
    dims["label"] = [views.dimension_label(catalogue, x, lang()) for x in dims["dimension"]]
    left, right = st.columns([2, 3])
    left.plotly_chart(charts.radar(dims, agent, t("scorecard.team_median"), t("scorecard.dimensions")),
                      width="stretch")  # fmt: skip
    right.plotly_chart(charts.kpi_bars(breakdown, t("scorecard.kpis")), width="stretch")

labels = views.kpi_names(lang(), catalogue)
with section():
    first = (words["weak_ids"] or views.kpis_with_data(card) or scheme.kpi_ids)[0]
    kpi = st.selectbox(t("scorecard.trend_kpi"), scheme.kpi_ids, format_func=labels.get,
                       key="agent_trend_kpi", index=scheme.kpi_ids.index(first))  # fmt: skip
    rows = views.trend(
        con(), who, kpi, period, team=team, agent=agent, shops=chosen_shops()
    ).replace({"series": {"team": t("overview.team")}})
    st.plotly_chart(charts.trend(rows, t("scorecard.trend"), catalogue.get(kpi).kind == "rate", t("status.no_data"),
                                 y_title=views.kpi_axis(catalogue.get(kpi), lang())), width="stretch")  # fmt: skip

render_shops(card, agent)

st.subheader(t("scorecard.details"))
columns = ["label", "dimension", "shown", "mean", "adjusted", "interval", "n", "floor_shown",
           "target_shown", "score", "weight_share", "contribution", "status", "source"]  # fmt: skip
if scheme.shrinkage > 0:
    st.caption(t("score.uses_adjusted", k=f"{scheme.shrinkage:g}"))
else:
    columns.remove("adjusted")
st.dataframe(breakdown[columns].rename(columns={c: t(f"detail.{c}") for c in columns}),
             hide_index=True, placeholder="–", width="stretch",
             column_config={t("detail.weight_share"): st.column_config.NumberColumn(format="percent")})  # fmt: skip
with section():
    gaps = views.data_gaps(con(), card, lang())
    if not gaps.empty:
        with st.expander(t("gap.heading") + f" ({len(gaps)})"):
            st.dataframe(
                gaps.drop(columns="kpi"), hide_index=True, placeholder="–", width="stretch"
            )

drillable = [k for k in scheme.kpi_ids if catalogue.get(k).drilldown]
if drillable:
    st.subheader(t("scorecard.drilldown"))
    dk = st.selectbox(
        t("scorecard.drilldown_kpi"), drillable, format_func=labels.get, key="drill_kpi"
    )
    tickets = drilldown(con(), who, catalogue.get(dk), agent, period.start, period.end)
    st.caption(t("scorecard.drilldown_help", count=len(tickets)))
    st.dataframe(
        views.readable(tickets, "tickets", lang()),
        hide_index=True,
        placeholder="–",
        width="stretch",
    )
