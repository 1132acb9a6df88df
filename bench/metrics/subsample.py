"""Scoring the first k explained instances only, for metrics that re-run the explainer many
times per instance (robustness, sanity): `n_instances` caps their cost where a slow explainer
(kernel SHAP on 30 features: ~1 s per instance) would otherwise dominate a run. The instances
left out score NaN, which the run leaves out of the mean (bench/run.py)."""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np

from bench.explanation import Explanation


def first_instances(X: np.ndarray, explanation: Explanation, n_instances: int | None,
                    metric_name: str) -> tuple[np.ndarray, Explanation]:
    """The first `n_instances` rows and their explanation (all of them when None)."""
    if n_instances is None:
        return X, explanation
    if isinstance(n_instances, bool) or not isinstance(n_instances, numbers.Integral) or n_instances < 1:
        raise ValueError(f"{metric_name} n_instances must be a positive number of instances or null (all), "
                         f"got {n_instances!r}")
    if n_instances >= len(X):
        return X, explanation
    interactions = None if explanation.interactions is None else explanation.interactions[:n_instances]
    return X[:n_instances], replace(explanation, values=explanation.values[:n_instances],
                                    target=explanation.target[:n_instances], interactions=interactions)


def padded(values: np.ndarray, n: int) -> np.ndarray:
    """(n,) the scored instances' values followed by NaN for the others."""
    return np.concatenate([np.asarray(values, dtype=np.float64), np.full(n - len(values), np.nan)])
