"""Workload balance: tickets per agent per day and hour against the team, and who to relieve.

An agent is persistently overloaded when, on at least `share` of the days they worked, they
handled more than (1 + band) × their team's median that day; underloaded below (1 − band) ×
the median. The suggested rebalancing moves tickets a day, within a team, from the most
overloaded to those with the most room below the team median, until everyone's average sits
inside the band (or nobody has room left).
"""

from __future__ import annotations

import pandas as pd

from lib.auth import access
from lib.core.paths import sql_file

SQL = """
WITH teams AS ({teams}),
daily AS (
    SELECT t.agent, coalesce(tm.team, '—') AS team, t.created_at::DATE AS day, count(*) AS tickets
    FROM tickets t LEFT JOIN teams tm USING (agent)
    WHERE t.created_at >= $start AND t.created_at < $end
    GROUP BY ALL
)
SELECT *, median(tickets) OVER (PARTITION BY team, day) AS team_median FROM daily
"""


def daily(con, viewer: access.Viewer, start, end, team: str | None = None) -> pd.DataFrame:
    """Tickets per agent per day with the team's median that day."""

    access.require(viewer, "team_views")
    frame = (
        con.cursor()
        .execute(SQL.format(teams=sql_file("agent_teams")), {"start": start, "end": end})
        .df()
    )
    return frame[frame["team"] == team].reset_index(drop=True) if team else frame


def hourly(con, viewer: access.Viewer, start, end, team: str | None = None) -> pd.DataFrame:
    """Mean tickets per agent per hour of the day (over the days each agent worked)."""

    access.require(viewer, "team_views")
    frame = (
        con.cursor()
        .execute(
            f"""WITH teams AS ({sql_file("agent_teams")})
            SELECT t.agent, coalesce(tm.team, '—') AS team, hour(t.created_at) AS hour,
                   count(*) / count(DISTINCT t.created_at::DATE) AS tickets
            FROM tickets t LEFT JOIN teams tm USING (agent)
            WHERE t.created_at >= $start AND t.created_at < $end GROUP BY ALL ORDER BY hour""",
            {"start": start, "end": end},
        )
        .df()
    )
    return frame[frame["team"] == team].reset_index(drop=True) if team else frame


def balance(days: pd.DataFrame, band: float = 0.2, share: float = 0.6) -> pd.DataFrame:
    """Per agent: mean tickets a day, the team's mean median, the share of days over and under
    the band, and the verdict (overloaded, underloaded, balanced)."""
    d = days.assign(over=days["tickets"] > (1 + band) * days["team_median"],
                    under=days["tickets"] < (1 - band) * days["team_median"])  # fmt: skip
    out = d.groupby(["team", "agent"]).agg(days=("day", "count"), per_day=("tickets", "mean"),
                                           team_median=("team_median", "mean"),
                                           over_share=("over", "mean"), under_share=("under", "mean")).reset_index()  # fmt: skip
    out["load"] = out["per_day"] / out["team_median"]
    out["verdict"] = ["overloaded" if o >= share else "underloaded" if u >= share else "balanced"
                      for o, u in zip(out["over_share"], out["under_share"])]  # fmt: skip
    return out.sort_values(["team", "load"], ascending=[True, False], ignore_index=True)


def rebalance(summary: pd.DataFrame, band: float = 0.2, step: float = 0.5) -> pd.DataFrame:
    """Moves of tickets a day (in steps of `step`) from overloaded agents to those with room,
    within each team, bringing averages inside (1 ± band) × the team median."""
    moves = []
    for team, part in summary.groupby("team"):
        median = part["team_median"].mean()
        upper = (1 + band) * median
        give = {
            r.agent: r.per_day - upper
            for r in part.itertuples()
            if r.verdict == "overloaded" and r.per_day > upper
        }
        room = {r.agent: median - r.per_day for r in part.itertuples() if r.per_day < median}
        for giver in sorted(give, key=give.get, reverse=True):
            for taker in sorted(room, key=room.get, reverse=True):
                amount = min(give[giver], room[taker])
                amount = round(amount / step) * step
                if amount <= 0:
                    continue
                moves.append({"team": team, "from": giver, "to": taker, "tickets_per_day": amount})
                give[giver] -= amount
                room[taker] -= amount
                if give[giver] <= step / 2:
                    break
    return pd.DataFrame(moves, columns=["team", "from", "to", "tickets_per_day"])
