"""Helpers for browser tests: find Chromium, start the app on a free local port, stop it.

The system Chromium (Debian's `chromium`) is used when present; otherwise Playwright's own
build, which `python -m playwright install chromium` downloads on a normal machine.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

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


@contextmanager
def contexts(browser):
    """new_context(): browser contexts as the tests use them (a wide window, English, downloads
    accepted), all closed on exit."""
    made = []

    def new_context():
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US",
                                      accept_downloads=True)  # fmt: skip
        made.append(context)
        return context

    try:
        yield new_context
    finally:
        for context in made:
            with suppress(PlaywrightError):  # closed already, or its browser is gone
                context.close()


def open_tab(context, url: str):
    """A new tab in `context` at `url`."""
    tab = context.new_page()
    tab.set_default_timeout(30000)
    tab.goto(url)
    return tab


def free_port() -> int:
    """A free port on 127.0.0.1. A pytest-xdist worker takes it from a block of its own, below
    the ports the system hands out, so parallel tests never pick the same one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        first = 20000 + 400 * (int(worker[2:]) % 30)
        for port in random.sample(range(first, first + 400), 400):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
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
        self.log = open(self.db.with_suffix(".log"), "w")
        for _ in range(3):  # a port found free can be taken (by a parallel test) before use
            if self._start():
                return self
            self._stop()
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        self.__exit__()
        raise RuntimeError(f"the app did not start; log: {self.db.with_suffix('.log')}")

    def _start(self) -> bool:
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
               "--server.headless", "true", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return True
            except OSError:
                time.sleep(0.3)
        return False

    def _stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc):
        self._stop()
        self.log.close()


# True in the page when the app has finished running, shows no stale elements, and its run
# state has not changed for `quiet` ms (a run often starts another one at once). The first
# call in a document starts watching the state.
SETTLED = """(quiet) => {
  if (window.__scorecardChanged === undefined) {
    window.__scorecardChanged = performance.now();
    new MutationObserver(() => { window.__scorecardChanged = performance.now(); }).observe(
      document, {subtree: true, attributes: true, attributeFilter: ["data-test-script-state"]});
  }
  const app = document.querySelector("[data-testid=stApp]");
  return !!app && app.getAttribute("data-test-script-state") !== "running"
    && !document.querySelector("[data-stale=true]")
    && performance.now() - window.__scorecardChanged >= quiet; }"""
QUIET_MS = 500


def settle(tab, timeout: float = 60000) -> None:
    """Wait until the app has finished running and its run state has stayed so for QUIET_MS:
    at once when it has long been idle, later when a run starts another one."""
    for attempt in range(3):
        try:
            tab.wait_for_function(SETTLED, arg=QUIET_MS, timeout=timeout)
            return
        except PlaywrightError as exc:  # a new document while waiting: wait in that one
            if attempt == 2 or "context was destroyed" not in str(exc):
                raise


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


def grid_cell(page, grid_index: int, row: str, column: str):
    """The accessible cell of an st.dataframe / st.data_editor grid under the header `column`
    in the row that has a cell reading `row` (the grid draws on a canvas; this copy holds
    the text)."""
    grid = page.get_by_test_id("stDataFrame").nth(grid_index)
    headers = grid.locator("thead th")
    headers.first.wait_for(state="attached")
    deadline = time.monotonic() + 15
    while column not in headers.all_inner_texts() and time.monotonic() < deadline:
        time.sleep(0.2)  # a grid redrawn by a rerun fills in its headers a moment later
    index = headers.all_inner_texts().index(column)
    line = grid.locator("tbody tr").filter(
        has=page.locator("td", has_text=re.compile(f"^{re.escape(row)}$"))
    )
    return line.locator("td").nth(index)


def edit_grid_cell(page, grid_index: int, row: str, column: str, value: str) -> None:
    """Type a value into a cell of an st.data_editor grid: the cell under the header `column`
    in the row that has a cell reading `row`.

    The grid draws its cells on a canvas; its accessible table holds one element per cell.
    Focusing that element selects the cell (repeated until the grid shows it selected, as a
    rerun may redraw the grid), Enter opens its editor.
    """
    cell = grid_cell(page, grid_index, row, column)
    editor = page.locator("#portal input, #portal textarea")
    for _ in range(10):
        cell.focus()
        try:
            expect(cell).to_have_attribute("aria-selected", "true", timeout=2000)
        except AssertionError:
            continue
        page.keyboard.press("Enter")
        try:
            editor.first.wait_for(state="visible", timeout=5000)
            break
        except PlaywrightError:  # the grid was redrawn meanwhile: select the cell again
            page.keyboard.press("Escape")
    editor.first.fill(value)
    editor.first.press("Enter")
