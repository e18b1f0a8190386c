"""Scorecards: KPI values turned into scores, a weighted composite, grades and honest ranks.

Per KPI the score is 0 at the floor and 100 at the target, linear between and clipped (the
other way round when lower is better), or from step bands. Totals such as sales have monthly
thresholds, scaled to the period's length. A KPI with fewer samples than its minimum is left
out and flagged, never scored 0 or 100; the composite is the weighted mean of the KPIs that
remain, so weight shares are renormalised per agent. A failed critical QA criterion caps or
zeroes the composite. Where a scheme shrinks rates toward the team rate, the detail keeps the
observed value in `value` and the shrunk one in `adjusted`, and the score uses `adjusted`.
Each score carries the interval of its KPI, so the composite has one
too, and every rank comes with the best and worst rank it could be given that interval:
nobody is ranked above a colleague on noise without it showing.

`score` is pure and vectorised (what runs when a weight changes); `scorecard` gathers its
inputs from the store, with KPI values cached by data version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.auth import access
from lib.core import paths, store
from lib.core.periods import Period
from lib.metrics import hours
from lib.metrics import kpis as kpi_engine
from lib.metrics.kpis import Catalogue, load_catalogue
from lib.metrics.schemes import Scheme

MONTH_DAYS = 30.4375

# The gate column holds a code, shown in words by the interface: "cap:59" or "zero".
AGENT_COLUMNS = ["agent", "team", "composite", "composite_lo", "composite_hi", "grade", "rank",
                 "rank_best", "rank_worst", "percentile", "tied", "gate", "kpis_scored",
                 "kpis_left_out"]  # fmt: skip
DETAIL_COLUMNS = ["agent", "kpi", "dimension", "source", "value", "adjusted", "mean", "lo", "hi", "n",
                  "min_sample",
                  "floor", "target", "score", "score_lo", "score_hi", "weight_share",
                  "contribution", "status", "shrunk"]  # fmt: skip


@dataclass
class Scorecard:
    scheme: Scheme
    period: Period
    agents: pd.DataFrame
    details: pd.DataFrame
    # Per dimension, the median score of every agent scored (kept when rows are cut to one
    # agent, so an agent can compare themselves with the team without seeing anyone's row).
    medians: pd.Series | None = None
    peers: int | None = None  # agents ranked, kept when rows are cut to one agent
    shops: tuple[str, ...] | None = None  # the shops ("platform|shop") scored; None: all
    team: str | None = None  # the team scored; None: every team

    @property
    def ranked(self) -> int:
        """How many agents the ranks are among."""
        return self.peers if self.peers is not None else int(self.agents["rank"].notna().sum())

    def agent(self, name: str) -> pd.Series:
        return self.agents.set_index("agent").loc[name]

    def dimension_medians(self) -> pd.Series:
        if self.medians is not None:
            return self.medians
        return dimension_scores(self.details).groupby("dimension")["score"].median()


def dimension_scores(details: pd.DataFrame) -> pd.DataFrame:
    """Per agent and dimension: the score, weighted by the KPIs' shares."""
    d = details[details["status"] == "scored"]
    if d.empty:
        return pd.DataFrame(columns=["agent", "dimension", "score"])
    parts = pd.DataFrame({"agent": d["agent"], "dimension": d["dimension"], "score": d["score"],
                          "weighted": d["score"] * d["weight_share"], "share": d["weight_share"]})  # fmt: skip
    grouped = parts.groupby(["agent", "dimension"])
    sums = grouped[["weighted", "share"]].sum()
    mean = grouped["score"].mean()  # a dimension whose KPIs all have no weight: their plain mean
    score = (sums["weighted"] / sums["share"]).where(sums["share"] > 0, mean)
    return score.rename("score").reset_index()


def _linear(v, floor, target):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(100.0 * (v - floor) / (target - floor), 0.0, 100.0)


def _banded(v: np.ndarray, bands, higher: bool) -> np.ndarray:
    """Step bands [(threshold, score)]: the best score whose threshold the value meets."""
    out = np.zeros(v.shape)
    for threshold, band_score in bands:
        met = v >= threshold if higher else v <= threshold
        out = np.where(met & (band_score > out), band_score, out)
    return np.where(np.isnan(v), np.nan, out)


def _matrix(
    values: pd.DataFrame, column: str, rows: np.ndarray, cols: np.ndarray, shape
) -> np.ndarray:
    out = np.full(shape, np.nan)
    if column in values:  # e.g. `mean` only comes with times and means
        out[rows, cols] = values[column].to_numpy(dtype=float)
    return out


def score(
    values: pd.DataFrame,
    scheme: Scheme,
    catalogue: Catalogue | None = None,
    *,
    period_days: float = MONTH_DAYS,
    teams: dict | None = None,
    team_values: pd.DataFrame | None = None,
    critical: dict | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score KPI values (kpis.compute output, by agent) with a scheme; (agents, details).

    Agents × KPIs are dense matrices, so a re-score after a weight change is a few array
    operations, not a query.
    """
    catalogue = catalogue or load_catalogue()
    teams = teams or {}
    kpi_ids = [r.kpi for r in scheme.rules]
    col_of = {k: j for j, k in enumerate(kpi_ids)}
    # A value without an agent cannot be scored (ingest sets such rows aside; this guards
    # stores written before it did).
    values = values[values["kpi"].isin(col_of) & values["grp"].notna()]
    agents = np.array(sorted(values["grp"].unique()), dtype=object)
    if len(agents) == 0:
        return pd.DataFrame(columns=AGENT_COLUMNS), pd.DataFrame(columns=DETAIL_COLUMNS)
    row_of = {a: i for i, a in enumerate(agents)}
    rows = values["grp"].map(row_of).to_numpy()
    cols = values["kpi"].map(col_of).to_numpy()
    shape = (len(agents), len(kpi_ids))
    value, lo, hi, n, num, den, mean = (
        _matrix(values, c, rows, cols, shape)
        for c in ("value", "lo", "hi", "n", "num", "den", "mean")
    )
    source = np.full(shape, None, dtype=object)
    source[rows, cols] = values["source"].to_numpy()
    n = np.nan_to_num(n)
    kinds = np.array([catalogue.get(k).kind for k in kpi_ids])
    higher = np.array([catalogue.get(k).higher_is_better for k in kpi_ids])
    share = np.array([r.share for r in scheme.rules])
    min_sample = np.array([r.min_sample or catalogue.get(r.kpi).min_sample for r in scheme.rules])
    scale = np.where(kinds == "sum", period_days / MONTH_DAYS, 1.0)
    floor = np.array([r.floor for r in scheme.rules]) * scale
    target = np.array([r.target for r in scheme.rules]) * scale
    team_of = np.array([teams.get(a) for a in agents], dtype=object)

    observed = value
    shrunk = np.zeros(shape, dtype=bool)
    if scheme.shrinkage > 0 and team_values is not None and not team_values.empty:
        tv = team_values[team_values["kpi"].isin(col_of)]
        lookup = {(t, k): v for t, k, v in zip(tv["grp"], tv["kpi"], tv["value"])}
        team_rate = np.array([[lookup.get((t, k), np.nan) for k in kpi_ids] for t in team_of])
        k = scheme.shrinkage
        shrunk = (kinds == "rate")[None, :] & ~np.isnan(den) & ~np.isnan(team_rate)
        value = np.where(shrunk, (num + k * team_rate) / (den + k), value)

    lo = np.where(np.isnan(lo), value, lo)
    hi = np.where(np.isnan(hi), value, hi)
    s, s1, s2 = (
        _linear(value, floor, target),
        _linear(lo, floor, target),
        _linear(hi, floor, target),
    )
    for j, rule in enumerate(scheme.rules):
        if rule.bands:
            s[:, j] = _banded(value[:, j], rule.bands, higher[j])
            s1[:, j] = _banded(lo[:, j], rule.bands, higher[j])
            s2[:, j] = _banded(hi[:, j], rule.bands, higher[j])
    s_lo, s_hi = np.fmin(s1, s2), np.fmax(s1, s2)

    has = ~np.isnan(value)
    enough = has & (n >= min_sample[None, :])
    w = np.where(enough, share[None, :], 0.0)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight_share = np.where(total[:, None] > 0, w / total[:, None], 0.0)
    contribution = np.where(enough, weight_share * s, 0.0)
    composite = contribution.sum(axis=1)
    # KPI errors are taken as independent: the composite's interval adds them in quadrature.
    down = np.sqrt(np.where(enough, (weight_share * (s - s_lo)) ** 2, 0.0).sum(axis=1))
    up = np.sqrt(np.where(enough, (weight_share * (s_hi - s)) ** 2, 0.0).sum(axis=1))
    none = total <= 0
    composite = np.where(none, np.nan, composite)
    comp_lo, comp_hi = composite - down, composite + up

    gate_text = np.full(len(agents), "", dtype=object)
    gate = scheme.gates.get("critical_qa_failure")
    if gate and critical:
        failed = np.array([critical.get(a, 0) > 0 for a in agents]) & ~none
        limit = 0.0 if gate["action"] == "zero" else float(gate.get("value", 59))
        composite = np.where(failed, np.minimum(composite, limit), composite)
        comp_lo = np.where(failed, np.minimum(comp_lo, limit), comp_lo)
        comp_hi = np.where(failed, np.minimum(comp_hi, limit), comp_hi)
        gate_text[failed] = "zero" if gate["action"] == "zero" else f"cap:{limit:g}"

    grade = grades_of(scheme, composite)
    left = [
        ", ".join(f"{kpi_ids[j]} (n={int(n[i, j])} < {min_sample[j]})"
                  for j in np.flatnonzero(has[i] & ~enough[i]))
        for i in range(len(agents))
    ]  # fmt: skip
    out = pd.DataFrame({
        "agent": agents, "team": team_of, "composite": composite, "composite_lo": comp_lo,
        "composite_hi": comp_hi, "grade": grade, "gate": gate_text,
        "kpis_scored": enough.sum(axis=1), "kpis_left_out": left,
    })  # fmt: skip
    _rank(out)
    status = np.where(enough, "scored", np.where(has, "too little data", "no data"))
    details = pd.DataFrame({
        "agent": np.repeat(agents, len(kpi_ids)),
        "kpi": np.tile(kpi_ids, len(agents)),
        "dimension": np.tile([r.dimension for r in scheme.rules], len(agents)),
        "source": source.ravel(), "value": observed.ravel(),
        "adjusted": np.where(shrunk, value, np.nan).ravel(), "mean": mean.ravel(),
        "lo": lo.ravel(), "hi": hi.ravel(),
        "n": n.ravel(), "min_sample": np.tile(min_sample, len(agents)),
        "floor": np.tile(floor, len(agents)), "target": np.tile(target, len(agents)),
        "score": s.ravel(), "score_lo": s_lo.ravel(), "score_hi": s_hi.ravel(),
        "weight_share": weight_share.ravel(), "contribution": contribution.ravel(),
        "status": status.ravel(), "shrunk": shrunk.ravel(),
    })  # fmt: skip
    agents_out = out[AGENT_COLUMNS].sort_values(
        ["rank", "agent"], na_position="last", ignore_index=True
    )
    return agents_out, details


def _rank(out: pd.DataFrame) -> None:
    """Rank, the best and worst rank the intervals allow, percentile and ties (in place)."""
    comp = out["composite"].round(1)
    out["rank"] = comp.rank(method="min", ascending=False).astype("Int64")
    ranked = comp.notna().to_numpy()
    lo = out["composite_lo"].to_numpy(dtype=float)
    hi = out["composite_hi"].to_numpy(dtype=float)
    c = out["composite"].to_numpy(dtype=float)
    n = int(ranked.sum())
    best = np.full(len(out), np.nan)
    worst = np.full(len(out), np.nan)
    pct = np.full(len(out), np.nan)
    if n:
        L, H, C = lo[ranked], hi[ranked], c[ranked]
        others = ~np.eye(n, dtype=bool)
        surely_above = (L[None, :] > H[:, None]) & others  # j's worst beats i's best
        maybe_above = (H[None, :] >= L[:, None]) & others
        best[ranked] = 1 + surely_above.sum(axis=1)
        worst[ranked] = 1 + maybe_above.sum(axis=1)
        pct[ranked] = 100.0 * (C[None, :] < C[:, None]).sum(axis=1) / max(n - 1, 1)
    out["rank_best"] = pd.array(best, dtype="Int64")
    out["rank_worst"] = pd.array(worst, dtype="Int64")
    out["percentile"] = pct
    out["tied"] = comp.duplicated(keep=False) & comp.notna()


def critical_failures(con, period: Period) -> dict[str, int]:
    """Per agent, the period's QA reviews with a failed critical criterion (remembered until
    the data changes: every scorecard asks)."""

    def count():  # the query file is read only when the count is not remembered
        sql = (f"WITH qa AS ({paths.sql_file('qa_review_scores')}) "
               "SELECT agent, count(*) FILTER (WHERE critical_failed) FROM qa "
               "WHERE reviewed_at >= ? AND reviewed_at < ? GROUP BY agent")  # fmt: skip
        return con.cursor().execute(sql, [period.start, period.end]).fetchall()

    rows = store.memo(con, ("critical_failures", period.start, period.end), count)
    return {a: int(n) for a, n in rows}


def grades_of(scheme: Scheme, composite) -> np.ndarray:
    """Each score's grade code (None below every band). Grades and ranks follow the score as
    shown, to one decimal: 89.99999 is 90.0, an A."""
    composite = np.asarray(composite, dtype=float)
    mins = np.array([g.min for g in scheme.grades])
    codes = np.array([g.code for g in scheme.grades], dtype=object)
    meets = np.round(composite, 1)[:, None] >= mins[None, :]
    return np.where(meets.any(axis=1), codes[meets.argmax(axis=1)], None)


def scorecard(con, scheme: Scheme, period: Period, *, viewer: access.Viewer,
              team: str | None = None, catalogue: Catalogue | None = None,
              shops: list[str] | None = None) -> Scorecard:  # fmt: skip
    """The scorecard of every agent (of a team, over some shops) for a period under a scheme,
    as the viewer may see it: an agent gets only their own rows, ranked among everyone."""
    access.require(viewer, "own_data")
    catalogue = catalogue or load_catalogue()
    values, inputs = score_inputs(con, period, [scheme], team=team, catalogue=catalogue,
                                  shops=shops)  # fmt: skip
    agents, details = score(values, scheme, catalogue, **inputs)
    card = Scorecard(scheme, period, agents, details,
                     shops=None if shops is None else tuple(shops), team=team)  # fmt: skip
    return restrict(card, viewer)


def restrict(card: Scorecard, viewer: access.Viewer) -> Scorecard:
    """The card cut to what the viewer may see (all of it, or an agent's own rows)."""
    if not viewer.is_agent:
        return card
    medians = card.dimension_medians()
    return Scorecard(card.scheme, card.period, access.rows_for(viewer, card.agents),
                     access.rows_for(viewer, card.details), medians, card.ranked,
                     card.shops, card.team)  # fmt: skip


def calendar_for(scheme: Scheme) -> hours.ServiceHours | None:
    """The service hours a scheme's times count in: the shop's setting when the scheme says
    `business_hours: true` (calendar time when no hours are set), else None (calendar time)."""
    return hours.from_env() if scheme.business_hours else None


def score_inputs(con, period: Period, schemes: list[Scheme], *, team: str | None = None,
                 catalogue: Catalogue | None = None,
                 shops: list[str] | None = None) -> tuple[pd.DataFrame, dict]:  # fmt: skip
    """KPI values for the schemes' KPIs (cached) and the keyword arguments `score` needs:
    teams, team values when a scheme shrinks, critical QA failures when one has gates.
    Times count service hours as the last scheme says (in a what-if, the edited one)."""
    ids = list(dict.fromkeys(k for s in schemes for k in s.kpi_ids))
    calendar = calendar_for(schemes[-1])
    values = kpi_engine.compute(con, period.start, period.end, team=team, kpi_ids=ids,
                                catalogue=catalogue, service_hours=calendar, shops=shops)  # fmt: skip
    team_values = None
    if any(s.shrinkage > 0 for s in schemes):
        team_values = kpi_engine.compute(con, period.start, period.end, by="team", kpi_ids=ids,
                                         catalogue=catalogue, service_hours=calendar,
                                         shops=shops)  # fmt: skip
    inputs = {
        "period_days": period.days,
        "teams": dict(kpi_engine.agent_teams(con).itertuples(index=False, name=None)),
        "team_values": team_values,
        "critical": critical_failures(con, period) if any(s.gates for s in schemes) else None,
    }
    return values, inputs


def rank_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per agent: rank and composite under two scorecards, and the move (+ is up)."""
    a = before[["agent", "rank", "composite"]].rename(columns={"rank": "rank_before",
                                                               "composite": "composite_before"})  # fmt: skip
    b = after[["agent", "rank", "composite"]].rename(columns={"rank": "rank_after",
                                                              "composite": "composite_after"})  # fmt: skip
    out = b.merge(a, on="agent", how="outer")
    out["move"] = (out["rank_before"] - out["rank_after"]).astype("Int64")
    return out.sort_values(["rank_after", "agent"], na_position="last", ignore_index=True)
