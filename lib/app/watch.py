"""The watched folder: ingest export files that appear or change in a folder.

A shop drops daily 千牛 files into a synced folder; the watcher scans it, waits until a file's
size and modification time have stayed the same for a settling time (so a file still being
copied is never read half-written), and ingests it with a mapping. Each content is taken once,
by SHA-256: a renamed copy or an unchanged file is skipped, a changed file is read again.
Every result is logged and kept in `watched_files`, from where failures reach the digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from lib.app import intake
from lib.auth import access
from lib.core import errors, store
from lib.core.errors import UnusableFile

log = logging.getLogger("scorecard.watch")

EXTENSIONS = {".csv", ".txt", ".tsv", ".xlsx", ".xls", ".xlsm", ".xlsb", ".ods"}
PARTIAL = (".part", ".tmp", ".crdownload", ".download", "~")  # being written by a sync tool


@dataclass
class Watcher:
    folder: Path
    mapping: object  # lib.ingest.mapping.Mapping
    settle: float = 5.0
    user: str = "watch"  # named in the upload log
    # path → (size, mtime, first time seen with that size and mtime)
    _seen: dict = field(default_factory=dict)

    @property
    def viewer(self) -> access.Viewer:
        """The watcher uploads with the system's rights, under its own name."""
        return access.Viewer(self.user, access.SYSTEM.role)

    def candidates(self) -> list[Path]:
        if not self.folder.is_dir():
            raise FileNotFoundError(f"The watched folder {self.folder} does not exist.")
        return sorted(p for p in self.folder.iterdir()
                      if p.is_file() and p.suffix.lower() in EXTENSIONS
                      and not p.name.startswith((".", "~$")) and not p.name.endswith(PARTIAL))  # fmt: skip

    def stable(self, path: Path, now: float) -> bool:
        """True once the file's size and mtime have not changed for `settle` seconds."""
        st = path.stat()
        key = (st.st_size, st.st_mtime_ns)
        before = self._seen.get(path)
        if before is None or before[:2] != key:
            self._seen[path] = (*key, now)
            return False
        return now - before[2] >= self.settle and st.st_size > 0

    def scan(self, con, now: float | None = None) -> list[dict]:
        """One pass: ingest every file that is stable and whose content is new."""
        now = time.monotonic() if now is None else now
        results = []
        for path in self.candidates():
            try:
                if not self.stable(path, now):
                    continue
            except FileNotFoundError:  # moved away between listing and looking
                self._seen.pop(path, None)
                continue
            results.extend(r for r in [self.take(con, path)] if r)
        return results

    def take(self, con, path: Path) -> dict | None:
        """Ingest one file unless its content was taken before; returns what happened."""

        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        known = con.cursor().execute(
            "SELECT status FROM watched_files WHERE sha256 = ?", [digest]).fetchone()  # fmt: skip
        if known is not None and known[0] != "failed":
            return None
        upload_id = None
        try:
            [result] = intake.store_uploads(con, self.viewer, [intake.Upload(path, self.mapping)])
            if isinstance(result, UnusableFile):
                status, message = "rejected", str(result)
            else:
                status, message, upload_id = (
                    result.status,
                    result.summary(max_errors=3),
                    result.upload_id,
                )
        except errors.StoreError:
            raise  # the store itself: the caller decides (retry later)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the watcher
            status, message = "failed", f"{type(exc).__name__}: {exc}"
        store.write(con, lambda cur: cur.execute(
            "INSERT OR REPLACE INTO watched_files VALUES (?, ?, ?, ?, ?, ?, ?)",
            [digest, str(path), len(data), dt.datetime.now(), status, message, upload_id]),
            bump=False)  # fmt: skip
        if status == "stored":
            log.info("%s: %s", path.name, message.splitlines()[0] if message else status)
        else:
            log.warning("%s: %s — %s", path.name, status.upper(), message)
        return {"file": str(path), "sha256": digest, "status": status, "message": message}
