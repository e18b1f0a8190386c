"""Shop sections shared by the overview and the agent scorecard: KPIs per shop, the
platform's peer benchmarks as reference lines, and period reports the period leaves out."""

import streamlit as st

from lib.present import charts, shopviews
from pages._ui import con, lang, listing, safe, section, t, viewer


def render(card, agent: str | None = None) -> None:
    who = viewer()
    with section():
        bench = shopviews.benchmarks(con(), who, card, lang(), agent=agent)
        if not bench.empty:
            st.subheader(t("shops.peers"))
            st.caption(t("shops.peers_help"))
            ours = agent if agent else t("overview.team")
            st.plotly_chart(
                charts.peer_benchmarks(bench, t("shops.peers_chart"), ours,
                                       t("shops.peer_average"), t("shops.peer_best"),
                                       t("shops.second")),
                width="stretch", key=f"peers_{agent or 'team'}",
            )  # fmt: skip
    with section():
        table = shopviews.shop_table(shopviews.per_shop(con(), who, card, lang(), agent=agent))
        if not table.empty:
            st.subheader(t("shops.by_shop"))
            st.caption(t("shops.by_shop_help"))
            st.dataframe(table.rename(columns={"label": t("shops.kpi")}), hide_index=True,
                         width="stretch")  # fmt: skip
    with section():
        left = shopviews.reports_left_out(con(), card.period)
        for reason in ("partial", "daily"):
            items = [f"{safe(r.file)} ({r.first_day:%Y-%m-%d} – {r.last_day:%Y-%m-%d})"
                     for r in left[left["reason"] == reason].itertuples()]  # fmt: skip
            if items:
                st.caption(t(f"shops.left_out_{reason}", items=listing(items)))


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
