"""Accounts, roles and the audit log: first start, passwords, role checks enforced in lib."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lib.app.stores import open_store
from lib.auth import access, audit, users
from lib.auth.access import SYSTEM, Viewer
from lib.core import errors, store
from lib.core.errors import AccessDenied
from lib.core.periods import parse
from lib.metrics import scoring
from lib.metrics.kpis import drilldown, load_catalogue
from lib.present import views
from tests.conftest import PASSWORD

AGENT = Viewer("ajie", "agent", "阿杰")
TRAINER = Viewer("coach", "trainer")
MANAGER = Viewer("boss", "manager")
ADMIN = Viewer("admin", "admin")
BOSS = Viewer("boss", "manager")


def actions(log) -> list[tuple[str, str, str]]:
    return [
        (e["who"], e["action"], e["target"]) for e in map(json.loads, log.read_text().splitlines())
    ]


def test_first_start_makes_a_random_admin_password_and_nothing_default(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    ((name, pw_a),) = users.first_start(a)
    ((_, pw_b),) = users.first_start(b)
    assert name == "admin" and pw_a != pw_b and users.password_problem(pw_a) is None
    text = a.read_text()
    assert pw_a not in text  # only the bcrypt hash is stored
    assert users.check_password(
        pw_a, users.load(a)["credentials"]["usernames"]["admin"]["password"]
    )
    assert users.cookie(a)["key"] != users.cookie(b)["key"]  # a cookie key per installation
    assert stat.S_IMODE(os.stat(a).st_mode) == 0o600
    assert users.first_start(a) == []  # printed once: a second start creates nothing


def test_admin_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_ADMIN_PASSWORD", "Given-pass-9-long")
    monkeypatch.setenv("SCORECARD_COOKIE_KEY", "k" * 40)
    path = tmp_path / "auth.yaml"
    assert users.first_start(path) == [("admin", None)]
    assert "Given-pass-9-long" not in users.announcement([("admin", None)])
    assert users.check_password(
        "Given-pass-9-long", users.credentials(path)["usernames"]["admin"]["password"]
    )
    assert users.cookie(path)["key"] == "k" * 40


def test_user_changes_are_checked_and_audited(accounts, tmp_path):
    log = tmp_path / "audit.jsonl"
    pw = users.add(accounts, "Lily", "agent", agent="小美", viewer=ADMIN, log=log)
    assert users.password_problem(pw) is None
    table = users.listing(accounts).set_index("username")
    assert table.loc["lily", "role"] == "agent" and table.loc["lily", "agent"] == "小美"
    with pytest.raises(errors.UserError, match="already exists"):
        users.add(accounts, "lily", "agent", agent="小美")
    with pytest.raises(errors.UserError, match="needs --agent"):
        users.add(accounts, "nobody", "agent")
    with pytest.raises(errors.UserError, match="not a valid username"):
        users.add(accounts, "名字", "manager")
    with pytest.raises(errors.UserError, match="Unknown role"):
        users.add(accounts, "x1", "owner")
    users.set_role(accounts, "lily", "trainer", viewer=ADMIN, log=log)
    new = users.reset_password(accounts, "lily", viewer=ADMIN, log=log)
    users.set_disabled(accounts, "lily", True, viewer=ADMIN, log=log)
    assert users.viewer(accounts, "lily") is None  # disabled: no viewer, so no session
    users.set_disabled(accounts, "lily", False, viewer=ADMIN, log=log)
    assert users.viewer(accounts, "lily") == Viewer("lily", "trainer", None)
    assert users.check_password(new, users.credentials(accounts)["usernames"]["lily"]["password"])
    with pytest.raises(errors.UserError, match="last admin"):
        users.set_disabled(accounts, "admin", True)
    with pytest.raises(errors.UserError, match="last admin"):
        users.set_role(accounts, "admin", "manager")
    assert actions(log) == [
        ("admin", "user.create", "lily"), ("admin", "user.set_role", "lily"),
        ("admin", "user.reset_password", "lily"), ("admin", "user.disable", "lily"),
        ("admin", "user.enable", "lily"),
    ]  # fmt: skip


def test_changing_your_own_password(accounts, tmp_path):
    log = tmp_path / "audit.jsonl"
    with pytest.raises(errors.UserError, match="not right"):
        users.change_password(accounts, BOSS, "wrong", "New-pass-22-long", log)
    with pytest.raises(errors.UserError, match="at least 12 characters"):
        users.change_password(accounts, BOSS, PASSWORD, "weak", log)
    users.change_password(accounts, BOSS, PASSWORD, "New-pass-22-long", log)
    stored = users.credentials(accounts)["usernames"]["boss"]["password"]
    assert users.check_password("New-pass-22-long", stored) and not users.check_password(
        PASSWORD, stored
    )
    assert actions(log) == [("boss", "user.change_password", "boss")]


def test_one_password_rule_for_every_way_a_password_is_set(accounts, tmp_path, monkeypatch):
    problem = users.password_problem
    assert "at least 12" in problem("x") and "at least 12" in problem("Short-pass1")
    assert "too common" in problem("password1234") and "too common" in problem("PASSWORD1234")
    assert "too common" in problem("boss-the-great", "boss")  # holds the username
    assert "too few" in problem("abababababab")
    assert problem("correct staple horse") is None and problem("长城很长很长但是好记的口令") is None
    long = "a quite long passphrase " * 8  # 192 characters: long is welcome
    assert problem(long) is None and problem("z" * 2000).startswith("A password may have at most")
    for change in (
        lambda pw: users.add(accounts, "new1", "manager", password=pw),
        lambda pw: users.reset_password(accounts, "boss", pw),
        lambda pw: users.change_password(accounts, BOSS, PASSWORD, pw),
    ):
        with pytest.raises(errors.UserError, match="at least 12"):
            change("Sh0rt-pass!")
        with pytest.raises(errors.UserError, match="too common"):
            change("Password123!")
    monkeypatch.setenv("SCORECARD_ADMIN_PASSWORD", "x")
    with pytest.raises(errors.UserError, match="SCORECARD_ADMIN_PASSWORD is refused"):
        users.first_start(tmp_path / "fresh.yaml")
    assert not (tmp_path / "fresh.yaml").exists()


def test_passwords_over_72_bytes_count_in_full(accounts):
    """bcrypt reads 72 bytes; two long passwords that differ only after them must differ."""
    first, second = "我的口令很长" * 5 + "-one", "我的口令很长" * 5 + "-two"  # 94 bytes each
    users.reset_password(accounts, "boss", first)
    stored = users.credentials(accounts)["usernames"]["boss"]["password"]
    assert users.check_password(first, stored) and not users.check_password(second, stored)
    users.change_password(accounts, BOSS, first, second)
    assert users.login(accounts, "boss", second) is not None


def test_the_cli_refuses_weak_passwords_and_takes_long_ones(accounts, tmp_path):
    common = ["--auth", str(accounts), "--db", str(tmp_path / "cli.duckdb")]
    weak = run_cli("users", "add", "mei", "--role", "manager", "--password-stdin", *common,
                   stdin="short\n")  # fmt: skip
    assert weak.returncode == 2 and "at least 12" in weak.stderr and "Traceback" not in weak.stderr
    empty = run_cli("users", "reset-password", "boss", "--password-stdin", *common, stdin="\n")
    assert empty.returncode == 2 and "Traceback" not in empty.stderr
    long = "x-Y-z " * 20  # 120 bytes
    done = run_cli("users", "reset-password", "boss", "--password-stdin", *common,
                   stdin=long + "\n")  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert users.login(accounts, "boss", long) is not None
    bad_env = run_cli("users", "list", "--auth", str(tmp_path / "new.yaml"),
                      env_extra={"SCORECARD_ADMIN_PASSWORD": "x"})  # fmt: skip
    assert bad_env.returncode == 2 and "SCORECARD_ADMIN_PASSWORD is refused" in bad_env.stderr
    assert "Traceback" not in bad_env.stderr


# --- sessions and sign-in -----------------------------------------------------------------


def test_a_cookie_dies_on_sign_out_new_password_role_change_and_disabling(accounts):
    def ends_the_session(change):
        token = users.make_token(accounts, "boss")
        assert users.read_token(accounts, token) == ("boss", users.session(accounts, "boss"))
        change()
        assert users.read_token(accounts, token) is None

    ends_the_session(lambda: users.sign_out(accounts, BOSS))
    ends_the_session(lambda: users.reset_password(accounts, "boss", PASSWORD))
    ends_the_session(lambda: users.change_password(accounts, BOSS, PASSWORD, "Other pass 4 boss"))
    ends_the_session(lambda: users.set_role(accounts, "boss", "trainer"))
    token = users.make_token(accounts, "boss")
    users.set_disabled(accounts, "boss", True)
    users.set_disabled(accounts, "boss", False)
    assert users.read_token(accounts, token) is None  # enabling again does not revive it
    other = users.make_token(accounts, "coach")
    users.sign_out(accounts, BOSS)
    assert users.read_token(accounts, other) is not None  # only boss's sessions end


def test_a_cookie_that_fails_to_check_for_any_reason_is_refused(accounts):
    import jwt

    key = users.cookie(accounts)["key"]
    gen = users.session(accounts, "boss")
    good = {"username": "boss", "session": gen, "exp": int(time.time()) + 3600}
    header, payload, _ = jwt.encode(good, key, algorithm="HS256").split(".")
    none_alg = jwt.encode(good, None, algorithm="none")
    forged = [
        none_alg,
        header + "." + payload + ".",  # signature stripped
        jwt.encode(good, key, algorithm="HS512"),  # the right key, another algorithm
        jwt.encode(good, "another key" * 4, algorithm="HS256"),
        jwt.encode({**good, "exp": int(time.time()) - 10}, key, algorithm="HS256"),
        jwt.encode({"username": "boss", "exp_date": 9e9}, key, algorithm="HS256"),  # old layout
        jwt.encode({**good, "session": "0"}, key, algorithm="HS256"),
        jwt.encode({**good, "username": ["boss"]}, key, algorithm="HS256"),
        jwt.encode({**good, "username": "ghost"}, key, algorithm="HS256"),
        "garbage", "", "a.b.c", "x" * 10_000, None, 42, "é.é.é",
    ]  # fmt: skip
    for token in forged:
        assert users.read_token(accounts, token) is None, token
    assert users.read_token(accounts, jwt.encode(good, key, algorithm="HS256")) == ("boss", gen)


def test_the_cookie_lasts_the_days_in_settings(accounts, monkeypatch):
    import jwt

    def days():
        claims = jwt.decode(users.make_token(accounts, "boss"), options={"verify_signature": False})
        return (claims["exp"] - time.time()) / 86400

    assert 6.99 < days() <= 7
    monkeypatch.setenv("SCORECARD_COOKIE_DAYS", "2")
    assert 1.99 < days() <= 2


def failures(log, who="boss"):
    return [e for e in map(json.loads, log.read_text().splitlines())
            if e["action"] == "login.failed" and e["target"] == who]  # fmt: skip


def test_25_parallel_wrong_logins_make_exactly_25_failures(accounts, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    log = tmp_path / "audit.jsonl"
    with ThreadPoolExecutor(25) as pool:
        results = list(pool.map(lambda i: users.login(accounts, "boss", f"guess {i:04d} xyz", log),
                                range(25)))  # fmt: skip
    assert results == [None] * 25
    assert users.listing(accounts).set_index("username").loc["boss", "failed_logins"] == 25
    seen = failures(log)
    assert len(seen) == 25
    # Only the first MAX_LOGIN_ATTEMPTS guesses were checked; the rest met the pause.
    assert sum(e["detail"]["reason"] == "wrong password" for e in seen) == users.MAX_LOGIN_ATTEMPTS
    locked = [e for e in map(json.loads, log.read_text().splitlines())
              if e["action"] == "login.locked"]  # fmt: skip
    assert [e["target"] for e in locked] == ["boss"]
    assert users.login(accounts, "boss", PASSWORD, log) is None  # paused: even the right one


def _guess_in_a_process(args):
    path, log, n = args
    return [users.login(Path(path), "boss", f"proc guess {n}-{i}", Path(log)) for i in range(5)]


def test_wrong_logins_from_several_processes_are_all_counted(accounts, tmp_path):
    import multiprocessing

    log = tmp_path / "audit.jsonl"
    with multiprocessing.get_context("spawn").Pool(5) as pool:
        pool.map(_guess_in_a_process, [(str(accounts), str(log), n) for n in range(5)])
    assert users.listing(accounts).set_index("username").loc["boss", "failed_logins"] == 25
    assert len(failures(log)) == 25


def test_the_pause_grows_then_ends_so_nobody_locks_out_the_only_admin(accounts, monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr(users.time, "time", lambda: clock[0])
    for _ in range(users.MAX_LOGIN_ATTEMPTS):
        assert users.login(accounts, "admin", "not the admin pass") is None
    assert users.login(accounts, "admin", PASSWORD) is None  # paused
    clock[0] += users.LOCK_FIRST_S + 1
    assert users.login(accounts, "admin", PASSWORD) is not None  # the pause ended by itself
    assert [users.lock_seconds(n) for n in (4, 5, 6, 7)] == [0, 30, 60, 120]
    assert users.lock_seconds(100) == users.LOCK_MAX_S == 15 * 60


def test_guesses_from_one_address_do_not_pause_the_account_elsewhere(accounts, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    log = tmp_path / "audit.jsonl"
    clock = [1_000_000.0]
    monkeypatch.setattr(users.time, "time", lambda: clock[0])
    attacker, owner = "203.0.113.5", "198.51.100.7"
    for i in range(12):
        assert users.login(accounts, "admin", f"guess {i} of twelve", log, attacker) is None
    assert users.login(accounts, "admin", PASSWORD, log, attacker) is None  # paused there
    assert users.login(accounts, "admin", PASSWORD, log, owner) is not None  # not here
    assert users.listing(accounts).set_index("username").loc["admin", "paused"]
    entries = [e for e in map(json.loads, log.read_text().splitlines()) if e["target"] == "admin"]
    locked = [e for e in entries if e["action"] == "login.locked"]
    assert locked and {e["detail"]["address"] for e in locked} == {attacker}
    assert {e["detail"]["reason"] for e in entries if e["action"] == "login.failed"} == {
        "wrong password", "paused"}  # fmt: skip
    assert {e["detail"]["address"] for e in entries if e["action"] == "login.failed"} == {attacker}


def test_guesses_spread_over_many_addresses_meet_the_account_ceiling(accounts, tmp_path,
                                                                    monkeypatch):  # fmt: skip
    from concurrent.futures import ThreadPoolExecutor

    log = tmp_path / "audit.jsonl"
    clock = [1_000_000.0]
    monkeypatch.setattr(users.time, "time", lambda: clock[0])
    home = "198.51.100.7"
    assert users.login(accounts, "admin", PASSWORD, log, home) is not None  # a known address
    total = users.ACCOUNT_CEILING + 5
    with ThreadPoolExecutor(total) as pool:  # one guess from each of many addresses at once
        results = list(pool.map(lambda i: users.login(accounts, "admin", f"guess {i:04d} xyz", log,
                                                      f"10.9.{i // 250}.{i % 250}"),
                                range(total)))  # fmt: skip
    assert results == [None] * total
    assert users.listing(accounts).set_index("username").loc["admin", "failed_logins"] == total
    seen = failures(log, "admin")
    assert len(seen) == total  # every one counted and audited
    reasons = [e["detail"]["reason"] for e in seen]
    assert reasons.count("wrong password") == users.ACCOUNT_CEILING  # checked: no more
    assert reasons.count("paused for new addresses") == 5
    assert users.login(accounts, "admin", PASSWORD, log, "10.8.0.1") is None  # new: waits
    assert users.login(accounts, "admin", PASSWORD, log, home) is not None  # known: signs in
    clock[0] += users.CEILING_FIRST_S * 2 + 1
    assert users.login(accounts, "admin", PASSWORD, log, "10.8.0.1") is not None  # it ends
    assert users.ceiling_seconds(users.ACCOUNT_CEILING - 1) == 0
    assert users.ceiling_seconds(1000) == users.LOCK_MAX_S


def test_the_login_cookie_is_set_by_the_server_as_httponly_for_a_one_time_code(accounts,
                                                                              monkeypatch):  # fmt: skip
    import asyncio

    from starlette.requests import Request

    from lib.auth.cookies import ROUTE
    from pages._auth import session_routes

    (route,) = session_routes()
    assert route.path == f"/{ROUTE}" and route.methods == {"POST"}

    def post(code):
        scope = {"type": "http", "method": "POST", "path": route.path, "scheme": "http",
                 "query_string": f"code={code}".encode(), "headers": [],
                 "server": ("127.0.0.1", 8501)}  # fmt: skip
        return asyncio.run(route.endpoint(Request(scope)))

    code = users.cookie_handover(accounts, "boss")
    answer = post(code)
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 204 and cookie.startswith("scorecard_auth=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert users.read_token(accounts, token) == ("boss", users.session(accounts, "boss"))
    assert post(code).status_code == 404 and "set-cookie" not in post(code).headers  # once
    assert post("guessed").status_code == 404
    removal = post(users.cookie_handover(accounts, None)).headers["set-cookie"]
    assert removal.startswith('scorecard_auth="";') and "HttpOnly" in removal
    late = users.cookie_handover(accounts, "boss")
    real = users.time.monotonic
    monkeypatch.setattr(users.time, "monotonic", lambda: real() + users.HANDOVER_S + 1)
    assert post(late).status_code == 404  # too late


def test_failures_for_unknown_usernames_are_logged(accounts, tmp_path):
    log = tmp_path / "audit.jsonl"
    assert users.login(accounts, "nobody", "whatever it is", log) is None
    (entry,) = failures(log, "nobody")
    assert entry["detail"]["reason"] == "unknown user"
    assert "nobody" not in set(users.listing(accounts)["username"])


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
    con = open_store(demo_store, read_only=True)
    yield con
    con.close()


def test_an_agent_scorecard_holds_only_their_own_rows(demo_con):
    from lib.metrics import schemes

    scheme, month = schemes.get(demo_con, "balanced"), parse("2026-10")
    full = scoring.scorecard(demo_con, scheme, month, viewer=MANAGER)
    own = scoring.scorecard(demo_con, scheme, month, viewer=AGENT)
    assert list(own.agents["agent"]) == ["阿杰"] and set(own.details["agent"]) == {"阿杰"}
    mine = full.agents.set_index("agent").loc["阿杰"]
    assert own.agents.iloc[0]["rank"] == mine["rank"]  # still ranked among everyone
    assert own.ranked == full.ranked == 30
    # The team median on the radar is the same, computed before the rows were cut.
    assert views.dimension_scores(own, "阿杰").equals(views.dimension_scores(full, "阿杰"))
    from lib.present import export

    assert "小美" not in export.write(own, "csv", None) and "小美" in export.write(
        full, "csv", None
    )


def test_agents_cannot_read_other_agents_or_team_tables(demo_con):
    from lib.ingest.pipeline import quarantine_report
    from lib.metrics import schemes

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
    from lib.app import demo
    from lib.ingest.mapping import load as load_mapping
    from lib.ingest.pipeline import ingest_file
    from lib.metrics import schemes

    con = open_store(demo_copy)
    log = audit.log_of(con)
    assert log == demo_copy.with_name("demo.audit.jsonl")
    body = schemes.preset_body("balanced")
    body["dimensions"]["sales"]["weight"] = 40
    schemes.save(con, Viewer("boss", "manager"), body, reason="sales push")
    csv = demo_copy.with_name("t.csv")
    csv.write_text("Ticket ID,Agent,Created At\nT1,阿杰,2026-11-01 10:00\n", encoding="utf-8")
    ingest_file(con, csv, load_mapping("demo_tickets"), viewer=Viewer("boss", "manager"))
    demo.clear(con, Viewer("boss", "manager"))
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
                   *common, stdin="Mei-pass-77-long\n")  # fmt: skip
    assert done.returncode == 0 and "Mei-pass-77-long" not in done.stdout
    assert users.check_password(
        "Mei-pass-77-long", users.credentials(accounts)["usernames"]["mei"]["password"]
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


def test_the_accounts_file_is_read_on_every_load_and_an_edit_in_place_shows_at_once(accounts):
    """Page runs read the accounts file each time (parsed again only when its bytes change):
    an edit that keeps the file's size, in place, is seen by the next read, and what a caller
    changes in what it got is not."""
    first = users.load(accounts)
    first["credentials"]["usernames"]["boss"]["roles"] = ["admin"]  # the caller's copy only
    assert users.viewer(accounts, "boss").role == "manager"
    text = accounts.read_text(encoding="utf-8")
    edited = text.replace("- manager", "- trainer", 1)
    assert len(edited) == len(text) and edited != text
    with open(accounts, "r+", encoding="utf-8") as handle:  # same file, same size
        handle.write(edited)
    assert users.viewer(accounts, "boss").role == "trainer"
