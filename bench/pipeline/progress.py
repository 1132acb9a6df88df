"""A progress bar on a terminal, plain log lines elsewhere (CI, files)."""

from __future__ import annotations

import sys
from typing import Iterable, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], *, desc: str) -> Iterable[T]:
    items = list(items)
    # tqdm(disable=None) switches itself off when stderr is not a terminal.
    return tqdm(items, desc=desc, total=len(items), disable=None if len(items) > 1 else True, file=sys.stderr,
                leave=False, dynamic_ncols=True)
