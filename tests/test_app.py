"""AppTest: every page renders on demo data; upload, language switch and demo clearing work.

AppTest keeps only the elements of the latest run's page once `st.navigation` is used, so the
frame (banner, language switch) is checked on a first run; the browser tests check it live.
"""

import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from lib import store
from tests.test_presets import QIANNIU

PAGES = ["overview", "scorecard", "weights", "upload", "coaching", "monitoring", "quality"]


@pytest.fixture
def app(demo_copy, monkeypatch):
    monkeypatch.setenv("SCORECARD_DB", str(demo_copy))
    at = AppTest.from_file(str(store.ROOT / "app.py"), default_timeout=60)
    at.session_state["lang"] = "en"
    return at.run()


def test_first_start_on_an_empty_store_loads_the_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_DB", str(tmp_path / "fresh.duckdb"))
    at = AppTest.from_file(str(store.ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    assert "demo data" in at.info[0].value
    board = at.dataframe[0].value
    assert len(board) == 30 and board["Rank"].min() == 1  # every demo agent ranked


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(app, page):
    app.switch_page(f"pages/{page}.py").run()
    assert not app.exception
    assert app.header[0].value


def test_language_switch_changes_every_label(app):
    assert app.header[0].value == "Overview"
    assert app.selectbox(key="lang_choice").value == "en"
    app.selectbox(key="lang_choice").set_value("zh").run()
    assert app.header[0].value == "总览"
    assert app.metric[0].label == "首次响应时长"
    assert "排行榜" in [s.value for s in app.subheader]


def test_chinese_first_run_shows_no_english(demo_copy, monkeypatch):
    monkeypatch.setenv("SCORECARD_DB", str(demo_copy))
    at = AppTest.from_file(str(store.ROOT / "app.py"), default_timeout=60)
    at.session_state["lang"] = "zh"
    at.run()
    assert "演示数据" in at.info[0].value
    texts = [at.header[0].value, *(m.label for m in at.metric), *(c.value for c in at.caption),
             *(s.value for s in at.subheader), *at.dataframe[0].value.columns]  # fmt: skip
    # Acronyms such as KPI are normal in Chinese screens; English words are not.
    assert not [text for text in texts if re.search(r"[a-z]{2,}", text)]


def test_upload_through_the_page(app):
    app.switch_page("pages/upload.py").run()
    content = QIANNIU.encode("gb18030").replace(b"2026/05/01", b"2026/10/01")
    content += "小林,2026/10/02,1,1,1,1,,50,50,x秒,,,,,,\n".encode("gb18030")
    app.file_uploader[0].set_value(("千牛.csv", content, "text/csv")).run()
    assert not app.exception
    assert "qianniu_agent_daily" in app.caption[0].value  # suggested from the headers
    assert app.dataframe[0].value["agent"].tolist()[:2] == ["小美", "阿杰"]  # preview
    app.button[0].click().run()  # Store
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"Rows read": "3", "Accepted": "2", "Duplicates": "0", "Quarantined": "1"}
    assert "= 3 = rows read" in " ".join(c.value for c in app.caption)
    assert any(b.label == "Download quarantine report (CSV)" for b in app.get("download_button"))


def test_unusable_upload_is_explained(app):
    app.switch_page("pages/upload.py").run()
    app.file_uploader[0].set_value(("x.csv", b"\x00\x01garbage\x00" * 40, "text/csv")).run()
    assert not app.exception
    assert "binary" in app.error[0].value


def test_building_a_mapping_in_the_page(app, tmp_path, monkeypatch):
    import lib.mapping as mappings

    presets = tmp_path / "presets"
    shutil.copytree(mappings.PRESETS_DIR, presets)
    monkeypatch.setattr(mappings, "PRESETS_DIR", presets)  # keep the repo's presets clean
    app.switch_page("pages/upload.py").run()
    csv = "员工,统计日,接待量\n小美,2026-10-01,12\n阿杰,2026-10-01,9\n".encode()
    app.file_uploader[0].set_value(("my.csv", csv, "text/csv")).run()
    app.toggle(key="build_mapping").set_value(True).run()
    app.selectbox[0].set_value("agent_daily").run()
    assert "not complete" in app.warning[0].value  # nothing guessed for these headers yet
    app.selectbox(key="map_agent_daily_agent").set_value("员工")
    app.selectbox(key="map_agent_daily_date").set_value("统计日")
    app.selectbox(key="map_agent_daily_receptions").set_value("接待量").run()
    assert not app.warning and not app.exception
    assert app.dataframe[0].value["receptions"].tolist() == [12, 9]
    app.text_input[0].set_value("shop_daily").run()
    next(b for b in app.button if b.label == "Save mapping").click().run()
    assert (presets / "shop_daily.yaml").exists()
    next(b for b in app.button if b.label == "Store").click().run()
    assert {m.label: m.value for m in app.metric}["Accepted"] == "2"


def test_overview_headline_leaderboard_and_downloads(app):
    assert len(app.metric) == 12  # the balanced scheme's KPIs, each with its change
    assert all(m.label for m in app.metric)
    assert "2026-10" in app.caption[0].value  # the latest month the data covers in full
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["Scorecard (CSV)", "Scorecard (Excel)", "Monthly report (HTML)"]


def test_sidebar_choices_change_what_is_scored(demo_copy, monkeypatch):
    monkeypatch.setenv("SCORECARD_DB", str(demo_copy))
    at = AppTest.from_file(str(store.ROOT / "app.py"), default_timeout=60)
    at.session_state["lang"] = "en"
    at.session_state["team"] = "售前组"
    at.session_state["scheme"] = "sales_basic"
    at.session_state["period"] = "2026-09"
    at.run()
    assert not at.exception
    board = at.dataframe[0].value
    assert set(board["Team"]) == {"售前组"} and len(board) == 10
    assert "Sales only" in at.caption[0].value and "2026-09" in at.caption[0].value


def test_agent_scorecard_page(app):
    app.switch_page("pages/scorecard.py").run()
    assert not app.exception
    assert [m.label for m in app.metric] == ["Score", "Grade", "Rank", "Percentile"]
    app.selectbox(key="agent").set_value("阿杰").run()
    assert not app.exception
    assert any("To improve" in m.value for m in app.markdown)
    app.selectbox(key="drill_kpi").set_value("csat").run()
    tickets = app.dataframe[-1].value
    assert len(tickets) > 0 and (tickets["csat"] < 4).all()


def test_weights_page_reranks_an_edited_scheme_and_saves_a_version(app, demo_copy):
    import yaml

    from lib import schemes

    app.switch_page("pages/weights.py").run()
    assert not app.exception
    saved = app.dataframe[2].value if len(app.dataframe) > 2 else None
    body = yaml.safe_load(yaml.safe_dump(schemes.preset_body("balanced")))
    body["dimensions"]["sales"]["weight"] = 200  # what the editor produces on a weight change
    app.session_state["edit_body"] = body
    app.run()
    assert not app.exception
    ranking = next(d.value for d in app.dataframe if "Move" in d.value.columns)
    assert ranking["Move"].str.contains("▲").any() and ranking["Move"].str.contains("▼").any()
    assert saved is None or not ranking.equals(saved)
    app.text_input(key="weights_reason").set_value("sales push this quarter").run()
    next(b for b in app.button if b.label == "Save version").click().run()
    assert not app.exception and "Saved as version 2." in [s.value for s in app.success]
    con = store.connect(demo_copy)
    history = schemes.versions(con, "balanced")
    assert (
        list(history["version"]) == [2, 1]
        and history.iloc[0]["reason"] == "sales push this quarter"
    )
