"""After the demo is cleared: the empty state offers the demo again and the way to a first
upload; charts carry units and localised axes."""

import pandas as pd

from lib.app import demo
from lib.app.stores import open_store
from lib.auth.access import Viewer
from lib.metrics.kpis import load_catalogue
from lib.present import charts, views
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
    con = open_store(demo_copy)
    demo.clear(con, Viewer("boss", "manager"))
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
    con = open_store(demo_copy)
    assert demo.has_demo(con) and not demo.was_cleared(con)
    con.close()
    assert len(at.dataframe[0].value) == 30  # the leaderboard is back


def test_an_agent_is_not_offered_the_demo_or_an_upload(demo_copy, monkeypatch, accounts):
    con = open_store(demo_copy)
    demo.clear(con, Viewer("boss", "manager"))
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


def trend_rows(values):
    days = pd.date_range("2026-09-07", periods=len(values), freq="7D")
    return pd.DataFrame({"series": "A", "bucket": days, "value": values})


def tick_texts(fig, values) -> list[str]:
    """The tick labels Plotly's format gives the values on the axis."""
    fmt = fig.layout.yaxis.tickformat
    digits = int(fmt[1:-1])
    return [f"{v * 100:.{digits}f}%" for v in values]


def test_a_narrow_rate_trend_has_ticks_that_differ_and_a_titled_axis():
    values = [0.898, 0.9, 0.902, 0.904]
    fig = charts.trend(trend_rows(values), "t", percent=True, y_title="满意度（%）")
    ticks = [0.898, 0.9, 0.902, 0.904]  # ticks Plotly puts on a range this narrow
    assert len(set(tick_texts(fig, ticks))) == len(ticks)  # not 90% four times
    assert fig.layout.yaxis.title.text == "满意度（%）"
    assert fig.layout.xaxis.tickformat == "%Y-%m-%d"  # no English month names on any page
    wide = charts.trend(trend_rows([0.5, 0.9]), "t", percent=True)
    assert wide.layout.yaxis.tickformat == ".0%"


def test_the_channel_chart_names_its_unit():
    rows = pd.DataFrame(
        {"channel": ["在线聊天", "邮件"], "value": [30.0, 5000.0], "shown": ["30 s", "1.4 h"]}
    )
    fig = charts.channel_bars(
        rows, "t", y_title=views.kpi_axis(load_catalogue().get("first_response_time"), "zh")
    )
    assert fig.layout.yaxis.title.text == "首次响应时长（秒）"
    rates = pd.DataFrame({"channel": ["chat"], "value": [0.8], "shown": ["80.0%"]})
    assert charts.channel_bars(rates, "t", percent=True).layout.yaxis.tickformat.endswith("%")


def test_two_dimensions_are_drawn_as_bars_not_a_flat_radar():
    two = pd.DataFrame(
        {"label": ["时效", "体验"], "team_median": [70.0, 80.0], "agent": [60.0, 90.0]}
    )
    fig = charts.radar(two, "阿杰", "团队中位数", "t")
    assert [trace.type for trace in fig.data] == ["bar", "bar"]
    three = pd.concat(
        [two, pd.DataFrame({"label": ["销售"], "team_median": [50.0], "agent": [40.0]})]
    )
    assert {trace.type for trace in charts.radar(three, "阿杰", "团队", "t").data} == {
        "scatterpolar"
    }


def test_the_demo_banner_asks_only_those_who_may_upload_to_upload(demo_copy, monkeypatch, accounts):
    agent = new_app(demo_copy, monkeypatch, "ajie").run()
    assert "once your manager uploads" in agent.info[0].value
    assert "Upload your own exports" not in agent.info[0].value
    manager = new_app(demo_copy, monkeypatch, "boss").run()
    assert "Upload your own exports" in manager.info[0].value
