"""Python's cyclic garbage collector paused while a workbook is read.

Reading a workbook makes millions of small lists and strings that all live until the table is
built. The collector, started by every 700 new objects, walks those survivors again and again:
about a third of the time a 200,000-row workbook takes to read. Reference counting still frees
whatever is no longer used; cycles made meanwhile are collected once the pause ends. The pause
counts its users, so threads that read at the same time end it only when the last one is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_users = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _users, _was_enabled
    with _LOCK:
        if _users == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _users += 1
    try:
        yield
    finally:
        with _LOCK:
            _users -= 1
            if _users == 0 and _was_enabled:
                gc.enable()
