"""The layout the README describes is the one on disk: every folder and `lib` package has a row
in the README's Layout table and every row names something that exists; `lib` modules carry a
docstring and import other `lib` modules at the top, except where the command line defers them.
The layering itself is checked by import-linter in the test command (pyproject.toml)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib

from lib.core.paths import ROOT

# Function-level imports of lib kept on purpose: the command line imports each command's
# modules when it runs (a quick --help); the hand-off calls back into the command line (a
# cycle); the warm-up loads Plotly and the report once, off the first page view.
DEFERRED = {"lib/app/cli.py", "lib/app/handoff.py", "lib/app/warmup.py"}


def _layout_rows() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return {m.group(1).rstrip("/") for m in re.finditer(r"^\| `([^`]+)` \|", section, re.M)}


def test_the_readme_layout_table_names_every_folder_and_package_and_nothing_else():
    rows = _layout_rows()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()  # fmt: skip
    folders = {path.split("/")[0] for path in tracked if "/" in path and not path.startswith(".")}
    packages = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "lib").glob("*/__init__.py")}
    wanted = folders | packages | {"app.py", "lib/sql"}
    assert wanted - rows == set(), "add these to the README's Layout table"
    assert {r for r in rows if not (ROOT / r).exists()} == set(), "rows for paths that don't exist"


def test_every_lib_package_is_a_layer_of_the_import_contract():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layered = next(c for c in contracts["contracts"] if c["type"] == "layers")
    named = {part.strip() for layer in layered["layers"] for part in layer.split("|")}
    packages = {p.parent.name for p in (ROOT / "lib").glob("*/__init__.py")}
    assert named == packages
    assert not [
        p.name for p in (ROOT / "lib").glob("*.py") if p.stem not in ("__init__", "__main__")
    ]


def test_lib_modules_have_a_docstring_and_import_lib_at_the_top():
    missing, inner = [], []
    for path in sorted((ROOT / "lib").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not ast.get_docstring(tree) and path.name != "__main__.py":
            missing.append(rel)
        if rel in DEFERRED:
            continue
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lib"):
                        inner.append(f"{rel}:{node.lineno}")
    assert missing == []
    assert inner == []


def test_an_upward_import_breaks_the_contract(tmp_path):
    """import-linter really guards the layers: a copy of lib where core imports present fails."""
    shutil.copytree(ROOT / "lib", tmp_path / "lib")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "lib" / "core" / "settings.py", "a", encoding="utf-8") as fh:
        fh.write("\nfrom lib.present import views  # noqa: E402,F401\n")
    check = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
    run = subprocess.run([sys.executable, "-c", check, "--no-cache"], cwd=tmp_path,
                         capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)})  # fmt: skip
    assert run.returncode != 0
    assert "lib.core.settings -> lib.present.views" in run.stdout
    clean = subprocess.run([sys.executable, "-c", check, "--no-cache"], cwd=ROOT,
                           capture_output=True, text=True)  # fmt: skip
    assert clean.returncode == 0, clean.stdout
