"""Sending alerts to a chat group: DingTalk, WeCom or Slack-style JSON webhooks.

Each alert is sent to each configured hook at most once: a delivery is recorded only after
the hook answered with success, and alerts already recorded for a hook are skipped, so a
retry after a failure never posts twice. A failing hook is retried with a growing pause, and
once it has failed an alert it is left alone for the rest of the round.

The app sends to addresses a manager typed, carrying names from uploads, so: text from the
data is escaped for the target (Slack reads `<…>` and `&`; DingTalk and WeCom text messages
turn URLs and @-mentions into links, which a zero-width space breaks); a URL is refused
unless every address it resolves to is public — loopback, link-local and private addresses
only for hosts an admin names in the setting `webhook_allow_hosts` — and redirects are not
followed; each send times out after `webhook_timeout_s` seconds; and a failure is told in our
words, never by echoing what the target answered. `start` sends in the background.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pandas as pd

from lib.auth import access
from lib.core import errors, settings, store
from lib.core.errors import HookError

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}
ZWSP = "\u200b"  # zero-width space: invisible, but no chat client links across it


def _present(value) -> bool:
    if value is None or value is pd.NaT:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def escape(text: str, fmt: str) -> str:
    """Data-borne text made inert for the target's format."""
    text = str(text)
    if fmt == "slack":  # Slack's control characters: <!channel>, <url|label>, &entities
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # DingTalk and WeCom text messages: no markup, but URLs and @names become live.
    return (
        text.replace("://", ":" + ZWSP + "//")
        .replace("@", "@" + ZWSP)
        .replace("www.", "www" + ZWSP + ".")
    )


def text(alert: dict, fmt: str = "slack") -> str:
    """One line a person reads in the chat group; missing parts are left out, never "nan"."""
    numbers = f"{alert['value']:.4g}" if _present(alert.get("value")) else ""
    if _present(alert.get("baseline")):
        numbers += f" (usual {alert['baseline']:.4g})"
    if _present(alert.get("threshold")):
        numbers += f" (limit {alert['threshold']:.4g})"
    subject = escape(alert["subject"], fmt) if _present(alert.get("subject")) else ""
    kpi = f" {escape(alert['kpi'], fmt)}" if _present(alert.get("kpi")) else ""
    rule = escape(alert["rule"], fmt) if _present(alert.get("rule")) else ""
    since = f" from {alert['first_day']}" if _present(alert.get("first_day")) else ""
    line = f"[{alert.get('severity') or 'info'}] {subject}{kpi}: {rule}{since}"
    return f"{line} — {numbers}".strip(" —") if numbers else line


def message(body: str, fmt: str) -> dict:
    """The JSON each chat expects for a text (already made inert with `escape`)."""
    body = "客服绩效看板 · Service Scorecard\n" + body
    if fmt in ("dingtalk", "wecom"):
        return {"msgtype": "text", "text": {"content": body}}
    return {"text": body}


def payload(alert: dict, fmt: str) -> dict:
    return message(text(alert, fmt), fmt)


def allowed_hosts() -> set[str]:
    return {
        h.strip().lower() for h in str(settings.get("webhook_allow_hosts")).split(",") if h.strip()
    }


def check_url(url: str) -> str | None:
    """Why the app will not send to this URL, or None. Every address the host resolves to
    must be public, unless an admin allowed the host by name."""
    try:
        parts = urllib.parse.urlsplit(str(url or ""))
        host, port = parts.hostname, parts.port
    except ValueError:
        return "the URL cannot be read"
    if parts.scheme not in ("http", "https") or not host:
        return "the URL must start with http:// or https:// and name a host"
    if host.lower() in allowed_hosts():
        return None
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)  # fmt: skip
    except (socket.gaierror, UnicodeError, OSError):
        return f"the host {host} cannot be found"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            return (f"{host} is a loopback, link-local or private address ({address}); an admin "
                    "may allow it by name in the setting SCORECARD_WEBHOOK_ALLOW_HOSTS")  # fmt: skip
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead past the address check: treat it as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise HookError(f"the hook answered with a redirect (HTTP {code}), which is not followed")


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, data: dict, timeout: float | None = None) -> None:
    """POST JSON; raises HookError on a refused URL, a network error, a non-2xx answer or a
    DingTalk/WeCom errcode. The message never holds the target's own words."""
    problem = check_url(url)
    if problem:
        raise HookError(f"not sent: {problem}")
    timeout = timeout or settings.get("webhook_timeout_s")
    request = urllib.request.Request(url, data=json.dumps(data, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise HookError(f"the hook answered HTTP {exc.code}") from None
    except TimeoutError:
        raise HookError(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise HookError(f"no answer within {timeout:g} s") from None
        raise HookError("the hook could not be reached") from None
    except OSError:
        raise HookError("the hook could not be reached") from None
    try:
        parsed = json.loads(answer or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    if isinstance(parsed, dict) and parsed.get("errcode") not in (None, 0):
        raise HookError(f"the hook refused the message (error code {str(parsed['errcode'])[:12]})")


def send_with_retries(url: str, data: dict, retries: int = 3, pause: float = 1.0) -> int:
    """Send; on failure wait pause, 2 × pause … and try again. Returns the attempts made.
    A URL that is refused is not retried."""
    for attempt in range(1, retries + 1):
        try:
            post(url, data)
            return attempt
        except HookError as exc:
            if attempt == retries or str(exc).startswith("not sent:"):
                raise
            time.sleep(pause * 2 ** (attempt - 1))
    return retries


def deliver(con, viewer: access.Viewer, hooks: list[dict], alerts: pd.DataFrame, *,
            retries: int = 3, pause: float = 1.0) -> dict:  # fmt: skip
    """Send open alerts not yet delivered to each hook (at or above its minimum severity).
    Returns {hook name: {"sent": n, "failed": [reason, …]}}. A hook that fails an alert is
    not tried again with the others in this round: they wait for the next one."""
    access.require(viewer, "edit_schemes")  # sending is for those who edit the rules
    report = {}
    for hook in hooks:
        name = hook.get("name") or hook["url"]
        done = {k for (k,) in con.cursor().execute(
            "SELECT alert_key FROM alert_deliveries WHERE hook = ?", [name]).fetchall()}  # fmt: skip
        floor = SEVERITY_ORDER.get(hook.get("min_severity", "warning"), 1)
        fmt = hook.get("format", "slack")
        sent, failed, waiting = 0, [], 0
        for alert in alerts.to_dict("records"):
            if alert["alert_key"] in done or SEVERITY_ORDER.get(alert["severity"], 0) < floor:
                continue
            if alert.get("status", "open") != "open":
                continue
            if failed:
                waiting += 1
                continue
            try:
                attempts = send_with_retries(hook["url"], payload(alert, fmt), retries, pause)
            except HookError as exc:
                failed.append(f"{alert['alert_key']}: {exc}")
                continue
            store.write(con, lambda cur, a=alert, n=attempts, h=name: cur.execute(
                "INSERT OR IGNORE INTO alert_deliveries VALUES (?, ?, ?, ?)",
                [a["alert_key"], h, dt.datetime.now(), n]), bump=False)  # fmt: skip
            sent += 1
        if waiting:
            failed.append(f"{waiting} more alert(s) wait for the next send")
        report[name] = {"sent": sent, "failed": failed}
    return report


def test_hook(hook: dict) -> str | None:
    """Send a test message; None when it arrived, else the reason it did not."""
    message = {"severity": "info", "subject": "test", "rule": "test message",
               "first_day": dt.date.today(), "value": None}  # fmt: skip
    try:
        send_with_retries(hook.get("url"), payload(message, hook.get("format", "slack")), retries=1)
    except HookError as exc:
        return str(exc)
    return None


class Sending:
    """A send running in the background: the page shows `done` and `report` when it ends."""

    def __init__(self, work):
        self.report: dict | None = None
        self.error: str | None = None
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work):
        try:
            self.report = work()
        except (HookError, errors.StoreError, OSError, ValueError) as exc:
            self.error = str(exc)

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()


def start(viewer, work) -> Sending:
    """Start `work` (a deliver or test_hook call) in the background, for a viewer who may
    edit the alert rules: sending is theirs too."""

    access.require(viewer, "edit_schemes")
    return Sending(work)
