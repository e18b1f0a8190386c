"""Every error lib raises on purpose, in one place, so no module imports another for its
exception. Each says in words what went wrong and what to do; pages and the command line show
the message as it is.

`RuleProblems` is input that breaks named rules (mappings, the KPI catalogue, schemes, rubrics,
training and alert rules): each problem is (rule, message), the rule naming the check (e.g.
`scheme.thresholds_distinct`), the message saying what to change.
"""

from __future__ import annotations


class RuleProblems(ValueError):
    def __init__(self, heading: str, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = "\n".join(f"- {message} [{rule}]" for rule, message in problems)
        super().__init__(f"{heading}:\n{lines}")


# lib.app.backup
class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


# lib.auth.access
class AccessDenied(Exception):
    """The viewer's role does not allow this; the message says what was refused."""


# lib.auth.users
class UserError(Exception):
    """A user change that cannot be made; the message says why."""


# lib.coaching.notes
class NoteError(ValueError):
    """A note that cannot be written as asked; the message says why."""


# lib.coaching.plans
class PlanError(ValueError):
    """A plan that cannot be made as asked; the message says why."""


# lib.coaching.rewards
class BonusError(ValueError):
    """Bonus settings that cannot be used; the message says why."""


# lib.coaching.training
class TrainingError(RuleProblems):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("The training catalogue cannot be used", problems)


# lib.core.store
class ConflictError(RuntimeError):
    """Someone saved the same thing since it was opened; nothing was written."""


# lib.core.store
class StoreError(Exception):
    """The store cannot be used; the message says why and what to do."""


# lib.ingest.mapping
class MappingError(RuleProblems):
    """A mapping breaks one or more rules; `problems` lists (rule, message)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        super().__init__(f"Mapping {source} has problems", problems)


# lib.ingest.mapping
class MappingSaveError(ValueError):
    """A mapping that cannot be saved under its name (a shipped preset's)."""


# lib.ingest.reader
class UnusableFile(Exception):
    """The file cannot be read as a table; the message says why, for the person uploading."""


# lib.ingest.values
class ValueProblem(ValueError):
    """A single value could not be read; the message is the reason."""


# lib.metrics.hours
class HoursError(ValueError):
    """The service-hours setting cannot be used; the message says what is wrong."""


# lib.metrics.kpis
class CatalogueError(RuleProblems):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("The KPI catalogue has problems", problems)


# lib.metrics.schemes
class SchemeError(RuleProblems):
    def __init__(self, name: str, problems: list[tuple[str, str]]):
        super().__init__(f"Scheme '{name}' cannot be used", problems)


# lib.monitoring.alerts
class AlertRulesError(RuleProblems):
    def __init__(self, problems):
        super().__init__("The alert rules cannot be used", problems)


# lib.monitoring.webhooks
class HookError(Exception):
    """A send that did not arrive; the message is ours, never the target's answer."""


# lib.present.mail
class MailError(Exception):
    """Mail cannot be sent: settings missing or wrong, or the server refused; never holds the
    password."""


# lib.quality.reviews
class ReviewError(ValueError):
    """A review or dispute that cannot be accepted; the message says why."""


# lib.quality.rubric
class RubricError(RuleProblems):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("The QA rubric cannot be used", problems)
