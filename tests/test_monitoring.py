"""Monitoring: sudden changes, breaches, backlogs, the alert feed, webhooks, sentiment, workload."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from pathlib import Path

import pandas as pd
import pytest

from lib.app.stores import open_store
from lib.auth.access import SYSTEM, Viewer
from lib.core import errors
from lib.core.errors import AccessDenied
from lib.metrics import sentiment
from lib.monitoring import alerts, webhooks, workload
from lib.quality import voice
from tests.kpi_fixtures import insert, t

D = dt.datetime
DATA = Path(__file__).parent / "data"
RULE = {"id": "frt", "kind": "sudden_change", "kpi": "first_response_time", "scope": "agent",
        "window": 28, "min_days": 7, "min_volume": 3, "z": 5, "persist": 3, "direction": "both",
        "severity": "critical"}  # fmt: skip


def series(values, start=dt.date(2026, 9, 1), n=10) -> pd.DataFrame:
    return pd.DataFrame({"day": [start + dt.timedelta(days=i) for i in range(len(values))],
                         "value": values, "n": n})  # fmt: skip


NOISE = [30, 34, 28, 31, 35, 29, 33, 30, 27, 32, 36, 31, 29, 34, 30, 33, 28, 32, 31, 35]


def test_a_step_change_is_flagged_on_the_right_day():
    flags = alerts.robust_changes(series(NOISE + [120, 118, 125, 130]), z=5, guard=2)
    assert flags.iloc[0]["day"] == dt.date(2026, 9, 21)  # the first day of the step
    assert list(flags["day"]) == [dt.date(2026, 9, 21 + i) for i in range(4)]
    assert flags.iloc[0]["baseline"] == pytest.approx(31.0)


def test_a_normal_week_and_a_quiet_day_are_not_flagged():
    week = [31, 29, 36, 27, 33, 30, 34]  # ordinary ups and downs
    assert alerts.robust_changes(series(NOISE + week), z=5).empty
    quiet = series(NOISE + [400])
    quiet.loc[len(quiet) - 1, "n"] = 2  # a big value on a day with 2 tickets: not enough volume
    assert alerts.robust_changes(quiet, z=5, min_volume=3).empty


def frt_store(con, step_day: int | None = 21, slow: int = 200):
    """Agent A: 4 tickets a day in September with a first response of about 30 s; from
    `step_day` on, `slow` seconds. Agent B stays at 30 s."""
    rows = []
    for day in range(1, 31):
        for agent in ("A", "B"):
            for k in range(4):
                fr = (
                    slow
                    if (agent == "A" and step_day and day >= step_day)
                    else 28 + (day * 7 + k * 3) % 5
                )
                rows.append(t(f"{agent}{day}-{k}", agent, D(2026, 9, day, 9 + k), fr=fr, res=600))
    insert(con, "tickets", rows)


def test_sudden_change_alert_in_the_store_names_its_first_day(con):
    frt_store(con)
    config = {"rules": [RULE], "lookback_days": 40}
    found = alerts.evaluate(con, config, as_of=D(2026, 9, 23, 23))  # three slow days so far
    assert found[["subject", "first_day"]].values.tolist() == [["A", dt.date(2026, 9, 21)]]
    assert alerts.evaluate(con, config, as_of=D(2026, 9, 22, 23)).empty  # two days: not yet
    detail = json.loads(found.iloc[0]["detail"])
    assert detail["direction"] == "worse" and detail["days"] == 3


def test_no_alert_without_a_change(con):
    frt_store(con, step_day=None)
    assert alerts.evaluate(con, {"rules": [RULE], "lookback_days": 40}).empty


def test_a_change_is_looked_for_only_once_the_store_has_more_days_than_its_baseline_needs(
    con, monkeypatch
):
    """A sudden change needs `min_days` days of baseline before the day it is seen on, so a
    store holding data on no more days than that is not searched (no KPI values computed);
    one more day and the change on it is found."""
    rule = {**RULE, "min_days": 3, "persist": 1}
    config = {"rules": [rule], "lookback_days": 40}
    rows = [t(f"A{day}-{k}", "A", D(2026, 9, day, 9 + k), fr=30 if day < 4 else 200, res=600)
            for day in range(1, 5) for k in range(4)]  # fmt: skip
    insert(con, "tickets", rows[:12])  # days 1-3
    computed = []
    real = alerts.kpis.compute
    monkeypatch.setattr(alerts.kpis, "compute", lambda *a, **k: computed.append(k) or real(*a, **k))
    assert alerts.evaluate(con, config).empty and computed == []
    insert(con, "tickets", rows[12:])  # day 4: slow
    found = alerts.evaluate(con, config)
    assert computed and found[["subject", "first_day"]].values.tolist() == [
        ["A", dt.date(2026, 9, 4)]
    ]


@pytest.mark.parametrize(("open_tickets", "fires"), [(3, False), (4, True)])
def test_backlog_fires_above_its_limit_exactly(con, open_tickets, fires):
    rows = [
        t(f"O{i}", "A", D(2026, 9, 10, 9 + i), fr=30) for i in range(open_tickets)
    ]  # unresolved
    rows.append(t("X", "A", D(2026, 9, 10, 20), fr=30, res=60))
    insert(con, "tickets", rows)
    rule = {"id": "bl", "kind": "backlog", "scope": "agent", "max_open": 3, "severity": "warning",
            "window_days": 14}  # fmt: skip
    found = alerts.evaluate(con, {"rules": [rule]})
    assert (len(found) == 1) == fires
    if fires:
        assert found.iloc[0]["value"] == 4 and found.iloc[0]["threshold"] == 3


@pytest.mark.parametrize(("hours_waiting", "fires"), [(23, False), (24, True)])
def test_unreplied_tickets_fire_at_the_sla(con, hours_waiting, fires):
    now = D(2026, 9, 10, 12)
    insert(con, "tickets", [t("U1", "A", now - dt.timedelta(hours=hours_waiting)),
                            t("LAST", "A", now, fr=5, res=10)])  # fmt: skip
    rule = {"id": "bl", "kind": "backlog", "scope": "agent", "max_unreplied": 0, "sla_hours": 24,
            "severity": "warning"}  # fmt: skip
    found = alerts.evaluate(con, {"rules": [rule]})
    assert (len(found) == 1) == fires


def test_weekly_breach(con):
    rows = [
        t(f"W{i}", "A", D(2026, 9, 7 + i % 7, 10), fr=30, res=60, csat=5 if i < 5 else 2)
        for i in range(12)
    ]
    rows.append(t("next", "A", D(2026, 9, 20, 10), fr=30, res=60))
    insert(con, "tickets", rows)
    rule = {"id": "csat", "kind": "breach", "kpi": "csat", "scope": "agent", "period": "week",
            "below": 0.5, "min_n": 10, "severity": "warning"}  # fmt: skip
    found = alerts.evaluate(con, {"rules": [rule]})
    # 5 good of 12 ratings = 41.7 % in the week of 7 September, below 50 %.
    assert found[["subject", "first_day", "value"]].values.tolist() == [
        ["A", dt.date(2026, 9, 7), pytest.approx(5 / 12)]
    ]


def test_the_feed_keeps_what_people_did(con):
    frt_store(con)
    assert alerts.refresh(con, SYSTEM, {"rules": [RULE], "lookback_days": 40}) == 1
    assert alerts.refresh(con, SYSTEM, {"rules": [RULE], "lookback_days": 40}) == 0  # nothing new
    boss = Viewer("boss", "manager")
    key = alerts.feed(con, boss).iloc[0]["alert_key"]
    alerts.act(con, boss, key, "acknowledge", base_version=1)
    with pytest.raises(errors.ConflictError):
        alerts.act(con, boss, key, "resolve", base_version=1)
    alerts.act(con, boss, key, "resolve", base_version=2, note="talked to A")
    assert list(alerts.events(con, boss, key)["action"]) == ["acknowledged", "resolved"]
    alerts.refresh(con, SYSTEM, {"rules": [RULE], "lookback_days": 40}, force=True)
    assert alerts.feed(con, boss).iloc[0]["status"] == "resolved"  # a re-run keeps the status
    assert len(alerts.feed(con, Viewer("a", "agent", "A"))) == 1
    assert alerts.feed(con, Viewer("b", "agent", "B")).empty
    with pytest.raises(AccessDenied):
        alerts.act(con, Viewer("a", "agent", "A"), key, "reopen", base_version=3)


def test_the_demo_agent_is_alerted_within_two_days(demo_store):
    con = open_store(demo_store, read_only=True)
    found = alerts.evaluate(con, as_of=D(2026, 10, 22, 23, 59))  # two days after 20 October
    ajie = found[(found["subject"] == "阿杰") & (found["rule"] == "frt_sudden")]
    assert ajie["first_day"].tolist() == [dt.date(2026, 10, 20)]
    con.close()


def test_alert_rules_are_checked():
    bad = {"rules": [{"id": "x", "kind": "spike", "severity": "loud", "scope": "shop"},
                     {"id": "y", "kind": "breach", "kpi": "csat", "scope": "agent", "severity": "info"}],
           "webhooks": [{"name": "h", "url": "ftp://x", "format": "fax"}]}  # fmt: skip
    names = {rule for rule, _ in alerts.check(bad)}
    assert names == {
        "rule.kind",
        "rule.severity",
        "rule.scope",
        "rule.threshold",
        "webhook.format",
        "webhook.url",
    }
    assert alerts.check(alerts.load()) == []


# --- webhooks ---------------------------------------------------------------------------


class Hook(http.server.BaseHTTPRequestHandler):
    received: list = []
    failures_left = 0

    def do_POST(self):  # noqa: N802 - the handler API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Hook.failures_left > 0:
            Hook.failures_left -= 1
            self.send_response(500)
            self.end_headers()
            return
        Hook.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"errcode": 0}')

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_url(monkeypatch):
    # The receiver is on loopback, which webhooks refuse unless an admin allows it by name.
    monkeypatch.setenv("SCORECARD_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hook.received, Hook.failures_left = [], 0
    yield f"http://127.0.0.1:{server.server_address[1]}/robot"
    server.shutdown()


def test_webhook_is_retried_and_not_duplicated(con, hook_url):
    frt_store(con)
    alerts.refresh(con, SYSTEM, {"rules": [RULE], "lookback_days": 40})
    hook = {"name": "group", "url": hook_url, "format": "dingtalk", "min_severity": "warning"}
    Hook.failures_left = 2  # the first two tries fail
    report = webhooks.deliver(con, SYSTEM, [hook], alerts.feed(con, SYSTEM), retries=3, pause=0.01)
    assert report["group"] == {"sent": 1, "failed": []}
    assert len(Hook.received) == 1
    assert Hook.received[0]["msgtype"] == "text" and "A" in Hook.received[0]["text"]["content"]
    again = webhooks.deliver(con, SYSTEM, [hook], alerts.feed(con, SYSTEM), retries=3, pause=0.01)
    assert again["group"]["sent"] == 0 and len(Hook.received) == 1  # never twice
    attempts = con.execute("SELECT attempts FROM alert_deliveries").fetchall()
    assert attempts == [(3,)]


def test_webhook_failure_is_reported_and_can_be_sent_later(con, hook_url):
    frt_store(con)
    alerts.refresh(con, SYSTEM, {"rules": [RULE], "lookback_days": 40})
    hook = {"name": "slack", "url": hook_url, "format": "slack", "min_severity": "info"}
    Hook.failures_left = 5
    report = webhooks.deliver(con, SYSTEM, [hook], alerts.feed(con, SYSTEM), retries=2, pause=0.01)
    assert report["slack"]["sent"] == 0 and len(report["slack"]["failed"]) == 1
    Hook.failures_left = 0
    assert (
        webhooks.deliver(con, SYSTEM, [hook], alerts.feed(con, SYSTEM), pause=0.01)["slack"]["sent"]
        == 1
    )
    assert set(Hook.received[0]) == {"text"}
    assert webhooks.test_hook(hook) is None
    assert webhooks.test_hook({"url": "http://127.0.0.1:9/none", "format": "slack"})


# --- sentiment, themes, forbidden phrases ----------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sentiment_accuracy_on_labelled_comments(lang):
    rows = [
        line.rstrip("\n").split("\t")
        for line in (DATA / f"sentiment_{lang}.tsv").read_text("utf-8").splitlines()
    ]
    assert len(rows) >= 100 and {label for label, _ in rows} == {"positive", "negative", "neutral"}
    right = sum(sentiment.classify(text) == label for label, text in rows)
    assert right / len(rows) >= 0.85


@pytest.mark.parametrize(("text", "label"), [
    ("不满意", "negative"), ("满意", "positive"), ("没有不耐烦", "neutral"), ("不太专业", "negative"),
    ("not helpful", "negative"), ("helpful", "positive"), ("never rude", "neutral"),
    ("I don't recommend it", "negative"), ("nobody was helpful", "negative"),
])  # fmt: skip
def test_negation(text, label):
    assert sentiment.classify(text) == label


def test_themes_and_forbidden_phrases():
    assert set(sentiment.themes("快递太慢了，退款也没到")) == {"delivery", "speed", "refund"}
    assert sentiment.themes("The parcel arrived broken") == ["delivery", "quality"]
    assert sentiment.forbidden("这个不归我管，你找别人吧") == ["不归我管", "找别人"]
    assert sentiment.forbidden("That's not my problem, deal with it.") == [
        "not my problem",
        "deal with it",
    ]
    assert sentiment.forbidden("您好，我马上帮您查一下") == []


def test_voice_summary(con):
    insert(con, "tickets", [
        t("C1", "A", D(2026, 9, 1, 9), comment="快递太慢了"), t("C2", "A", D(2026, 9, 1, 10), comment="态度很好"),
        t("C3", "A", D(2026, 9, 1, 11), comment="物流慢，很失望"), t("C4", "B", D(2026, 9, 1, 12), comment="谢谢"),
    ])  # fmt: skip
    frame = voice.comments(con, SYSTEM, dt.date(2026, 9, 1), dt.date(2026, 10, 1))
    summary = voice.summary(frame, "agent", "en").set_index("agent")
    assert summary.loc["A", "negative_rate"] == pytest.approx(2 / 3)
    assert summary.loc["A", "top_themes"].startswith("Delivery")
    assert summary.loc["B", "negative"] == 0


def test_forbidden_phrases_in_uploaded_transcripts(con, tmp_path):
    from lib.ingest.mapping import load as load_mapping
    from lib.ingest.pipeline import ingest_file

    insert(con, "tickets", [t("T1", "小美", D(2026, 5, 1, 10)), t("T2", "阿杰", D(2026, 5, 2, 11))])
    export = tmp_path / "会话记录.csv"
    export.write_bytes(
        "工单号,序号,发送方,内容,发送时间\n"
        "T1,1,买家,我不知道怎么退款,2026-05-01 10:00\n"  # a customer's words are not checked
        "T1,2,客服,您好，我马上帮您查一下,2026-05-01 10:01\n"
        "T1,3,客服,这个不归我管，你找别人吧,2026-05-01 10:03\n"
        "T2,1,customer,Where is my order?,2026-05-02 11:00\n"
        'T2,2,agent,"That\'s not my problem, deal with it.",2026-05-02 11:02\n'
        "T2,3,Agent,Sorry for the wait,2026-05-02 11:05\n"
        "T2,4,agent,爱买不买,2026-06-01 09:00\n".encode("gb18030")  # June: another period
    )
    result = ingest_file(con, export, load_mapping("transcripts"))
    assert (result.accepted, result.quarantined) == (7, 0)
    frame = voice.replies(con, SYSTEM, dt.date(2026, 5, 1), dt.date(2026, 6, 1))
    assert frame[["ticket_id", "seq"]].values.tolist() == [
        ["T1", 2],
        ["T1", 3],
        ["T2", 2],
        ["T2", 3],
    ]
    summary = voice.forbidden_summary(frame).set_index("agent")
    assert summary.loc["小美"].to_dict() == {
        "replies": 2, "with_forbidden": 1, "forbidden_rate": 0.5, "phrases": "不归我管, 找别人",
        "examples": "#T1: 这个不归我管，你找别人吧"}  # fmt: skip
    assert summary.loc["阿杰", ["replies", "with_forbidden", "phrases"]].tolist() == [
        2, 1, "not my problem, deal with it"]  # fmt: skip
    with pytest.raises(AccessDenied):
        voice.replies(
            con, Viewer("ajie", "agent", "阿杰"), dt.date(2026, 5, 1), dt.date(2026, 6, 1)
        )


# --- workload ---------------------------------------------------------------------------


def test_workload_balance_and_rebalancing(con):
    rows = []
    for day in range(1, 11):
        for agent, count in (("A", 20), ("B", 10), ("C", 10), ("E", 4)):
            rows += [
                t(f"{agent}{day}-{k}", agent, D(2026, 9, day, 9), fr=5, res=9, team="T")
                for k in range(count)
            ]
    insert(con, "tickets", rows)
    days = workload.daily(con, SYSTEM, dt.date(2026, 9, 1), dt.date(2026, 10, 1))
    summary = workload.balance(days, band=0.2).set_index("agent")
    # The team median each day is 10: A (20) is overloaded, E (4) underloaded, B and C balanced.
    assert summary["verdict"].to_dict() == {
        "A": "overloaded",
        "B": "balanced",
        "C": "balanced",
        "E": "underloaded",
    }
    moves = workload.rebalance(summary.reset_index(), band=0.2)
    # A is 8 above the band's top (12); E has 6 of room below the median: move 6 from A to E.
    assert moves[["from", "to", "tickets_per_day"]].values.tolist() == [["A", "E", 6.0]]
    with pytest.raises(AccessDenied):
        workload.daily(con, Viewer("a", "agent", "A"), dt.date(2026, 9, 1), dt.date(2026, 10, 1))


def test_the_demo_blunt_agent_leads_the_forbidden_phrases(demo_store):
    from lib.app.demo import BLUNT_AGENT

    con = open_store(demo_store, read_only=True)
    frame = voice.replies(con, SYSTEM, dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    summary = voice.forbidden_summary(frame)
    assert summary.iloc[0]["agent"] == BLUNT_AGENT and summary.iloc[0]["with_forbidden"] >= 3
    assert (summary.iloc[1:]["with_forbidden"] * 2 < summary.iloc[0]["with_forbidden"]).all()
