"""Seeded splits for data that has no official OpenML split."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from bench.data.task import Split


def local_splits(y: np.ndarray, *, n_folds: int, seed: int, stratify: bool) -> tuple[Split, ...]:
    """K-fold cross-validation splits, stratified on the label for classification.

    Fold k's test part is the k-th fold, so with n_folds=5 every fold is an 80/20 split.
    """
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=n_folds, shuffle=True, random_state=seed)
    return tuple(
        Split(fold=k, train=np.sort(train), test=np.sort(test), kind="local", seed=seed)
        for k, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y))
    )


def select_folds(available: list[int], folds) -> list[int]:
    """Resolve `data.folds` (a list of indices or "all") against the folds a task has."""
    if folds == "all":
        return list(available)
    if isinstance(folds, int):
        folds = [folds]
    try:
        wanted = [int(f) for f in folds]
    except (TypeError, ValueError):
        raise ValueError(f"data.folds must be a list of fold indices or 'all', got {folds!r}") from None
    missing = sorted(set(wanted) - set(available))
    if missing:
        raise ValueError(f"data.folds asks for folds {missing}, but the task has folds {available}")
    return wanted


def sample_rows(n_rows: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of min(size, n_rows) distinct rows."""
    return np.sort(rng.choice(n_rows, size=min(size, n_rows), replace=False))
