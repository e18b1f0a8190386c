"""Accounts, roles and the audit log: first start, passwords, role checks enforced in lib."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys

import pytest

from lib import access, audit, scoring, store, users, views
from lib.access import SYSTEM, AccessDenied, Viewer
from lib.kpis import drilldown, load_catalogue
from lib.periods import parse
from tests.conftest import PASSWORD

AGENT = Viewer("ajie", "agent", "阿杰")
TRAINER = Viewer("coach", "trainer")
MANAGER = Viewer("boss", "manager")


def actions(log) -> list[tuple[str, str, str]]:
    return [
        (e["who"], e["action"], e["target"]) for e in map(json.loads, log.read_text().splitlines())
    ]


def test_first_start_makes_a_random_admin_password_and_nothing_default(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    ((name, pw_a),) = users.first_start(a)
    ((_, pw_b),) = users.first_start(b)
    assert name == "admin" and pw_a != pw_b and users.STRONG.match(pw_a)
    text = a.read_text()
    assert pw_a not in text  # only the bcrypt hash is stored
    assert users.check_password(
        pw_a, users.load(a)["credentials"]["usernames"]["admin"]["password"]
    )
    assert users.cookie(a)["key"] != users.cookie(b)["key"]  # a cookie key per installation
    assert stat.S_IMODE(os.stat(a).st_mode) == 0o600
    assert users.first_start(a) == []  # printed once: a second start creates nothing


def test_admin_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_ADMIN_PASSWORD", "Given-pass-9")
    monkeypatch.setenv("SCORECARD_COOKIE_KEY", "k" * 40)
    path = tmp_path / "auth.yaml"
    assert users.first_start(path) == [("admin", None)]
    assert "Given-pass-9" not in users.announcement([("admin", None)])
    assert users.check_password(
        "Given-pass-9", users.credentials(path)["usernames"]["admin"]["password"]
    )
    assert users.cookie(path)["key"] == "k" * 40


def test_user_changes_are_checked_and_audited(accounts, tmp_path):
    log = tmp_path / "audit.jsonl"
    pw = users.add(accounts, "Lily", "agent", agent="小美", by="admin", log=log)
    assert users.STRONG.match(pw)
    table = users.listing(accounts).set_index("username")
    assert table.loc["lily", "role"] == "agent" and table.loc["lily", "agent"] == "小美"
    with pytest.raises(users.UserError, match="already exists"):
        users.add(accounts, "lily", "agent", agent="小美")
    with pytest.raises(users.UserError, match="needs --agent"):
        users.add(accounts, "nobody", "agent")
    with pytest.raises(users.UserError, match="not a valid username"):
        users.add(accounts, "名字", "manager")
    with pytest.raises(users.UserError, match="Unknown role"):
        users.add(accounts, "x1", "owner")
    users.set_role(accounts, "lily", "trainer", by="admin", log=log)
    new = users.reset_password(accounts, "lily", by="admin", log=log)
    users.set_disabled(accounts, "lily", True, by="admin", log=log)
    assert users.viewer(accounts, "lily") is None  # disabled: no viewer, so no session
    users.set_disabled(accounts, "lily", False, by="admin", log=log)
    assert users.viewer(accounts, "lily") == Viewer("lily", "trainer", None)
    assert users.check_password(new, users.credentials(accounts)["usernames"]["lily"]["password"])
    with pytest.raises(users.UserError, match="last admin"):
        users.set_disabled(accounts, "admin", True)
    with pytest.raises(users.UserError, match="last admin"):
        users.set_role(accounts, "admin", "manager")
    assert actions(log) == [
        ("admin", "user.create", "lily"), ("admin", "user.set_role", "lily"),
        ("admin", "user.reset_password", "lily"), ("admin", "user.disable", "lily"),
        ("admin", "user.enable", "lily"),
    ]  # fmt: skip


def test_changing_your_own_password(accounts, tmp_path):
    log = tmp_path / "audit.jsonl"
    with pytest.raises(users.UserError, match="not right"):
        users.change_password(accounts, "boss", "wrong", "New-pass-22", log)
    with pytest.raises(users.UserError, match="8–20 characters"):
        users.change_password(accounts, "boss", PASSWORD, "weak", log)
    users.change_password(accounts, "boss", PASSWORD, "New-pass-22", log)
    stored = users.credentials(accounts)["usernames"]["boss"]["password"]
    assert users.check_password("New-pass-22", stored) and not users.check_password(
        PASSWORD, stored
    )
    assert actions(log) == [("boss", "user.change_password", "boss")]


def test_failed_logins_are_kept_without_undoing_a_reset(accounts, tmp_path):
    log = tmp_path / "audit.jsonl"
    seen = users.credentials(accounts)
    before = users.failed_logins(seen)
    seen["usernames"]["boss"]["failed_login_attempts"] = 2  # what the login widget did
    users.save_failed_logins(accounts, before, seen, log)
    assert users.listing(accounts).set_index("username").loc["boss", "failed_logins"] == 2
    assert actions(log) == [("boss", "login.failed", "boss")]
    users.reset_password(accounts, "boss")
    users.save_failed_logins(accounts, users.failed_logins(seen), seen, log)  # nothing new
    assert users.listing(accounts).set_index("username").loc["boss", "failed_logins"] == 0


def test_demo_accounts_come_and_go_with_the_demo(accounts):
    made = dict(users.add_demo(accounts))
    assert set(made) == {"demo-manager", "demo-trainer", "demo-ajie", "demo-xiaowang"}
    assert users.viewer(accounts, "demo-ajie") == Viewer("demo-ajie", "agent", "阿杰")
    assert users.add_demo(accounts) == []  # not made twice
    assert sorted(users.remove_demo(accounts)) == sorted(made)
    assert set(users.listing(accounts)["username"]) == {"admin", "boss", "coach", "ajie", "wang"}


# --- what each role may read, enforced in lib --------------------------------------------


@pytest.fixture(scope="module")
def demo_con(demo_store):
    con = store.connect(demo_store, read_only=True)
    yield con
    con.close()


def test_an_agent_scorecard_holds_only_their_own_rows(demo_con):
    from lib import schemes

    scheme, month = schemes.get(demo_con, "balanced"), parse("2026-10")
    full = scoring.scorecard(demo_con, scheme, month, viewer=MANAGER)
    own = scoring.scorecard(demo_con, scheme, month, viewer=AGENT)
    assert list(own.agents["agent"]) == ["阿杰"] and set(own.details["agent"]) == {"阿杰"}
    mine = full.agents.set_index("agent").loc["阿杰"]
    assert own.agents.iloc[0]["rank"] == mine["rank"]  # still ranked among everyone
    assert own.ranked == full.ranked == 30
    # The team median on the radar is the same, computed before the rows were cut.
    assert views.dimension_scores(own, "阿杰").equals(views.dimension_scores(full, "阿杰"))
    from lib import export

    assert "小美" not in export.write(own, "csv", None) and "小美" in export.write(
        full, "csv", None
    )


def test_agents_cannot_read_other_agents_or_team_tables(demo_con):
    from lib import schemes
    from lib.ingest import quarantine_report

    kpi, month = load_catalogue().get("csat"), parse("2026-10")
    assert len(drilldown(demo_con, AGENT, kpi, "阿杰", month.start, month.end)) > 0
    with pytest.raises(AccessDenied):
        drilldown(demo_con, AGENT, kpi, "小美", month.start, month.end)
    assert len(drilldown(demo_con, TRAINER, kpi, "小美", month.start, month.end)) > 0
    with pytest.raises(AccessDenied):
        views.trend(demo_con, AGENT, "csat", month, agent="小美")
    scheme = schemes.get(demo_con, "balanced")
    card = scoring.scorecard(demo_con, scheme, month, viewer=AGENT)
    refused = [
        lambda: views.headline(demo_con, AGENT, card, None, "en"),
        lambda: views.channels(demo_con, AGENT, month, None, ["csat"], "en"),
        lambda: views.rerank(demo_con, AGENT, month, None, scheme, scheme),
        lambda: views.rerank(demo_con, TRAINER, month, None, scheme, scheme),
        lambda: views.upload_log(demo_con, TRAINER, "en"),
        lambda: quarantine_report(demo_con, AGENT),
        lambda: audit.entries(None, AGENT),
        lambda: audit.entries(None, TRAINER),
        lambda: scoring.scorecard(demo_con, scheme, month, viewer=None),
    ]
    for call in refused:
        with pytest.raises(AccessDenied):
            call()


def test_role_table():
    opens = {role: sorted(p for p in access.PAGES if access.may_open(Viewer("u", role), p))
             for role in access.ROLES}  # fmt: skip
    assert opens["agent"] == ["account", "coaching", "plans", "quality", "scorecard"]
    assert opens["trainer"] == ["account", "calibration", "coaching", "monitoring", "overview",
                                "plans", "quality", "scorecard"]  # fmt: skip
    assert "rewards" in opens["manager"]
    assert "users" not in opens["manager"] and {"weights", "upload", "audit"} <= set(
        opens["manager"]
    )
    assert opens["admin"] == sorted(access.PAGES)


def test_pages_read_data_only_through_viewer_checked_functions():
    """Pages may not reach the unchecked engine (KPI computation, raw SQL) directly."""
    forbidden = re.compile(r"\b(compute|score|score_inputs|execute|upload_history)\(")
    for page in (store.ROOT / "pages").glob("*.py"):
        hits = [line for line in page.read_text().splitlines() if forbidden.search(line)]
        assert hits == [], page.name


# --- audit entries for every kind of change ---------------------------------------------


def test_uploads_scheme_saves_and_deletions_are_audited(demo_copy):
    from lib import demo, schemes
    from lib.ingest import ingest_file
    from lib.mapping import load as load_mapping

    con = store.connect(demo_copy)
    log = audit.log_of(con)
    assert log == demo_copy.with_name("demo.audit.jsonl")
    body = schemes.preset_body("balanced")
    body["dimensions"]["sales"]["weight"] = 40
    schemes.save(con, body, user="boss", reason="sales push")
    csv = demo_copy.with_name("t.csv")
    csv.write_text("Ticket ID,Agent,Created At\nT1,阿杰,2026-11-01 10:00\n", encoding="utf-8")
    ingest_file(con, csv, load_mapping("demo_tickets"), user="boss")
    demo.clear(con, by="boss")
    got = actions(log)
    assert ("boss", "scheme.save", "balanced v2") in got
    assert ("boss", "upload", "t.csv") in got
    assert ("boss", "demo.clear", "demo data") in got
    entries = audit.entries(log, MANAGER)
    assert entries.iloc[0]["action"] == "demo.clear"  # newest first
    assert "sales push" in entries[entries["action"] == "scheme.save"].iloc[0]["detail"]
    con.close()


def test_audit_log_skips_a_torn_line(tmp_path):
    log = tmp_path / "a.jsonl"
    audit.record(log, "boss", "login", "boss")
    with open(log, "a") as out:
        out.write('{"at": "2026-')  # a crash mid-write
    assert list(audit.entries(log, SYSTEM)["action"]) == ["login"]


# --- the command line -------------------------------------------------------------------


def run_cli(*args, stdin: str = "", env_extra: dict | None = None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "lib", *args], input=stdin, text=True,
                          capture_output=True, cwd=store.ROOT, env=env, timeout=60)  # fmt: skip


def test_users_cli(accounts, tmp_path):
    db = tmp_path / "cli.duckdb"
    common = ["--auth", str(accounts), "--db", str(db)]
    done = run_cli("users", "add", "mei", "--role", "agent", "--agent", "小美", "--password-stdin",
                   *common, stdin="Mei-pass-77\n")  # fmt: skip
    assert done.returncode == 0 and "Mei-pass-77" not in done.stdout
    assert users.check_password(
        "Mei-pass-77", users.credentials(accounts)["usernames"]["mei"]["password"]
    )
    done = run_cli("users", "reset-password", "mei", *common)
    new = re.search(r"shown once\): (\S+)", done.stdout).group(1)
    assert users.check_password(new, users.credentials(accounts)["usernames"]["mei"]["password"])
    assert run_cli("users", "set-role", "mei", "trainer", *common).returncode == 0
    assert run_cli("users", "disable", "mei", *common).returncode == 0
    listing = run_cli("users", "list", *common).stdout
    assert re.search(r"mei .* trainer .* True", listing)
    bad = run_cli("users", "add", "x", "--role", "agent", *common)
    assert bad.returncode == 2 and "not a valid username" in bad.stderr
    assert [a for _, a, t in actions(audit.log_path(db)) if t == "mei"] == [
        "user.create", "user.reset_password", "user.set_role", "user.disable"]  # fmt: skip


def test_announcement_lists_what_was_made():
    text = users.announcement([("admin", "Abc-123-xyz"), ("demo-ajie", "Q!w2e3r4t5")])
    assert re.search(r"admin +Abc-123-xyz", text) and "removed with the demo data" in text
    assert io.StringIO(text).read().count("\n") > 3
