"""Helpers for browser tests: find Chromium, start the app on a free local port, stop it.

The system Chromium (Debian's `chromium`) is used when present; otherwise Playwright's own
build, which `python -m playwright install chromium` downloads on a normal machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    """Path of a usable Chromium: $SCORECARD_CHROMIUM, the system one, or Playwright's."""
    for candidate in (os.environ.get("SCORECARD_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
        return path if Path(path).exists() else None
    except Exception:  # noqa: BLE001 - no Playwright browser installed
        return None


def launch(playwright):
    path = find_chromium()
    bundled = path and "ms-playwright" in path
    return playwright.chromium.launch(
        executable_path=None if bundled else path, args=CHROMIUM_ARGS, headless=True
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on 127.0.0.1 with its own store; stopped on exit."""

    def __init__(self, db: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        self.env = {**os.environ, "SCORECARD_DB": str(db), **(env or {})}
        self.proc = None

    def __enter__(self):
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
               "--server.headless", "true", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
        self.log = open(self.db.with_suffix(".log"), "w")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"the app did not start; log: {self.db.with_suffix('.log')}")

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


# True in the page when the app has finished running and shows no stale elements.
IDLE = (
    "() => { const app = document.querySelector('[data-testid=stApp]');"
    " return app && app.getAttribute('data-test-script-state') !== 'running'"
    " && !document.querySelector('[data-stale=true]'); }"
)


def settle(tab, timeout: float = 60000) -> None:
    """Wait until the app is idle twice in a row 300 ms apart (a run often starts another one
    at once)."""
    for _ in range(2):
        tab.wait_for_function(IDLE, timeout=timeout)
        tab.wait_for_timeout(300)
    tab.wait_for_function(IDLE, timeout=timeout)


def sign_in(tab, username: str, password: str, succeeds: bool = True) -> None:
    """Fill the login form and sign in (then wait until the signed-in page has settled).
    The form is filled once the page is idle: a rerun that the cookie component starts when
    it first reports can otherwise drop the click on a loaded machine."""
    tab.get_by_role("textbox", name="Username").wait_for()
    settle(tab)
    tab.get_by_role("textbox", name="Username").fill(username)
    tab.get_by_role("textbox", name="Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()
    if succeeds:
        tab.get_by_role("button", name="Sign out").wait_for()
        settle(tab)


def edit_grid_cell(page, grid_index: int, row: int, column_fraction: float, value: str) -> None:
    """Type a value into a cell of an st.data_editor grid (row 1 is the first data row).

    Double-clicks the cell and waits for the grid's editor box before typing, retrying while
    the grid is still settling after a rerun.
    """
    grid = page.get_by_test_id("stDataFrame").nth(grid_index)
    grid.wait_for(state="visible")
    editor = page.locator("#portal input, #portal textarea")
    row_height = 35  # Streamlit's default row height; the header is one row
    for _ in range(5):
        box = grid.bounding_box()
        page.mouse.dblclick(box["x"] + box["width"] * column_fraction,
                            box["y"] + row_height * row + row_height / 2)  # fmt: skip
        try:
            editor.first.wait_for(state="visible", timeout=2000)
            break
        except Exception:  # noqa: BLE001 - not ready yet: try again
            page.keyboard.press("Escape")
    editor.first.fill(value)
    editor.first.press("Enter")
