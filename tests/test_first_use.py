"""After the demo is cleared: the empty state offers the demo again and the way to a first
upload; charts carry units and localised axes."""

from lib import demo, store
from tests.test_app import new_app


def of_type(node, kind: str) -> list:
    """Elements of a kind anywhere under a node (inside columns too)."""
    found = [node] if getattr(node, "type", None) == kind else []
    for child in (getattr(node, "children", None) or {}).values():
        found += of_type(child, kind)
    return found


def test_after_the_demo_is_cleared_the_empty_state_offers_the_demo_and_a_first_upload(
    demo_copy, monkeypatch, accounts
):
    con = store.connect(demo_copy)
    demo.clear(con, by="boss")
    con.close()
    at = new_app(demo_copy, monkeypatch, "boss", lang="zh").run()
    assert not at.exception and not at.dataframe
    assert "还没有数据" in at.info[0].value
    assert "三步完成首次上传" in at.markdown[0].value
    [link] = of_type(at.main, "page_link")
    assert link.proto.label == "上传第一个导出文件" and "upload" in link.proto.page
    again = next(b for b in at.button if b.label == "重新载入演示数据")
    again.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    con = store.connect(demo_copy)
    assert demo.has_demo(con) and not demo.was_cleared(con)
    con.close()
    assert len(at.dataframe[0].value) == 30  # the leaderboard is back


def test_an_agent_is_not_offered_the_demo_or_an_upload(demo_copy, monkeypatch, accounts):
    con = store.connect(demo_copy)
    demo.clear(con, by="boss")
    con.close()
    at = new_app(demo_copy, monkeypatch, "ajie").run()
    assert not at.exception
    assert "No data yet" in at.info[0].value
    assert not [b for b in at.button if b.label == "Load the demo again"]


def test_the_overview_downloads_do_not_rerun_the_page(demo_copy, monkeypatch, accounts):
    # A press that reruns the page replaces this run's file ids, and the file asked for by
    # the same press can be gone by the time it is made (the report's first click did nothing).
    at = new_app(demo_copy, monkeypatch, "boss").run()
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Scorecard (CSV)",
        "Scorecard (Excel)",
        "Monthly report (HTML)",
    ]
    assert all(b.proto.ignore_rerun and b.proto.deferred_file_id for b in buttons)
