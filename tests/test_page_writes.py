"""No page render writes to the store: every page, for every role that may open it, renders with
the store's write paths patched to fail, and afterwards every table holds the rows it held and
the data version has not moved. Writes happen after an action (an upload, a save, a click), in
the warm-up and in the command line, never because someone looked at a page."""

from __future__ import annotations

import threading

import pytest

from lib.auth.access import Viewer, may_open
from lib.core import store
from tests.conftest import ACCOUNTS
from tests.test_app import new_app

PAGES = ["overview", "scorecard", "weights", "upload", "coaching", "plans", "rewards",
         "monitoring", "quality", "calibration", "users", "audit", "account"]  # fmt: skip


def _snapshot(con) -> dict:
    cur = con.cursor()
    tables = [r[0] for r in cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]  # fmt: skip
    counts = {t: cur.execute(f"SELECT count(*) FROM {store.quote_ident(t)}").fetchall()[0][0]
              for t in tables}  # fmt: skip
    return {"data_version": store.data_version(con), **counts}


@pytest.mark.parametrize("user", ["admin", "boss", "coach", "ajie"])
def test_rendering_every_page_writes_nothing(user, demo_copy, monkeypatch, accounts):
    app = new_app(demo_copy, monkeypatch, user, timeout=120).run()  # signing in may set up
    assert not app.exception, app.exception
    for thread in threading.enumerate():  # the start-up warm-up writes; let it finish first
        if thread.name == "scorecard-warmup":
            thread.join(120)
    con = store.connect(demo_copy)  # the same database as the page's, in this process
    before = _snapshot(con)

    def refuse(*args, **kwargs):
        raise AssertionError("a page render wrote to the store")

    monkeypatch.setattr(store, "transaction", refuse)
    monkeypatch.setattr(store, "write", refuse)
    role, agent = ACCOUNTS.get(user, ("admin", None))
    viewer = Viewer(user, role, agent)
    opened = [page for page in PAGES if may_open(viewer, page)]
    assert opened  # every role opens some pages (an agent: scorecard, coaching, plans…)
    for page in opened:
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception, (page, app.exception)
    assert _snapshot(con) == before
