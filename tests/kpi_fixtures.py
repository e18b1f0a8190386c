"""Tiny stores for KPI and scoring tests, with rows whose results are worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lib.app.stores import open_store
from lib.core import store
from lib.core.tables import TABLES

D = dt.datetime
MAY = (dt.date(2026, 5, 1), dt.date(2026, 6, 1))


def insert(con, table: str, rows: list[dict]) -> None:
    """Insert rows into a canonical table; columns not given are NULL."""
    cols = [c.name for c in TABLES[table].stored]
    frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
    cur = con.cursor()
    cur.register("__rows", frame)
    cur.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM __rows")
    cur.unregister("__rows")
    store.bump_data_version(cur)


def t(ticket_id, agent, created, fr=None, res=None, **kw) -> dict:
    """A ticket created at `created` with first response and resolution `fr`/`res` seconds later."""
    return {
        "ticket_id": ticket_id, "agent": agent, "created_at": created,
        "first_response_at": None if fr is None else created + dt.timedelta(seconds=fr),
        "resolved_at": None if res is None else created + dt.timedelta(seconds=res),
        "channel": "chat", "priority": "normal", "contacts": 1, "reopens": 0,
        "transferred": False, "escalated": False, "is_complaint": False, **kw,
    }  # fmt: skip


TICKETS = [
    t("T0", "A", D(2026, 4, 30, 23, 59, 59), fr=1, res=2),  # April: outside the period
    t("T1", "A", D(2026, 5, 1, 10), fr=10, res=600, csat=5, comment="很好，谢谢", customer_id="C1",
      handle_time_s=300.0),
    t("T2", "A", D(2026, 5, 1, 11), fr=120, res=7200, contacts=2, transferred=True,
      is_complaint=True, csat=2, comment="太慢了", customer_id="C2", handle_time_s=900.0),
    t("T3", "A", D(2026, 5, 2, 9), fr=3600, res=108000, channel="email", reopens=1,
      escalated=True, is_complaint=True, customer_id="C2", handle_time_s=600.0),
    t("T4", "A", D(2026, 5, 3, 9), priority="urgent", customer_id="C3"),  # unreplied, open
    t("T5", "A", D(2026, 5, 3, 12), fr=200, res=300, priority="high", csat=4, comment="OK",
      customer_id="C4"),
    t("T6", "B", D(2026, 5, 4, 10), fr=5, res=100, csat=5, customer_id="C5"),
]  # fmt: skip

QA = [  # review, criterion, score, max, critical failed
    ("R1", "greeting", 4, 5, False), ("R1", "服务态度 attitude", 5, 5, False),
    ("R1", "compliance", 1, 1, False),
    ("R2", "greeting", 3, 5, False), ("R2", "服务态度 attitude", 3, 5, False),
    ("R2", "compliance", 0, 1, True),
    ("R3", "greeting", None, 5, False), ("R3", "服务态度 attitude", 4, 5, False),
]  # fmt: skip

ORDERS = [
    {"order_id": "O1", "agent": "A", "created_at": D(2026, 5, 1, 10, 5), "amount": 100.0,
     "paid_at": D(2026, 5, 1, 10, 10), "status": "paid", "refund_amount": 0.0, "customer_id": "C1"},
    {"order_id": "O2", "agent": "A", "created_at": D(2026, 5, 1, 11), "amount": 200.0,
     "paid_at": D(2026, 5, 1, 12), "status": "paid", "refund_amount": 50.0, "customer_id": "C1"},
    {"order_id": "O3", "agent": "A", "created_at": D(2026, 5, 2, 9), "amount": 300.0,
     "status": "closed", "customer_id": "C2"},
    {"order_id": "O4", "agent": "A", "created_at": D(2026, 5, 2, 10), "amount": 80.0,
     "paid_at": D(2026, 5, 2, 10, 1), "status": "refunded", "refund_amount": 80.0,
     "customer_id": "C3"},
]  # fmt: skip

DAILY = [
    {"date": dt.date(2026, 5, 1), "agent": "A", "inquiries": 10, "receptions": 20,
     "paying_customers": 4, "sales_amount": 400.0, "refund_amount": 40.0,
     "first_response_s": 20.0, "avg_response_s": 30.0, "reply_rate": 0.9, "reply_3min_rate": 0.8,
     "satisfaction_rate": 0.95, "good_reviews": 9, "bad_reviews": 1, "transfers": 2,
     "reply_30s_rate": 0.7, "service_score": 4.8, "lost_inquiries": 2, "answer_ratio": 1.2,
     "no_service_rate": 0.1},
    {"date": dt.date(2026, 5, 2), "agent": "A", "inquiries": 30, "receptions": 40,
     "paying_customers": 6, "sales_amount": 600.0, "refund_amount": 0.0,
     "first_response_s": 50.0, "avg_response_s": 60.0, "reply_rate": 1.0, "reply_3min_rate": 0.5,
     "satisfaction_rate": 0.9, "good_reviews": 18, "bad_reviews": 2, "transfers": 0,
     "reply_30s_rate": 0.4, "service_score": 4.5, "lost_inquiries": 6, "answer_ratio": 1.5,
     "no_service_rate": 0.05},
    {"date": dt.date(2026, 5, 2), "agent": "Z", "inquiries": 0, "receptions": 5,
     "paying_customers": 0, "sales_amount": 0.0},  # no inquiries at all
]  # fmt: skip


def service_store(path):
    """Tickets, QA, peer reviews and orders for agents A and B, in teams X and Y."""
    con = open_store(path)
    insert(con, "tickets", TICKETS)
    insert(con, "qa_reviews", [
        {"review_id": r, "agent": "A", "reviewer": "Q", "criterion": c, "score": s,
         "max_score": m, "critical_failed": f, "reviewed_at": D(2026, 5, 10)}
        for r, c, s, m, f in QA
    ])  # fmt: skip
    insert(con, "peer_reviews", [
        {"period": "2026-05", "reviewer": "B", "agent": "A", "score": 4.0},
        {"period": "2026-05", "reviewer": "C", "agent": "A", "score": 5.0},
        {"period": "2026-04", "reviewer": "C", "agent": "A", "score": 1.0},
    ])  # fmt: skip
    insert(con, "orders", ORDERS)
    insert(con, "roster", [{"agent": "A", "team": "X"}, {"agent": "B", "team": "Y"}])
    return con


def daily_store(path):
    """Only 千牛-style daily reports."""
    con = open_store(path)
    insert(con, "agent_daily", DAILY)
    return con
