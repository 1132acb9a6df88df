"""Statistics of two (n, k) arrays row by row: one value per explained instance."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) Pearson correlation of each row of `a` with the same row of `b`; NaN where either
    row is constant (the correlation is undefined there)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=1) / denominator, np.nan)


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) Spearman rank correlation row by row (ties get their average rank, as in scipy)."""
    return pearson_rows(rankdata(a, axis=1), rankdata(b, axis=1))
