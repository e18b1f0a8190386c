"""Recognition and bonus page: the period's honours, and a bonus pool split line by line."""

import pandas as pd
import streamlit as st

from lib.coaching import rewards
from lib.core import errors
from lib.metrics.scoring import scorecard
from lib.present import export
from pages._filters import context
from pages._rules import editor as rules_editor
from pages._ui import con, guard, lang, safe, t

who = guard("rewards")
st.header(t("nav.rewards"))
period, team, scheme, card = context()
previous = scorecard(con(), scheme, period.previous(), viewer=who, team=team)
st.subheader(t("rewards.honours"))
recognition = rewards.settings(con())
honours = rewards.honours(card, previous, lang(), recognition)
if honours.empty:
    st.info(t("rewards.no_honours"))
else:
    cols = st.columns(min(len(honours), 4))
    for i, h in enumerate(honours.itertuples()):
        cols[i % len(cols)].metric(h.title, safe(h.agent), t(f"rewards.rule_{h.rule}", figure=f"{h.figure:+.1f}"
                                                       if h.rule == "most_improved" else f"{h.figure:.1f}"),
                                   delta_color="off")  # fmt: skip

st.subheader(t("rewards.bonus"))
grades = [g.code for g in sorted(scheme.grades, key=lambda g: -g.min)]
defaults = rewards.bonus_defaults(recognition, grades)
methods = ["tiers", "proportional"]
a, b, c, d = st.columns(4)
pool = a.number_input(t("rewards.pool"), min_value=0.0, value=defaults.pool, step=100.0)
min_grade = b.selectbox(t("rewards.min_grade"), grades, index=grades.index(defaults.min_grade))
method_names = {m: t(f"rewards.{m}") for m in methods}  # a plain dict: formatted outside a run too
method = c.selectbox(t("rewards.method"), methods, format_func=method_names.get,
                     index=methods.index(defaults.method))  # fmt: skip
cap = d.number_input(t("rewards.cap"), min_value=0.0, value=defaults.cap, step=100.0,
                     help=t("rewards.cap_help"))  # fmt: skip
tiers = defaults.tiers
if method == "tiers":
    table = pd.DataFrame({"grade": grades, "weight": [tiers[g] for g in grades]})
    edited = st.data_editor(table, hide_index=True, placeholder="–", disabled=["grade"], key="tiers_editor",
                            column_config={"grade": t("column.grade"), "weight": t("column.weight")})  # fmt: skip
    tiers = dict(zip(edited["grade"], edited["weight"]))
try:
    result = rewards.split(card, pool, min_grade=min_grade, method=method, tiers=tiers,
                           cap=cap or None, viewer=who, lang=lang())  # fmt: skip
except errors.BonusError as exc:
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

with st.expander(t("rewards.rules")):
    rules_editor("recognition", who, who.can("bonus"), rewards.save)
