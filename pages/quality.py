"""Placeholder for the quality page: says what is planned here; later work fills it in."""

import streamlit as st

from pages._ui import guard, t

guard("quality")
st.header(t("nav.quality"))
st.info(t("placeholder.coming"))
st.write(t("placeholder.quality"))
