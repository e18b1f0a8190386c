"""Placeholder for the coaching page: says what is planned here; later work fills it in."""

import streamlit as st

from pages._ui import guard, t

guard("coaching")
st.header(t("nav.coaching"))
st.info(t("placeholder.coming"))
st.write(t("placeholder.coaching"))
