"""Commands while the app is open: the running app carries them out on its own connection.

DuckDB lets one process open a store file for writing, and the app keeps its store open. So
the app serves a hand-off folder beside the store (`<store>.handoff/`): it writes a heartbeat
there every second, and runs each job it finds — a command line such as `ingest FILE
--mapping NAME` — in its own process, where the store is already open, then writes the exit
code and the output back. A command that finds the store in use and a fresh heartbeat hands
its command over, waits for the answer and prints it as if it had run itself: same output,
same exit code. Writes are serialised by `store.WRITE_LOCK`, so an upload in the app and a
command at the same time both land, one after the other. Jobs are files readable by the
owner only and are removed once answered.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time
import uuid
from pathlib import Path

HEARTBEAT = "alive.json"
FRESH = 5.0  # seconds: an older heartbeat means no app is serving
# Commands handed over whole; restore, backup, demo and users stay direct, and `watch` hands
# over one scan at a time (`watch --once`), so the app never runs an endless loop.
COMMANDS = {"ingest", "scorecard", "report", "mail", "digest", "quarantine", "presets",
            "schemes"}  # fmt: skip
# Environment a job carries (settings a command reads); applied only while the job runs.
PASSED_ENV = ("SCORECARD_SMTP_", "SCORECARD_SERVICE_HOURS", "SCORECARD_HOLIDAYS",
              "SCORECARD_WEBHOOK_ALLOW_HOSTS")  # fmt: skip
PATH_OPTIONS = {"--db", "--out", "--log", "--addresses", "--alerts", "--mapping", "--scheme"}

_RUN_LOCK = threading.Lock()  # one job at a time: output capture is process-wide
_SERVED: dict[str, threading.Thread] = {}
_STOPS: dict[str, threading.Event] = {}


def folder(db: str | os.PathLike) -> Path:
    db = Path(db).resolve()
    return db.with_name(db.name + ".handoff")


def serving(db: str | os.PathLike) -> bool:
    """True when an app has this store open and answers jobs."""
    beat = folder(db) / HEARTBEAT
    try:
        return time.time() - beat.stat().st_mtime < FRESH
    except OSError:
        return False


# ---------------------------------------------------------------- the app's side


def serve(db: str | os.PathLike, interval: float = 0.5) -> None:
    """Start answering jobs for this store in a background thread (once per store)."""
    key = str(Path(db).resolve())
    if key in _SERVED and _SERVED[key].is_alive():
        return
    box = folder(db)
    box.mkdir(mode=0o700, exist_ok=True)
    stop = threading.Event()
    thread = threading.Thread(target=_loop, args=(box, interval, stop), daemon=True,
                              name="scorecard-handoff")  # fmt: skip
    _SERVED[key], _STOPS[key] = thread, stop
    thread.start()


def stop(db: str | os.PathLike, timeout: float = 10) -> None:
    """Stop answering jobs for this store, once a job under way is answered. The app serves
    until its process ends; this is for a process that opens many stores in turn (the tests)."""
    key = str(Path(db).resolve())
    event, thread = _STOPS.pop(key, None), _SERVED.pop(key, None)
    if event:
        event.set()
    if thread:
        thread.join(timeout)


def _loop(box: Path, interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(OSError):
            _write(box / HEARTBEAT, {"pid": os.getpid(), "at": time.time()})
            for job in sorted(box.glob("*.job.json"), key=lambda p: p.stat().st_mtime):
                _answer(job)
        stop.wait(interval)


def _answer(job: Path) -> None:
    claimed = job.with_suffix(".running")
    try:
        job.rename(claimed)  # claim it: a second server (or a retry) never runs it twice
    except OSError:
        return
    try:
        spec = json.loads(claimed.read_text(encoding="utf-8"))
        answer = run(spec["argv"], spec.get("env") or {})
    except Exception as exc:  # noqa: BLE001 - a broken job gets an answer, never kills the loop
        answer = {"code": 1, "stdout": "", "stderr": f"the app could not run the command: {exc}"}
    finally:
        with contextlib.suppress(OSError):
            claimed.unlink()
    _write(job.with_name(job.name.replace(".job.json", ".result.json")), answer)


def run(argv: list[str], env: dict) -> dict:
    """Run a command line in this process, with its output captured."""
    from unittest import mock

    from lib.app import cli  # a cycle: the command line hands its commands over to here

    if not allowed(argv):
        return {"code": 2, "stdout": "", "stderr": "the app runs only these commands for the "
                f"command line: {', '.join(sorted(COMMANDS))} and `watch --once`; stop the app "
                "for the others\n"}  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    with _RUN_LOCK, mock.patch.dict(os.environ, env), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):  # fmt: skip
        try:
            code = cli.main(argv, handoff=False)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def allowed(argv: list[str]) -> bool:
    """Only the commands that may run beside the app: never restore, backup, demo or users."""
    if not argv:
        return False
    return argv[0] in COMMANDS or (argv[0] == "watch" and "--once" in argv)


def _write(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
    os.replace(tmp, path)


# ---------------------------------------------------------------- the command's side


def absolute(argv: list[str]) -> list[str]:
    """The command line with file arguments made absolute (the app runs in another folder)."""
    out, path_next = [], False
    for token in argv:
        if path_next or (not token.startswith("-") and Path(token).exists()):
            looks_like_path = os.sep in token or Path(token).suffix or Path(token).exists()
            out.append(str(Path(token).resolve()) if looks_like_path else token)
        else:
            out.append(token)
        path_next = token in PATH_OPTIONS
    return out


def hand_over(db: str | os.PathLike, argv: list[str], timeout: float = 3600) -> dict | None:
    """Give a command to the app serving this store and wait for its answer; None when no app
    took it (the caller then reports the store as busy)."""
    box = folder(db)
    env = {k: v for k, v in os.environ.items() if k.startswith(PASSED_ENV)}
    job_id = uuid.uuid4().hex
    job, result = box / f"{job_id}.job.json", box / f"{job_id}.result.json"
    _write(job, {"argv": absolute(argv), "env": env})
    deadline = time.time() + timeout
    while time.time() < deadline:
        if result.exists():
            answer = json.loads(result.read_text(encoding="utf-8"))
            result.unlink()
            return answer
        if not serving(db) and job.exists():  # the app went away before taking it
            with contextlib.suppress(OSError):
                job.unlink()
                return None
        time.sleep(0.2)
    with contextlib.suppress(OSError):
        job.unlink()
    return None
