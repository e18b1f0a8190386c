"""Rule sets people edit in the app — alert rules and webhooks, training rules, recognition
rules (`lib.core.settings.RULE_SETS`) — versioned in the store like schemes and rubrics.

The shipped file in `config/` is version 0 and is never written. A save checks the viewer's
right, needs a reason, and adds the next version with who, when and why; the audit log records
it. Readers get the newest version, or the shipped file while nothing has been saved.
"""

from __future__ import annotations

import pandas as pd
import yaml

from lib.auth import access, audit
from lib.core import store
from lib.core.errors import ConflictError, RuleProblems
from lib.core.paths import CONFIG
from lib.core.settings import RULE_SETS


def shipped(name: str) -> str:
    """The shipped default's text (read-only)."""
    return (CONFIG / RULE_SETS[name].default).read_text(encoding="utf-8")


def latest(con, name: str) -> tuple[int, str]:
    """(version, YAML text) in force: the newest saved version, else (0, the shipped file)."""
    RULE_SETS[name]  # noqa: B018 - an unknown name is a KeyError, not the shipped default
    rows = (
        con.cursor()
        .execute(
            "SELECT version, body FROM rule_set_versions WHERE name = ? ORDER BY version DESC LIMIT 1",
            [name],
        )
        .fetchall()
    )
    return (rows[0][0], rows[0][1]) if rows else (0, shipped(name))


def save(con, viewer: access.Viewer, name: str, body: dict, *, reason: str,
         base_version: int | None = None) -> int:  # fmt: skip
    """Store `body` (already checked by the rule set's own module) as the next version of
    `name`; returns the version. Refuses a missing reason, and a save on top of a version
    someone else saved meanwhile when `base_version` is given."""
    access.require(viewer, RULE_SETS[name].right)
    if not str(reason or "").strip():
        raise RuleProblems("Not saved", [("rules.reason_given", "say why the rules change")])
    text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False)

    def work(cur):
        newest = cur.execute(
            "SELECT coalesce(max(version), 0) FROM rule_set_versions WHERE name = ?", [name]
        ).fetchall()[0][0]
        if base_version is not None and newest != base_version:
            raise ConflictError(
                f"Someone saved version {newest} of the {name} rules after you opened version "
                f"{base_version}; reload to see their change, then save again."
            )
        cur.execute(
            "INSERT INTO rule_set_versions VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?)",
            [name, newest + 1, text, viewer.username, reason.strip()],
        )
        return newest + 1

    version = store.write(con, work)
    audit.record(audit.log_of(con), viewer.username, f"{name}.rules", name,
                 {"version": version, "reason": reason.strip()})  # fmt: skip
    return version


def history(con, name: str) -> pd.DataFrame:
    """Every saved version of a rule set, newest first: version, when, who, why."""
    return con.cursor().execute(
        "SELECT version, saved_at, saved_by, reason FROM rule_set_versions WHERE name = ? "
        "ORDER BY version DESC", [name]).df()  # fmt: skip
