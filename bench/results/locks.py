"""An advisory lock per unit, so that runs sharing a results folder (two commands at once, the
jobs of a sweep) compute each unit once: one holds it, the others wait, then find it stored.

`flock`, not a lock file that exists or not: the kernel drops the lock when its process dies, so
a run killed with -9 leaves no claim behind and the next one resumes at once. The lock files stay
(removing one that another run has opened would let a third lock a new file beside it)."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.core.errors import one_line

log = logging.getLogger("bench")

_unsupported: set[str] = set()  # file systems found to refuse locks, warned about once each


@contextmanager
def locked(path: str | Path, on_wait: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Holds an exclusive lock on `path` (created if need be) for the block; when another process
    holds it, calls `on_wait` and waits for it. A file system that cannot lock (Lustre mounted
    without `flock`) leaves the block unlocked, with a warning: one run alone is still right."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Read-only is enough to lock, so another user's runs may lock a file this one created.
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as e:
            _warn_unlocked(path, e)
        yield
    finally:
        os.close(fd)  # releases the lock


def _warn_unlocked(path: Path, error: OSError) -> None:
    device = str(os.stat(path).st_dev)
    if device not in _unsupported:
        _unsupported.add(device)
        log.warning("%s cannot be locked (%s): runs that share this results folder at the same time may "
                    "compute a unit twice", path.parent, one_line(error, 200))
