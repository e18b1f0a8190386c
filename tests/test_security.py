"""Hostile data through every way out: formula cells in each CSV/XLSX the app or the command
line writes, and the text people and files wrote shown as text on the pages and in the report.

The hostile store is the demo plus one upload (through the page, from a file named like a
formula) whose rejected cells are formulas and whose agents, comments and notes hold Markdown
links, images and HTML."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import io
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

import openpyxl
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from lib.app import cli
from lib.app.stores import open_store
from lib.auth.access import Viewer
from lib.core import errors, store
from lib.core.errors import AccessDenied
from lib.monitoring import alerts, webhooks
from tests.corpus import HEAD, row
from tests.test_app import new_app

FORMULAS = ['=HYPERLINK("http://127.0.0.1:9/x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
            " =1+1"]  # fmt: skip
FILE = "=1+1.csv"
MANAGER = Viewer("boss", "manager")


def hostile_csv() -> bytes:
    lines = [HEAD, row("Z1", handle=FORMULAS[0]), row("Z2", csat=FORMULAS[1]),
             row("Z3", created=FORMULAS[2]), row("Z4", handle=FORMULAS[3]),
             row("Z5", handle=FORMULAS[4]), row("Z6")]  # fmt: skip
    return ("\n".join(lines) + "\n").encode("utf-8")


def live_formula(value) -> bool:
    """Whether a spreadsheet would run this cell."""
    return isinstance(value, str) and value.lstrip(" ").startswith(("=", "+", "-", "@"))


@pytest.fixture
def downloads(monkeypatch):
    """Every file a download button offers, by file name (deferred ones generated)."""
    got: dict[str, bytes] = {}
    add, deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def record_add(self, data, mimetype, coordinates, file_name=None, **kw):
        if file_name:
            got[file_name] = data if isinstance(data, bytes) else str(data).encode()
        return add(self, data, mimetype, coordinates, file_name, **kw)

    def record_deferred(self, make, mimetype, coordinates, file_name=None, **kw):
        if file_name:
            data = make()
            got[file_name] = data if isinstance(data, bytes) else data.encode()
        return deferred(self, make, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add", record_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return got


def cells(name: str, data: bytes) -> list:
    if name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(data))
        return [c for ws in book for r in ws.iter_rows(values_only=True) for c in r]
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    return list(frame.columns) + frame.to_numpy().ravel().tolist()


def test_every_download_neutralises_formula_cells(demo_copy, monkeypatch, accounts, downloads):
    at = new_app(demo_copy, monkeypatch, "admin").run()
    at.switch_page("pages/upload.py").run()
    at.file_uploader[0].set_value((FILE, hostile_csv(), "text/csv")).run()
    next(s for s in at.selectbox if s.label == "Preset").set_value("demo_tickets").run()
    next(b for b in at.button if b.label == "Store").click().run()
    assert not at.exception and not at.error
    for page in ("overview", "rewards", "audit", "upload"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
    wanted = {"quarantine_all.csv", "audit.csv"}
    assert wanted <= set(downloads) and any(n.startswith("quarantine_") for n in downloads)
    assert any(n.endswith(".xlsx") for n in downloads) and any(
        n.startswith("bonus_") for n in downloads
    )
    seen = {n: cells(n, d) for n, d in downloads.items() if n.endswith((".csv", ".xlsx"))}
    quarantine = " ".join(map(str, seen["quarantine_all.csv"]))
    for formula in FORMULAS:  # the rejected cells are there, neutralised
        assert "'" + formula in quarantine, formula
    assert "'" + FILE in quarantine and "'" + FILE in " ".join(map(str, seen["audit.csv"]))
    for name, values in seen.items():
        assert not [v for v in values if live_formula(v)], name


def test_the_quarantine_command_neutralises_formula_cells(tmp_path, accounts):
    from lib.ingest.mapping import load as load_mapping
    from lib.ingest.pipeline import ingest_file

    db, path = tmp_path / "s.duckdb", tmp_path / FILE
    path.write_bytes(hostile_csv())
    con = open_store(db)
    ingest_file(con, path, load_mapping("demo_tickets"))
    con.close()
    out = tmp_path / "problems.csv"
    assert cli.main(["quarantine", "--db", str(db), "--out", str(out)]) == 0
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        cli.main(["quarantine", "--db", str(db)])
    for data in (out.read_bytes(), printed.getvalue().encode("utf-8")):
        values = cells("q.csv", data)
        assert len(values) > 10 and not [v for v in values if live_formula(v)]
        assert "'" + FORMULAS[1] in values
    done = subprocess.run([sys.executable, "-m", "lib", "scorecard", "--db", str(db), "--format",
                           "csv"], cwd=store.ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert not [v for v in cells("c.csv", done.stdout.encode()) if live_formula(v)]


# --- text from users is shown as text ---------------------------------------------------

TRAP = "127.0.0.1:9"
HOSTILE = (f"![r](http://{TRAP}/b.png) [Session expired](http://{TRAP}/phish) "
           f'<a href="http://{TRAP}/a">a</a> <img src="http://{TRAP}/i.png"> http://{TRAP}/bare '
           ":red[red] $x^2$ **bold**")  # fmt: skip
HOSTILE_NAME = f'<a href="http://{TRAP}/n">n</a> [x](http://{TRAP}/l)'  # no comma: a CSV cell


def hostile_store(db, hostile=HOSTILE, name=HOSTILE_NAME):
    """The demo store plus an agent with a hostile name (tickets in October and November),
    a note about every agent, a reply and a dispute, all with hostile text."""
    import csv

    from lib.auth.access import Viewer
    from lib.coaching import notes
    from lib.ingest.mapping import load as load_mapping
    from lib.ingest.pipeline import ingest_file
    from lib.quality import reviews

    path = db.with_name("hostile_agent.csv")
    with open(path, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(HEAD.split(","))
        for i in range(40):
            day = f"2026-{10 + i % 2}-{1 + i % 14:02d}"
            w.writerow(row(f"H{i}", agent=name, created=f"{day} 09:00", first=f"{day} 09:01",
                           resolved=f"{day} 10:00", comment=hostile).split(","))  # fmt: skip
    con = open_store(db)
    ingest_file(con, path, load_mapping("demo_tickets"))
    coach, ajie = Viewer("coach", "trainer"), Viewer("ajie", "agent", "阿杰")
    note = notes.add(con, coach, "阿杰", "praise", hostile)
    notes.acknowledge(con, ajie, note, hostile)
    agents = [a for (a,) in con.execute("SELECT DISTINCT agent FROM tickets").fetchall()]
    for agent in agents:
        if agent != "阿杰":
            notes.add(con, coach, agent, "concern", hostile)
    mine = reviews.scored(con, ajie)
    taken = set(reviews.disputes(con, ajie)["review_id"])
    review = mine[~mine["review_id"].isin(taken)].iloc[0]
    dispute = reviews.open_dispute(con, ajie, review["review_id"], hostile,
                                   now=pd.Timestamp(review["reviewed_at"]).to_pydatetime())  # fmt: skip
    con.close()
    return dispute


# Markup that Markdown would act on: a character is inert when a backslash escapes it.
MARKUP = [re.compile(p) for p in (r"(?<!\\)\]\(", r"(?<!\\)<(a|img)\b", r"https?://",
                                   r"(?<!\\):red\[", r"(?<!\\)\*\*bold")]  # fmt: skip


def shown_as_markup(at) -> list[str]:
    """Text on the page that a browser would turn into a link or an image."""
    found = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader",
                 "header", "title", "exception"):  # fmt: skip
        for element in at.get(kind):
            value = str(getattr(element, "value", ""))
            found += [value for m in MARKUP if m.search(value)]
    for element in at.metric:
        value = f"{element.label} {element.value}"
        found += [value for m in MARKUP if m.search(value)]
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        found += [spec[max(0, spec.find(m) - 80) :][:200] for m in ("<a ", "<img") if m in spec]
    return found


@pytest.fixture
def hostile_copy(demo_copy, monkeypatch):
    monkeypatch.setenv("HOSTILE_DISPUTE", str(hostile_store(demo_copy)))
    return demo_copy


@pytest.mark.parametrize("page", ["overview", "scorecard", "coaching", "plans", "rewards",
                                  "monitoring", "quality", "calibration", "upload", "audit",
                                  "users"])  # fmt: skip
def test_hostile_text_is_shown_as_text_on_every_page(page, hostile_copy, monkeypatch, accounts):
    at = new_app(hostile_copy, monkeypatch, "admin", agent=HOSTILE_NAME).run()
    at.switch_page(f"pages/{page}.py").run()
    if page == "coaching":
        at.selectbox(key="coach_agent").set_value("阿杰").run()
    if page == "quality":  # the manager's view of the hostile dispute
        pick = next(s for s in at.selectbox if s.label == "Open dispute")
        pick.set_value(int(os.environ["HOSTILE_DISPUTE"])).run()
    assert not at.exception
    assert shown_as_markup(at) == []


def test_an_agent_sees_hostile_replies_as_text(hostile_copy, monkeypatch, accounts):
    at = new_app(hostile_copy, monkeypatch, "ajie").run()
    for page in ("scorecard", "coaching", "quality"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception and shown_as_markup(at) == []


def test_hostile_text_in_the_html_report_is_escaped(hostile_copy):
    from lib.auth.access import SYSTEM
    from lib.core.periods import parse
    from lib.metrics import schemes, scoring
    from lib.present import report

    con = open_store(hostile_copy, read_only=True)
    card = scoring.scorecard(con, schemes.get(con, "balanced"), parse("2026-11"), viewer=SYSTEM)
    assert HOSTILE_NAME in set(card.agents["agent"])
    page = report.monthly_html(con, SYSTEM, card, None, "en")
    assert f'<a href="http://{TRAP}' not in page and f'src="http://{TRAP}' not in page
    assert "&lt;a href=" in page  # the name is there, as text


# --- webhooks ---------------------------------------------------------------------------


class Target(http.server.BaseHTTPRequestHandler):
    """A chat webhook that records what it gets and answers as told."""

    received: list = []
    headers: list = []
    paths: list = []
    status, body, delay = 200, b'{"errcode": 0}', 0.0

    def do_POST(self):  # noqa: N802 - the handler API
        Target.headers.append(dict(self.headers))
        Target.paths.append(self.path)
        Target.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        time.sleep(Target.delay)
        self.send_response(Target.status)
        self.end_headers()
        self.wfile.write(Target.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def target():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Target.received, Target.status, Target.body, Target.delay = [], 200, b'{"errcode": 0}', 0.0
    Target.headers, Target.paths = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}/robot"
    server.shutdown()


def test_a_webhook_to_loopback_or_a_private_address_is_refused_by_default(target, monkeypatch):
    for url in (target, "http://localhost:9/x", "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.8/hook", "http://192.168.1.20/hook", "http://[::1]:9/x",
                "http://0.0.0.0:9/x", "ftp://example.com/x", "not a url"):  # fmt: skip
        assert webhooks.check_url(url), url
    assert webhooks.test_hook({"url": target, "format": "slack"}).startswith("not sent")
    assert Target.received == []
    monkeypatch.setenv("SCORECARD_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")  # an admin names the host
    assert webhooks.test_hook({"url": target, "format": "slack"}) is None
    assert len(Target.received) == 1
    assert webhooks.check_url("http://localhost:9/x")  # only the named host


class Rebinding:
    """A resolver for `hook.example` that answers a public address when the app checks the
    name and 127.0.0.1 (the trap) on every later lookup; every connection is recorded, and
    one to the public address is refused (there is no network in the test)."""

    PUBLIC = "93.184.216.34"

    def __init__(self, monkeypatch, always_loopback: bool = False):
        self.lookups, self.connections = 0, []
        self.always_loopback = always_loopback
        real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

        def lookup(host, port, *args, **kwargs):
            if host != "hook.example":
                return real_lookup(host, port, *args, **kwargs)
            self.lookups += 1
            address = (self.PUBLIC if self.lookups == 1 and not self.always_loopback
                       else "127.0.0.1")  # fmt: skip
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        def connect(address, *args, **kwargs):
            self.connections.append(address[0])
            if address[0] == self.PUBLIC:
                raise ConnectionRefusedError("no network in the test")
            return real_connect(address, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", lookup)
        monkeypatch.setattr(socket, "create_connection", connect)


def test_a_name_that_resolves_again_to_loopback_never_reaches_it(target, monkeypatch):
    port = target.split(":")[2].split("/")[0]
    rebinding = Rebinding(monkeypatch)
    reason = webhooks.test_hook({"url": f"http://hook.example:{port}/robot", "format": "slack"})
    assert Target.received == []  # the trap on 127.0.0.1 heard nothing
    assert reason == "the hook could not be reached"
    assert rebinding.lookups == 1  # looked up once, connected to what was checked
    assert rebinding.connections == [Rebinding.PUBLIC]


def test_a_pinned_send_still_names_the_host(target, monkeypatch):
    """An allowed host is reached at its checked address with the name in the Host header,
    and HTTPS checks the certificate against the name."""
    port = target.split(":")[2].split("/")[0]
    rebinding = Rebinding(monkeypatch, always_loopback=True)
    monkeypatch.setenv("SCORECARD_WEBHOOK_ALLOW_HOSTS", "hook.example")
    assert webhooks.test_hook({"url": f"http://hook.example:{port}/robot?x=1",
                               "format": "slack"}) is None  # fmt: skip
    assert len(Target.received) == 1 and rebinding.connections == ["127.0.0.1"]
    assert Target.headers[-1]["Host"] == f"hook.example:{port}"
    assert Target.paths[-1] == "/robot?x=1"
    wrapped = []

    class Context:
        def wrap_socket(self, sock, server_hostname=None):
            wrapped.append(server_hostname)
            sock.close()
            raise ssl.SSLCertVerificationError("certificate is not for this name")

    connection = webhooks._PinnedHTTPS("hook.example", int(port), ["127.0.0.1"], 2, Context())
    with pytest.raises(ssl.SSLError):
        connection.connect()
    assert wrapped == ["hook.example"] and rebinding.connections[-1] == "127.0.0.1"


def test_rules_with_a_loopback_hook_are_refused_when_saved(tmp_path):
    config = {"rules": [], "webhooks": [{"name": "x", "url": "http://127.0.0.1:9/x",
                                         "format": "slack"}]}  # fmt: skip
    with pytest.raises(errors.AlertRulesError, match="loopback"):
        alerts.save(open_store(tmp_path / "s.duckdb"), MANAGER, config, reason="a new hook")


def test_webhook_text_is_escaped_for_each_target_and_never_says_nan():
    alert = {"severity": "warning", "subject": "<!channel> <http://evil.example|click> & co",
             "kpi": float("nan"), "rule": "backlog", "first_day": dt.date(2026, 11, 1),
             "value": 27.0, "baseline": float("nan"), "threshold": None}  # fmt: skip
    slack = webhooks.payload(alert, "slack")["text"]
    assert "<!channel>" not in slack and "<http" not in slack and "&lt;!channel&gt;" in slack
    assert "&amp; co" in slack and "nan" not in slack.lower()
    for fmt in ("dingtalk", "wecom"):
        content = webhooks.payload({**alert, "subject": "@all see http://evil.example"},
                                   fmt)["text"]["content"]  # fmt: skip
        assert "http://" not in content and "@all" not in content and "nan" not in content
    backlog = {"severity": "warning", "subject": "乐乐", "kpi": None, "rule": "backlog",
               "first_day": None, "value": float("nan")}  # fmt: skip
    assert "nan" not in webhooks.text(backlog).lower() and "None" not in webhooks.text(backlog)


def test_the_target_s_answer_is_never_echoed(target, monkeypatch):
    monkeypatch.setenv("SCORECARD_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    Target.status, Target.body = 500, b"<h1>internal secret token=abc123</h1>"
    reason = webhooks.test_hook({"url": target, "format": "slack"})
    assert reason == "the hook answered HTTP 500"
    Target.status, Target.body = 200, b'{"errcode": 310000, "errmsg": "secret abc123"}'
    reason = webhooks.test_hook({"url": target, "format": "dingtalk"})
    assert "abc123" not in reason and "310000" in reason


def test_slow_hooks_time_out_in_seconds_and_send_in_the_background(target, monkeypatch, con):
    monkeypatch.setenv("SCORECARD_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("SCORECARD_WEBHOOK_TIMEOUT_S", "1")
    Target.delay = 20  # never answers in time
    hooks = [{"name": f"h{i}", "url": target, "format": "slack", "min_severity": "info"}
             for i in range(2)]  # fmt: skip
    feed = pd.DataFrame([{"alert_key": f"k{i}", "severity": "warning", "subject": "A",
                          "kpi": None, "rule": "r", "first_day": None, "value": 1.0,
                          "status": "open"} for i in range(10)])  # fmt: skip
    started = time.monotonic()
    job = webhooks.start(MANAGER, lambda: webhooks.deliver(con, MANAGER, hooks, feed, pause=0.01))
    assert time.monotonic() - started < 0.5 and not job.done  # the page goes on
    while not job.done and time.monotonic() - started < 30:
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    assert job.done and elapsed < 12, elapsed  # 2 hooks × 3 tries × 1 s, the rest wait
    for name in ("h0", "h1"):
        assert job.report[name]["sent"] == 0
        assert job.report[name]["failed"][0] == "k0: no answer within 1 s"
        assert job.report[name]["failed"][1] == "9 more alert(s) wait for the next send"


def test_only_those_who_edit_the_rules_may_send(demo_copy, monkeypatch, accounts):
    with pytest.raises(AccessDenied):
        webhooks.start(Viewer("coach", "trainer"), lambda: None)
    monkeypatch.setattr(alerts, "load", lambda *a: {
        "rules": [], "webhooks": [{"name": "grp", "url": "https://example.com/h",
                                   "format": "slack"}]})  # fmt: skip
    labels = {}
    for user in ("coach", "boss"):
        at = new_app(demo_copy, monkeypatch, user).run()
        at.switch_page("pages/monitoring.py").run()
        assert not at.exception
        labels[user] = {b.label for b in at.button}
    sending = {"Send a test", "Send open alerts to the webhooks now"}
    assert not sending & labels["coach"] and sending <= labels["boss"]


def test_alert_rules_that_are_not_a_mapping_are_explained(tmp_path):
    con = open_store(tmp_path / "s.duckdb")
    for config in (["a", "b"], "text", {"rules": "x"}, {"rules": [1]}, {"webhooks": [3]}):
        assert alerts.check(config)[0][0] == "rules.mapping", config
        with pytest.raises(errors.AlertRulesError):
            alerts.save(con, MANAGER, config, reason="rules")
    rule = {"id": "s", "kind": "sudden_change", "kpi": "csat", "scope": "agent", "z": "abc",
            "severity": "warning"}  # fmt: skip
    assert ("rule.z", "s: z must be more than 0") in alerts.check({"rules": [rule]})


def test_the_readme_lists_every_setting_with_its_type_and_default():
    from lib.core import settings

    readme = (store.ROOT / "README.md").read_text(encoding="utf-8")
    for setting in settings.SETTINGS.values():
        default = f"{setting.default:,}" if isinstance(setting.default, int) else "(none)"
        assert f"| `{setting.env}` | {setting.type} | {default} |" in readme, setting.env
    listed = set(re.findall(r"^\| `(SCORECARD_[A-Z_]+)` \|", readme, re.M))
    assert listed == {s.env for s in settings.SETTINGS.values()}  # no row without an entry


def test_every_environment_variable_the_app_reads_is_a_registered_setting():
    from lib.core import settings

    code = "".join(p.read_text(encoding="utf-8") for p in (store.ROOT / "lib").rglob("*.py"))
    code += (store.ROOT / "app.py").read_text(encoding="utf-8")
    named = set(re.findall(r"SCORECARD_[A-Z][A-Z_]*[A-Z](?![A-Z_])", code))  # not a prefix
    assert named - {s.env for s in settings.SETTINGS.values()} == set()


def test_send_now_runs_in_the_background_and_shows_the_result(demo_copy, monkeypatch, accounts,
                                                              target):  # fmt: skip
    monkeypatch.setenv("SCORECARD_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setattr(alerts, "load", lambda *a: {
        "rules": [], "webhooks": [{"name": "grp", "url": target, "format": "slack",
                                   "min_severity": "info"}]})  # fmt: skip
    Target.delay = 0.5  # slower than a page run should wait
    at = new_app(demo_copy, monkeypatch, "boss").run()
    at.switch_page("pages/monitoring.py").run()
    started = time.monotonic()
    next(b for b in at.button if b.label == "Send open alerts to the webhooks now").click().run()
    assert time.monotonic() - started < 5 and not at.exception
    assert any("Sending in the background" in i.value for i in at.info)
    job = at.session_state["hook_job"]
    while not job.done and time.monotonic() - started < 60:
        time.sleep(0.2)
    at.run()
    report = json.loads(at.code[-1].value)
    assert report["grp"]["sent"] == len(Target.received) > 0 and report["grp"]["failed"] == []
