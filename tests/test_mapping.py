"""Mapping files: named rules with clear messages, guesses for the builder, save and load."""

import pytest
import yaml

from lib.core import errors
from lib.ingest import mapping


def problems(data):
    return {rule for rule, _ in mapping.check(data, "test")}


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"name": "x", "kind": "invoices", "columns": {"a": "b"}}, "mapping.kind_known"),
        ({"name": "x", "kind": "tickets", "columns": {}}, "mapping.has_columns"),
        ({"kind": "roster", "columns": {"agent": "A"}}, "mapping.has_name"),
        ({"name": "x", "kind": "roster", "columns": {"agent": "A", "salary": "S"}},
         "mapping.column_known"),
        ({"name": "x", "kind": "tickets", "columns": {"ticket_id": "ID"}}, "mapping.required_mapped"),
        ({"name": "x", "kind": "roster", "columns": {"agent": "A"}, "options": {"colour": 1}},
         "mapping.option_known"),
        ({"name": "x", "kind": "roster", "columns": {"agent": "A"},
          "options": {"extract": {"agent": "(["}}}, "mapping.extract_regex"),
        ({"name": "x", "kind": "roster", "columns": {"agent": "A"},
          "options": {"extract": {"agent": "abc"}}}, "mapping.extract_group"),
        ({"name": "x", "kind": "roster", "columns": {"agent": "A"},
          "options": {"duration_unit": "fortnights"}}, "mapping.duration_unit"),
        ({"name": "x", "kind": "roster", "columns": {"agent": "A"}, "options": {"csat_scale": 100}},
         "mapping.csat_scale"),
    ],
)  # fmt: skip
def test_rules_catch_mistakes(data, rule):
    assert rule in problems(data)


def test_error_message_lists_each_problem_in_words():
    with pytest.raises(errors.MappingError) as err:
        mapping.from_dict({"name": "x", "kind": "tickets", "columns": {"ticket_id": "ID"}})
    assert "required column 'agent' of tickets is not mapped" in str(err.value)
    assert "required column 'created_at' of tickets is not mapped" in str(err.value)


def test_derived_column_satisfies_a_requirement():
    data = {"name": "x", "kind": "tickets",
            "columns": {"ticket_id": "ID", "agent": "A", "created_at": "C",
                        "first_response_s": "First reply"}}  # fmt: skip
    assert problems(data) == set()


def test_headers_match_ignoring_case_spaces_and_width():
    m = mapping.from_dict({"name": "x", "kind": "roster", "columns": {"agent": "Agent Name",
                                                                       "team": "小组（A）"}})  # fmt: skip
    found, missing = m.resolve(["  agent   name ", "小组(a)"])
    assert found == {"agent": "  agent   name ", "team": "小组(a)"} and missing == []


def test_guesses_come_from_canonical_names_chinese_labels_and_presets():
    headers = ["ID", "Assignee", "Created at", "其他"]  # from the Zendesk preset
    assert mapping.guess_columns(headers, "tickets") == {
        "ticket_id": "ID", "agent": "Assignee", "created_at": "Created at",
    }  # fmt: skip
    headers = ["工单号", "客服", "创建时间", "渠道"]  # the columns' Chinese labels
    assert mapping.guess_columns(headers, "tickets") == {
        "ticket_id": "工单号", "agent": "客服", "created_at": "创建时间", "channel": "渠道",
    }  # fmt: skip
    assert mapping.guess_columns(["客服昵称", "日期", "询单人数"], "agent_daily") == {
        "agent": "客服昵称", "date": "日期", "inquiries": "询单人数",
    }  # fmt: skip


def test_builder_mapping_is_versioned_in_the_store_never_over_a_preset(con, tmp_path):
    from lib.auth import access

    boss = access.Viewer("boss", "manager")
    built = mapping.from_selection(
        "My Shop Daily", "agent_daily",
        {"agent": "客服", "date": "日期", "receptions": None}, {"dayfirst": True, "csat_scale": 5},
    )  # fmt: skip
    assert mapping.save(con, boss, built, "first try") == 1
    assert mapping.save(con, boss, built, "again") == 2
    again = mapping.load("My Shop Daily", con)
    assert (again.kind, again.columns, again.options["dayfirst"]) == (
        "agent_daily", {"agent": ["客服"], "date": ["日期"]}, True,
    )  # fmt: skip
    assert list(mapping.history(con, "My Shop Daily")["why"]) == ["again", "first try"]
    assert not list(mapping.PRESETS_DIR.glob("My*"))  # nothing written into config/
    shadow = mapping.from_dict({**yaml.safe_load(mapping.load("zendesk").to_yaml()),
                                "columns": {"ticket_id": "Id", "agent": "Who",
                                            "created_at": "When"}})  # fmt: skip
    with pytest.raises(errors.MappingSaveError, match="built-in preset"):
        mapping.save(con, boss, shadow)
    assert mapping.load("zendesk", con).columns["agent"] == ["Assignee"]  # the preset holds
    with pytest.raises(errors.AccessDenied):
        mapping.save(con, access.Viewer("coach", "trainer"), built)
    exported = built.to_yaml().replace("My Shop Daily", "Imported daily")
    assert mapping.import_yaml(con, boss, exported).name == "Imported daily"
    assert set(mapping.saved(con)) == {"My Shop Daily", "Imported daily"}


def test_suggestions_rank_the_preset_that_maps_most_columns_first():
    from tests.test_presets import QIANNIU

    headers = QIANNIU.splitlines()[1].split(",")
    suggested = mapping.suggest_presets(headers)
    assert suggested[0] == "qianniu_agent_daily"
    assert "feige_agent_daily" in suggested  # fits too, but maps fewer columns


def test_pickers_name_a_preset_in_words_not_by_its_id():
    titles = {n: mapping.load(n).title("zh") for n in mapping.preset_names()}
    assert titles["qianniu_agent_daily"] == "千牛/赤兔 客服绩效日报"
    assert mapping.load("zendesk").title("en") == "Zendesk Support ticket export"
    assert len(set(titles.values())) == len(titles)  # no two presets look alike in a picker
    mine = {"name": "mine", "kind": "tickets",
            "columns": {"ticket_id": "ID", "agent": "A", "created_at": "C"}}  # fmt: skip
    assert mapping.from_dict(mine, "mine").title("zh") == "mine"  # a saved one: its name
