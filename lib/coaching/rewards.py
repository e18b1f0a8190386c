"""Recognition and the bonus split, both computed from a period's scorecard.

Honours (金牌客服, 服务之星, 进步之星 …) come from `config/recognition.yaml`; ties share an
honour, and agents with a failed critical QA criterion or too few KPIs scored are passed over.

The bonus split shares a pool among eligible agents (grade at least the minimum, no failed
critical criterion, a score at all) by grade tiers or in proportion to the score, caps what
one agent can get and hands what a cap frees to the others. Amounts are in cents and add up
to the pool exactly (largest remainders get the odd cents); only when every eligible agent is
capped does something stay unallocated, and the result says how much. Every line carries the
calculation in words, for payroll.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lib.auth import access, rulesets
from lib.core import yamlio
from lib.core.errors import BonusError
from lib.core.i18n import t
from lib.metrics.scoring import Scorecard, dimension_scores

RULES = ("best_composite", "best_dimension", "most_improved")


def settings(con=None) -> dict:
    """The recognition rules in force (honours, bonus defaults): the newest version saved in
    the store, else the shipped `config/recognition.yaml`."""
    text = (
        rulesets.latest(con, "recognition")[1]
        if con is not None
        else rulesets.shipped("recognition")
    )
    return yamlio.load(text) or {}


@dataclass(frozen=True)
class BonusDefaults:
    pool: float
    min_grade: str  # the lowest grade that shares the pool
    method: str  # tiers or proportional
    cap: float  # 0: no cap
    tiers: dict[str, float]  # weight per grade


def bonus_defaults(config: dict, grades: list[str]) -> BonusDefaults:
    """The bonus form's starting values from the recognition rules, for a scheme's grades (best
    first): the lowest grade shares unless the rules name one, tiers weigh 0 unless named."""
    bonus = config.get("bonus") or {}
    tiers = bonus.get("tiers") or {}
    return BonusDefaults(
        pool=float(bonus.get("pool", 10000)),
        min_grade=bonus["min_grade"] if bonus.get("min_grade") in grades else grades[-1],
        method="proportional" if bonus.get("method") == "proportional" else "tiers",
        cap=float(bonus.get("cap") or 0),
        tiers={g: float(tiers.get(g, 0)) for g in grades},
    )


def save(con, viewer: access.Viewer, body: dict, *, reason: str,
         base_version: int | None = None) -> int:  # fmt: skip
    """Store edited recognition rules as a new version (managers and admins)."""
    access.require(viewer, "bonus")
    if not isinstance(body, dict) or not isinstance(body.get("honours") or [], list):
        raise BonusError("the recognition rules must be a YAML mapping with a list of honours")
    for h in body.get("honours") or []:
        if not isinstance(h, dict) or h.get("rule") not in RULES:
            raise BonusError(f"honour {h!r}: the rule must be one of {', '.join(RULES)}")
    return rulesets.save(con, viewer, "recognition", body, reason=reason, base_version=base_version)


def _eligible_for_honours(card: Scorecard, minimum: int) -> pd.DataFrame:
    a = card.agents
    return a[a["composite"].notna() & (a["gate"].fillna("") == "") & (a["kpis_scored"] >= minimum)]


def honours(card: Scorecard, previous: Scorecard | None, lang: str = "en",
            config: dict | None = None) -> pd.DataFrame:  # fmt: skip
    """Each honour with its winner(s) and the figure that won it."""
    config = config or settings()
    pool = _eligible_for_honours(card, int(config.get("min_kpis_scored", 3)))
    rows = []
    for h in config.get("honours") or []:
        if h["rule"] not in RULES:
            raise BonusError(f"honour '{h['id']}': unknown rule '{h['rule']}'")
        if h["rule"] == "best_composite":
            figures = pool.set_index("agent")["composite"].round(1)
        elif h["rule"] == "best_dimension":
            dims = dimension_scores(card.details)
            dims = dims[(dims["dimension"] == h["dimension"]) & dims["agent"].isin(pool["agent"])]
            figures = dims.set_index("agent")["score"].round(1)
        else:
            if previous is None:
                continue
            before = previous.agents.set_index("agent")["composite"]
            figures = (pool.set_index("agent")["composite"] - before).dropna().round(1)
        if figures.empty:
            continue
        best = figures.max()
        for agent in sorted(figures[figures == best].index):
            rows.append({"honour": h["id"], "title": h["zh"] if lang == "zh" else h["en"],
                         "agent": agent, "figure": float(best), "rule": h["rule"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["honour", "title", "agent", "figure", "rule"])


@dataclass
class Split:
    lines: pd.DataFrame
    pool: float
    allocated: float
    unallocated: float
    notes: list[str] = field(default_factory=list)


def _cents_largest_remainder(raw: np.ndarray, total_cents: int, caps: np.ndarray) -> np.ndarray:
    """Whole cents summing to total_cents (or as close as caps allow), nearest to raw cents."""
    floor = np.minimum(np.floor(raw), caps).astype(np.int64)
    left = total_cents - int(floor.sum())
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    for i in order:
        if left <= 0:
            break
        if floor[i] < caps[i]:
            floor[i] += 1
            left -= 1
    return floor


def split(card: Scorecard, pool: float, *, min_grade: str | None = None, method: str = "tiers",
          tiers: dict | None = None, cap: float | None = None, viewer: access.Viewer,
          lang: str = "en") -> Split:  # fmt: skip
    """Share `pool` among the card's agents; see the module docstring for the rules."""
    access.require(viewer, "bonus")
    if pool is None or pool < 0:
        raise BonusError("The pool must be zero or more.")
    if method not in ("tiers", "proportional"):
        raise BonusError("The method must be tiers or proportional.")
    if cap is not None and cap <= 0:
        raise BonusError("A cap must be more than zero (leave it empty for no cap).")
    order = [g.code for g in sorted(card.scheme.grades, key=lambda g: -g.min)]
    if min_grade and min_grade not in order:
        raise BonusError(
            f"Unknown grade '{min_grade}'; the scheme's grades are {', '.join(order)}."
        )
    tiers = tiers or {}
    a = card.agents.reset_index(drop=True)
    reasons = []
    for r in a.itertuples():
        if pd.isna(r.composite):
            reasons.append(t("bonus_text.not_scored", lang))
        elif r.gate:
            reasons.append(t("bonus_text.gate", lang))
        elif min_grade and order.index(r.grade) > order.index(min_grade):
            reasons.append(t("bonus_text.below", lang, grade=r.grade, minimum=min_grade))
        else:
            reasons.append("")
    eligible = np.array([not x for x in reasons])
    if method == "tiers":
        basis = np.array([float(tiers.get(g, 0) or 0) for g in a["grade"]])
    else:
        basis = a["composite"].fillna(0).to_numpy(dtype=float)
    basis = np.where(eligible, basis, 0.0)
    for i in np.where(eligible & (basis <= 0))[0]:
        reasons[i] = t("bonus_text.zero_weight", lang, grade=a["grade"][i])
    pool_cents = int(round(pool * 100))
    cap_cents = np.full(len(a), np.iinfo(np.int64).max // 4, dtype=np.int64)
    if cap is not None:
        cap_cents[:] = int(round(cap * 100))
    raw = np.zeros(len(a))
    capped = np.zeros(len(a), dtype=bool)
    remaining = float(pool_cents)
    while remaining > 1e-9:  # give out what is left to those not yet capped, by basis
        open_ = (basis > 0) & ~capped
        if not open_.any():
            break
        share = remaining * basis * open_ / basis[open_].sum()
        trial = raw + share
        over = open_ & (trial >= cap_cents)
        if not over.any():
            raw = trial
            remaining = 0.0
            break
        remaining -= float((cap_cents[over] - raw[over]).sum())
        raw[over] = cap_cents[over]
        capped |= over
    target = min(pool_cents, int(round(raw.sum())))
    cents = _cents_largest_remainder(raw, target, cap_cents)
    total = basis.sum()
    lines = pd.DataFrame({
        "agent": a["agent"], "team": a["team"], "grade": a["grade"],
        "composite": a["composite"].round(1), "eligible": basis > 0,
        "basis": basis, "share": np.where(total > 0, basis / (total or 1), 0.0),
        "before_cap": np.round(pool_cents * basis / (total or 1) / 100, 2),
        "capped": capped, "amount": cents / 100,
        "reason": reasons,
    })  # fmt: skip
    lines["calculation"] = [
        (f"{b:g} ÷ {total:g} × {pool:,.2f} = {bc:,.2f}"
         + (t("bonus_text.capped", lang, cap=f"{cap:,.2f}") if c else "")
         + (t("bonus_text.topped_up", lang, amount=f"{amt:,.2f}") if not c and abs(amt - bc) >= 0.01 else ""))
        if e else f"0 ({r})"
        for b, bc, c, amt, e, r in zip(basis, lines["before_cap"], capped, lines["amount"], basis > 0, reasons)
    ]  # fmt: skip
    allocated = int(cents.sum()) / 100
    notes = []
    if pool_cents and not (basis > 0).any():
        notes.append(t("bonus_text.nobody", lang))
    elif allocated < pool:
        notes.append(t("bonus_text.all_capped", lang))
    return Split(lines.sort_values("amount", ascending=False, ignore_index=True), float(pool),
                 allocated, round(pool - allocated, 2), notes)  # fmt: skip
