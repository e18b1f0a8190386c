"""Sending reports by email over SMTP: the team report, or each agent their own scorecard.

Connection settings come from the environment in one place (`smtp_settings`): host, port,
TLS mode (none, starttls or ssl), user, password and sender. The password is kept out of
every message and log line: the settings' repr hides it and SMTP errors are reported without
it. An agent's mail is built from a scorecard cut to that agent by `lib.auth.access`, so it cannot
hold another agent's name or numbers.
"""

from __future__ import annotations

import csv
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from lib.auth import access, users
from lib.core.errors import MailError
from lib.core.i18n import t
from lib.metrics.scoring import Scorecard, restrict
from lib.present import export, report

TLS_MODES = ("none", "starttls", "ssl")
ENV = {  # setting: environment variable (moves to the shared settings registry later)
    "host": "SCORECARD_SMTP_HOST",
    "port": "SCORECARD_SMTP_PORT",
    "tls": "SCORECARD_SMTP_TLS",
    "user": "SCORECARD_SMTP_USER",
    "password": "SCORECARD_SMTP_PASSWORD",
    "sender": "SCORECARD_SMTP_FROM",
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)  # never printed
    sender: str = "scorecard@localhost"


def smtp_settings(env: dict | None = None) -> SmtpSettings:
    """The SMTP settings from the environment; a clear MailError when they cannot be used."""
    env = os.environ if env is None else env
    host = env.get(ENV["host"], "").strip()
    if not host:
        raise MailError(f"No mail server is set: set {ENV['host']} (and {ENV['port']}, "
                        f"{ENV['tls']}, {ENV['user']}, {ENV['password']}, {ENV['sender']}).")  # fmt: skip
    tls = env.get(ENV["tls"], "starttls").strip().lower() or "starttls"
    if tls not in TLS_MODES:
        raise MailError(f"{ENV['tls']} must be one of {', '.join(TLS_MODES)}, not '{tls}'.")
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[tls]
    raw = env.get(ENV["port"], "").strip()
    try:
        port = int(raw) if raw else default_port
    except ValueError:
        raise MailError(f"{ENV['port']} must be a port number, not '{raw}'.") from None
    user = env.get(ENV["user"], "")
    return SmtpSettings(host, port, tls, user, env.get(ENV["password"], ""),
                        env.get(ENV["sender"], "") or user or "scorecard@localhost")  # fmt: skip


def message(settings: SmtpSettings, to: list[str], subject: str, html_body: str,
            attachment: tuple[str, bytes, str] | None = None) -> EmailMessage:  # fmt: skip
    """An HTML email (with a plain-text part) and an optional (name, bytes, mime type) file."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.sender, ", ".join(to), subject
    msg["Date"], msg["Message-ID"] = formatdate(localtime=True), make_msgid("scorecard")
    msg.set_content(subject + "\n\nThis message is best read as HTML.")
    msg.add_alternative(html_body, subtype="html")
    if attachment:
        name, data, mime = attachment
        main, sub = mime.split("/", 1)
        if main == "text":  # as text, so the part says charset=utf-8 and Chinese survives
            msg.add_attachment(data.decode("utf-8"), subtype=sub, filename=name)
        else:
            msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return msg


def send(settings: SmtpSettings, messages: list[EmailMessage], timeout: float = 30) -> int:
    """Send every message over one connection; returns how many were sent."""
    try:
        if settings.tls == "ssl":
            server = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                      context=ssl.create_default_context())  # fmt: skip
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with server:
            if settings.tls == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings.user:
                server.login(settings.user, settings.password)
            for msg in messages:
                server.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        text = str(exc).replace(settings.password, "***") if settings.password else str(exc)
        raise MailError(f"The mail server {settings.host}:{settings.port} did not take the "
                        f"mail: {text}") from None  # fmt: skip
    return len(messages)


def _attachment(con, viewer, card: Scorecard, team, lang: str, kind: str) -> tuple[str, bytes, str]:
    stem = f"scorecard-{card.period.label}" + (f"-{viewer.agent}" if viewer.is_agent else "")
    if kind == "xlsx":
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return f"{stem}.xlsx", export.xlsx_bytes(card, lang), mime
    body = (report.agent_html(card, viewer.agent, lang) if viewer.is_agent
            else report.monthly_html(con, viewer, card, team, lang))  # fmt: skip
    return f"{stem}.html", body.encode("utf-8"), "text/html"


def team_message(con, settings: SmtpSettings, card: Scorecard, to: list[str], *,
                 team: str | None = None, lang: str = "zh", attach: str = "html") -> EmailMessage:  # fmt: skip
    """The monthly report for managers: the report as the body and attached."""
    viewer = access.SYSTEM
    name, data, mime = _attachment(con, viewer, card, team, lang, attach)
    intro = f"<p>{t('mail.intro', lang, period=card.period.label, attachment=name)}</p>"
    body = report.monthly_html(con, viewer, card, team, lang).replace("<body>", "<body>" + intro, 1)
    return message(settings, to, t("mail.subject", lang, period=card.period.label), body,
                   (name, data, mime))  # fmt: skip


def agent_message(con, settings: SmtpSettings, card: Scorecard, agent: str, address: str, *,
                  lang: str = "zh", attach: str = "html") -> EmailMessage:  # fmt: skip
    """One agent's own scorecard, seen as that agent sees it in the app."""
    viewer = access.Viewer(f"mail:{agent}", "agent", agent=agent)
    own = restrict(card, viewer)
    name, data, mime = _attachment(con, viewer, own, None, lang, attach)
    intro = f"<p>{t('mail.agent_intro', lang, agent=agent, period=card.period.label, attachment=name)}</p>"
    body = report.agent_html(own, agent, lang).replace("</h1>", "</h1>" + intro, 1)
    return message(settings, [address], t("mail.agent_subject", lang, period=card.period.label),
                   body, (name, data, mime))  # fmt: skip


def addresses(path: str | Path | None, accounts: Path | None = None) -> dict[str, str]:
    """Agent name → email: from a CSV with columns agent,email, and from agent accounts with an
    email in the accounts file (the CSV wins)."""
    found: dict[str, str] = {}
    if accounts is not None and accounts.exists():
        for entry in (users.load(accounts).get("credentials", {}).get("usernames") or {}).values():
            if entry.get("agent") and entry.get("email"):
                found[entry["agent"]] = entry["email"]
    if path:
        try:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                if not {"agent", "email"} <= set(reader.fieldnames or []):
                    raise MailError(f"{path} needs the columns agent and email; found "
                                    f"{', '.join(reader.fieldnames or []) or 'none'}.")  # fmt: skip
                for row in reader:
                    if row["agent"] and row["email"]:
                        found[row["agent"].strip()] = row["email"].strip()
        except OSError as exc:
            raise MailError(f"The address list {path} cannot be read: {exc}") from None
    return found
