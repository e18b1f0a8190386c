"""Overview page: team KPIs against the previous period, grades, leaderboard, trends, channels."""

import streamlit as st

from lib.core import store
from lib.metrics.kpis import by_channel, load_catalogue
from lib.metrics.schemes import in_force_words
from lib.metrics.scoring import scorecard
from lib.present import charts, export, report, views
from pages._filters import chosen_shops, context, empty_state
from pages._shops import render as render_shops
from pages._ui import con, guard, lang, safe, section, sticky_select, t

who = guard("overview")
st.header(t("overview.header"))
if store.is_empty(con()):
    empty_state()
    st.stop()
period, team, scheme, card = context()
st.caption(t("overview.context", period=period.label, team=team or t("sidebar.all_teams"),
             scheme=scheme.label(lang()), version=in_force_words(scheme, lang())))  # fmt: skip

with section():
    head = views.headline(con(), who, card, team, lang())
    for row_start in range(0, len(head), 6):
        cols = st.columns(6)
        for col, row in zip(cols, head.iloc[row_start : row_start + 6].itertuples()):
            col.metric(row.label, row.shown, row.change_shown or None,
                       delta_color="normal" if row.higher_is_better else "inverse",
                       help=t("overview.previous", value=row.previous_shown))  # fmt: skip
    gaps = views.data_gaps(con(), card, lang())
    if not gaps.empty:
        with st.expander(t("gap.heading") + f" ({len(gaps)})"):
            st.dataframe(
                gaps.drop(columns="kpi"), hide_index=True, placeholder="–", width="stretch"
            )

with section():
    previous = scorecard(con(), scheme, period.previous(), viewer=who, team=team,
                         shops=chosen_shops())  # fmt: skip
    board = views.leaderboard(card, lang(), previous)
    left, right = st.columns(2)
    left.plotly_chart(charts.grade_distribution(views.grade_counts(card, lang()), t("overview.grades")),
                      width="stretch")  # fmt: skip
    right.plotly_chart(charts.leaderboard(board, t("overview.leaderboard_chart")), width="stretch")

    st.subheader(t("overview.leaderboard"))
    st.caption(t("overview.leaderboard_help"))
    shown = board.rename(columns={c: t(f"board.{c}") for c in board.columns})
    st.dataframe(shown, hide_index=True, placeholder="–", width="stretch")

    up, down = views.top_movers(board)
    if up or down:
        st.caption(
            t("overview.movers", up=safe(", ".join(up)) or "–", down=safe(", ".join(down)) or "–")
        )

render_shops(card)

catalogue = load_catalogue()
labels = views.kpi_names(lang(), catalogue)
a, b = st.columns(2)
with a, section():
    with_data = views.kpis_with_data(card)
    if with_data and st.session_state.get("trend_kpi") not in with_data:
        st.session_state["trend_kpi"] = with_data[0]  # a KPI without data draws nothing
    kpi = sticky_select(t("overview.trend_kpi"), scheme.kpi_ids, "trend_kpi", labels.get, where=st,
                        default=with_data[0] if with_data else None)  # fmt: skip
    rows = views.trend(con(), who, kpi, period, team=team, shops=chosen_shops()).replace(
        {"series": {"team": t("overview.team")}}
    )
    st.plotly_chart(charts.trend(rows, t("overview.trend"), catalogue.get(kpi).kind == "rate", t("status.no_data"),
                                 y_title=views.kpi_axis(catalogue.get(kpi), lang())), width="stretch")  # fmt: skip
with b, section():
    splittable = set(by_channel(catalogue))
    split = [k for k in scheme.kpi_ids if k in splittable]
    if split:
        ck = sticky_select(t("overview.channel_kpi"), split, "channel_kpi", labels.get, where=st)
        rows = views.channels(con(), who, period, team, [ck], lang(), shops=chosen_shops())
        if not rows.empty:
            chart = charts.channel_bars(rows, t("overview.channels"), catalogue.get(ck).kind == "rate",
                                        views.kpi_axis(catalogue.get(ck), lang()))  # fmt: skip
            st.plotly_chart(chart, width="stretch")

st.subheader(t("alerts.on_overview"))
with section():  # alerts are brought up to date after uploads and at start, not here
    open_alerts, count = views.alert_feed(con(), who, lang(), status="open", team=team, first=5)
    if open_alerts.empty:
        st.caption(t("alerts.none"))
    for a in open_alerts.itertuples():
        st.warning(f"**{a.severity_shown}** · {safe(a.subject)} · {safe(a.title)} · {a.when} — "
                   f"{safe(a.numbers)}")  # fmt: skip
    if count > len(open_alerts):
        st.caption(t("alerts.more", count=count - len(open_alerts)))

st.subheader(t("overview.downloads"))
d1, d2, d3 = st.columns(3)
name = f"scorecard_{period.label}"
# Files are made when a button is pressed, not on every render, in a thread of their own: what
# they need is bound here. A press does not rerun the page: a rerun replaces the file ids of
# this run, and a file asked for while it finishes is gone ("Deferred file … not found").
language, db = lang(), con()
d1.download_button(t("overview.csv"), lambda: export.write(card, "csv", None, lang=language).encode("utf-8-sig"),
                   file_name=f"{name}.csv", mime="text/csv", on_click="ignore")  # fmt: skip
d2.download_button(t("overview.xlsx"), lambda: export.xlsx_bytes(card, language), file_name=f"{name}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   on_click="ignore")  # fmt: skip
d3.download_button(t("overview.html"), lambda: report.monthly_html(db, who, card, team, language).encode("utf-8"),
                   file_name=f"report_{period.label}.html", mime="text/html", on_click="ignore")  # fmt: skip
