"""One person, many accounts: linking platform accounts to the agent they belong to.

An agent often serves several shops under a sub-account per shop: `旗舰店:小美` on 天猫,
`小美-pdd` on 拼多多, `jd_xiaomei` on 京东. Stored rows keep the account as the export named it;
linking an account to a person stores its rows (past and future) under that person, so
scorecards are per person and an agent's own view covers all of their shops. Unlinking
restores the rows' earlier agent. Accounts nobody has linked are listed with a suggestion
by name similarity, for a manager to confirm.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from lib.auth import access, audit
from lib.core import store
from lib.core.tables import SHOP_TABLES


def _norm(name: str) -> str:
    """A name as compared for suggestions: shop prefix, platform tags and separators gone."""
    text = str(name or "").lower()
    text = re.sub(r"^.*[:：]", "", text)
    text = re.sub(r"(?:^|[-_ ])(?:pdd|jd|tb|tmall|dy|ks|douyin|kuaishou)(?:$|[-_ ])", " ", text)
    return re.sub(r"[\s\-_.·]+", "", text)


def similarity(a: str, b: str) -> float:
    x, y = _norm(a), _norm(b)
    if not x or not y:
        return 0.0
    if x == y:
        return 1.0
    if x in y or y in x:
        return 0.8
    return difflib.SequenceMatcher(None, x, y).ratio()


def people(con) -> list[str]:
    """The people accounts can be linked to: the roster, everyone already linked to, and the
    agents of the stored rows (QA and peer reviews included)."""
    tables = ("roster", "accounts", *SHOP_TABLES, "qa_reviews", "peer_reviews")
    parts = " UNION ".join(f"SELECT agent FROM {t}" for t in tables)
    rows = con.cursor().execute(f"SELECT agent FROM ({parts}) WHERE agent IS NOT NULL ORDER BY 1")
    return [r[0] for r in rows.fetchall()]


def unlinked(con, upload_id: int | None = None) -> pd.DataFrame:
    """Accounts in the stored rows (or one upload's) that are not linked to anyone and whose
    agent is not on the roster, each with the most similar person as a suggestion."""
    where = "WHERE upload_id = $u" if upload_id is not None else ""
    parts = " UNION ".join(
        f"SELECT platform, shop, account, agent FROM {t} {where}" for t in SHOP_TABLES
    )
    params = {"u": upload_id} if upload_id is not None else {}
    frame = (
        con.cursor()
        .execute(
            f"""SELECT DISTINCT x.platform, x.shop, x.account, x.agent FROM ({parts}) x
                WHERE x.account IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.platform = x.platform
                                  AND a.shop = x.shop AND a.account = x.account)
                  AND x.agent NOT IN (SELECT agent FROM roster)
                ORDER BY 1, 2, 3""",
            params,
        )
        .df()
    )
    # A person's name carries no shop prefix or platform tag; an unlinked account's does.
    candidates = [p for p in people(con) if _norm(p) == re.sub(r"[\s\-_.·]+", "", p.lower())]
    suggestions, scores = [], []
    for account, agent in zip(frame["account"], frame["agent"]):
        best = max(
            ((max(similarity(account, p), similarity(agent, p)), p)
             for p in candidates if p != agent),
            default=(0.0, None),
        )  # fmt: skip
        suggestions.append(best[1] if best[0] >= 0.6 else None)
        scores.append(round(best[0], 2) if best[0] >= 0.6 else None)
    frame["suggestion"] = suggestions
    frame["similarity"] = scores
    return frame


def link(con, viewer: access.Viewer, platform: str, shop: str, account: str, agent: str) -> int:
    """Link an account to a person; its stored rows move to that person. Returns rows moved."""
    access.require(viewer, "upload")
    agent = str(agent or "").strip()
    if not agent:
        raise ValueError("name the person this account belongs to")
    moved = 0
    with store.transaction(con) as cur:
        before = _link_of(cur, platform, shop, account)
        previous = before[0] if before else _current_agent(cur, platform, shop, account)
        cur.execute(
            """INSERT OR REPLACE INTO accounts (platform, shop, account, agent, previous,
               linked_by) VALUES (?, ?, ?, ?, ?, ?)""",
            [platform, shop, account, agent, previous, viewer.username],
        )
        for table in SHOP_TABLES:
            moved += _move(cur, table, platform, shop, account, agent)
        store.bump_data_version(cur)
    audit.record(audit.log_of(con), viewer.username, "account.link", account,
                 {"platform": platform, "shop": shop, "agent": agent, "rows": moved})  # fmt: skip
    return moved


def unlink(con, viewer: access.Viewer, platform: str, shop: str, account: str) -> int:
    """Undo a link: the account's rows go back to the agent they had before."""
    access.require(viewer, "upload")
    moved = 0
    with store.transaction(con) as cur:
        row = _link_of(cur, platform, shop, account)
        if row is None:
            raise ValueError(f"account '{account}' is not linked")
        cur.execute(
            "DELETE FROM accounts WHERE platform = ? AND shop = ? AND account = ?",
            [platform, shop, account],
        )
        for table in SHOP_TABLES:
            moved += _move(cur, table, platform, shop, account, row[0] or account)
        store.bump_data_version(cur)
    audit.record(audit.log_of(con), viewer.username, "account.unlink", account,
                 {"platform": platform, "shop": shop, "rows": moved})  # fmt: skip
    return moved


def linked(con) -> pd.DataFrame:
    return (
        con.cursor()
        .execute(
            """SELECT agent, platform, shop, account, linked_by, linked_at FROM accounts
               ORDER BY agent, platform, shop, account"""
        )
        .df()
    )


def _link_of(cur, platform: str, shop: str, account: str) -> tuple | None:
    """(previous agent,) of a linked account, or None when it is not linked."""
    rows = cur.execute(
        "SELECT previous FROM accounts WHERE platform = ? AND shop = ? AND account = ?",
        [platform, shop, account],
    ).fetchall()
    return rows[0] if rows else None


def _current_agent(cur, platform: str, shop: str, account: str) -> str | None:
    for table in SHOP_TABLES:
        row = cur.execute(
            f"SELECT agent FROM {table} WHERE platform = ? AND shop = ? AND account = ? LIMIT 1",
            [platform, shop, account],
        ).fetchall()
        if row:
            return row[0][0]
    return None


def _move(cur, table: str, platform: str, shop: str, account: str, agent: str) -> int:
    return cur.execute(
        f"""UPDATE {table} SET agent = ? WHERE platform = ? AND shop = ? AND account = ?
            AND agent IS DISTINCT FROM ?""",
        [agent, platform, shop, account, agent],
    ).fetchall()[0][0]
