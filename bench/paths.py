"""Where the project's own files are, independent of the working directory."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def project_path(path: str | Path) -> Path:
    """A path as given when it exists (absolute, or relative to the working directory), else
    relative to the project root, where the shipped manifests and configs live."""
    path = Path(path).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return PROJECT_ROOT / path
