"""Overview page: what is stored now; team KPIs join here when the KPI engine lands."""

import streamlit as st

from lib.overview import store_summary, upload_stats
from pages._ui import con, lang, t

st.header(t("overview.header"))
summary = store_summary(con())
if summary["rows"].sum() == 0:
    st.info(t("overview.empty"))
    st.stop()

count, last = upload_stats(con())
a, b, c = st.columns(3)
a.metric(t("overview.uploads"), f"{count:,}")
b.metric(t("overview.agents"), f"{int(summary['agents'].max() or 0):,}")
c.metric(t("overview.last_upload"), f"{last:%Y-%m-%d %H:%M}" if last else "—")

st.subheader(t("overview.tables"))
label = "label_zh" if lang() == "zh" else "label_en"
view = summary[summary["rows"] > 0][[label, "rows", "from", "to", "agents"]]
view.columns = [t("overview.table"), t("overview.rows"), t("overview.from"), t("overview.to"),
                t("overview.agents")]  # fmt: skip
st.dataframe(view, hide_index=True, width="stretch")
st.caption(t("overview.coming"))
