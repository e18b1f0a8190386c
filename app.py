"""Service Scorecard (客服绩效看板): the app's entry point.

Sets up the page, opens the store (loading the demo data on a first start), shows the demo
banner, the language switch, and the navigation over the pages in `pages/`. Start it with
`streamlit run app.py` (add `-- --db PATH` to use another store file).
"""

import streamlit as st

from lib import demo
from lib.store import StoreError
from pages._ui import con, filters, language_switch, t

st.set_page_config(
    page_title="Service Scorecard · 客服绩效看板", page_icon=":material/leaderboard:", layout="wide"
)
language_switch()

try:
    db = con()
except StoreError as exc:
    st.error(t("store.error", message=str(exc)))
    st.stop()

if demo.is_empty(db) and not demo.was_cleared(db):
    with st.spinner(t("demo.loading")):
        demo.load(db)


@st.dialog(t("demo.clear"))
def confirm_clear_demo():
    st.write(t("demo.clear_confirm"))
    yes, no = st.columns(2)
    if yes.button(t("demo.clear"), type="primary", key="demo_clear_confirm"):
        removed = demo.clear(db)
        st.session_state["flash"] = t("demo.cleared", rows=f"{removed:,}")
        st.rerun()
    if no.button(t("common.cancel"), key="demo_clear_cancel"):
        st.rerun()


if demo.has_demo(db):
    banner, action = st.columns([5, 1], vertical_alignment="center")
    banner.info(t("demo.banner"), icon=":material/info:")
    if action.button(t("demo.clear"), key="demo_clear", icon=":material/delete:"):
        confirm_clear_demo()
filters(db)
if "flash" in st.session_state:
    st.success(st.session_state.pop("flash"))

pages = [
    st.Page(
        "pages/overview.py", title=t("nav.overview"), icon=":material/dashboard:", default=True
    ),
    st.Page("pages/scorecard.py", title=t("nav.scorecard"), icon=":material/badge:"),
    st.Page("pages/weights.py", title=t("nav.weights"), icon=":material/tune:"),
    st.Page("pages/upload.py", title=t("nav.upload"), icon=":material/upload_file:"),
    st.Page("pages/coaching.py", title=t("nav.coaching"), icon=":material/school:"),
    st.Page("pages/monitoring.py", title=t("nav.monitoring"), icon=":material/notifications:"),
    st.Page("pages/quality.py", title=t("nav.quality"), icon=":material/fact_check:"),
]
page = st.navigation(pages)
if "session_started" not in st.session_state:
    # A session's first run is registered under the main script; the browser's first
    # interaction then looks like a page change, and Streamlit drops its button click.
    # One rerun as soon as the page is known aligns the two, so the first click counts.
    st.session_state["session_started"] = True
    st.rerun()
page.run()
