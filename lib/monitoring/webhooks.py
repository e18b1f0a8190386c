"""Sending alerts to a chat group: DingTalk, WeCom or Slack-style JSON webhooks.

Each alert is sent to each configured hook at most once: a delivery is recorded only after
the hook answered with success, and alerts already recorded for a hook are skipped, so a
retry after a failure never posts twice. A failing hook is retried with a growing pause, and
once it has failed an alert it is left alone for the rest of the round.

The app sends to addresses a manager typed, carrying names from uploads, so: text from the
data is escaped for the target (Slack reads `<…>` and `&`; DingTalk and WeCom text messages
turn URLs and @-mentions into links, which a zero-width space breaks); a URL is refused
unless every address it resolves to is public — loopback, link-local and private addresses
only for hosts an admin names in the setting `webhook_allow_hosts` — the connection goes to
the very addresses that were checked (the name is looked up once, so a second answer cannot
point it elsewhere; the Host header and the TLS certificate check still use the name), and
redirects are not followed; each send times out after `webhook_timeout_s` seconds; and a failure is told in our
words, never by echoing what the target answered. `start` sends in the background.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import math
import socket
import ssl
import threading
import time
import urllib.parse

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


class _Refused(Exception):
    """Why a URL is not sent to (our words)."""


def _resolve(url: str):
    """(parts, checked addresses) for a URL the app may send to, else _Refused with the reason.

    The host is resolved once, here: every address it resolves to must be public unless an
    admin allowed the host by name, and the send then connects to these very addresses, so a
    name that answers differently the second time (DNS rebinding) cannot lead elsewhere."""
    try:
        parts = urllib.parse.urlsplit(str(url or ""))
        host, port = parts.hostname, parts.port
    except ValueError:
        raise _Refused("the URL cannot be read") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _Refused("the URL must start with http:// or https:// and name a host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        raise _Refused(f"the host {host} cannot be found") from None
    addresses, allowed = [], host.lower() in allowed_hosts()
    for info in infos:
        text = str(info[4][0])
        try:
            address = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            raise _Refused(f"the host {host} cannot be found") from None
        if not allowed and (not address.is_global or address.is_multicast):
            raise _Refused(f"{host} is a loopback, link-local or private address ({address}); an "
                           "admin may allow it by name in the setting "
                           "SCORECARD_WEBHOOK_ALLOW_HOSTS")  # fmt: skip
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise _Refused(f"the host {host} cannot be found")
    return parts, port, addresses


def check_url(url: str) -> str | None:
    """Why the app will not send to this URL, or None. Every address the host resolves to
    must be public, unless an admin allowed the host by name."""
    try:
        _resolve(url)
    except _Refused as exc:
        return str(exc)
    return None


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an address already checked (never a name: no second lookup)."""
    return socket.create_connection((address, port), timeout=timeout)


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to a host name over a connection to one of its checked addresses; the Host
    header still names the host."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self):
        failure = None
        for address in self.addresses:
            try:
                self.sock = _connect(address, self.port, self.timeout)
                return
            except OSError as exc:
                failure = exc
        raise failure or OSError("no address")


class _PinnedHTTPS(_PinnedHTTP):
    """HTTPS the same way; the certificate is checked against the host name (SNI too)."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float,
                 context: ssl.SSLContext | None = None):  # fmt: skip
        super().__init__(host, port, addresses, timeout)
        self.context = context or ssl.create_default_context()

    def connect(self):
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def post(url: str, data: dict, timeout: float | None = None) -> None:
    """POST JSON; raises HookError on a refused URL, a network error, a non-2xx answer (a
    redirect is not followed: it could lead past the address check) or a DingTalk/WeCom
    errcode. The message never holds the target's own words."""
    try:
        parts, port, addresses = _resolve(url)
    except _Refused as exc:
        raise HookError(f"not sent: {exc}") from None
    timeout = timeout or settings.get("webhook_timeout_s")
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = kind(parts.hostname, port, addresses, timeout)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    try:
        connection.request("POST", target, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        status = response.status
        answer = response.read(65536)
    except TimeoutError:
        raise HookError(f"no answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException):
        raise HookError("the hook could not be reached") from None
    finally:
        connection.close()
    if 300 <= status < 400:
        raise HookError(f"the hook answered with a redirect (HTTP {status}), which is not followed")
    if not 200 <= status < 300:
        raise HookError(f"the hook answered HTTP {status}")
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
