"""Recognition and bonus page: the period's honours, and a bonus pool split line by line."""

import pandas as pd
import streamlit as st

from lib import export, rewards
from lib.scoring import scorecard
from pages._ui import con, context, guard, lang, safe, t

who = guard("rewards")
st.header(t("nav.rewards"))
period, team, scheme, card = context()
previous = scorecard(con(), scheme, period.previous(), viewer=who, team=team)
st.subheader(t("rewards.honours"))
honours = rewards.honours(card, previous, lang())
if honours.empty:
    st.info(t("rewards.no_honours"))
else:
    cols = st.columns(min(len(honours), 4))
    for i, h in enumerate(honours.itertuples()):
        cols[i % len(cols)].metric(h.title, safe(h.agent), t(f"rewards.rule_{h.rule}", figure=f"{h.figure:+.1f}"
                                                       if h.rule == "most_improved" else f"{h.figure:.1f}"),
                                   delta_color="off")  # fmt: skip

st.subheader(t("rewards.bonus"))
defaults = rewards.settings().get("bonus", {})
grades = [g.code for g in sorted(scheme.grades, key=lambda g: -g.min)]
a, b, c, d = st.columns(4)
pool = a.number_input(
    t("rewards.pool"), min_value=0.0, value=float(defaults.get("pool", 10000)), step=100.0
)
min_grade = b.selectbox(t("rewards.min_grade"), grades,
                        index=grades.index(defaults["min_grade"]) if defaults.get("min_grade") in grades else len(grades) - 1)  # fmt: skip
method = c.selectbox(t("rewards.method"), ["tiers", "proportional"], format_func={m: t(f"rewards.{m}") for m in ("tiers", "proportional")}.get,
                     index=0 if defaults.get("method", "tiers") == "tiers" else 1)  # fmt: skip
cap = d.number_input(t("rewards.cap"), min_value=0.0, value=float(defaults.get("cap") or 0), step=100.0,
                     help=t("rewards.cap_help"))  # fmt: skip
tiers = dict(defaults.get("tiers") or {})
if method == "tiers":
    table = pd.DataFrame({"grade": grades, "weight": [float(tiers.get(g, 0)) for g in grades]})
    edited = st.data_editor(table, hide_index=True, placeholder="–", disabled=["grade"], key="tiers_editor",
                            column_config={"grade": t("column.grade"), "weight": t("column.weight")})  # fmt: skip
    tiers = dict(zip(edited["grade"], edited["weight"]))
try:
    result = rewards.split(card, pool, min_grade=min_grade, method=method, tiers=tiers,
                           cap=cap or None, viewer=who, lang=lang())  # fmt: skip
except rewards.BonusError as exc:
    st.error(safe(str(exc)))
    st.stop()
m1, m2, m3 = st.columns(3)
m1.metric(t("rewards.pool"), f"{result.pool:,.2f}")
m2.metric(t("rewards.allocated"), f"{result.allocated:,.2f}")
m3.metric(t("rewards.unallocated"), f"{result.unallocated:,.2f}")
for note in result.notes:
    st.warning(safe(note))
lines = result.lines.rename(columns={c: t(f"bonus.{c}") for c in result.lines.columns})
st.dataframe(lines, hide_index=True, placeholder="–", width="stretch",
             column_config={t("bonus.share"): st.column_config.NumberColumn(format="percent")})  # fmt: skip
st.caption(t("rewards.scored_by", scheme=export.scored_by(card.scheme, lang())))
st.download_button(t("rewards.download"), export.csv_bytes(export.bonus_lines(result.lines, card.scheme, lang())),
                   file_name=f"bonus_{period.label}.csv", mime="text/csv")  # fmt: skip
