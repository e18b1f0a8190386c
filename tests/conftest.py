"""Shared fixtures: a fresh store per test, a demo store per session, file writers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib import demo, store, users

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "Test-pass-1-long"  # every account made by the `accounts` fixture
# username → (role, agent)
ACCOUNTS = {"boss": ("manager", None), "coach": ("trainer", None), "ajie": ("agent", "阿杰"),
            "wang": ("agent", "小王")}  # fmt: skip


@pytest.fixture(autouse=True)
def isolated_accounts(tmp_path, monkeypatch):
    """No test touches the installation's accounts file or inherits its passwords."""
    monkeypatch.setenv("SCORECARD_AUTH", str(tmp_path / "auth.yaml"))
    monkeypatch.delenv("SCORECARD_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SCORECARD_COOKIE_KEY", raising=False)
    # One store zone for every test, whatever the machine's: the shops' own.
    monkeypatch.setenv("SCORECARD_TIMEZONE", "Asia/Shanghai")


@pytest.fixture
def accounts(tmp_path, monkeypatch) -> Path:
    """An accounts file with admin and the ACCOUNTS users, all with PASSWORD."""
    path = tmp_path / "auth.yaml"
    monkeypatch.setenv("SCORECARD_ADMIN_PASSWORD", PASSWORD)
    users.first_start(path)
    monkeypatch.delenv("SCORECARD_ADMIN_PASSWORD")
    for name, (role, agent) in ACCOUNTS.items():
        users.add(path, name, role, agent=agent, password=PASSWORD)
    return path


def sign_in(at, username: str):
    """Start an AppTest session as if `username` had signed in."""
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["session_gen"] = users.session(users.auth_path(), username)
    return at


@pytest.fixture
def con(tmp_path):
    connection = store.connect(tmp_path / "test.duckdb")
    yield connection
    connection.close()


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
    connection = store.connect(path)
    demo.load(connection, folder / "files")
    connection.close()
    return path


@pytest.fixture
def demo_copy(demo_store, tmp_path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_store, path)
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
