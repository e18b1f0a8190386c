"""The daily digest for the team chat: one message per day to each configured webhook.

The message holds the alerts that began on the day, the day's headline KPIs (every team
pooled) against the seven days before it, the agents whose composite score rose and fell most
against those seven days, and watched-folder files that failed. It is sent with the retries
of `lib.monitoring.webhooks`, and a day posted to a hook is recorded so a rerun never posts it twice.
"""

from __future__ import annotations

import datetime as dt
import urllib.error

from lib.auth import access
from lib.core import errors, store
from lib.core.i18n import t
from lib.core.periods import Period, between
from lib.metrics import kpis as engine
from lib.metrics import schemes
from lib.metrics.kpis import format_value, load_catalogue
from lib.metrics.scoring import calendar_for, scorecard
from lib.monitoring import webhooks
from lib.present import views

HEADLINE = ("first_response_time", "csat", "sla_breach_rate", "fcr_rate", "conversion_rate",
            "sales_amount")  # fmt: skip


def day_of(text: str, today: dt.date | None = None) -> dt.date:
    """yesterday, today or an ISO date; a clear ValueError otherwise."""
    today = today or dt.date.today()
    s = text.strip().lower()
    if s == "yesterday":
        return today - dt.timedelta(days=1)
    if s == "today":
        return today
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"'{text}' is not a day; use yesterday, today or 2026-05-03") from None


def _pooled(con, period: Period, ids: list[str], catalogue, calendar) -> dict:
    frame = engine.compute(con, period.start, period.end, by="team", kpi_ids=ids,
                           catalogue=catalogue, service_hours=calendar)  # fmt: skip
    return views.pool(frame, catalogue)


def content(con, day: dt.date, scheme=None, lang: str = "zh", movers: int = 3) -> dict:
    """What the digest says about `day`, as data (the text is made by `text`)."""

    catalogue = load_catalogue()
    scheme = scheme or schemes.get(con, schemes.DEFAULT)
    today, week = between(day, day), between(day - dt.timedelta(days=7), day - dt.timedelta(days=1))
    ids = [k for k in dict.fromkeys([*HEADLINE, *scheme.kpi_ids]) if k in catalogue.kpis]
    calendar = calendar_for(scheme)  # times as the scheme counts them
    now = _pooled(con, today, ids, catalogue, calendar)
    before = _pooled(con, week, ids, catalogue, calendar)
    kpis = []
    for kid in ids:
        kpi = catalogue.get(kid)
        v, b = now.get(kid), before.get(kid)
        if kpi.kind == "sum" and b is not None:  # totals: the week's daily average
            b = b / 7
        if v is None or v != v:  # no data that day: nothing to say
            continue
        kpis.append({"kpi": kid, "label": kpi.label(lang), "value": v,
                     "shown": format_value(kpi, v, lang), "week": format_value(kpi, b, lang),
                     "change": views.change_text(kpi, v, b, lang) or ""})  # fmt: skip
    a = scorecard(con, scheme, today, viewer=access.SYSTEM).agents[["agent", "composite"]]
    b = scorecard(con, scheme, week, viewer=access.SYSTEM).agents[["agent", "composite"]]
    both = a.merge(b, on="agent", suffixes=("", "_week")).dropna()
    both = both.assign(delta=both["composite"].astype(float) - both["composite_week"].astype(float))
    up = both[both["delta"] > 0].nlargest(movers, "delta")
    down = both[both["delta"] < 0].nsmallest(movers, "delta")
    cur = con.cursor()
    new_alerts = cur.execute(
        "SELECT severity, subject, kpi, rule, first_day, value, baseline, threshold FROM alerts "
        "WHERE first_day = ? ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' "
        "THEN 1 ELSE 2 END, subject",
        [day],
    ).df()
    failed = cur.execute(
        "SELECT path, status, message FROM watched_files WHERE status IN ('rejected', 'failed', "
        "'nothing stored') AND seen_at >= ? AND seen_at < ? ORDER BY seen_at",
        [
            dt.datetime.combine(day, dt.time()),
            dt.datetime.combine(day + dt.timedelta(days=2), dt.time()),
        ],
    ).df()
    return {"day": day, "kpis": kpis, "alerts": new_alerts.to_dict("records"),
            "best": [(r.agent, r.delta) for r in up.itertuples()],
            "weakest": [(r.agent, r.delta) for r in down.itertuples()],
            "failed_files": failed.to_dict("records")}  # fmt: skip


def text(found: dict, lang: str = "zh") -> str:
    """The digest as the lines of one chat message."""
    lines = [t("digest.title", lang, day=found["day"])]
    if found["kpis"]:
        lines.append(t("digest.kpis", lang))
        for k in found["kpis"]:
            change = f" ({k['change']})" if k["change"] else ""
            lines.append(
                f"· {k['label']}: {k['shown']}{change} · {t('digest.week', lang)} {k['week']}"
            )
    else:
        lines.append(t("digest.no_data", lang))
    if found["best"] or found["weakest"]:
        best = ", ".join(f"{a} +{d:.1f}" for a, d in found["best"]) or "–"
        weak = ", ".join(f"{a} {d:.1f}" for a, d in found["weakest"]) or "–"
        lines.append(t("digest.movers", lang, best=best, weak=weak))
    lines.append(t("digest.alerts", lang, count=len(found["alerts"])))
    lines += [webhooks.text(a) for a in found["alerts"][:10]]
    if len(found["alerts"]) > 10:
        lines.append(t("digest.more", lang, count=len(found["alerts"]) - 10))
    for f in found["failed_files"]:
        lines.append(t("digest.failed_file", lang, path=f["path"], status=f["status"],
                       message=(f["message"] or "")[:200]))  # fmt: skip
    return "\n".join(lines)


def payload(body: str, fmt: str) -> dict:
    """The JSON each chat expects, as `lib.monitoring.webhooks` sends alerts: the digest holds names and
    file names from the data, so it is made inert for the target's format first."""
    return webhooks.message(webhooks.escape(body, fmt), fmt)


def post(con, viewer: access.Viewer, hooks: list[dict], day: dt.date, body: str, *, force: bool = False,
         retries: int = 3, pause: float = 1.0) -> dict:  # fmt: skip
    """Send the digest of `day` to each hook not yet sent it. Returns {hook: status} with
    status "sent", "already sent" or the error."""
    access.require(viewer, "edit_schemes")
    done = {h for (h,) in con.cursor().execute(
        "SELECT hook FROM digest_posts WHERE day = ?", [day]).fetchall()}  # fmt: skip
    out = {}
    for hook in hooks:
        name = hook.get("name") or hook["url"]
        if name in done and not force:
            out[name] = "already sent"
            continue
        try:
            attempts = webhooks.send_with_retries(hook["url"], payload(body, hook.get("format", "slack")),
                                                  retries, pause)  # fmt: skip
        except (
            errors.HookError,
            urllib.error.URLError,
            OSError,
            RuntimeError,
            ValueError,
        ) as exc:
            out[name] = f"failed: {exc}"
            continue
        store.write(con, lambda cur, h=name, n=attempts: cur.execute(
            "INSERT OR REPLACE INTO digest_posts VALUES (?, ?, ?, ?)",
            [day, h, dt.datetime.now(), n]), bump=False)  # fmt: skip
        out[name] = "sent"
    return out


def has_failures(report: dict) -> bool:
    return any(str(v).startswith("failed") for v in report.values())
