"""Shared fixtures: a fresh store per test, a demo store per session, file writers, and the
clean-up of what AppTest runs leave open."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from lib.app import demo, handoff, warmup
from lib.app.stores import open_store
from lib.auth import users
from tests.browser import launch

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "Test-pass-1-long"  # every account made by the `accounts` fixture
# username → (role, agent)
ACCOUNTS = {"boss": ("manager", None), "coach": ("trainer", None), "ajie": ("agent", "阿杰"),
            "wang": ("agent", "小王")}  # fmt: skip


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true",
                     help="also run the tests marked slow (CI does; a developer's run leaves them out)")  # fmt: skip


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Tests marked slow are left out (deselected, not skipped) unless --slow is given. Browser
    tests form one group that a parallel run (--dist loadgroup) gives to one worker, so that
    two apps and two browsers never compete for the CPU with each other."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(autouse=True)
def isolated_accounts(tmp_path, monkeypatch):
    """No test touches the installation's accounts file or inherits its passwords."""
    monkeypatch.setenv("SCORECARD_AUTH", str(tmp_path / "auth.yaml"))
    monkeypatch.delenv("SCORECARD_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SCORECARD_COOKIE_KEY", raising=False)
    # One store zone for every test, whatever the machine's: the shops' own.
    monkeypatch.setenv("SCORECARD_TIMEZONE", "Asia/Shanghai")
    # The upload page waits this long for a read or a store before it shows progress instead:
    # tests see the result in the run that asked for it (one test shortens it on purpose).
    monkeypatch.setenv("SCORECARD_UPLOAD_WAIT_S", "600")


@pytest.fixture(autouse=True)
def demo_files_in_tmp(tmp_path, monkeypatch):
    """The demo's generated exports go to the test's own folder, not the shared data/demo/
    (the app loads the demo into an empty store): parallel tests never write one file."""
    load = demo.load

    def load_here(con, out_dir=None, *args, **kwargs):
        return load(con, out_dir or tmp_path / "demo-files", *args, **kwargs)

    monkeypatch.setattr(demo, "load", load_here)


@pytest.fixture(autouse=True)
def closed_app_stores(monkeypatch):
    """What the app opens for a store in this process (AppTest runs) is closed after the test:
    its cached connection, once the warm-up is done, and the hand-off thread serving it."""
    opened, served = [], []
    start, serve = warmup.start, handoff.serve

    def started(con):
        thread = start(con)
        opened.append((con, thread))
        return thread

    def serving(db, *args, **kwargs):
        served.append(db)
        return serve(db, *args, **kwargs)

    monkeypatch.setattr(warmup, "start", started)
    monkeypatch.setattr(handoff, "serve", serving)
    yield
    for db in served:
        handoff.stop(db)
    if opened:
        ui = sys.modules.get("pages._ui")
        if ui is not None:
            ui.connection.clear()  # the next run opens its store anew
        for con, thread in opened:
            thread.join(120)
            if not thread.is_alive():
                con.close()


@pytest.fixture(scope="session")
def accounts_file(tmp_path_factory) -> Path:
    """The accounts of the `accounts` fixture, hashed once per session (bcrypt is slow on
    purpose); tests get a copy."""
    path = tmp_path_factory.mktemp("accounts") / "auth.yaml"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SCORECARD_ADMIN_PASSWORD", PASSWORD)
        users.first_start(path)
    for name, (role, agent) in ACCOUNTS.items():
        users.add(path, name, role, agent=agent, password=PASSWORD)
    return path


@pytest.fixture
def accounts(accounts_file, tmp_path) -> Path:
    """An accounts file with admin and the ACCOUNTS users, all with PASSWORD: the test's own
    copy, at the path that SCORECARD_AUTH names, free to change."""
    path = tmp_path / "auth.yaml"
    shutil.copy2(accounts_file, path)
    return path


def sign_in(at, username: str):
    """Start an AppTest session as if `username` had signed in."""
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["session_gen"] = users.session(users.auth_path(), username)
    return at


@pytest.fixture
def con(tmp_path):
    connection = open_store(tmp_path / "test.duckdb")
    yield connection
    connection.close()


@pytest.fixture
def write_rows(tmp_path):
    """write_rows(name, rows) → path of a CSV or xlsx file (by the name's suffix) of the rows."""

    def _write(name: str, rows: list[list]) -> Path:
        path = tmp_path / name
        if path.suffix == ".csv":
            path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
        else:
            import openpyxl

            book = openpyxl.Workbook()
            for row in rows:
                book.active.append(list(row))
            book.save(path)
        return path

    return _write


@pytest.fixture
def write(tmp_path):
    """write(name, text, encoding='utf-8') → path of a file with that content."""

    def _write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return _write


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """A store file with the demo data loaded once per test session (copy before writing)."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.duckdb"
    connection = open_store(path)
    demo.load(connection, folder / "files")
    connection.close()
    return path


@pytest.fixture
def demo_copy(demo_store, tmp_path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store, path)
    return path


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium per test process, for every browser test (each opens contexts of
    its own in it): starting Playwright twice in one thread is refused."""
    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
