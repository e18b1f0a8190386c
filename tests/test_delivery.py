"""Numbers that come to people: the report and mail commands against a real SMTP server on
127.0.0.1, the daily digest against a local HTTP receiver, the watched folder with a file
copied in slowly, and the default period shared by the app and the command line."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from lib.app.cli import main
from lib.app.stores import open_store
from lib.app.watch import Watcher
from lib.auth import access
from lib.auth.access import Viewer
from lib.core import errors, store
from lib.ingest.mapping import load as load_mapping
from lib.present import digest, views
from tests.browser import free_port
from tests.kpi_fixtures import D, insert, t

SMTP_USER, SMTP_PASSWORD = "reports", "S3cret-smtp-pw"
# The test server takes a password without TLS, on 127.0.0.1 only; aiosmtpd warns about it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


# ---------- default period ----------


def test_default_period_is_the_latest_full_month_in_app_and_cli(con, capsys):
    # Tickets up to 15 Nov: October is the latest month covered in full, November is not.
    insert(con, "tickets", [t("T1", "A", D(2026, 10, 3, 10), fr=60),
                            t("T2", "A", D(2026, 11, 15, 10), fr=60)])  # fmt: skip
    assert views.default_month(con, views.months_with_data(con)) == "2026-10"
    assert views.default_period(con).label == "2026-10"
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    path = db.fetchone()[0]
    con.close()
    assert main(["scorecard", "--db", path, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["period"] == "2026-10"


def test_empty_store_has_no_default_period(con):
    assert views.default_period(con) is None


# ---------- report ----------


def test_report_writes_html_and_xlsx_and_refuses_other_endings(demo_copy, tmp_path, capsys):
    html_out, xlsx_out = tmp_path / "r.html", tmp_path / "r.xlsx"
    assert main(["report", "--db", str(demo_copy), "--period", "2026-10", "--lang", "en",
                 "--out", str(html_out)]) == 0  # fmt: skip
    text = html_out.read_text(encoding="utf-8")
    assert "Service scorecard report 2026-10" in text and "Team KPIs" in text
    assert "阿杰" in text  # the leaderboard names every agent
    assert main(["report", "--db", str(demo_copy), "--period", "2026-10", "--team", "售后组",
                 "--out", str(xlsx_out)]) == 0  # fmt: skip
    import pandas as pd

    sheet = pd.read_excel(xlsx_out)  # for people, in the report's language (zh by default)
    assert set(sheet["小组"]) == {"售后组"} and "满意度（%）" in sheet.columns
    capsys.readouterr()
    assert main(["report", "--db", str(demo_copy), "--out", str(tmp_path / "r.pdf")]) == 2
    assert ".html or .xlsx" in capsys.readouterr().err
    assert (
        main(["report", "--db", str(demo_copy), "--period", "2026-13", "--out", str(html_out)]) == 2
    )


# ---------- mail over a real SMTP server ----------


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 OK"


def _auth(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_auth,
                            auth_required=True, auth_require_tls=False)  # fmt: skip
    controller.start()
    for key, value in {"HOST": "127.0.0.1", "PORT": str(port), "TLS": "none", "USER": SMTP_USER,
                       "PASSWORD": SMTP_PASSWORD, "FROM": "scorecard@shop.test"}.items():  # fmt: skip
        monkeypatch.setenv(f"SCORECARD_SMTP_{key}", value)
    yield inbox
    controller.stop()


def _parts(envelope) -> tuple[email.message.EmailMessage, str, list]:
    msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
    html = msg.get_body(("html",)).get_content()
    files = [(p.get_filename(), p.get_content()) for p in msg.iter_attachments()]
    return msg, html, files


def _agents(path) -> list[str]:
    con = open_store(path, read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT DISTINCT agent FROM tickets").fetchall()]
    finally:
        con.close()


def test_mail_team_report_in_english(smtp, demo_copy, capsys):
    code = main(["mail", "--db", str(demo_copy), "--period", "2026-10", "--lang", "en",
                 "--to", "boss@shop.test", "coach@shop.test"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert SMTP_PASSWORD not in out.out + out.err
    assert len(smtp.envelopes) == 1
    env = smtp.envelopes[0]
    assert sorted(env.rcpt_tos) == ["boss@shop.test", "coach@shop.test"]
    assert env.mail_from == "scorecard@shop.test"
    msg, html, files = _parts(env)
    assert msg["Subject"] == "Service scorecard 2026-10"
    assert "The scorecard for 2026-10 is below and attached" in html and "Team KPIs" in html
    assert [name for name, _ in files] == ["scorecard-2026-10.html"]
    attached = files[0][1]
    attached = attached.decode("utf-8") if isinstance(attached, bytes) else attached
    assert "Service scorecard report 2026-10" in attached and "阿杰" in attached


def test_mail_each_agent_gets_only_their_own_numbers_in_chinese(smtp, demo_copy, tmp_path, capsys):
    book = tmp_path / "addresses.csv"
    book.write_text("agent,email\n阿杰,ajie@shop.test\n小王,wang@shop.test\n", encoding="utf-8")
    code = main(["mail", "--db", str(demo_copy), "--period", "2026-10", "--lang", "zh",
                 "--each-agent", "--addresses", str(book), "--attach", "xlsx"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "No address for 28 agent(s)" in out.err  # the demo team has 30 agents
    by_rcpt = {tuple(e.rcpt_tos): e for e in smtp.envelopes}
    assert set(by_rcpt) == {("ajie@shop.test",), ("wang@shop.test",)}
    everyone = _agents(demo_copy)
    assert len(everyone) == 30
    for address, agent in (("ajie@shop.test", "阿杰"), ("wang@shop.test", "小王")):
        msg, html, files = _parts(by_rcpt[(address,)])
        assert msg["To"] == address
        assert msg["Subject"] == "你的客服绩效 2026-10"
        assert f"{agent} 你好" in html and "此邮件只发给你" in html
        ((name, data),) = files
        assert name == f"scorecard-2026-10-{agent}.xlsx"
        import io

        import pandas as pd

        sheet = pd.read_excel(io.BytesIO(data))
        assert list(sheet["客服"]) == [agent]  # the mail's language: zh
        raw = html + sheet.to_csv()
        others = [a for a in everyone if a != agent and a not in agent]
        assert [a for a in others if a in raw] == []


def test_mail_wrong_password_fails_with_code_4_and_never_shows_the_password(smtp, demo_copy,
                                                                               monkeypatch, capsys):  # fmt: skip
    monkeypatch.setenv("SCORECARD_SMTP_PASSWORD", "Wrong-pw-123")
    code = main(["mail", "--db", str(demo_copy), "--period", "2026-10", "--to", "a@shop.test"])
    out = capsys.readouterr()
    assert code == 4
    assert "did not take the mail" in out.err
    assert "Wrong-pw-123" not in out.out + out.err
    assert smtp.envelopes == []


def test_mail_without_a_server_setting_says_which_variable(demo_copy, monkeypatch, capsys):
    monkeypatch.delenv("SCORECARD_SMTP_HOST", raising=False)
    assert main(["mail", "--db", str(demo_copy), "--to", "a@shop.test"]) == 2
    assert "SCORECARD_SMTP_HOST" in capsys.readouterr().err


def test_smtp_settings_hide_the_password():
    from lib.present import mail

    s = mail.smtp_settings({"SCORECARD_SMTP_HOST": "mx", "SCORECARD_SMTP_PASSWORD": "pw-x"})
    assert (s.port, s.tls) == (587, "starttls")
    assert "pw-x" not in repr(s)
    with pytest.raises(errors.MailError, match="SCORECARD_SMTP_TLS"):
        mail.smtp_settings({"SCORECARD_SMTP_HOST": "mx", "SCORECARD_SMTP_TLS": "maybe"})


# ---------- digest to a local HTTP receiver ----------


class Receiver(ThreadingHTTPServer):
    """Takes webhook posts; answers 500 to the first `fail` requests, then DingTalk's success."""

    def __init__(self, fail: int = 0):
        self.bodies, self.fail = [], fail

        class Handler(BaseHTTPRequestHandler):
            def do_POST(inner):  # noqa: N802, N805 - http.server's name
                body = json.loads(inner.rfile.read(int(inner.headers["Content-Length"])))
                self.bodies.append(body)
                failing = self.fail > 0
                self.fail -= failing
                inner.send_response(500 if failing else 200)
                inner.send_header("Content-Type", "application/json")
                inner.end_headers()
                inner.wfile.write(
                    b'{"errcode": 1}' if failing else b'{"errcode": 0, "errmsg": "ok"}'
                )

            def log_message(inner, *args):  # quiet
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/robot/send"


DAY = dt.date(2026, 5, 8)


def _digest_store(path):
    """First responses on the day: 60, 120, 180 s (median 120); in the 7 days before:
    240, 300, 360 s (median 300). One alert began that day; one watched file failed."""
    con = open_store(path)
    insert(con, "tickets", [
        t("D1", "阿杰", D(2026, 5, 8, 10), fr=60), t("D2", "小王", D(2026, 5, 8, 11), fr=120),
        t("D3", "阿杰", D(2026, 5, 8, 12), fr=180),
        t("W1", "阿杰", D(2026, 5, 1, 10), fr=240), t("W2", "小王", D(2026, 5, 4, 10), fr=300),
        t("W3", "小王", D(2026, 5, 7, 23), fr=360),
        t("X1", "阿杰", D(2026, 4, 30, 10), fr=9999),  # 8 days before: outside both
    ])  # fmt: skip
    con.execute("""INSERT INTO alerts (alert_key, rule, kind, severity, scope, subject, agent, kpi,
                   first_day, last_day, value, threshold, status, created_at)
                   VALUES ('k1', 'frt_breach', 'breach', 'critical', 'agent', '小王', '小王',
                   'first_response_time', DATE '2026-05-08', DATE '2026-05-08', 900, 600, 'open',
                   now())""")  # fmt: skip
    con.execute("""INSERT INTO watched_files VALUES ('abc', '/drop/千牛0508.csv', 10,
                   TIMESTAMP '2026-05-09 06:00', 'rejected', 'missing column 日期', NULL)""")
    return con


def test_digest_content_hand_computed(tmp_path):
    con = _digest_store(tmp_path / "d.duckdb")
    found = digest.content(con, DAY, lang="en")
    frt = {k["kpi"]: k for k in found["kpis"]}["first_response_time"]
    assert frt["value"] == 120.0
    assert frt["change"] == "-180 s"
    assert [a["subject"] for a in found["alerts"]] == ["小王"]
    assert [f["path"] for f in found["failed_files"]] == ["/drop/千牛0508.csv"]
    text = digest.text(found, "en")
    assert text.startswith("Daily digest for 2026-05-08")
    assert "First response time: 2 min" in text and "(-180 s)" in text
    assert "New alerts: 1" in text and "[critical] 小王 first_response_time" in text
    assert "Import failed: /drop/千牛0508.csv (rejected) missing column 日期" in text


def test_digest_cli_posts_once_per_day_with_retries(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SCORECARD_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    _digest_store(tmp_path / "d.duckdb").close()
    receiver = Receiver(fail=1)
    try:
        config = yaml.safe_load((store.ROOT / "config" / "alerts.yaml").read_text(encoding="utf-8"))
        config["webhooks"] = [{"name": "team", "url": receiver.url, "format": "dingtalk"}]
        (tmp_path / "alerts.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
        args = ["digest", "--db", str(tmp_path / "d.duckdb"), "--since", "2026-05-08",
                "--alerts", str(tmp_path / "alerts.yaml"), "--lang", "zh"]  # fmt: skip
        assert main(args) == 0
        assert "team: sent" in capsys.readouterr().out
        assert len(receiver.bodies) == 2  # the first answer was a 500: sent again
        body = receiver.bodies[-1]
        assert body["msgtype"] == "text"
        content = body["text"]["content"]
        assert "2026-05-08 每日简报" in content and "新预警：1 条" in content
        assert "导入失败：/drop/千牛0508.csv" in content
        assert main(args) == 0  # the same day again: not posted twice
        assert "team: already sent" in capsys.readouterr().out
        assert len(receiver.bodies) == 2
        receiver.fail = 10  # a hook that keeps failing: exit code 4, the day stays unposted
        assert main([*args, "--since", "2026-05-09"]) == 4
        assert "team: failed" in capsys.readouterr().err
    finally:
        receiver.shutdown()


def test_digest_without_hooks_says_so(tmp_path, capsys):
    (tmp_path / "alerts.yaml").write_text("rules: []\nwebhooks: []\n", encoding="utf-8")
    assert main(["digest", "--db", str(tmp_path / "d.duckdb"),
                 "--alerts", str(tmp_path / "alerts.yaml")]) == 2  # fmt: skip
    assert "No webhooks are configured" in capsys.readouterr().err


def test_digest_movers_on_demo_data(demo_copy):
    con = open_store(demo_copy)
    found = digest.content(con, dt.date(2026, 11, 14), lang="en")
    assert found["best"] and found["weakest"]
    assert all(d > 0 for _, d in found["best"]) and all(d < 0 for _, d in found["weakest"])
    assert [d for _, d in found["best"]] == sorted((d for _, d in found["best"]), reverse=True)


# ---------- watched folder ----------

HEADER = "Ticket ID,Agent,Created At,First Response At,Resolved At\n"


def _rows(n: int, start: int = 0) -> str:
    return "".join(f"W{i},阿杰,2026-05-0{1 + i % 9} 10:00:00,2026-05-0{1 + i % 9} 10:01:00,\n"
                   for i in range(start, start + n))  # fmt: skip


def _slow_copy(path, text: str, chunks: int = 8, pause: float = 0.25) -> None:
    data = text.encode("utf-8")
    step = len(data) // chunks + 1
    with open(path, "wb") as fh:
        for i in range(0, len(data), step):
            fh.write(data[i : i + step])
            fh.flush()
            time.sleep(pause)


def _counts(con) -> tuple[int, int]:
    cur = con.cursor()
    return (cur.execute("SELECT count(*) FROM tickets").fetchone()[0],
            cur.execute("SELECT count(*) FROM uploads").fetchone()[0])  # fmt: skip


def test_watcher_waits_for_a_slowly_copied_file_and_takes_each_content_once(tmp_path, con):
    folder = tmp_path / "drop"
    folder.mkdir()
    # Chunks come 0.25 s apart; a file counts as settled after 1.5 s without change.
    watcher = Watcher(folder, load_mapping("demo_tickets"), settle=1.5)
    text = HEADER + _rows(40)
    copier = threading.Thread(target=_slow_copy, args=(folder / "day1.csv", text))
    copier.start()
    results = []
    while copier.is_alive():  # scans while the file grows: none may read it half-written
        results += watcher.scan(con)
        time.sleep(0.1)
    assert results == []
    deadline = time.time() + 10
    while not results and time.time() < deadline:
        results += watcher.scan(con)
        time.sleep(0.1)
    assert [r["status"] for r in results] == ["stored"]
    assert _counts(con) == (40, 1)  # every row, in one upload
    # The same bytes under another name, and the unchanged file: nothing new.
    (folder / "copy of day1.csv").write_bytes((folder / "day1.csv").read_bytes())
    (folder / "day1.csv.part").write_text("half", encoding="utf-8")  # a sync tool's temp file
    time.sleep(1.6)
    assert watcher.scan(con) == [] and watcher.scan(con) == []
    assert _counts(con) == (40, 1)
    # A changed file is read again; its old rows are already stored.
    (folder / "day1.csv").write_text(text + _rows(2, start=40), encoding="utf-8")
    watcher.scan(con)
    time.sleep(1.6)
    assert [r["status"] for r in watcher.scan(con)] == ["stored"]
    assert _counts(con) == (42, 2)
    stored = con.execute("SELECT count(*), count(DISTINCT sha256) FROM watched_files").fetchone()
    assert stored == (2, 2)


def test_watch_once_cli_logs_and_exit_code_for_a_bad_file(tmp_path, capsys):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "good.csv").write_text(HEADER + _rows(3), encoding="utf-8")
    (folder / "bad.csv").write_text("Foo,Bar\n1,2\n", encoding="utf-8")
    db, log = tmp_path / "w.duckdb", tmp_path / "watch.log"
    code = main(["watch", str(folder), "--mapping", "demo_tickets", "--once", "--settle", "0.3",
                 "--db", str(db), "--log", str(log)])  # fmt: skip
    assert code == 2  # one file could not be used
    logged = log.read_text(encoding="utf-8")
    assert "good.csv: " in logged and "3 rows read" in logged
    assert "bad.csv: REJECTED" in logged
    con = open_store(db)
    rows = dict(
        con.execute("SELECT regexp_extract(path, '[^/]+$'), status FROM watched_files").fetchall()
    )
    assert rows == {"good.csv": "stored", "bad.csv": "rejected"}
    found = digest.content(con, dt.date.today() - dt.timedelta(days=1))
    assert [f["status"] for f in found["failed_files"]] == ["rejected"]
    con.close()
    # Nothing new the second time: exit 0 would hide nothing, since bad.csv was reported once.
    assert main(["watch", str(folder), "--mapping", "demo_tickets", "--once", "--settle", "0.3",
                 "--db", str(db)]) == 0  # fmt: skip


def test_agents_see_only_own_card_in_agent_report(demo_copy):
    from lib.present import report

    con = open_store(demo_copy)
    card = report.card_for(con, access.SYSTEM, views.default_period(con))
    with pytest.raises(ValueError, match="cut it to the agent"):
        report.agent_html(card, "阿杰", "en")


@pytest.mark.parametrize("command", ["report", "mail", "digest", "watch"])
def test_new_commands_have_help_and_the_exit_codes_are_listed(command):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "lib", command, "--help"], capture_output=True,
                         text=True, cwd=store.ROOT)  # fmt: skip
    assert out.returncode == 0 and "usage:" in out.stdout
    top = subprocess.run([sys.executable, "-m", "lib", "--help"], capture_output=True, text=True,
                         cwd=store.ROOT)  # fmt: skip
    assert "4 mail or digest could not deliver" in " ".join(top.stdout.split())


def test_the_reports_spreadsheet_and_the_mailed_one_name_the_scheme_version(smtp, demo_copy,
                                                                           tmp_path, capsys):  # fmt: skip
    import io

    import openpyxl

    from lib.metrics import schemes

    con = store.connect(demo_copy)
    body = schemes.preset_body(schemes.DEFAULT)
    body["grades"][-1]["min"] = 0
    version = schemes.save(con, Viewer("周主管", "manager"), body, reason="October review",
                           now=dt.datetime(2026, 11, 3, 9), in_force_from=dt.date(2026, 10, 1))  # fmt: skip
    con.close()

    def column(book: bytes, header: str) -> set:
        rows = list(openpyxl.load_workbook(io.BytesIO(book)).active.iter_rows(values_only=True))
        return {r[rows[0].index(header)] for r in rows[1:]}

    out = tmp_path / "r.xlsx"
    assert main(["report", "--db", str(demo_copy), "--period", "2026-10", "--out", str(out)]) == 0
    assert column(out.read_bytes(), "计分方案") == {
        f"综合均衡（默认） · 第 {version} 版，自 2026-10-01 起生效"
    }
    code = main(["mail", "--db", str(demo_copy), "--period", "2026-10", "--lang", "en",
                 "--attach", "xlsx", "--to", "boss@shop.test"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    _, html, files = _parts(smtp.envelopes[0])
    [(name, book)] = files
    assert name == "scorecard-2026-10.xlsx"
    words = f"Balanced (default) · version {version}, in force from 2026-10-01"
    assert column(book, "Scoring scheme") == {words}
    assert f"version {version}, in force from 2026-10-01" in html  # the mail's own text
