"""Input that breaks named rules: one error type for mappings, the KPI catalogue and schemes.

Each problem is (rule, message): the rule names the check (e.g. `scheme.thresholds_distinct`),
the message says in words what to change.
"""

from __future__ import annotations


class RuleProblems(ValueError):
    def __init__(self, heading: str, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = "\n".join(f"- {message} [{rule}]" for rule, message in problems)
        super().__init__(f"{heading}:\n{lines}")
