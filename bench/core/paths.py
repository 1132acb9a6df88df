"""Where the project's own files are, independent of the working directory."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from bench.core.io import write_problem

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA_ENV_VAR = "BENCH_SHARED_DATA"
# The Hydra configs as a package (setup.py maps conf/ onto it), so that Hydra reads them as
# pkg://bench.conf from a checkout, an editable install and an installed wheel alike.
CONF_PACKAGE = "bench.conf"
try:
    CONF_DIR = Path(files(CONF_PACKAGE))
except ModuleNotFoundError:  # the checkout on PYTHONPATH: bench.conf exists only once installed
    raise ImportError("bench's configs (the package bench.conf, made of conf/) are not installed: install the "
                      "checkout (`make setup`, or `pip install -e .`) rather than putting it on PYTHONPATH") from None
# Where conf/ and the folders shipped beside it (datasets/, baselines/) are: the project root in
# a checkout or an editable install; the package's own folder when installed from a wheel.
SHIPPED_ROOT = CONF_DIR.parent


def project_path(path: str | Path) -> Path:
    """A path as given when it exists (absolute, or relative to the working directory), else
    relative to where the shipped manifests, baselines and configs are (SHIPPED_ROOT)."""
    path = Path(path).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return SHIPPED_ROOT / path


def shared_data_candidates() -> list[Path]:
    """Where ../shared/data may be: $BENCH_SHARED_DATA, else beside the working directory, else
    beside the project (the shared data lives next to the repository, never in it)."""
    from_env = [Path(os.environ[SHARED_DATA_ENV_VAR])] if os.environ.get(SHARED_DATA_ENV_VAR) else []
    candidates = [*from_env, Path.cwd().parent / "shared" / "data", PROJECT_ROOT.parent / "shared" / "data"]
    return list(dict.fromkeys(path.absolute() for path in candidates))  # once each, run from the project root too


def find_shared_data() -> Path | None:
    return next((c for c in shared_data_candidates() if (c / "openml").is_dir()), None)


def results_folder_problem(results: object) -> str | None:
    """Why a run cannot store its results in `results` (None when it can): checked before any
    work, because a run that cannot write would lose everything it computes. Writes nothing
    that stays."""
    if not str(results or "").strip():
        return "paths.results is empty: name the folder for the results, e.g. paths.results=results"
    folder = Path(str(results)).expanduser()
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        return f"paths.results={results}: {existing} is a file, not a folder; choose another paths.results"
    # Where the rows and artifacts go too: either may be a mount or a copy of its own.
    for place in (folder, folder / "rows", folder / "artifacts"):
        problem = write_problem(place)
        if problem:
            return (f"cannot write the results to {place} ({problem.strerror or problem}): choose a writable "
                    "folder with paths.results=DIR")
    return None
