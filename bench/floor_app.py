"""The least a weight edit can cost in this app's stack: Streamlit, a grid and a browser.

A page with nothing but a two-row `st.data_editor` and a 200-row `st.dataframe` that its sum
redraws, in a fragment as on the weights page. `browser_bench.py` edits it exactly as it edits
the weights page and reports its time beside the page's, measured in the same run.
"""

import pandas as pd
import streamlit as st


@st.fragment
def edit_and_redraw() -> None:
    weights = pd.DataFrame({"Dimension": ["Speed", "Experience"], "Weight": [10.0, 30.0]})
    edited = st.data_editor(weights, key="weights", hide_index=True)
    total = float(edited["Weight"].sum())
    st.dataframe(pd.DataFrame({"Agent": [f"agent {i}" for i in range(200)],
                               "Move": [f"{total * i:.1f}" for i in range(200)]}),
                 hide_index=True)  # fmt: skip


edit_and_redraw()
