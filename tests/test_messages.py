"""Consistent messages: what the pages say about the same numbers agrees, in either language."""

import pytest

from lib.auth.access import SYSTEM, Viewer
from lib.coaching import plans, training
from lib.core.periods import parse
from lib.core.store import connect
from lib.metrics import schemes, scoring
from lib.metrics.kpis import format_value, load_catalogue
from lib.present import views
from tests.test_app import new_app

BOSS = Viewer("boss", "manager")


@pytest.fixture
def demo_con(demo_copy):
    con = connect(demo_copy)
    yield con
    con.close()


def card_of(con, month="2026-10"):
    period = parse(month)
    return scoring.scorecard(con, schemes.resolve(con, None, period.end), period, viewer=SYSTEM)


def test_a_kpi_with_a_critical_alert_is_not_named_a_strength(demo_con):
    card = card_of(demo_con)
    agent = card.agents.sort_values("rank")["agent"].iloc[0]
    words = views.strengths_and_weaknesses(card, agent, "en")
    strong_ids = [
        k for k in card.scheme.kpi_ids if load_catalogue().get(k).label("en") in words["strong"]
    ]
    assert strong_ids
    alerting = {strong_ids[0]}
    again = views.strengths_and_weaknesses(card, agent, "en", alerting=alerting)
    assert load_catalogue().get(strong_ids[0]).label("en") not in again["strong"]
    feed, count = views.alert_feed(demo_con, BOSS, "en", status="open")
    assert count == len(feed) > 3
    first, total = views.alert_feed(demo_con, BOSS, "en", status="open", first=3)
    assert total == count and list(first["alert_key"]) == list(feed["alert_key"].head(3))
    assert list(first["title"]) == list(feed["title"].head(3))  # the same words, for the first few
    assert views.critical_kpis(feed) <= set(load_catalogue().kpis)
    assert views.critical_kpis(feed[feed["severity"] == "critical"].head(1)) == set(
        feed[feed["severity"] == "critical"].head(1)["kpi"]
    )


@pytest.mark.parametrize(
    ("lang", "below", "above"), [("en", "below", "above"), ("zh", "低于", "高于")]
)
def test_a_breach_says_which_way_the_value_is_off(demo_con, lang, below, above):
    feed, _ = views.alert_feed(demo_con, BOSS, lang)
    breaches = feed[feed["kind"] == "breach"]
    assert not breaches.empty
    for a in breaches.itertuples():
        side, other = (below, above) if a.value < a.threshold else (above, below)
        assert side in a.title and side in a.numbers and other not in a.title


def test_a_recommendation_names_the_schemes_target(demo_con):
    card = card_of(demo_con)
    targets = {r.kpi: r.target for r in card.scheme.rules}
    catalogue = load_catalogue()
    checked = 0
    for agent in card.agents["agent"]:
        recs = training.recommend(card, agent, "en")
        for r in recs.itertuples():
            kpi = catalogue.get(r.kpi)
            if kpi.kind == "rate" or kpi.id == "qa_score":
                assert format_value(kpi, targets[r.kpi]) in r.reason
                checked += 1
    assert checked


def test_expected_impact_carries_a_unit(demo_copy, monkeypatch, accounts):
    at = new_app(demo_copy, monkeypatch, "boss", lang="zh").run()
    at.switch_page("pages/coaching.py").run()
    recs = next(d.value for d in at.dataframe if "预期影响" in d.value.columns)
    assert recs["预期影响"].str.fullmatch(r"总分 \d+\.\d 分").all()


def test_an_open_plan_past_its_due_date_shows_as_overdue(
    demo_con, demo_copy, monkeypatch, accounts
):
    listing = plans.listing(demo_con, BOSS)
    today = plans.data_end(demo_con)
    late = [
        p for _, p in listing.iterrows() if p["status"] == "open" and p["due_date"].date() < today
    ]
    assert late, "the demo has a finished plan that was never closed"
    assert plans.shown_status(late[0], today) == "overdue"
    assert plans.shown_status({**late[0], "status": "closed"}, today) == "closed"
    at = new_app(demo_copy, monkeypatch, "boss", plan_pick=int(late[0]["plan_id"])).run()
    at.switch_page("pages/plans.py").run()
    assert "overdue" in " ".join(c.value for c in at.caption)


def test_a_teams_alerts_are_those_about_its_agents_and_the_team_itself(demo_con):
    from lib.metrics.kpis import agent_teams

    feed, total = views.alert_feed(demo_con, BOSS, "en", status="open")
    members = agent_teams(demo_con)
    shown = []
    for team in sorted(members["team"].dropna().unique()):
        mine, count = views.alert_feed(demo_con, BOSS, "en", status="open", team=team)
        agents = set(members.loc[members["team"] == team, "agent"])
        assert count == len(mine)
        for a in mine.itertuples():
            assert a.subject == team if a.scope == "team" else a.agent in agents
        shown += list(mine["alert_key"])
    team_scoped = feed[(feed["scope"] == "team") & ~feed["subject"].isin(members["team"])]
    assert sorted(shown) == sorted(set(feed["alert_key"]) - set(team_scoped["alert_key"]))
    assert len(shown) == len(set(shown))  # each alert under one team
