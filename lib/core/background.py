"""Work that runs off a page's script thread: reading a big workbook, storing an upload.

A `Job` runs one function in a daemon thread and keeps what a page needs to show it: the
progress the work reports (a fraction and a few words) and, once it ends, its result or the
exception it raised. A page starts a job, keeps it in the session, shows its progress while
the person goes on using the app, and shows the result when it is done; the work itself is
unchanged (an upload is still one transaction, and its errors are the same). Plain Python:
nothing here knows about Streamlit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Job:
    """One piece of work running in the background. `work` is called with a progress
    callback `progress(fraction, message)` and its return value becomes `result`."""

    def __init__(self, work: Callable[[Callable[[float, str], None]], Any], label: str = ""):
        self.fraction = 0.0
        self.message = label
        self.result: Any = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.ended: float | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True,
                                        name=f"job: {label}"[:60])  # fmt: skip
        self._thread.start()

    def progress(self, fraction: float, message: str | None = None) -> None:
        self.fraction = max(0.0, min(float(fraction), 1.0))
        if message:
            self.message = message

    def _run(self, work) -> None:
        try:
            self.result = work(self.progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the page, which says what failed
            self.error = exc
        finally:
            self.ended = time.monotonic()
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def wait(self, seconds: float) -> bool:
        """Wait at most `seconds` for the end; whether it has ended."""
        return self._done.wait(max(float(seconds), 0.0))

    def outcome(self) -> Any:
        """The result of a finished job, or the exception it raised, raised again here."""
        if self.error is not None:
            raise self.error
        return self.result
