"""User accounts: the credentials file, first start, roles, passwords and demo accounts.

Accounts live in `config/auth.yaml` (env `SCORECARD_AUTH` moves it), in the layout that
streamlit-authenticator reads: a `cookie` section and `credentials.usernames`, each with a
bcrypt hash and one role, plus our own fields `agent` (the agent name in the data, for agent
accounts), `disabled` and `demo`. The file is created on first start with an admin whose
password comes from `SCORECARD_ADMIN_PASSWORD` or is generated and handed back once to be
printed; there is no default password anywhere. Every change is written atomically under a
lock and recorded in the audit log.

Sessions and sign-in live here too: each account has a session generation, carried in the
signed login cookie and compared on every run, so that signing out, a new password, a new role
or disabling ends every session at once. Failed sign-ins are counted in the file under the
same lock (a count is never written back from a stale copy), and too many of them from one
client address pause that account for that address, for a delay that doubles with each
failure, up to a cap, rather than for ever; a slower ceiling per account holds up guesses
spread over many addresses without holding up the addresses the account signed in from.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import os
import re
import secrets
import string
import tempfile
import threading
import time
from pathlib import Path

import bcrypt
import jwt
import pandas as pd
import yaml

from lib.auth import access, audit
from lib.auth.access import ACTIONS, ROLES, SYSTEM, Viewer
from lib.core import settings
from lib.core.errors import UserError
from lib.core.paths import ROOT

DEFAULT_AUTH = ROOT / "config" / "auth.yaml"
COOKIE_NAME = "scorecard_auth"
MAX_LOGIN_ATTEMPTS = 5  # failures before sign-in pauses
LOCK_FIRST_S = 30  # the first pause; each further failure doubles it …
LOCK_MAX_S = 15 * 60  # … up to this, so nobody can lock an account (the only admin) for good
ACCOUNT_CEILING = 20  # wrong passwords from addresses new to an account before those wait too
CEILING_FIRST_S = 60  # that pause, doubling up to LOCK_MAX_S; known addresses are not held
QUIET_S = 24 * 3600  # failures older than this (and nothing since) are forgotten
MAX_ADDRESSES = 1000  # addresses with failures kept per account (the quietest go first)
MAX_KNOWN = 10  # addresses an account signed in from, remembered
LOCAL = "local"  # the address of a client on this machine (or behind a proxy that hides it)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # long passphrases are welcome; this only bounds the work of hashing
COMMON_PASSWORDS = ROOT / "config" / "common_passwords.txt"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
DEMO_ACCOUNTS = [  # username, role, agent, display name
    ("demo-manager", "manager", None, "Demo manager 演示主管"),
    ("demo-trainer", "trainer", None, "Demo trainer 演示培训师"),
    ("demo-ajie", "agent", "阿杰", "阿杰"),
    ("demo-xiaowang", "agent", "小王", "小王"),
]
_LOCK = threading.RLock()


def auth_path(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("SCORECARD_AUTH")
    return Path(env).expanduser() if env else DEFAULT_AUTH


def generate_password(length: int = 16) -> str:
    """A random password that meets the password rule."""
    pool = string.ascii_letters + string.digits + "!@#%&-+="  # no * or _: Markdown eats them
    while True:
        pw = "".join(secrets.choice(pool) for _ in range(length))
        if password_problem(pw) is None:
            return pw


def _common() -> set[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return {x.strip().lower() for x in lines if x.strip() and not x.startswith("#")}


def password_problem(password: str | None, username: str | None = None) -> str | None:
    """Why a new password is not acceptable, or None. The one rule for every place a password
    is set (first start, command line, Users page, Account page): at least 12 characters — a
    passphrase of a few words is the easy way — not one of the very common passwords, not the
    username, and not a character or two repeated."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        return (f"A password needs at least {MIN_PASSWORD} characters; a few words with spaces "
                "make an easy passphrase.")  # fmt: skip
    if len(password) > MAX_PASSWORD:
        return f"A password may have at most {MAX_PASSWORD} characters."
    lowered = password.strip().lower()
    # The username adds nothing an attacker does not know: what is left must be long enough.
    near_name = bool(username) and len(lowered.replace(username.lower(), "")) < MIN_PASSWORD
    if lowered in _common() or near_name:
        return "This password is too common or too close to the username; choose another."
    if len(set(lowered)) < 5:
        return "This password repeats too few characters; choose another."
    return None


def _check_new(password: str, username: str | None = None) -> None:
    problem = password_problem(password, username)
    if problem:
        raise UserError(problem)


def _secret(password: str) -> bytes:
    """What bcrypt hashes. bcrypt reads at most 72 bytes, so a longer password is first
    reduced to its SHA-256 digest (in base64, 44 bytes): every character of it counts."""
    raw = (password or "").encode("utf-8")
    return base64.b64encode(hashlib.sha256(raw).digest()) if len(raw) > 72 else raw


def hash_password(password: str) -> str:
    return bcrypt.hashpw(_secret(password), bcrypt.gensalt()).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_secret(password), (hashed or "").encode("ascii"))
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


_PARSED: dict[str, tuple[bytes, dict]] = {}  # path → (its content's digest, the parsed content)


def load(path: Path) -> dict:
    """The accounts file's content, a copy the caller may change. Every page run reads it (a
    disabled account or a new role applies at once); the file is read each time, and parsed
    again only when its bytes changed."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"No accounts file at {path}; start the app once to create it.") from None
    digest = hashlib.blake2b(raw, digest_size=16).digest()
    known = _PARSED.get(str(path))
    if known is None or known[0] != digest:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
        data.setdefault("credentials", {}).setdefault("usernames", {})
        if data["credentials"]["usernames"] is None:
            data["credentials"]["usernames"] = {}
        known = _PARSED[str(path)] = (digest, data)
    return copy.deepcopy(known[1])


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
            "agent": agent, "disabled": False, "demo": demo, "failed_login_attempts": 0,
            "session": 0}  # fmt: skip


def first_start(path: Path, log: Path | None = None) -> list[tuple[str, str | None]]:
    """Create the accounts file if missing. Returns [(username, password)] to print once;
    the password is None when it was taken from `SCORECARD_ADMIN_PASSWORD`."""
    with _locked(path):
        if path.exists():
            return []
        given = os.environ.get("SCORECARD_ADMIN_PASSWORD")
        if given:
            problem = password_problem(given, "admin")
            if problem:
                raise UserError(f"SCORECARD_ADMIN_PASSWORD is refused: {problem}")
        password = given or generate_password()
        data = {
            "cookie": {"name": COOKIE_NAME, "key": secrets.token_urlsafe(32)},
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
    """name, key and lifetime of the login cookie; env `SCORECARD_COOKIE_KEY` overrides the key
    and the setting `cookie_days` (SCORECARD_COOKIE_DAYS, default 7) the lifetime."""
    data = load(path)
    found = dict(data.get("cookie") or {})
    found.setdefault("name", COOKIE_NAME)
    found["expiry_days"] = settings.get("cookie_days")
    found["key"] = os.environ.get("SCORECARD_COOKIE_KEY") or found.get("key")
    if not found["key"]:
        raise UserError(f"{path} has no cookie key; set SCORECARD_COOKIE_KEY or recreate the file.")
    return found


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


def listing(path: Path) -> pd.DataFrame:
    rows = [{"username": u, "name": e.get("name", ""), "role": (e.get("roles") or [""])[0],
             "agent": e.get("agent") or "", "disabled": bool(e.get("disabled")),
             "demo": bool(e.get("demo")), "failed_logins": int(e.get("failed_login_attempts") or 0),
             "paused": paused_now(e)}
            for u, e in load(path)["credentials"]["usernames"].items()]  # fmt: skip
    return pd.DataFrame(rows, columns=["username", "name", "role", "agent", "disabled", "demo",
                                       "failed_logins", "paused"])  # fmt: skip


def reviewers(path: Path) -> list[str]:
    """The accounts that may review (QA) and are not disabled, by username."""
    accounts = listing(path)
    able = accounts["role"].map(lambda role: role in ACTIONS["review"]) & ~accounts["disabled"]
    return list(accounts.loc[able, "username"])


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
        password: str | None = None, name: str | None = None, viewer: Viewer = SYSTEM,
        log: Path | None = None, demo: bool = False) -> str:  # fmt: skip
    """Add a user; returns the password (generated when none was given)."""
    access.require(viewer, "users")
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise UserError(f"'{username}' is not a valid username: 2–32 lowercase letters, digits, "
                        "'.', '_' or '-', starting with a letter or digit.")  # fmt: skip
    _check_role(role, agent)
    if password is not None:
        _check_new(password, username)
    password = password or generate_password()
    with _editing(path) as data:
        if username in data["credentials"]["usernames"]:
            raise UserError(f"User '{username}' already exists.")
        data["credentials"]["usernames"][username] = _entry(
            role, agent.strip() if agent else None, name or username, password, demo
        )
    audit.record(log, viewer.username, "user.create", username, {"role": role, "agent": agent})
    return password


def set_role(path: Path, username: str, role: str, *, agent: str | None = None, viewer: Viewer = SYSTEM,
             log: Path | None = None) -> None:  # fmt: skip
    access.require(viewer, "users")
    _check_role(role, agent)
    with _editing(path) as data:
        user = _user(data, username)
        if role != "admin" and _last_admin(data, username):
            raise UserError(f"'{username}' is the last admin; make another admin first.")
        before = (user.get("roles") or [""])[0]
        user["roles"], user["agent"] = [role], (agent.strip() if agent else None)
        _bump(user)
    audit.record(
        log,
        viewer.username,
        "user.set_role",
        username,
        {"from": before, "to": role, "agent": agent},
    )


def reset_password(path: Path, username: str, password: str | None = None, *, viewer: Viewer = SYSTEM,
                   log: Path | None = None) -> str:  # fmt: skip
    """Set a new password (generated when none is given), clear failed logins and any pause,
    and end the user's sessions."""
    access.require(viewer, "users")
    if password is not None:
        _check_new(password, username)
    password = password or generate_password()
    with _editing(path) as data:
        user = _user(data, username)
        user["password"], user["failed_login_attempts"] = hash_password(password), 0
        user.pop("locked_until", None)  # the pause of earlier versions
        user.pop("address_failures", None)
        user.pop("ceiling", None)
        _bump(user)
    audit.record(log, viewer.username, "user.reset_password", username)
    return password


def change_password(path: Path, viewer: Viewer, current: str, new: str,
                    log: Path | None = None) -> None:  # fmt: skip
    """The signed-in user changes their own password: the current one must match, the new one
    follow the password rule. Other sessions of the user end; the caller renews its own."""
    access.require(viewer, "own_data")
    username = viewer.username
    _check_new(new, username)
    with _editing(path) as data:
        user = _user(data, username)
        if not check_password(current or "", user.get("password", "")):
            raise UserError("The current password is not right.")
        user["password"] = hash_password(new)
        _bump(user)
    audit.record(log, username, "user.change_password", username)


def set_disabled(path: Path, username: str, disabled: bool = True, *, viewer: Viewer = SYSTEM,
                 log: Path | None = None) -> None:  # fmt: skip
    access.require(viewer, "users")
    with _editing(path) as data:
        user = _user(data, username)
        if disabled and _last_admin(data, username):
            raise UserError(f"'{username}' is the last admin; make another admin first.")
        user["disabled"] = bool(disabled)
        _bump(user)
    audit.record(log, viewer.username, "user.disable" if disabled else "user.enable", username)


# ---------------------------------------------------------------- sessions and sign-in


def _bump(user: dict) -> None:
    """End every session of the user: cookies carry the old generation."""
    user["session"] = int(user.get("session") or 0) + 1


def session(path: Path, username: str) -> int | None:
    """The user's current session generation, or None when the account is gone or disabled."""
    user = load(path)["credentials"]["usernames"].get(username)
    if not user or user.get("disabled"):
        return None
    return int(user.get("session") or 0)


def sign_out(path: Path, viewer: Viewer, log: Path | None = None) -> None:
    """Sign the signed-in user out everywhere: every cookie issued before stops working."""
    access.require(viewer, "own_data")
    username = viewer.username
    with _editing(path) as data:
        user = data["credentials"]["usernames"].get(username)
        if user is not None:
            _bump(user)
    audit.record(log, username, "logout", username)


def make_token(path: Path, username: str) -> str:
    """The signed login cookie's value: username, session generation and expiry."""
    found = cookie(path)
    claims = {"username": username, "session": session(path, username) or 0,
              "exp": int(time.time() + float(found["expiry_days"]) * 86400)}  # fmt: skip
    return jwt.encode(claims, found["key"], algorithm="HS256")


HANDOVER_S = 120  # how long a browser has to trade a hand-over code for the login cookie
_HANDOVERS: dict[str, tuple[float, str | None, int, str]] = {}
_HANDOVER_LOCK = threading.Lock()


def cookie_handover(path: Path, username: str | None) -> str:
    """A one-time code that the browser trades, within HANDOVER_S seconds, for the login
    cookie of `username` (None: for removing it), set by the web server as an HttpOnly cookie
    that page scripts cannot read. The code is random, used once and kept only in memory."""
    found = cookie(path)
    token = make_token(path, username) if username else None
    max_age = int(float(found["expiry_days"]) * 86400)
    code = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _HANDOVER_LOCK:
        for old in [c for c, entry in _HANDOVERS.items() if entry[0] < now]:
            del _HANDOVERS[old]
        _HANDOVERS[code] = (now + HANDOVER_S, token, max_age, found["name"])
    return code


def redeem_handover(code: str | None) -> tuple[str, str | None, int] | None:
    """(cookie name, value or None to remove it, lifetime in seconds) for a code handed out
    and not yet used or expired; else None."""
    with _HANDOVER_LOCK:
        entry = _HANDOVERS.pop(str(code or ""), None)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[3], entry[1], entry[2]


def read_token(path: Path, token) -> tuple[str, int] | None:
    """(username, session) from a login cookie that is valid now, else None — whatever is
    wrong with it (forged, another algorithm, expired, garbage, an old generation)."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(token, cookie(path)["key"], algorithms=["HS256"],
                            options={"require": ["exp", "username", "session"]})  # fmt: skip
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, UserError):
        return None
    username, generation = claims.get("username"), claims.get("session")
    if not isinstance(username, str) or not isinstance(generation, int):
        return None
    return (username, generation) if session(path, username) == generation else None


def lock_seconds(failures: int) -> float:
    """The pause after `failures` failed sign-ins in a row from one address (0 below the
    limit)."""
    if failures < MAX_LOGIN_ATTEMPTS:
        return 0.0
    return float(min(LOCK_FIRST_S * 2 ** (failures - MAX_LOGIN_ATTEMPTS), LOCK_MAX_S))


def ceiling_seconds(guesses: int) -> float:
    """The account-wide pause, for addresses that never signed in to it, after `guesses`
    wrong passwords checked from such addresses (0 below the ceiling)."""
    if guesses < ACCOUNT_CEILING:
        return 0.0
    return float(min(CEILING_FIRST_S * 2 ** (guesses - ACCOUNT_CEILING), LOCK_MAX_S))


def _address_state(user: dict, address: str, now: float) -> dict:
    """The failures and pause of one client address for an account; entries long quiet are
    dropped so that many addresses cannot grow the file without bound."""
    table = user.get("address_failures")
    if not isinstance(table, dict):
        table = user["address_failures"] = {}
    for key in [k for k, v in table.items() if not isinstance(v, dict)
                or float(v.get("last") or 0) < now - QUIET_S]:  # fmt: skip
        del table[key]
    if len(table) >= MAX_ADDRESSES and address not in table:
        del table[min(table, key=lambda k: float(table[k].get("last") or 0))]
    return table.setdefault(address, {"failures": 0, "until": 0, "last": now})


def _ceiling_state(user: dict, now: float) -> dict:
    state = user.get("ceiling")
    if not isinstance(state, dict) or float(state.get("last") or 0) < now - QUIET_S:
        state = user["ceiling"] = {"guesses": 0, "until": 0, "last": now}
    return state


def _known(user: dict) -> dict:
    known = user.get("known_addresses")
    return known if isinstance(known, dict) else {}


def paused_now(user: dict, now: float | None = None) -> bool:
    """Whether sign-in to this account is paused from some address or for new addresses."""
    now = time.time() if now is None else now
    table = user.get("address_failures") if isinstance(user.get("address_failures"), dict) else {}
    ceiling = user.get("ceiling") if isinstance(user.get("ceiling"), dict) else {}
    return float(ceiling.get("until") or 0) > now or any(
        isinstance(v, dict) and float(v.get("until") or 0) > now for v in table.values()
    )


_DUMMY_HASH = bcrypt.hashpw(b"no such user", bcrypt.gensalt()).decode("ascii")


def login(path: Path, username: str, password: str, log: Path | None = None,
          address: str | None = None) -> int | None:  # fmt: skip
    """Check a sign-in from a client `address`; the session generation when it succeeds, else
    None. The caller says "wrong username or password" in every case, so nobody learns which
    accounts exist or which are paused.

    The pause is per account and address: failures from one address pause that address only,
    so nobody elsewhere can keep an account (the only admin) paused. Guesses spread over many
    addresses meet a slower ceiling: wrong passwords checked from addresses that never signed
    in to the account are counted for the account, and past ACCOUNT_CEILING such addresses wait
    too, while the addresses it signed in from before are not held up by it. Every failure is
    counted before the password is checked, in the file under its lock, so parallel guesses
    each count and a paused attempt is not checked at all."""
    username = (username or "").strip().lower()
    address = str(address or LOCAL)[:64]
    now = time.time()
    with _editing(path) as data:
        user = data["credentials"]["usernames"].get(username)
        if user is not None:
            here = _address_state(user, address, now)
            ceiling = _ceiling_state(user, now)
            before = dict(ceiling)
            known = address in _known(user)
            held_here = float(here.get("until") or 0) > now
            held_by_ceiling = not known and float(ceiling.get("until") or 0) > now
            paused = held_here or held_by_ceiling
            user["failed_login_attempts"] = failures = (
                int(user.get("failed_login_attempts") or 0) + 1
            )
            here["failures"] = address_failures = int(here.get("failures") or 0) + 1
            here["last"] = now
            if not held_here and lock_seconds(address_failures):
                here["until"] = now + lock_seconds(address_failures)
            # Counted as if wrong now; a right password clears it again below.
            guesses = int(ceiling.get("guesses") or 0)
            if not paused and not known and not user.get("disabled"):
                ceiling["guesses"] = guesses = guesses + 1
                ceiling["last"] = now
                if ceiling_seconds(guesses):
                    ceiling["until"] = now + ceiling_seconds(guesses)
    if user is None:
        check_password(password, _DUMMY_HASH)  # the same time as for a real account
        audit.record(log, "", "login.failed", username, {"reason": "unknown user",
                                                        "address": address})  # fmt: skip
        return None
    if paused or user.get("disabled") or not check_password(password, user.get("password", "")):
        reason = ("paused" if held_here else "paused for new addresses" if held_by_ceiling
                  else "disabled" if user.get("disabled") else "wrong password")  # fmt: skip
        audit.record(log, username, "login.failed", username,
                     {"failed_logins": failures, "reason": reason, "address": address})  # fmt: skip
        if not held_here and lock_seconds(address_failures):
            audit.record(log, "system", "login.locked", username,
                         {"failed_logins": address_failures, "address": address,
                          "seconds": lock_seconds(address_failures)})  # fmt: skip
        if not paused and not known and ceiling_seconds(guesses):
            audit.record(log, "system", "login.locked", username,
                         {"failed_logins": guesses, "address": "new addresses",
                          "seconds": ceiling_seconds(guesses)})  # fmt: skip
        return None
    with _editing(path) as data:
        user = data["credentials"]["usernames"].get(username)
        if user is None:
            return None
        user["failed_login_attempts"] = 0
        table = user.get("address_failures")
        if isinstance(table, dict):
            table.pop(address, None)
        if not known and isinstance(user.get("ceiling"), dict):
            user["ceiling"] = before  # this guess was right: it does not count
        known = _known(user)
        known[address] = now
        user["known_addresses"] = dict(sorted(known.items(), key=lambda kv: kv[1])[-MAX_KNOWN:])
        return int(user.get("session") or 0)


def add_demo(path: Path, log: Path | None = None) -> list[tuple[str, str]]:
    """The demo accounts (a manager, a trainer, two agents), created once; returns passwords."""
    existing = set(load(path)["credentials"]["usernames"])
    made = []
    for username, role, agent, name in DEMO_ACCOUNTS:
        if username not in existing:
            made.append((username, add(path, username, role, agent=agent, name=name, demo=True,
                                       log=log)))  # fmt: skip
    return made


def remove_demo(path: Path, viewer: Viewer = SYSTEM, log: Path | None = None) -> list[str]:
    """Delete the demo accounts (they go with the demo data)."""
    access.require(viewer, "upload")
    if not path.exists():
        return []
    with _editing(path) as data:
        gone = [u for u, e in data["credentials"]["usernames"].items() if e.get("demo")]
        for username in gone:
            del data["credentials"]["usernames"][username]
    for username in gone:
        audit.record(log, viewer.username, "user.delete", username, {"demo": True})
    return gone
