"""The QA rubric: criteria, weights, scales and critical criteria, checked, versioned and stored.

`config/qa_rubric.yaml` is the rubric a new store starts with; saving it in the app records a
new version (who, when, why) in the store. The criteria in force are also kept in the
`qa_criteria` table, one row per name a criterion is known by (its id, labels and aliases), so
the SQL of the review scores (`lib/sql/qa_review_scores.sql`) weighs imported reviews too.
Review score = weighted mean of points given ÷ points over the criteria that apply, × 100; a
failed critical criterion sets the review to 0.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from lib.auth import access, audit
from lib.core import errors, paths, store, yamlio
from lib.core.errors import RubricError

RUBRIC = paths.ROOT / "config" / "qa_rubric.yaml"
# Joins review rows `q` to the rubric's criteria `c` by name, as `key()` compares names (the
# same join is in lib/sql/qa_review_scores.sql).
JOIN_CRITERIA = (
    "LEFT JOIN qa_criteria c "
    "ON c.name_key = lower(regexp_replace(trim(q.criterion), '\\s+', ' ', 'g'))"
)


@dataclass(frozen=True)
class Criterion:
    id: str
    zh: str
    en: str
    weight: float
    points: int
    na_allowed: bool
    critical: bool
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def names(self) -> set[str]:
        return {key(n) for n in (self.id, self.zh, self.en, *self.aliases) if str(n).strip()}


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]
    dispute_window_days: int
    flag_bias: float
    min_shared: int
    version: int = 0  # 0: the file in config/, not saved in the app yet

    def get(self, criterion_id: str) -> Criterion:
        return next(c for c in self.criteria if c.id == criterion_id)

    def review_score(self, given: dict[str, float | None]) -> float | None:
        """The review score 0–100 for {criterion id: points, or None for N/A}."""
        total = weight = 0.0
        for c in self.criteria:
            points = given.get(c.id)
            if points is None:
                continue
            if c.critical and points <= 0:
                return 0.0
            total += c.weight * points / c.points
            weight += c.weight
        return 100.0 * total / weight if weight else None


def key(name) -> str:
    return " ".join(str(name).lower().split())


def check(body: dict) -> list[tuple[str, str]]:
    """Named rules for a rubric body; an empty list when it is fine."""
    problems = []
    if not isinstance(body, dict):
        return [("rubric.mapping", "the rubric must be a YAML mapping with a `criteria` list")]
    criteria = body.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        return [("rubric.has_criteria", "list at least one criterion under `criteria`")]
    seen: dict[str, str] = {}
    weights = 0.0
    for i, c in enumerate(criteria, 1):
        if not isinstance(c, dict):
            problems.append(("rubric.criterion_mapping", f"criterion {i} must be a mapping"))
            continue
        cid = str(c.get("id") or "").strip()
        where = f"criterion {cid or i}"
        if not cid:
            problems.append(("rubric.ids", f"criterion {i} needs an id"))
        for lang in ("zh", "en"):
            if not str(c.get(lang) or "").strip():
                problems.append(("rubric.labels", f"{where} needs a `{lang}` label"))
        w = c.get("weight")
        if not isinstance(w, int | float) or isinstance(w, bool) or math.isnan(w) or w < 0:
            problems.append(("rubric.weights", f"{where}: weight must be a number ≥ 0"))
        else:
            weights += w
        p = c.get("points")
        if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= 5:
            problems.append(("rubric.points", f"{where}: points must be a whole number 1–5"))
        if c.get("critical") and c.get("na_allowed"):
            problems.append(
                ("rubric.critical_applies", f"{where}: a critical criterion cannot be N/A")
            )
        names = [cid, c.get("zh"), c.get("en"), *(c.get("aliases") or [])]
        for name in {key(n) for n in names if n is not None and str(n).strip()}:
            if name in seen and seen[name] != cid:
                problems.append(("rubric.names_unique",
                                 f"the name '{name}' belongs to both {seen[name]} and {cid}"))  # fmt: skip
            seen[name] = cid
    if not problems and weights <= 0:
        problems.append(("rubric.some_weight", "give at least one criterion a weight above 0"))
    window = body.get("dispute_window_days", 7)
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        problems.append(("rubric.dispute_window", "dispute_window_days must be a whole number ≥ 0"))
    return problems


def from_dict(body: dict, version: int = 0) -> Rubric:
    problems = check(body)
    if problems:
        raise RubricError(problems)
    calib = body.get("calibration") or {}
    criteria = tuple(
        Criterion(
            str(c["id"]).strip(),
            str(c["zh"]),
            str(c["en"]),
            float(c["weight"]),
            int(c["points"]),
            bool(c.get("na_allowed")),
            bool(c.get("critical")),
            tuple(str(a) for a in c.get("aliases") or ()),
        )  # fmt: skip
        for c in body["criteria"]
    )
    return Rubric(criteria, int(body.get("dispute_window_days", 7)),
                  float(calib.get("flag_bias", 10)), int(calib.get("min_shared", 5)), version)  # fmt: skip


def default_body(path: Path = RUBRIC) -> dict:
    return yamlio.load(path.read_text(encoding="utf-8"))


def current_body(con) -> tuple[dict, int]:
    """The rubric in force as a dict, and its version (0: the file in config/)."""
    row = (
        con.cursor()
        .execute("SELECT body, version FROM qa_rubric_versions ORDER BY version DESC LIMIT 1")
        .fetchone()
    )
    return (yamlio.load(row[0]), row[1]) if row else (default_body(), 0)


def current(con) -> Rubric:
    body, version = current_body(con)
    return from_dict(body, version)


def versions(con):
    return (
        con.cursor()
        .execute(
            "SELECT version, saved_at, saved_by, reason FROM qa_rubric_versions "
            "ORDER BY version DESC"
        )
        .df()
    )


def _criteria_rows(rubric: Rubric) -> list[tuple]:
    return sorted(
        (name, c.id, c.weight, float(c.points), c.critical)
        for c in rubric.criteria
        for name in c.names()
    )


def _store_criteria(cur, rubric: Rubric) -> None:
    cur.execute("DELETE FROM qa_criteria")
    cur.executemany("INSERT INTO qa_criteria VALUES (?, ?, ?, ?, ?)", _criteria_rows(rubric))


def install(con) -> bool:
    """Make `qa_criteria` match the rubric in force (the config file until one is saved in
    the app); True when it had to change, which moves the data version."""
    rubric = current(con)
    stored = con.cursor().execute("SELECT * FROM qa_criteria ORDER BY ALL").fetchall()
    wanted = _criteria_rows(rubric)
    if [tuple(r) for r in stored] == wanted:
        return False
    store.write(con, lambda cur: _store_criteria(cur, rubric))
    return True


def save(con, viewer: access.Viewer, body: dict, *, reason: str, base_version: int | None = None,
         now: dt.datetime | None = None) -> int:  # fmt: skip
    """Save a new rubric version (managers and admins; refusing an invalid body, a missing
    reason, or a save on top of a version someone else saved meanwhile); review scores follow
    at once."""
    access.require(viewer, "edit_schemes")
    user = viewer.username
    rubric = from_dict(body)
    if not str(reason or "").strip():
        raise RubricError([("rubric.reason_given", "say why the rubric changes")])

    def work(cur):
        latest = cur.execute("SELECT coalesce(max(version), 0) FROM qa_rubric_versions").fetchone()[
            0
        ]
        if base_version is not None and base_version != latest:
            raise errors.ConflictError(
                f"The rubric was saved as version {latest} after you opened version "
                f"{base_version}; reload it and apply your change again."
            )
        text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
        cur.execute("INSERT INTO qa_rubric_versions VALUES (?, ?, ?, ?, ?)",
                    [latest + 1, now or dt.datetime.now(), user, reason.strip(), text])  # fmt: skip
        _store_criteria(cur, rubric)
        return latest + 1

    version = store.write(con, work)
    audit.record(audit.log_of(con), user, "rubric.save", f"QA rubric v{version}",
                 {"reason": reason.strip()})  # fmt: skip
    return version
