"""Where the project's own files are, independent of the working directory."""

from __future__ import annotations

import os
from pathlib import Path

from bench.io import write_problem

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA_ENV_VAR = "BENCH_SHARED_DATA"


def project_path(path: str | Path) -> Path:
    """A path as given when it exists (absolute, or relative to the working directory), else
    relative to the project root, where the shipped manifests and configs live."""
    path = Path(path).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return PROJECT_ROOT / path


def shared_data_candidates() -> list[Path]:
    """Where ../shared/data may be: $BENCH_SHARED_DATA, else beside the working directory, else
    beside the project (the shared data lives next to the repository, never in it)."""
    from_env = [Path(os.environ[SHARED_DATA_ENV_VAR])] if os.environ.get(SHARED_DATA_ENV_VAR) else []
    return [*from_env, Path.cwd().parent / "shared" / "data", PROJECT_ROOT.parent / "shared" / "data"]


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
