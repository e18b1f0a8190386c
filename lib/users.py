"""User accounts: the credentials file, first start, roles, passwords and demo accounts.

Accounts live in `config/auth.yaml` (env `SCORECARD_AUTH` moves it), in the layout that
streamlit-authenticator reads: a `cookie` section and `credentials.usernames`, each with a
bcrypt hash and one role, plus our own fields `agent` (the agent name in the data, for agent
accounts), `disabled` and `demo`. The file is created on first start with an admin whose
password comes from `SCORECARD_ADMIN_PASSWORD` or is generated and handed back once to be
printed; there is no default password anywhere. Every change is written atomically under a
lock and recorded in the audit log.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import string
import tempfile
import threading
from pathlib import Path

import bcrypt
import pandas as pd
import yaml

from lib import audit
from lib.access import ROLES, Viewer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUTH = ROOT / "config" / "auth.yaml"
COOKIE_NAME = "scorecard_auth"
MAX_LOGIN_ATTEMPTS = 5
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
# The strength rule streamlit-authenticator applies when a password is changed.
STRONG = re.compile(
    r"^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[!@#$%^&*()_+\-=\[\]{};':\"\\|,.<>/?`~])"
    r"[A-Za-z\d!@#$%^&*()_+\-=\[\]{};':\"\\|,.<>/?`~]{8,20}$"
)
DEMO_ACCOUNTS = [  # username, role, agent, display name
    ("demo-manager", "manager", None, "Demo manager 演示主管"),
    ("demo-trainer", "trainer", None, "Demo trainer 演示培训师"),
    ("demo-ajie", "agent", "阿杰", "阿杰"),
    ("demo-xiaowang", "agent", "小王", "小王"),
]
_LOCK = threading.RLock()


class UserError(Exception):
    """A user change that cannot be made; the message says why."""


def auth_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("SCORECARD_AUTH")
    return Path(env).expanduser() if env else DEFAULT_AUTH


def generate_password(length: int = 14) -> str:
    """A random password that also meets the strength rule for changed passwords."""
    symbols = "!@#%&*-_+="
    pool = string.ascii_letters + string.digits + symbols
    while True:
        pw = "".join(secrets.choice(pool) for _ in range(length))
        if STRONG.match(pw):
            return pw


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except (ValueError, TypeError):
        return False


@contextlib.contextmanager
def _locked(path: Path):
    """One writer at a time: a thread lock, and a file lock against other processes."""
    with _LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".lock"), "a") as handle:
            try:
                import fcntl

                fcntl.flock(handle, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - Windows: the thread lock must do
                pass
            yield


def load(path: Path) -> dict:
    if not path.exists():
        raise UserError(f"No accounts file at {path}; start the app once to create it.")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data.setdefault("credentials", {}).setdefault("usernames", {})
    if data["credentials"]["usernames"] is None:
        data["credentials"]["usernames"] = {}
    return data


def _write(path: Path, data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".auth-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)  # password hashes and the cookie key: owner only
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _editing(path: Path):
    """Read, let the caller change, write back — all under the lock."""
    with _locked(path):
        data = load(path)
        yield data
        _write(path, data)


def _entry(role: str, agent: str | None, name: str, password: str, demo: bool = False) -> dict:
    return {"name": name, "email": "", "password": hash_password(password), "roles": [role],
            "agent": agent, "disabled": False, "demo": demo, "failed_login_attempts": 0}  # fmt: skip


def first_start(path: Path, log: Path | None = None) -> list[tuple[str, str | None]]:
    """Create the accounts file if missing. Returns [(username, password)] to print once;
    the password is None when it was taken from `SCORECARD_ADMIN_PASSWORD`."""
    with _locked(path):
        if path.exists():
            return []
        given = os.environ.get("SCORECARD_ADMIN_PASSWORD")
        password = given or generate_password()
        data = {
            "cookie": {"name": COOKIE_NAME, "key": secrets.token_urlsafe(32), "expiry_days": 14},
            "credentials": {"usernames": {"admin": _entry("admin", None, "Administrator", password)}},
        }  # fmt: skip
        _write(path, data)
    audit.record(log, "system", "user.create", "admin", {"role": "admin", "first_start": True})
    return [("admin", None if given else password)]


def announcement(made: list[tuple[str, str | None]]) -> str:
    """The note printed once in the terminal when accounts are created for the installation."""
    lines = ["", "=" * 64, " Service Scorecard · 客服绩效看板 — accounts created (shown once):"]
    for username, password in made:
        shown = password if password else "(the password in SCORECARD_ADMIN_PASSWORD)"
        note = "  demo account, removed with the demo data" if username.startswith("demo-") else ""
        lines.append(f"   {username:<16} {shown}{note}")
    lines += [" Sign in and change the password under Account (我的账户).", "=" * 64, ""]
    return "\n".join(lines)


def cookie(path: Path) -> dict:
    """name, key and expiry of the login cookie; env `SCORECARD_COOKIE_KEY` overrides the key."""
    data = load(path)
    settings = dict(data.get("cookie") or {})
    settings.setdefault("name", COOKIE_NAME)
    settings.setdefault("expiry_days", 14)
    settings["key"] = os.environ.get("SCORECARD_COOKIE_KEY") or settings.get("key")
    if not settings["key"]:
        raise UserError(f"{path} has no cookie key; set SCORECARD_COOKIE_KEY or recreate the file.")
    return settings


def credentials(path: Path) -> dict:
    """The credentials in the shape streamlit-authenticator wants."""
    return load(path)["credentials"]


def viewer(path: Path, username: str | None) -> Viewer | None:
    """The signed-in user's viewer, or None when the account is gone or disabled."""
    if not username:
        return None
    user = load(path)["credentials"]["usernames"].get(username)
    if not user or user.get("disabled"):
        return None
    return Viewer(username, (user.get("roles") or ["agent"])[0], user.get("agent"))


def is_disabled(path: Path, username: str) -> bool:
    user = load(path)["credentials"]["usernames"].get(username)
    return bool(user and user.get("disabled"))


def listing(path: Path) -> pd.DataFrame:
    rows = [{"username": u, "name": e.get("name", ""), "role": (e.get("roles") or [""])[0],
             "agent": e.get("agent") or "", "disabled": bool(e.get("disabled")),
             "demo": bool(e.get("demo")), "failed_logins": int(e.get("failed_login_attempts") or 0)}
            for u, e in load(path)["credentials"]["usernames"].items()]  # fmt: skip
    return pd.DataFrame(rows, columns=["username", "name", "role", "agent", "disabled", "demo",
                                       "failed_logins"])  # fmt: skip


def _check_role(role: str, agent: str | None) -> None:
    if role not in ROLES:
        raise UserError(f"Unknown role '{role}'; choose one of {', '.join(ROLES)}.")
    if role == "agent" and not (agent or "").strip():
        raise UserError(
            "An agent account needs --agent: the agent's name as it appears in the data."
        )


def _user(data: dict, username: str) -> dict:
    user = data["credentials"]["usernames"].get(username)
    if user is None:
        raise UserError(f"No user '{username}'.")
    return user


def _last_admin(data: dict, username: str) -> bool:
    admins = [u for u, e in data["credentials"]["usernames"].items()
              if (e.get("roles") or [""])[0] == "admin" and not e.get("disabled")]  # fmt: skip
    return admins == [username]


def add(path: Path, username: str, role: str, *, agent: str | None = None,
        password: str | None = None, name: str | None = None, by: str = "system",
        log: Path | None = None, demo: bool = False) -> str:  # fmt: skip
    """Add a user; returns the password (generated when none was given)."""
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise UserError(f"'{username}' is not a valid username: 2–32 lowercase letters, digits, "
                        "'.', '_' or '-', starting with a letter or digit.")  # fmt: skip
    _check_role(role, agent)
    password = password or generate_password()
    if len(password) < 8:
        raise UserError("A password needs at least 8 characters.")
    with _editing(path) as data:
        if username in data["credentials"]["usernames"]:
            raise UserError(f"User '{username}' already exists.")
        data["credentials"]["usernames"][username] = _entry(
            role, agent.strip() if agent else None, name or username, password, demo
        )
    audit.record(log, by, "user.create", username, {"role": role, "agent": agent})
    return password


def set_role(path: Path, username: str, role: str, *, agent: str | None = None, by: str = "system",
             log: Path | None = None) -> None:  # fmt: skip
    _check_role(role, agent)
    with _editing(path) as data:
        user = _user(data, username)
        if role != "admin" and _last_admin(data, username):
            raise UserError(f"'{username}' is the last admin; make another admin first.")
        before = (user.get("roles") or [""])[0]
        user["roles"], user["agent"] = [role], (agent.strip() if agent else None)
    audit.record(log, by, "user.set_role", username, {"from": before, "to": role, "agent": agent})


def reset_password(path: Path, username: str, password: str | None = None, *, by: str = "system",
                   log: Path | None = None) -> str:  # fmt: skip
    """Set a new password (generated when none is given) and clear failed logins."""
    password = password or generate_password()
    if len(password) < 8:
        raise UserError("A password needs at least 8 characters.")
    with _editing(path) as data:
        user = _user(data, username)
        user["password"], user["failed_login_attempts"] = hash_password(password), 0
    audit.record(log, by, "user.reset_password", username)
    return password


def change_password(path: Path, username: str, current: str, new: str,
                    log: Path | None = None) -> None:  # fmt: skip
    """A user changes their own password: the current one must match, the new one be strong."""
    if not STRONG.match(new or ""):
        raise UserError("The new password needs 8–20 characters with a lowercase and an uppercase "
                        "letter, a digit and a symbol.")  # fmt: skip
    with _editing(path) as data:
        user = _user(data, username)
        if not check_password(current or "", user.get("password", "")):
            raise UserError("The current password is not right.")
        user["password"] = hash_password(new)
    audit.record(log, username, "user.change_password", username)


def set_disabled(path: Path, username: str, disabled: bool = True, *, by: str = "system",
                 log: Path | None = None) -> None:  # fmt: skip
    with _editing(path) as data:
        user = _user(data, username)
        if disabled and _last_admin(data, username):
            raise UserError(f"'{username}' is the last admin; make another admin first.")
        user["disabled"] = bool(disabled)
    audit.record(log, by, "user.disable" if disabled else "user.enable", username)


def failed_logins(creds: dict) -> dict[str, int]:
    return {u: int(e.get("failed_login_attempts") or 0) for u, e in creds["usernames"].items()}


def save_failed_logins(path: Path, before: dict[str, int], creds: dict,
                       log: Path | None = None) -> None:  # fmt: skip
    """Keep the failed-login counts streamlit-authenticator changed in memory during a run
    (only those: an admin's reset made meanwhile is not undone), and audit each failure."""
    after = failed_logins(creds)
    changed = {u: n for u, n in after.items() if n != before.get(u)}
    if not changed:
        return
    with _editing(path) as data:
        for username, count in changed.items():
            if username in data["credentials"]["usernames"]:
                data["credentials"]["usernames"][username]["failed_login_attempts"] = count
    for username, count in changed.items():
        if count > before.get(username, 0):
            audit.record(log, username, "login.failed", username, {"failed_logins": count})


def add_demo(path: Path, log: Path | None = None) -> list[tuple[str, str]]:
    """The demo accounts (a manager, a trainer, two agents), created once; returns passwords."""
    existing = set(load(path)["credentials"]["usernames"])
    made = []
    for username, role, agent, name in DEMO_ACCOUNTS:
        if username not in existing:
            made.append((username, add(path, username, role, agent=agent, name=name, demo=True,
                                       log=log)))  # fmt: skip
    return made


def remove_demo(path: Path, by: str = "system", log: Path | None = None) -> list[str]:
    """Delete the demo accounts (they go with the demo data)."""
    if not path.exists():
        return []
    with _editing(path) as data:
        gone = [u for u, e in data["credentials"]["usernames"].items() if e.get("demo")]
        for username in gone:
            del data["credentials"]["usernames"][username]
    for username in gone:
        audit.record(log, by, "user.delete", username, {"demo": True})
    return gone
