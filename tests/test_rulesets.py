"""Rule sets people edit in the app (alert, training and recognition rules) are versioned in the
store with who, when and why; the shipped files in config/ are never written."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from lib.app.stores import open_store
from lib.auth import audit, rulesets
from lib.auth.access import Viewer
from lib.coaching import rewards, training
from lib.core import errors, settings
from lib.core.paths import CONFIG, ROOT
from lib.monitoring import alerts

MANAGER = Viewer("boss", "manager")
TRAINER = Viewer("coach", "trainer")


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def con(tmp_path):
    db = open_store(tmp_path / "s.duckdb")
    yield db
    db.close()


def test_saved_alert_rules_are_a_new_version_and_the_shipped_file_is_untouched(con):
    shipped = _digest(CONFIG / "alerts.yaml")
    assert rulesets.latest(con, "alerts")[0] == 0
    config = alerts.load(con)
    assert config == alerts.load()  # nothing saved: the shipped rules
    changed = {**config, "rules": config["rules"][:1]}
    assert alerts.save(con, MANAGER, changed, reason="one rule is enough") == 1
    assert alerts.load(con) == changed
    assert alerts.load() == config  # without the store: still the shipped rules
    assert _digest(CONFIG / "alerts.yaml") == shipped
    history = rulesets.history(con, "alerts")
    assert list(history["version"]) == [1]
    assert history["saved_by"][0] == "boss" and history["reason"][0] == "one rule is enough"
    entry = audit.entries(audit.log_of(con), MANAGER).iloc[0]  # the newest first
    assert entry["action"] == "alerts.rules" and entry["who"] == "boss"


def test_a_save_needs_a_reason_the_right_role_and_the_newest_version(con):
    config = alerts.load(con)
    with pytest.raises(errors.RuleProblems, match="say why"):
        alerts.save(con, MANAGER, config, reason="  ")
    with pytest.raises(errors.AccessDenied):
        alerts.save(con, TRAINER, config, reason="mine")
    alerts.save(con, MANAGER, config, reason="first", base_version=0)
    with pytest.raises(errors.ConflictError, match="version 1"):
        alerts.save(con, MANAGER, config, reason="second", base_version=0)
    assert rulesets.latest(con, "alerts")[0] == 1


def test_training_rules_saved_in_the_store_are_the_ones_in_force(con):
    shipped = _digest(CONFIG / "training.yaml")
    body = yaml.safe_load(rulesets.shipped("training"))
    body["named_mentors"] = ["小美"]
    with pytest.raises(errors.TrainingError):
        training.save(con, MANAGER, {"modules": "none"}, reason="broken")
    training.save(con, MANAGER, body, reason="小美 agreed to be named")
    assert training.load(con).named_mentors == frozenset({"小美"})
    assert training.load().named_mentors != frozenset({"小美"})
    assert _digest(CONFIG / "training.yaml") == shipped


def test_recognition_rules_and_the_bonus_form_defaults(con):
    body = {"honours": [], "bonus": {"pool": 500, "tiers": {"A": 3}}}
    with pytest.raises(errors.BonusError):
        rewards.save(con, MANAGER, {"honours": [{"rule": "loudest"}]}, reason="x")
    rewards.save(con, MANAGER, body, reason="smaller pool this month")
    assert rewards.settings(con) == body
    d = rewards.bonus_defaults(rewards.settings(con), ["A", "B", "C"])
    assert (d.pool, d.min_grade, d.method, d.cap) == (500.0, "C", "tiers", 0.0)
    assert d.tiers == {"A": 3.0, "B": 0.0, "C": 0.0}


def test_the_readme_lists_every_rule_set():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for r in settings.RULE_SETS.values():
        assert f"| `{r.name}` | `config/{r.default}` | {r.about} |" in readme, r.name
        assert (CONFIG / r.default).exists()
