"""Scoring the first k explained instances only, for metrics that re-run the explainer many
times per instance (robustness, sanity): `n_instances` caps their cost where a slow explainer
(kernel SHAP on 30 features: ~1 s per instance) would otherwise dominate a run. The instances
left out score NaN, which the run leaves out of the mean (bench/pipeline/run.py)."""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np

from bench.core.explanation import Explanation


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
    k = n_instances
    concepts, path = explanation.concepts, explanation.path
    if concepts is not None:
        concepts = replace(concepts, activations=concepts.activations[:k], relevance=concepts.relevance[:k],
                           to_input=concepts.to_input[:k] if concepts.to_input.ndim == 3 else concepts.to_input)
    if path is not None:
        path = replace(path, routes=path.routes[:k], nodes=None if path.nodes is None else path.nodes[:k])
    return X[:k], replace(explanation, values=None if explanation.values is None else explanation.values[:k],
                          target=explanation.target[:k], concepts=concepts, path=path,
                          interactions=None if explanation.interactions is None else explanation.interactions[:k])


def padded(values: np.ndarray, n: int) -> np.ndarray:
    """(n,) the scored instances' values followed by NaN for the others."""
    return np.concatenate([np.asarray(values, dtype=np.float64), np.full(n - len(values), np.nan)])
