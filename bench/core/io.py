"""Atomic file writes (readers, and a rerun after a crash, never see a partial file), and whether
a folder can be written at all."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; it replaces `path` only if the block succeeds,
    after its content has reached the disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)  # mkstemp makes 0600; results and cache files are meant to be shared
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, content: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)


def write_all_atomic(files: dict[Path, bytes]) -> None:
    """Writes every file beside its place first, then puts them all in place: a write that fails
    (a full disk, a read-only folder) replaces none of them. (A crash between two renames can
    still leave some replaced: a rename per file is the file system's only atomic step.)"""
    with contextlib.ExitStack() as stack:
        for path, content in files.items():
            stack.enter_context(atomic_path(path)).write_bytes(content)


def md5(content: bytes) -> str:
    """The hex md5 of `content`: the checksum OpenML and the MNIST files are published with."""
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def write_problem(folder: str | Path) -> OSError | None:
    """Why no file can be created in `folder` (or, before it exists, in the nearest folder above
    it); None when one can. Tried, not asked: os.access says yes to root on a read-only mount,
    and knows nothing of quotas."""
    folder = Path(folder).absolute()
    existing = next(f for f in (folder, *folder.parents) if f.exists())
    try:
        with tempfile.TemporaryFile(dir=existing):
            return None
    except OSError as e:
        return e
