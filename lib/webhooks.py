"""Sending alerts to a chat group: DingTalk, WeCom or Slack-style JSON webhooks.

Each alert is sent to each configured hook at most once: a delivery is recorded only after
the hook answered with success, and alerts already recorded for a hook are skipped, so a
retry after a failure never posts twice. A failing hook is retried with a growing pause.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request

import pandas as pd

from lib import store

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}


def text(alert: dict) -> str:
    """One line a person reads in the chat group."""
    numbers = f"{alert.get('value'):.4g}" if alert.get("value") is not None else ""
    if alert.get("baseline") is not None and alert["baseline"] == alert["baseline"]:
        numbers += f" (usual {alert['baseline']:.4g})"
    if alert.get("threshold") is not None and alert["threshold"] == alert["threshold"]:
        numbers += f" (limit {alert['threshold']:.4g})"
    kpi = f" {alert['kpi']}" if alert.get("kpi") else ""
    return (f"[{alert['severity']}] {alert['subject']}{kpi}: {alert['rule']} from "
            f"{alert['first_day']} — {numbers}".strip())  # fmt: skip


def payload(alert: dict, fmt: str) -> dict:
    body = "客服绩效看板 · Service Scorecard\n" + text(alert)
    if fmt in ("dingtalk", "wecom"):
        return {"msgtype": "text", "text": {"content": body}}
    return {"text": body}


def post(url: str, data: dict, timeout: float = 5.0) -> None:
    """POST JSON; raises on a network error or a non-2xx answer (or a DingTalk/WeCom errcode)."""
    request = urllib.request.Request(url, data=json.dumps(data, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
        answer = response.read()
    try:
        parsed = json.loads(answer or b"{}")
    except json.JSONDecodeError:
        return
    if isinstance(parsed, dict) and parsed.get("errcode") not in (None, 0):
        raise RuntimeError(
            f"the webhook refused the message: {parsed.get('errmsg') or parsed['errcode']}"
        )


def send_with_retries(url: str, data: dict, retries: int = 3, pause: float = 1.0) -> int:
    """Send; on failure wait pause, 2 × pause … and try again. Returns the attempts made."""
    for attempt in range(1, retries + 1):
        try:
            post(url, data)
            return attempt
        except (urllib.error.URLError, OSError, RuntimeError):
            if attempt == retries:
                raise
            time.sleep(pause * 2 ** (attempt - 1))
    return retries


def deliver(con, hooks: list[dict], alerts: pd.DataFrame, *, retries: int = 3,
            pause: float = 1.0) -> dict:  # fmt: skip
    """Send open alerts not yet delivered to each hook (at or above its minimum severity).
    Returns {hook name: {"sent": n, "failed": [error, …]}}."""
    report = {}
    for hook in hooks:
        name = hook.get("name") or hook["url"]
        done = {k for (k,) in con.cursor().execute(
            "SELECT alert_key FROM alert_deliveries WHERE hook = ?", [name]).fetchall()}  # fmt: skip
        floor = SEVERITY_ORDER.get(hook.get("min_severity", "warning"), 1)
        sent, failed = 0, []
        for alert in alerts.to_dict("records"):
            if alert["alert_key"] in done or SEVERITY_ORDER.get(alert["severity"], 0) < floor:
                continue
            if alert.get("status", "open") != "open":
                continue
            try:
                attempts = send_with_retries(hook["url"], payload(alert, hook.get("format", "slack")),
                                             retries, pause)  # fmt: skip
            except (urllib.error.URLError, OSError, RuntimeError) as exc:
                failed.append(f"{alert['alert_key']}: {exc}")
                continue
            store.write(con, lambda cur, a=alert, n=attempts, h=name: cur.execute(
                "INSERT OR IGNORE INTO alert_deliveries VALUES (?, ?, ?, ?)",
                [a["alert_key"], h, dt.datetime.now(), n]), bump=False)  # fmt: skip
            sent += 1
        report[name] = {"sent": sent, "failed": failed}
    return report


def test_hook(hook: dict) -> str | None:
    """Send a test message; None when it arrived, else the reason it did not."""
    try:
        send_with_retries(hook["url"], payload({"severity": "info", "subject": "test", "rule": "test message",
                                                "first_day": dt.date.today(), "value": None}, hook.get("format", "slack")),
                          retries=1)  # fmt: skip
    except (urllib.error.URLError, OSError, RuntimeError, ValueError) as exc:
        return str(exc)
    return None
