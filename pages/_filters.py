"""The sidebar's shared choices (period, team, shop, scheme), the scorecard they select, and
what a page shows while the store holds no data.

app.py draws the choices once a person has signed in; each page reads them with `context()`.
"""

from __future__ import annotations

import streamlit as st

from lib.app import demo
from lib.auth import users
from lib.core import shops
from lib.core.periods import parse
from lib.metrics import schemes, scoring
from lib.present import shopviews, views
from pages._auth import announce, auth_path, log_path
from pages._ui import ALL, con, lang, sticky_select, t, viewer


def filters(db, who) -> None:
    """The sidebar choices every page shares: period, team (not for agents) and scheme."""
    months = views.months_with_data(db)
    if not months:
        return
    if st.session_state.get("period") not in months:
        st.session_state["period"] = views.default_month(db, months)
    sticky_select(t("sidebar.period"), months, "period")
    everyone = t("sidebar.all_teams")
    if who.is_agent:
        st.session_state["team"] = ALL  # agents are ranked among everyone, and see only themselves
    else:
        sticky_select(t("sidebar.team"), [ALL, *views.teams(db)], "team",
                      format_func=lambda x: everyone if x == ALL else x)  # fmt: skip
    shop_keys = shopviews.shop_keys(db)
    if len(shop_keys) > 1:  # a shop filter only where there is more than one shop
        names = {ALL: t("sidebar.all_shops"), **{k: shops.label(k, lang()) for k in shop_keys}}
        sticky_select(t("sidebar.shop"), [ALL, *shop_keys], "shop", format_func=names.get)
    else:
        st.session_state["shop"] = ALL
    names = schemes.names(db)
    titles = {n: schemes.get(db, n).label(lang()) for n in names}
    default = schemes.DEFAULT if schemes.DEFAULT in names else names[0]
    if st.session_state.get("scheme") not in names:
        st.session_state["scheme"] = default
    sticky_select(t("sidebar.scheme"), names, "scheme", format_func=titles.get)


def context(score: bool = True):
    """(period, team, scheme, scorecard) for the sidebar's choices; the scheme is the version
    in force at the period's end (no scorecard with score=False). Stops the page with a message
    when there is no data."""
    if not st.session_state.get("period"):
        empty_state()
        st.stop()
    period = parse(st.session_state["period"])
    team = None if st.session_state.get("team") in (None, ALL) else st.session_state["team"]
    scheme = schemes.resolve(con(), st.session_state.get("scheme"), period.end)
    card = (scoring.scorecard(con(), scheme, period, viewer=viewer(), team=team, shops=chosen_shops())
            if score else None)  # fmt: skip
    return period, team, scheme, card


def chosen_shops() -> list[str] | None:
    """The sidebar's shop as a filter: None for all shops."""
    shop = st.session_state.get("shop")
    return None if shop in (None, ALL) else [shop]


def empty_state() -> None:
    """No data yet (or the demo was just cleared): what to do next. Who may upload gets the way
    to the first upload in three steps and a button that loads the demo again."""
    who = viewer()
    st.info(t("overview.empty"), icon=":material/inbox:")
    if not who.can("upload"):
        return
    st.markdown(t("empty.steps"))
    first, again = st.columns(2)
    first.page_link("pages/upload.py", label=t("empty.first_upload"), icon=":material/upload_file:")
    if again.button(t("demo.load_again"), key="demo_load_again", icon=":material/replay:"):
        with st.spinner(t("demo.loading_again")):
            demo.load_again(con(), who)
            announce(users.add_demo(auth_path(), log_path(con())))
        months = views.months_with_data(con())  # the demo's months: start from their default
        st.session_state["period"] = views.default_month(con(), months)
        st.session_state["flash"] = t("demo.loaded_again")
        st.rerun()


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
