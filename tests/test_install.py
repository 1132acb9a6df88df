"""bench as a user installs it: a wheel built from the checkout, installed in a fresh virtualenv,
run from another folder. Its configs, suite manifests and published baselines ship inside it.
`pip install <checkout>` builds this same wheel (the build backend's build_wheel) and installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from bench.core.paths import PROJECT_ROOT, SHIPPED_ROOT
from tests.conftest import FAST, FAST_EXPLAINERS

# Not the package's source: the virtualenv and git (dot folders), the checkout's results and
# what earlier builds left. Top-level names only: bench/results is source.
NOT_SOURCE = {"results", "build", "dist"}


def _source_only(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name.startswith(".") or name == "__pycache__" or name.endswith(".egg-info")
            or (Path(folder) == PROJECT_ROOT and name in NOT_SOURCE)]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH could put the checkout's bench in front of the installed one.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYDRA_FULL_ERROR")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A virtualenv with bench's wheel installed and, through a .pth file, this virtualenv's
    locked packages: a plain path line, so that .venv's own .pth files (the editable install's
    finder) are not run and the installed bench is the only one."""
    tmp = tmp_path_factory.mktemp("install")
    # `pip wheel` builds in the source folder and leaves build/ there: a copy keeps the checkout clean.
    source = Path(shutil.copytree(PROJECT_ROOT, tmp / "source", ignore=_source_only))
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                 "--wheel-dir", str(tmp / "wheels"), str(source)], cwd=tmp)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp / "wheels").glob("bench-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site_packages = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp).stdout.strip()
    (Path(site_packages) / "locked_packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # --ignore-installed: pip sees .venv's bench through the .pth and must leave it alone.
    installed = run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed",
                     str(wheel)], cwd=tmp)
    assert installed.returncode == 0, installed.stderr
    return venv


def test_the_wheel_carries_the_configs_manifests_and_baselines(venv, tmp_path):
    probe = run([str(venv / "bin" / "python"), "-c",
                 "import bench.core.paths as p; print(p.__file__, p.CONF_DIR, p.SHIPPED_ROOT)"], cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    module, conf, shipped_root = map(Path, probe.stdout.split())
    assert module.resolve().is_relative_to(venv.resolve()) and conf == shipped_root / "conf" and shipped_root == module.parents[1]  # bench/, above bench/core/
    for folder, pattern in (("conf", "*.yaml"), ("datasets", "*.csv"), ("baselines", "*.csv")):
        in_checkout = sorted(p.relative_to(SHIPPED_ROOT / folder) for p in (SHIPPED_ROOT / folder).rglob(pattern))
        assert in_checkout and in_checkout == sorted(p.relative_to(shipped_root / folder)
                                                     for p in (shipped_root / folder).rglob(pattern)), folder


def test_bench_help_names_bench_and_lists_the_groups_from_any_folder(venv, tmp_path):
    result = run([str(venv / "bin" / "bench"), "--help"], cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.stdout.startswith("bench is powered by Hydra.")
    assert "data: amlb, digits, embedded" in result.stdout and "model: atex" in result.stdout


def test_python_m_bench_composes_a_suite_from_any_folder(venv, tmp_path):
    result = run([str(venv / "bin" / "python"), "-m", "bench", "--cfg", "job", "data=openml_cc18", "model=logreg"],
                 cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "manifest: datasets/openml_cc18.csv" in result.stdout
    assert "_target_: bench.models.LogisticRegression" in result.stdout


def test_the_embedded_default_runs_from_any_folder_into_its_results(venv, tmp_path):
    result = run([str(venv / "bin" / "bench"), "budget=smoke", *FAST, *FAST_EXPLAINERS], cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "44 unit(s) computed" in result.stdout
    assert list((tmp_path / "results" / "rows").rglob("*")) and (tmp_path / "results" / "tables").is_dir()
