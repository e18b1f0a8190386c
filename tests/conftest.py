"""Shared fixtures: a fresh store per test, a demo store per session, file writers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib import demo, store

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


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
