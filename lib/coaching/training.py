"""Training recommendations: which modules each agent should take, why, and with whom.

`config/training.yaml` lists modules (education — 教育法 — or demonstration — 示范法) and rules
mapping weak KPIs to modules. For an agent in a scorecard, every rule whose conditions hold
fires; its expected impact is what the weak KPIs cost the composite (weight share × the score
missing to 100), so the first recommendation is the one that would move the score most. Each
comes with its reason in words and a suggested mentor: the colleague with the best score on
that KPI and enough data, from the same team when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from lib.auth import access, rulesets
from lib.core import yamlio
from lib.core.errors import TrainingError
from lib.metrics import scoring
from lib.metrics.kpis import Catalogue, format_value, load_catalogue
from lib.metrics.scoring import Scorecard

METHODS = ("education", "demonstration")
WEAK, STRONG = 60, 80  # the same bands the scorecard uses for weak and strong KPIs


@dataclass(frozen=True)
class Module:
    id: str
    zh: str
    en: str
    skills: tuple[str, ...]
    method: str
    hours: float

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Rule:
    id: str
    when: tuple[dict, ...]
    modules: tuple[str, ...]
    reason: dict


@dataclass(frozen=True)
class Training:
    modules: dict[str, Module]
    rules: tuple[Rule, ...]
    named_mentors: frozenset[str] = frozenset()  # agents who agreed to be named to colleagues


# What an agent reads instead of a colleague's name, unless that colleague agreed to be named:
# a name next to "strong in this" tells the agent that colleague's scores.
UNNAMED_MENTOR = {"en": "a colleague strong in this", "zh": "一位这方面很强的同事"}


def check(data: dict, catalogue: Catalogue | None = None) -> list[tuple[str, str]]:
    """Named rules over the catalogue's YAML; an empty list means it can be used."""
    catalogue = catalogue or load_catalogue()
    if not isinstance(data, dict):
        return [
            ("training.mapping", "the training rules must be a YAML mapping (modules:, rules:)")
        ]
    shapes = [("modules", data.get("modules") or []), ("rules", data.get("rules") or [])]
    for part, items in shapes:
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return [(f"training.{part}", f"{part}: must be a list of entries, each a mapping")]
    for r in data.get("rules") or []:
        if not isinstance(r.get("when") or [], list) or not all(
            isinstance(c, dict) for c in r.get("when") or []
        ):
            return [
                ("rule.conditions", f"rule '{r.get('id')}': when: must be a list of conditions")
            ]
    problems = []
    modules = data.get("modules") or []
    ids = [m.get("id") for m in modules]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(("module.unique_id", f"module id '{dup}' is used twice"))
    for m in modules:
        if not (m.get("zh") and m.get("en")):
            problems.append(("module.labels", f"module '{m.get('id')}' needs zh and en titles"))
        if m.get("method") not in METHODS:
            problems.append(("module.method", f"module '{m.get('id')}': method must be "
                                              f"{' or '.join(METHODS)}"))  # fmt: skip
    rule_ids = [r.get("id") for r in data.get("rules") or []]
    for dup in sorted({i for i in rule_ids if rule_ids.count(i) > 1}):
        problems.append(("rule.unique_id", f"rule id '{dup}' is used twice"))
    for r in data.get("rules") or []:
        if not r.get("when"):
            problems.append(("rule.conditions", f"rule '{r.get('id')}' has no conditions"))
        for cond in r.get("when") or []:
            if cond.get("kpi") not in catalogue.kpis:
                problems.append(
                    ("rule.kpi_known", f"rule '{r.get('id')}': unknown KPI '{cond.get('kpi')}'")
                )
            if not (cond.get("weak") or cond.get("strong")):
                problems.append(
                    ("rule.condition_kind", f"rule '{r.get('id')}': say weak or strong")
                )
        for mid in r.get("modules") or []:
            if mid not in ids:
                problems.append(
                    ("rule.module_known", f"rule '{r.get('id')}': unknown module '{mid}'")
                )
        if not r.get("modules"):
            problems.append(("rule.modules", f"rule '{r.get('id')}' names no module"))
        if not ((r.get("reason") or {}).get("zh") and (r.get("reason") or {}).get("en")):
            problems.append(("rule.reason", f"rule '{r.get('id')}' needs a zh and en reason"))
    return problems


def load(con=None) -> Training:
    """The training rules in force: the newest version saved in the store, else the shipped
    `config/training.yaml`."""
    return _parse(
        rulesets.latest(con, "training")[1] if con is not None else rulesets.shipped("training")
    )


@lru_cache(maxsize=4)
def _parse(text: str) -> Training:
    data = yamlio.load(text) or {}
    problems = check(data)
    if problems:
        raise TrainingError(problems)
    modules = {m["id"]: Module(m["id"], m["zh"], m["en"], tuple(m.get("skills") or ()),
                               m["method"], float(m.get("hours") or 0)) for m in data["modules"]}  # fmt: skip
    rules = tuple(Rule(r["id"], tuple(r["when"]), tuple(r["modules"]), r["reason"])
                  for r in data.get("rules") or [])  # fmt: skip
    return Training(modules, rules, frozenset(str(n) for n in data.get("named_mentors") or []))


def save(con, viewer: access.Viewer, body: dict, *, reason: str,
         base_version: int | None = None) -> int:  # fmt: skip
    """Store edited training rules as a new version after checking them (managers and admins)."""
    access.require(viewer, "edit_schemes")
    problems = (
        check(body)
        if isinstance(body, dict)
        else [
            ("training.mapping", "the training rules must be a YAML mapping (modules:, rules: …)")
        ]
    )
    if problems:
        raise TrainingError(problems)
    return rulesets.save(con, viewer, "training", body, reason=reason, base_version=base_version)


def mentor(card: Scorecard, kpi: str, agent: str) -> str | None:
    """A colleague strong on the KPI (score ≥ 80, enough data): the best one in the agent's
    team, else the best one anywhere."""
    d = card.details
    good = d[
        (d["kpi"] == kpi)
        & (d["status"] == "scored")
        & (d["score"] >= STRONG)
        & (d["agent"] != agent)
    ]
    if good.empty:
        return None
    teams = dict(zip(card.agents["agent"], card.agents["team"]))
    good = good.assign(same=[teams.get(a) == teams.get(agent) for a in good["agent"]])
    return good.sort_values(["same", "score", "n"], ascending=False).iloc[0]["agent"]


def for_agent(
    con, viewer: access.Viewer, scheme, period, agent: str, lang: str = "en"
) -> pd.DataFrame:
    """Recommendations for one agent, as the viewer may see them. Mentors are chosen among
    everyone, so this scores the whole team; only names of mentors leave it, no numbers."""

    access.require_agent(viewer, agent)
    training = load(con)
    recs = recommend(scoring.scorecard(con, scheme, period, viewer=access.SYSTEM), agent, lang,
                     training)  # fmt: skip
    if viewer.is_agent:
        hidden = recs["mentor"].ne("") & ~recs["mentor"].isin(training.named_mentors)
        recs.loc[hidden, "mentor"] = UNNAMED_MENTOR.get(lang, UNNAMED_MENTOR["en"])
    return recs


def recommend(card: Scorecard, agent: str, lang: str = "en", training: Training | None = None,
              catalogue: Catalogue | None = None) -> pd.DataFrame:  # fmt: skip
    """The modules recommended for an agent, ranked by expected impact, with reasons."""
    training = training or load()
    catalogue = catalogue or load_catalogue()
    own = card.details[(card.details["agent"] == agent) & (card.details["status"] == "scored")]
    by_kpi = own.set_index("kpi")
    rows = []
    for rule in training.rules:
        hits = []
        for cond in rule.when:
            if cond["kpi"] not in by_kpi.index:
                break
            score = by_kpi.loc[cond["kpi"], "score"]
            if (cond.get("weak") and score >= WEAK) or (cond.get("strong") and score < STRONG):
                break
            hits.append(cond)
        else:
            first = by_kpi.loc[rule.when[0]["kpi"]]
            kpi = catalogue.get(rule.when[0]["kpi"])
            impact = sum(by_kpi.loc[c["kpi"], "weight_share"] * (100 - by_kpi.loc[c["kpi"], "score"])
                         for c in hits if c.get("weak"))  # fmt: skip
            reason = rule.reason[lang].format(kpi=kpi.label(lang), value=format_value(kpi, first["value"], lang),
                                              target=format_value(kpi, first["target"], lang),
                                              score=f"{first['score']:.0f}")  # fmt: skip
            who = mentor(card, kpi.id, agent)
            for mid in rule.modules:
                module = training.modules[mid]
                rows.append({"rule": rule.id, "module": mid, "title": module.label(lang),
                             "method": module.method, "hours": module.hours, "kpi": kpi.id,
                             "kpi_label": kpi.label(lang), "impact": round(float(impact), 2),
                             "reason": reason, "mentor": who})  # fmt: skip
    frame = pd.DataFrame(rows, columns=["rule", "module", "title", "method", "hours", "kpi",
                                        "kpi_label", "impact", "reason", "mentor"])  # fmt: skip
    frame["mentor"] = frame["mentor"].fillna("")
    frame = frame.sort_values("impact", ascending=False, kind="stable")
    return frame.drop_duplicates("module").reset_index(drop=True)
