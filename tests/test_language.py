"""One language at a time: every page, in each language, on the demo store.

Each page is rendered with AppTest for an admin (who may open every page) and everything a
person reads is collected: headings, text, alerts, widget labels, options and help, metrics,
tab and expander labels, table headers as shown (after the column configuration) and text
cells. A page fails on a snake_case identifier, on words of the other language outside names
and free text (agents, teams, reviewers, user names, comments, notes, titles), on empty
cells shown as "None" (a table with missing values must set its placeholder) or written as
"None", "nan", "NaT", on a multiselect left with Streamlit's English "Choose options", and on
a chart whose dates Plotly would write with English month names. Chart titles, axis titles
and trace names are checked like any text.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.app.stores import open_store
from lib.auth import users
from lib.core import store
from lib.core.i18n import LANGUAGES, t
from lib.ingest import mapping
from tests.conftest import sign_in

PAGES = ["overview", "scorecard", "weights", "upload", "coaching", "plans", "rewards", "monitoring", "quality",
         "calibration", "users", "audit", "account"]  # fmt: skip

SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Words a Chinese screen uses as they are: acronyms, file formats, units, a statistician's name.
ZH_ALLOWED = {"KPI", "SLA", "CSV", "Excel", "HTML", "YAML", "QA", "ID", "MB", "pp", "CSAT",
              "Krippendorff", "Wilson", "IQS", "AOV", "URL", "Streamlit", "DingTalk", "WeCom", "Slack", "P90",
              "GB", "TSV", "XLSX", "GB18030", "UTF", "BOM", "GBK", "N/A", "NA", "z"}  # fmt: skip
# A duration in English units after a number ("2 min 09 s", "45 s", "1.5 h"): 2 分 09 秒 in Chinese.
ENGLISH_DURATION = re.compile(r"\d\s?(?:s|sec|min|h)\b")
# Columns that quote what customers and agents wrote (comments, the words that decided a label).
QUOTE_COLUMNS = ["voice.comment", "voice.evidence", "voice.phrases", "voice.examples"]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
EMPTY_WORDS = {"None", "nan", "NaN", "NaT", "null", "<NA>", "empty"}


def free_text(db) -> set[str]:
    """Names and text people wrote, which stay as written in either language."""
    con = open_store(db)
    found: set[str] = set()
    queries = [
        "select agent from roster", "select display_name from roster", "select team from roster",
        "select supervisor from roster", "select distinct reviewer from qa_reviews",
        "select distinct reviewer from peer_reviews", "select distinct category from tickets",
        "select distinct comment from tickets", "select distinct comment from csat_responses",
        "select distinct comment from qa_reviews", "select distinct comment from peer_reviews",
        "select title from plans", "select body from notes", "select body from plan_checkins",
        "select reason from qa_disputes", "select decision from qa_disputes",
        "select distinct text from messages", "select distinct shop from tickets",
        "select distinct mapping from uploads", "select distinct name from mapping_versions",
        "select distinct shop from agent_daily", "select distinct account from agent_daily",
        "select distinct file_name from uploads",
    ]  # fmt: skip
    for sql in queries:
        try:
            found.update(str(v) for (v,) in con.execute(sql).fetchall() if v)
        except Exception:  # noqa: BLE001 - a table this store does not have
            continue
    con.close()
    found.update(mapping.preset_names())  # mappings are named by whoever saved them
    found.update(users.listing(users.auth_path())["name"])
    return {s for s in found if s.strip()}


def visible_columns(frame) -> list[tuple[str, str]]:
    """(data column, header shown) for each column the table shows."""
    config = json.loads(frame.proto.columns or "{}")
    shown = []
    for column in frame.value.columns:
        conf = config.get(f"name:{column}", config.get(str(column), {}))
        if conf is None or conf.get("hidden"):
            continue
        shown.append((column, conf.get("label") or str(column)))
    return shown


def collect(at: AppTest, lang: str) -> tuple[list[str], list[str]]:
    """(texts, other problems: empty cells, English placeholders, English dates) on the page."""
    quotes = {t(key, lang) for key in QUOTE_COLUMNS}
    texts: list[str] = []
    empty: list[str] = []

    def add(*values):
        texts.extend(str(v) for v in values if v not in (None, ""))

    def walk(node):
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)
        kind = getattr(node, "type", None)
        proto = getattr(node, "proto", None)
        if kind == "dataframe":
            frame = node.value
            columns = visible_columns(node)
            add(*(header for _, header in columns))
            placeholder = node.proto.placeholder if node.proto.HasField("placeholder") else None
            for column, header in columns:
                values = frame[column]
                if values.isna().any() and placeholder in (None, "None", "nan"):
                    empty.append(f"{header}: missing values shown as 'None'")
                if header in quotes:
                    continue
                if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
                    for v in values.dropna().head(40):
                        if isinstance(v, str):
                            if v.strip() in EMPTY_WORDS:
                                empty.append(f"{header}: {v!r}")
                            texts.append(v)
        elif kind == "plotly_chart":
            chart(json.loads(proto.spec))
        elif kind in ("markdown", "caption", "header", "subheader", "title", "info", "warning",
                      "error", "success", "text", "toast"):  # fmt: skip
            add(node.value)
        elif kind == "metric":
            add(node.label, node.value, proto.help)
        elif kind in ("tab", "expander"):
            add(getattr(node, "label", None))
        elif kind == "multiselect" and not proto.placeholder:  # Streamlit's "Choose options"
            empty.append(f"{proto.label}: Streamlit's English placeholder when nothing is chosen")
        if proto is not None and kind not in ("code", "dataframe", "metric", "plotly_chart"):
            for name in ("label", "help", "placeholder"):
                if hasattr(proto, name):
                    add(getattr(proto, name))
            if hasattr(proto, "options"):
                for option in proto.options:
                    add(option if isinstance(option, str) else getattr(option, "content", ""))

    def chart(spec):
        layout = spec.get("layout", {})
        for part in [layout, *(v for k, v in layout.items() if k.startswith(("xaxis", "yaxis")))]:
            title = part.get("title")
            add(title.get("text") if isinstance(title, dict) else title)
        for trace in spec.get("data", []):
            add(trace.get("name"))
            for axis in ("x", "y", "theta"):
                values = trace.get(axis) or []
                if isinstance(values, list):
                    add(*(v for v in values[:40] if isinstance(v, str) and not DATE.match(v)))
                    dates = [v for v in values if isinstance(v, str) and DATE.match(v)]
                    form = layout.get(f"{axis}axis", {}).get("tickformat")
                    if dates and not form:  # Plotly writes "Oct 2026" in every language
                        empty.append(
                            f"chart {layout.get('title', {}).get('text')!r}: dates in English"
                        )

    walk(at._tree)
    return texts, empty


def strip_free(text: str, exempt: list[str]) -> str:
    """The text without names and free text, code in backticks, settings and file names."""
    text = text.replace("\\", "")  # Markdown escapes
    text = re.sub(r"`[^`]*`", " ", text)  # commands, paths and option names
    text = re.sub(r"\bSCORECARD_[A-Z_]+\b", " ", text)  # settings are typed as they are
    text = re.sub(r"[\w.-]+\.(csv|tsv|xlsx|yaml|html|duckdb|jsonl|toml)\b", " ", text)
    for s in exempt:
        if s in text:
            text = text.replace(s, " ")
    return text


def problems(texts: list[str], lang: str, exempt: list[str]) -> list[str]:
    found = []
    for text in texts:
        if text in exempt:
            continue
        rest = strip_free(text, exempt)
        if SNAKE.search(rest):
            found.append(f"identifier {SNAKE.search(rest).group()!r} in {text!r}")
        elif lang == "zh":
            words = [w for w in LATIN_WORD.findall(rest) if w not in ZH_ALLOWED]
            if words:
                found.append(f"English {words[:3]} in {text!r}")
            elif ENGLISH_DURATION.search(rest):
                found.append(f"English unit {ENGLISH_DURATION.search(rest).group()!r} in {text!r}")
        elif CJK.search(rest):
            found.append(f"Chinese {CJK.search(rest).group()!r} in {text!r}")
    return sorted(set(found))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_speaks_one_language(demo_copy, monkeypatch, accounts, lang):
    db = demo_copy
    exempt = sorted(free_text(db) | {"admin", "boss", "coach", "ajie", "wang", "demo-manager", "demo-trainer", "demo-ajie", "demo-xiaowang", "demo", *LANGUAGES.values()}, key=len,
                    reverse=True)  # fmt: skip
    monkeypatch.setenv("SCORECARD_DB", str(db))
    at = AppTest.from_file(str(store.ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    sign_in(at, "admin").run()
    assert not at.exception
    report: dict[str, list[str]] = {}
    texts, empty = collect(at, lang)  # the first run also holds the frame: sidebar, banner
    report["frame"] = problems(texts, lang, exempt) + empty
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, page
        texts, empty = collect(at, lang)
        assert texts, page
        report[page] = problems(texts, lang, exempt) + empty
    report = {page: found for page, found in report.items() if found}
    assert not report, json.dumps(report, ensure_ascii=False, indent=1)


def test_the_checks_catch_what_they_look_for():
    exempt = ["阿杰", "售前组"]
    assert problems(["首次响应 first_response_time"], "zh", exempt)
    assert problems(["状态 solved"], "zh", exempt)
    assert not problems(["阿杰 · 售前组 · KPI 95%"], "zh", exempt)
    assert problems(["首次响应 2 min 09 s"], "zh", exempt)
    assert problems(["首次响应 45 s"], "zh", exempt) and problems(["处理时长 +1.5 h"], "zh", exempt)
    assert not problems(["首次响应 2 分 09 秒 · 1.5 小时"], "zh", exempt)
    assert problems(["Team 售前组 of 阿杰, 已解决"], "en", exempt)
    assert not problems(["Team 售前组 of 阿杰"], "en", exempt)
    assert pd.isna(pd.NA)


def test_switching_language_keeps_the_sidebar_and_trend_choices(demo_copy, monkeypatch, accounts):
    monkeypatch.setenv("SCORECARD_DB", str(demo_copy))
    at = AppTest.from_file(str(store.ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    sign_in(at, "admin").run()
    assert at.selectbox(key="team_choice_en").options[0] == "All teams"
    at.selectbox(key="team_choice_en").set_value("售前组")
    at.selectbox(key="scheme_choice_en").set_value("csat_first")
    at.selectbox(key="trend_kpi_choice_en").set_value("csat").run()
    at.session_state["lang"] = "zh"  # what the language switch sets
    at.run()
    assert not at.exception and at.header[0].value == "总览"
    assert "售前组" in at.caption[0].value and "满意度优先" in at.caption[0].value
    # The trend picker is a new widget in Chinese, holding the same choice (the sidebar's are
    # not kept by AppTest after the first run; the picker test below checks them).
    trend = at.selectbox(key="trend_kpi_choice_zh")
    assert trend.options[trend.index] == "满意度"


def picker_script():
    import streamlit as st

    from pages._ui import ALL, sticky_select

    words = {"en": "All teams", "zh": "全部小组"}[st.session_state["lang"]]
    sticky_select("team", [ALL, "售前组", "售后组"], "team", lambda x: words if x == ALL else x)


def test_a_picker_holding_a_choice_is_relabelled_when_the_language_changes():
    at = AppTest.from_function(picker_script)
    at.session_state["lang"] = "en"
    at.run()
    assert at.selectbox[0].options[0] == "All teams"
    at.selectbox[0].set_value("*").run()
    at.session_state["lang"] = "zh"
    at.run()
    box = at.selectbox[0]
    assert box.key == "team_choice_zh" and box.value == "*"
    assert box.options[box.index] == "全部小组" and "All teams" not in box.options
    at.selectbox[0].set_value("售后组").run()
    at.session_state["lang"] = "en"
    at.run()
    assert at.selectbox[0].value == "售后组" and at.selectbox[0].options[0] == "All teams"


def test_the_audit_details_of_a_failed_sign_in_read_in_the_page_language():
    from lib.present.views import detail_words

    detail = {"reason": "unknown user", "address": "local", "failed_logins": 3, "seconds": 30}
    assert detail_words(detail, "zh") == "原因：账号不存在；地址：本机；登录失败次数：3；秒数：30"
    assert detail_words(detail, "en") == (
        "reason: unknown user; address: this machine; failed sign-ins: 3; seconds: 30"
    )


def test_a_mapping_the_builder_cannot_use_is_explained_in_chinese_words():
    from lib.core import errors
    from lib.core.i18n import message
    from lib.ingest import mapping

    with pytest.raises(errors.MappingError) as caught:
        mapping.from_selection("my_daily", "agent_daily", {"date": "日期"}, {})
    named = {"agent": "客服", "agent_daily": "客服日报"}
    lines = [message(text, "zh", named) for _, text in caught.value.problems]
    assert "必填列 客服（客服日报）尚未对应到文件中的列" in lines
    assert not any(re.search(r"[A-Za-z_]{3,}", line) for line in lines), lines


def test_the_peer_chart_says_seconds_in_the_page_language():
    import pandas as pd

    from lib.present import charts

    rows = pd.DataFrame([{"label": "平均响应时长", "kind": "duration", "ours": 32.0, "ours_shown": "32 秒",
                          "peer_average": 40.0, "peer_average_shown": "40 秒", "peer_best": 20.0,
                          "peer_best_shown": "20 秒"}])  # fmt: skip
    fig = charts.peer_benchmarks(rows, "同行对比", "团队", "同行同层均值", "同行同层优秀", " 秒")
    assert fig.layout.xaxis.ticksuffix == " 秒"
