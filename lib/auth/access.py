"""Who may see and do what: roles, the viewer of a request, and the checks every read makes.

A `Viewer` is the signed-in user (username, role and, for agents, the agent name used in the
data). Functions in `lib` that read scorecards, tickets, notes, plans or reviews take a viewer
and filter by it here, so a page, drill-down or download cannot show an agent anyone else's
rows, whatever the page asks for. `SYSTEM` is the operator at the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.core.errors import AccessDenied

if TYPE_CHECKING:  # the command line imports this module; pandas is not needed to start it
    import pandas as pd

ROLES = ("admin", "manager", "trainer", "agent")

# What each role may do. Pages map onto these actions, and lib functions check them.
ACTIONS = {
    "team_views": {"admin", "manager", "trainer"},  # overview, leaderboards, monitoring
    "upload": {"admin", "manager"},
    "edit_schemes": {"admin", "manager"},
    "coach": {"admin", "manager", "trainer"},  # write notes and plans
    "review": {"admin", "manager", "trainer"},  # QA reviews and calibration
    "decide_disputes": {"admin", "manager"},  # uphold or change a disputed QA review
    "bonus": {"admin", "manager"},
    "audit": {"admin", "manager"},
    "users": {"admin"},
    "own_data": set(ROLES),
}

# The pages of the app and the action that opens each one.
PAGES = {
    "overview": "team_views",
    "scorecard": "own_data",
    "weights": "edit_schemes",
    "upload": "upload",
    "coaching": "own_data",
    "plans": "own_data",
    "rewards": "bonus",
    "monitoring": "team_views",
    "quality": "own_data",
    "calibration": "review",
    "users": "users",
    "audit": "audit",
    "account": "own_data",
}


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    agent: str | None = None  # the agent name in the data, for agent accounts

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"

    def can(self, action: str) -> bool:
        return self.role in ACTIONS[action]


SYSTEM = Viewer("system", "admin")


def require(viewer: Viewer, action: str) -> None:
    if not isinstance(viewer, Viewer):
        raise AccessDenied("no signed-in user")
    if not viewer.can(action):
        raise AccessDenied(f"the {viewer.role} role may not {action.replace('_', ' ')}")


def may_open(viewer: Viewer, page: str) -> bool:
    return viewer.can(PAGES[page])


def require_agent(viewer: Viewer, agent: str) -> None:
    """Agents may read only their own rows; other roles any agent's."""
    require(viewer, "own_data")
    if viewer.is_agent and agent != viewer.agent:
        raise AccessDenied(f"{viewer.username} may see only their own data")


def rows_for(viewer: Viewer, frame: pd.DataFrame, column: str = "agent") -> pd.DataFrame:
    """The rows of `frame` the viewer may see: an agent's own rows, or all of them."""
    require(viewer, "own_data")
    if not viewer.is_agent:
        return frame
    return frame[frame[column] == viewer.agent].reset_index(drop=True)
