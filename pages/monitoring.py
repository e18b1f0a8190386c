"""Placeholder for the monitoring page: says what is planned here; later work fills it in."""

import streamlit as st

from pages._ui import guard, t

guard("monitoring")
st.header(t("nav.monitoring"))
st.info(t("placeholder.coming"))
st.write(t("placeholder.monitoring"))
