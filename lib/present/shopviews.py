"""What the pages show about shops: the shop list, KPIs per shop, the platform's peer
benchmarks beside the team (or one agent), and period reports a period leaves out.

Rates over several shops combine their counts in the KPI engine, so a shop weighs by its
volume; here each shop's own value is shown beside the combined one.
"""

from __future__ import annotations

import pandas as pd

from lib.auth import access
from lib.core import shops, store
from lib.core.periods import Period
from lib.core.tables import SHOP_TABLES
from lib.metrics import kpis as engine
from lib.metrics.kpis import format_value, load_catalogue
from lib.metrics.scoring import Scorecard
from lib.present.views import pool


def shop_keys(con) -> list[str]:
    """Every shop with stored rows, as "platform|shop" keys, in order."""
    parts = " UNION ".join(f"SELECT DISTINCT platform, shop FROM {t}" for t in SHOP_TABLES)
    sql = f"SELECT platform, shop FROM ({parts}) ORDER BY 1, 2"  # every page run asks: remembered
    rows = store.memo(con, "shop_keys", lambda: con.cursor().execute(sql).fetchall())
    return [shops.key(p, s) for p, s in rows]


def per_shop(con, viewer: access.Viewer, card: Scorecard, lang: str,
             agent: str | None = None) -> pd.DataFrame:  # fmt: skip
    """The scheme's KPIs in each shop, for the team (of the card's shops) or one agent:
    columns shop, kpi, label, value, shown, n; empty when there is only one shop."""
    if agent:
        access.require_agent(viewer, agent)
    else:
        access.require(viewer, "team_views")
    catalogue = load_catalogue()
    period = card.period
    frame = engine.compute(con, period.start, period.end, by="shop", kpi_ids=card.scheme.kpi_ids,
                           shops=card.shops, agent=agent, team=card.team)  # fmt: skip
    if frame.empty or frame["grp"].nunique() < 2:
        return pd.DataFrame(columns=["shop", "kpi", "label", "value", "shown", "n"])
    frame = frame[frame["value"].notna()]
    order = {k: i for i, k in enumerate(card.scheme.kpi_ids)}
    out = pd.DataFrame(
        {
            "shop": [shops.label(g, lang) for g in frame["grp"]],
            "kpi": frame["kpi"],
            "label": [catalogue.get(k).label(lang) for k in frame["kpi"]],
            "value": frame["value"],
            "shown": [format_value(catalogue.get(k), v, lang) for k, v in zip(frame["kpi"], frame["value"])],
            "n": frame["n"],
            "_order": frame["kpi"].map(order),
        }
    )  # fmt: skip
    return out.sort_values(["_order", "shop"]).drop(columns="_order").reset_index(drop=True)


def shop_table(frame: pd.DataFrame) -> pd.DataFrame:
    """per_shop as a table people read: one row per KPI, one column per shop."""
    if frame.empty:
        return frame
    wide = frame.pivot_table(index="label", columns="shop", values="shown", aggfunc="first",
                             sort=False)  # fmt: skip
    return wide.reset_index().rename_axis(columns=None).fillna("–")


def benchmarks(con, viewer: access.Viewer, card: Scorecard, lang: str,
               agent: str | None = None) -> pd.DataFrame:  # fmt: skip
    """The team's (or an agent's) value of each KPI the platform benchmarks, beside the
    platform's 同行同层均值 and 同行同层优秀 for the card's shops and period: columns kpi, label,
    kind, ours, peer_average, peer_best and their shown texts. Reports that lie inside the
    period count; several shops' or days' figures are averaged."""
    if agent:
        access.require_agent(viewer, agent)
    else:
        access.require(viewer, "team_views")
    catalogue = load_catalogue()
    wanted = {catalogue.get(k).benchmark: k for k in catalogue.kpis if catalogue.get(k).benchmark}
    period = card.period
    cond = "AND platform || '|' || shop IN (SELECT unnest($shops::VARCHAR[]))" if card.shops else ""
    params = {"start": period.start, "end": period.end}
    if card.shops:
        params["shops"] = list(card.shops)
    rows = (
        con.cursor()
        .execute(
            f"""SELECT "column", kind, avg(value) AS value FROM benchmarks
                WHERE kind IN ('peer_average', 'peer_best') AND date >= $start
                  AND coalesce(period_end, date) < $end {cond}
                GROUP BY 1, 2""",
            params,
        )
        .df()
    )
    cols = ["kpi", "label", "kind", "ours", "peer_average", "peer_best", "ours_shown",
            "peer_average_shown", "peer_best_shown"]  # fmt: skip
    rows = rows[rows["column"].isin(wanted)]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    ids = sorted({wanted[c] for c in rows["column"]}, key=list(catalogue.kpis).index)
    values = engine.compute(con, period.start, period.end, by="agent" if agent else "team",
                            kpi_ids=ids, shops=card.shops, agent=agent, team=card.team)  # fmt: skip
    ours = pool(values, catalogue)
    out = []
    for kid in ids:
        kpi = catalogue.get(kid)
        peer = rows[rows["column"] == kpi.benchmark].set_index("kind")["value"]
        avg, best = peer.get("peer_average"), peer.get("peer_best")
        mine = ours.get(kid)
        mine = None if mine is None or pd.isna(mine) else mine
        out.append({
            "kpi": kid, "label": kpi.label(lang), "kind": kpi.kind, "ours": mine,
            "peer_average": avg, "peer_best": best, "ours_shown": format_value(kpi, mine, lang),
            "peer_average_shown": format_value(kpi, avg, lang), "peer_best_shown": format_value(kpi, best, lang),
        })  # fmt: skip
    return pd.DataFrame(out, columns=cols)


def reports_left_out(con, period: Period) -> pd.DataFrame:
    """Period reports the period's numbers leave out, with why: file, first_day, last_day,
    reason ("partial": only partly inside the period; "daily": the same accounts' daily rows
    are used instead)."""
    return (
        con.cursor()
        .execute(
            f"""SELECT DISTINCT u.file_name AS file, r.date AS first_day,
                       r.period_end AS last_day,
                       CASE WHEN r.date >= $start AND r.period_end < $end THEN 'daily'
                            ELSE 'partial' END AS reason
                FROM agent_daily r JOIN uploads u USING (upload_id)
                WHERE r.period_end IS NOT NULL AND r.date < $end AND r.period_end >= $start
                  AND (NOT (r.date >= $start AND r.period_end < $end)
                       OR EXISTS ({engine.DAILY_COVERS}))
                ORDER BY 2, 1""",
            {"start": period.start, "end": period.end},
        )
        .df()
    )
