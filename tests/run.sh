#!/usr/bin/env bash
# The project's test command: lint, format check, import layers, then every test (unit, AppTest, browser),
# on two workers (pytest-xdist; SCORECARD_TEST_WORKERS changes the number, 0 runs in this
# process). Tests marked slow (the 200 MB export) are left out; `--slow` runs them too (CI).
# Uses .venv/bin/python when present. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
"$PY" -m ruff check .
"$PY" -m ruff format --check .
# The layers of lib (pyproject.toml [tool.importlinter]).
"$PY" -c "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())" --no-cache
# Browser tests use the system Chromium when installed, else Playwright's own build.
if ! "$PY" -c "import sys; from tests.browser import find_chromium; sys.exit(0 if find_chromium() else 1)"; then
  "$PY" -m playwright install chromium
fi
"$PY" -m pytest -q -n "${SCORECARD_TEST_WORKERS:-2}" --dist loadgroup "$@"
