"""Demo data: reproducible, and it has the people and events the product is shown with."""

import datetime as dt
import hashlib

import duckdb

from lib.app import demo
from lib.app.stores import open_store
from lib.auth.access import SYSTEM


def test_same_seed_same_files(tmp_path):
    a = demo.generate(tmp_path / "a", seed=3)
    b = demo.generate(tmp_path / "b", seed=3)
    for preset in a:
        assert (
            hashlib.sha256(a[preset].read_bytes()).digest()
            == hashlib.sha256(b[preset].read_bytes()).digest()
        ), preset


def test_demo_store_has_the_team_and_its_stories(demo_store):
    con = duckdb.connect(str(demo_store), read_only=True)
    q = lambda sql, *p: con.execute(sql, list(p)).fetchone()  # noqa: E731
    assert q("SELECT count(DISTINCT agent), count(DISTINCT team) FROM roster") == (30, 3)
    assert q("SELECT min(created_at)::DATE, max(created_at)::DATE FROM tickets") == (
        demo.START, demo.END,
    )  # fmt: skip
    assert q("SELECT count(DISTINCT reviewer) FROM qa_reviews") == (3,)
    # 阿杰's chat first response is much slower after the change date.
    before, after = q(
        "SELECT median(epoch(first_response_at - created_at)) FILTER (WHERE created_at < ?),"
        " median(epoch(first_response_at - created_at)) FILTER (WHERE created_at >= ?)"
        " FROM tickets WHERE agent = ? AND channel = 'chat'",
        demo.DEGRADE_FROM, demo.DEGRADE_FROM, demo.DEGRADE_AGENT,
    )  # fmt: skip
    assert after > 2.5 * before
    # 小王 starts on the hire date and improves: CSAT later is above CSAT at first.
    first_day, early, late = q(
        "SELECT min(created_at)::DATE,"
        " avg((csat >= 4)::INT) FILTER (WHERE created_at < DATE '2026-08-01'),"
        " avg((csat >= 4)::INT) FILTER (WHERE created_at >= DATE '2026-10-01')"
        " FROM tickets WHERE agent = ?",
        demo.NEW_HIRE,
    )  # fmt: skip
    assert first_day == demo.NEW_HIRE_FROM and late > early + 0.1
    # 双11 is the busiest day.
    busiest = q("SELECT created_at::DATE d FROM tickets GROUP BY d ORDER BY count(*) DESC LIMIT 1")
    assert busiest == (dt.date(2026, 11, 11),)
    # The lenient reviewer scores higher than the other two on the same calibration tickets.
    lenient, others = q(
        "SELECT avg(score) FILTER (WHERE reviewer = ?), avg(score) FILTER (WHERE reviewer <> ?)"
        " FROM qa_reviews WHERE max_score = 5 AND ticket_id IN (SELECT ticket_id FROM qa_reviews"
        " GROUP BY ticket_id HAVING count(DISTINCT reviewer) = 3)",
        demo.LENIENT_REVIEWER, demo.LENIENT_REVIEWER,
    )  # fmt: skip
    assert lenient > others + 0.5
    # Per-agent daily stats (the GB18030 千牛 file) cover every agent.
    assert q("SELECT count(DISTINCT agent) FROM agent_daily") == (30,)


def test_clearing_demo_keeps_own_uploads(demo_copy, write):
    from lib.ingest import mapping
    from lib.ingest.pipeline import ingest_file

    con = open_store(demo_copy)
    own = write("own.csv", "Agent,Team\n新同事,售前组\n")
    ingest_file(con, own, mapping.load("demo_roster"))
    removed = demo.clear(con, SYSTEM)
    assert removed > 50000
    assert con.execute("SELECT agent FROM roster").fetchall() == [("新同事",)]
    assert con.execute("SELECT count(*) FROM tickets").fetchone() == (0,)
    assert not demo.has_demo(con) and demo.was_cleared(con)
