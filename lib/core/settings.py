"""Every setting, declared once as data with its type, default and description; a test checks
that the README's settings tables list them all.

- `SETTINGS`: installation settings (file limits, the login cookie, webhooks, the store's time
  zone), set by whoever runs the installation through environment variables — not in a page —
  because they decide what an outsider may send the app and where the app may send data.
- `RULE_SETS`: rules people edit in the app. The shipped file in `config/` is the read-only
  default; each save is a new version in the store, with who, when and why
  (`lib.auth.rulesets`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | str
    about: str
    group: str = "limits"  # the README table that lists it: limits, jobs or install

    @property
    def env(self) -> str:
        return "SCORECARD_" + self.name.upper()

    @property
    def type(self) -> str:
        """What the variable holds: a whole number (above 0), or text."""
        return "number" if isinstance(self.default, int) else "text"


SETTINGS = {s.name: s for s in [
    Setting("max_cell_chars", 1_000_000, "longest cell an upload may hold (characters)"),
    Setting("max_columns", 16_384, "most columns an upload may have (Excel's own limit)"),
    Setting("max_rows", 1_048_576, "most rows a workbook sheet may declare (Excel's own limit)"),
    Setting("max_cells", 10_000_000, "most cells a workbook's sheets may span, rows × columns "
            "from the first to the last used cell"),
    Setting("max_xlsx_unpacked_mb", 2_000, "largest total a workbook may unpack to (MB)"),
    Setting("max_xlsx_ratio", 200, "highest compression ratio of a workbook part over 10 MB"),
    Setting("cookie_days", 7, "how long a login cookie lasts (days)"),
    Setting("webhook_allow_hosts", "", "hosts on a private or loopback address that webhooks "
            "may still reach, comma-separated (none by default)"),
    Setting("webhook_timeout_s", 4, "seconds a webhook may take to answer"),
    Setting("timezone", "", "the store's time zone, e.g. Asia/Shanghai (none: the machine's)"),
    Setting("upload_wait_s", 2, "seconds the upload page waits for a read or a store before it "
            "shows its progress and stays usable meanwhile"),
    # Read where they are used (lib.core.store, lib.auth.users, lib.present.mail,
    # lib.metrics.hours); declared here so that every setting has one entry.
    Setting("db", "", "the store file (default data/scorecard.duckdb)", "install"),
    Setting("auth", "", "the accounts file (default config/auth.yaml)", "install"),
    Setting("admin_password", "", "the admin's password on first start (default: generated "
            "and printed once)", "install"),
    Setting("cookie_key", "", "the key that signs login cookies (default: made once per "
            "installation)", "install"),
    Setting("smtp_host", "", "mail server (required for `mail`)", "jobs"),
    Setting("smtp_port", "", "port; 587 for `starttls`, 465 for `ssl`, 25 for `none`", "jobs"),
    Setting("smtp_tls", "", "`starttls` (the default), `ssl` or `none`", "jobs"),
    Setting("smtp_user", "", "mail login", "jobs"),
    Setting("smtp_password", "", "mail password; never printed or logged", "jobs"),
    Setting("smtp_from", "", "sender address (default: the login)", "jobs"),
    Setting("service_hours", "", "the shop's service hours, e.g. `08:00-23:00` (see KPIs and "
            "scoring)", "jobs"),
    Setting("holidays", "", "closed days: `2026-10-01,2026-10-02`, or `@/path/holidays.txt` "
            "(one date a line)", "jobs"),
]}  # fmt: skip


@dataclass(frozen=True)
class RuleSet:
    name: str
    default: str  # the shipped file under config/
    right: str  # the action (lib.auth.access.ACTIONS) that may change it
    about: str


RULE_SETS = {r.name: r for r in [
    RuleSet("alerts", "alerts.yaml", "edit_schemes",
            "alert rules (sudden changes, breaches, backlog) and webhooks"),
    RuleSet("training", "training.yaml", "edit_schemes",
            "training modules, the rules that recommend them, and mentors who may be named"),
    RuleSet("recognition", "recognition.yaml", "bonus",
            "honours and the bonus pool's defaults"),
]}  # fmt: skip


def get(name: str):
    """The setting's value: the environment variable when set (and valid), else the default."""
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is None or not raw.strip():
        return setting.default
    if isinstance(setting.default, int):
        try:
            value = int(float(raw))
        except ValueError:
            return setting.default
        return value if value > 0 else setting.default
    return raw.strip()
