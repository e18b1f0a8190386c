"""Upload-page parts for shops: where a file's rows belong (platform, shop, the period of a
report without dates), and linking platform accounts to the person they belong to."""

import datetime as dt

import streamlit as st

from lib.core import shops
from lib.ingest import accounts
from lib.ingest.pipeline import Scope
from lib.monitoring import alerts
from pages._ui import con, lang, safe, t


def scope_inputs(chosen, headers: list[str], file_name: str) -> Scope:
    """Platform, shop and (for a per-agent report without a date column) the period."""
    constants = chosen.options.get("constants") or {}
    # Keyed by file and mapping: a choice made for one file must not stick to the next one.
    own = f"{file_name}|{chosen.name}"
    ids = list(shops.PLATFORMS)
    preset = shops.platform_id(constants.get("platform"))
    a, b = st.columns(2)
    labels = {p: shops.platform_label(p, lang()) for p in ids}
    platform = a.selectbox(t("upload.platform"), ids, index=ids.index(preset) if preset in ids else
                           ids.index(""), format_func=labels.get, key=f"upload_platform|{own}")  # fmt: skip
    shop = b.text_input(t("upload.shop"), key=f"upload_shop|{own}", help=t("upload.shop_help"))
    period = None
    found, _ = chosen.resolve(headers)
    if chosen.kind == "agent_daily" and "date" not in found:
        st.info(t("upload.period_needed"))
        months = shops.recent_months(dt.date.today(), 13)
        named = shops.month_in_name(file_name)
        if named and named not in months:
            months.insert(0, named)
        custom = "custom"
        month = st.selectbox(t("upload.period"), [*months, custom], key=f"upload_period_month|{own}",
                             index=months.index(named) if named else min(1, len(months) - 1),
                             format_func=lambda m: t("upload.period_custom") if m == custom else m)  # fmt: skip
        if month == custom:
            picked = st.date_input(t("upload.period_range"), value=shops.month_span(months[1]),
                                   key=f"upload_period|{own}")  # fmt: skip
            if isinstance(picked, (tuple, list)) and len(picked) == 2:
                period = (picked[0], picked[1])
        else:
            period = shops.month_span(month)
    return Scope(shop=shop.strip() or None, platform=platform or None, period=period)


def link_section(who) -> None:
    """Accounts that are not linked to a person: the similar-name suggestions to confirm, and
    a picker for any other account."""
    todo = accounts.unlinked(con())
    if todo.empty:
        return
    people = accounts.people(con())
    st.subheader(t("accounts.header"))
    st.caption(t("accounts.help"))
    suggested = todo[todo["suggestion"].notna()]
    names = {f"{r.platform}|{r.shop}|{r.account}": r for r in todo.itertuples()}

    none = t("accounts.none")
    shown_as = {k: f"{r.account} · {shops.label(shops.key(r.platform, r.shop), lang())}"
                for k, r in names.items()}  # fmt: skip
    shown_as[None] = none

    def shown(k: str) -> str:
        return shown_as[k]

    with st.form("link_accounts"):
        picks = {}
        for r in suggested.head(20).itertuples():
            k = f"{r.platform}|{r.shop}|{r.account}"
            if st.checkbox(t("accounts.suggest", account=safe(shown(k)), person=safe(r.suggestion),
                             score=f"{r.similarity:.0%}"), key=f"link_{k}"):  # fmt: skip
                picks[k] = r.suggestion
        c1, c2 = st.columns(2)
        other = c1.selectbox(t("accounts.account"), [None, *names], format_func=shown,
                             key="link_other")  # fmt: skip
        person = c2.selectbox(t("accounts.person"), [None, *people], key="link_person",
                              format_func=lambda p: none if p is None else p)  # fmt: skip
        if other and person:
            picks[other] = person
        if st.form_submit_button(t("accounts.link")):
            moved = 0
            for k, p in picks.items():
                r = names[k]
                moved += accounts.link(con(), who, r.platform, r.shop, r.account, p)
            if picks:
                alerts.refresh(con(), who)
                st.success(t("accounts.linked", count=len(picks), rows=f"{moved:,}"))


if __name__ == "__main__":  # opened by address as a page (a fresh server lists pages/ once)
    st.switch_page("app.py")
