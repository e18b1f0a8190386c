"""Feedback notes: what managers and trainers tell an agent, and the agent's answer.

A note is about one agent and period, of a kind (praise, concern, agreement, or a knowledge
contribution the agent made), optionally tied to a KPI or a ticket. Coaches write and edit
notes; every earlier version is kept in `note_history`, and an edit made on top of a version
someone else has replaced is refused. The agent reads their own notes, acknowledges them and
replies. Notes feed the collaboration KPIs (knowledge contributions, feedback closure), so
every write moves the data version. Each change is audited.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lib.auth import access, audit
from lib.core import errors, store
from lib.core.errors import NoteError

KINDS = ("praise", "concern", "agreement", "knowledge")
COLUMNS = ["note_id", "agent", "period", "kind", "kpi", "ticket_id", "body", "author",
           "created_at", "version", "updated_at", "updated_by", "acknowledged_at", "reply",
           "replied_at"]  # fmt: skip


def _check(kind: str, body: str) -> None:
    if kind not in KINDS:
        raise NoteError(f"Unknown kind of note '{kind}'; choose one of {', '.join(KINDS)}.")
    if not str(body or "").strip():
        raise NoteError("A note needs some text.")


def _write(con, action: str, who: str, target, detail, work) -> object:
    """Run `work(cursor)` in one transaction, then audit it."""
    result = store.write(con, work)
    audit.record(audit.log_of(con), who, action, target, detail)
    return result


def add(con, viewer: access.Viewer, agent: str, kind: str, body: str, *, period: str | None = None,
        kpi: str | None = None, ticket_id: str | None = None, now: dt.datetime | None = None,
        is_demo: bool = False) -> int:  # fmt: skip
    """Write a note about an agent; returns its id."""
    access.require(viewer, "coach")
    _check(kind, body)

    def work(cur):
        return cur.execute(
            """INSERT INTO notes (agent, period, kind, kpi, ticket_id, body, author, created_at,
               is_demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING note_id""",
            [agent, period, kind, kpi or None, ticket_id or None, body.strip(), viewer.username,
             now or dt.datetime.now(), is_demo],
        ).fetchone()[0]  # fmt: skip

    return _write(con, "note.create", viewer.username, agent, {"kind": kind, "kpi": kpi}, work)


def _current(cur, note_id: int) -> tuple:
    row = cur.execute(
        "SELECT agent, version, kind, kpi, body, coalesce(updated_by, author), "
        "coalesce(updated_at, created_at) FROM notes WHERE note_id = ? AND NOT deleted",
        [note_id],
    ).fetchone()
    if row is None:
        raise NoteError(f"Note {note_id} does not exist or was deleted.")
    return row


def _conflict(note_id: int, base: int, current: int) -> errors.ConflictError:
    return errors.ConflictError(
        f"Note {note_id} was changed (now version {current}) after you opened version {base}; "
        "reload it and apply your change again."
    )


def edit(con, viewer: access.Viewer, note_id: int, body: str, *, base_version: int,
         kind: str | None = None, kpi: str | None = None, now: dt.datetime | None = None) -> int:  # fmt: skip
    """Change a note's text (and kind or KPI); the old version goes to the history. Returns
    the new version number."""
    access.require(viewer, "coach")

    def work(cur):
        agent, version, old_kind, old_kpi, old_body, by, at = _current(cur, note_id)
        if version != base_version:
            raise _conflict(note_id, base_version, version)
        _check(kind or old_kind, body)
        cur.execute("INSERT INTO note_history VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [note_id, version, old_kind, old_kpi, old_body, by, at])  # fmt: skip
        cur.execute(
            "UPDATE notes SET body = ?, kind = ?, kpi = ?, version = ?, updated_at = ?, "
            "updated_by = ? WHERE note_id = ?",
            [body.strip(), kind or old_kind, kpi if kpi is not None else old_kpi, version + 1,
             now or dt.datetime.now(), viewer.username, note_id],
        )  # fmt: skip
        return version + 1

    return _write(con, "note.edit", viewer.username, note_id, {"base_version": base_version}, work)


def delete(con, viewer: access.Viewer, note_id: int, *, base_version: int) -> None:
    """Hide a note (it stays in the store with its history; the audit log says who)."""
    access.require(viewer, "coach")

    def work(cur):
        version = _current(cur, note_id)[1]
        if version != base_version:
            raise _conflict(note_id, base_version, version)
        cur.execute("UPDATE notes SET deleted = true WHERE note_id = ?", [note_id])

    _write(con, "note.delete", viewer.username, note_id, None, work)


def acknowledge(con, viewer: access.Viewer, note_id: int, reply: str | None = None,
                now: dt.datetime | None = None) -> None:  # fmt: skip
    """The agent a note is about acknowledges it, optionally with a reply."""
    now = now or dt.datetime.now()

    def work(cur):
        agent = _current(cur, note_id)[0]
        if not viewer.is_agent or viewer.agent != agent:
            raise errors.AccessDenied("only the agent a note is about can acknowledge it")
        cur.execute(
            "UPDATE notes SET acknowledged_at = coalesce(acknowledged_at, ?) WHERE note_id = ?",
            [now, note_id],
        )
        if str(reply or "").strip():
            cur.execute("UPDATE notes SET reply = ?, replied_at = ? WHERE note_id = ?",
                        [reply.strip(), now, note_id])  # fmt: skip

    _write(con, "note.acknowledge", viewer.username, note_id, {"reply": bool(reply)}, work)


def timeline(con, viewer: access.Viewer, agent: str | None = None) -> pd.DataFrame:
    """Notes newest first: one agent's, or (coaches) everyone's; agents get only their own."""
    if agent:
        access.require_agent(viewer, agent)
    sql = f"SELECT {', '.join(COLUMNS)} FROM notes WHERE NOT deleted"
    params = []
    if agent or viewer.is_agent:
        sql += " AND agent = ?"
        params.append(agent or viewer.agent)
    frame = con.cursor().execute(sql + " ORDER BY created_at DESC, note_id DESC", params).df()
    return access.rows_for(viewer, frame)


def history(con, viewer: access.Viewer, note_id: int) -> pd.DataFrame:
    """Every version of a note, the current one first."""
    cur = con.cursor()
    agent = _current(cur, note_id)[0]
    access.require_agent(viewer, agent)
    return cur.execute(
        """SELECT version, kind, kpi, body, coalesce(updated_by, author) AS edited_by,
                  coalesce(updated_at, created_at) AS edited_at FROM notes WHERE note_id = ?
           UNION ALL
           SELECT version, kind, kpi, body, edited_by, edited_at FROM note_history
           WHERE note_id = ? ORDER BY version DESC""",
        [note_id, note_id],
    ).df()
