"""The layers of DESIGN.md, enforced: import-linter's contract in pyproject.toml keeps every import
pointing down (entry points > report > papers > pipeline > metrics > explainers > models >
data | results > core), and it does fail on one that points up."""

import shutil
import subprocess
import sys
from pathlib import Path

from bench.core.paths import PROJECT_ROOT

LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"]


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LINT, "--config", str(PROJECT_ROOT / "pyproject.toml"), "--no-cache"], cwd=root,
                          env={"PYTHONPATH": str(root), "PATH": ""}, capture_output=True, text=True, timeout=120)


def test_every_import_points_down():
    result = lint(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_import_that_points_up_breaks_the_contract(tmp_path):
    shutil.copytree(PROJECT_ROOT / "bench", tmp_path / "bench", ignore=shutil.ignore_patterns("__pycache__"))
    io = tmp_path / "bench" / "core" / "io.py"
    io.write_text(io.read_text() + "\nimport bench.report.tables  # the ground floor reading a table: up\n")
    result = lint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bench.core is not allowed to import bench.report" in result.stdout
