"""The background distribution explainers integrate over: a seeded summary of the training rows.

`sample`: rows drawn without replacement. `kmeans`: k-means centres, each value then moved to
the nearest value the feature takes in training (as shap.kmeans does), so one-hot and other
discrete columns keep values they can have. Centres count equally: shap.kmeans weights them
by cluster size, but only its KernelExplainer could use such weights, and a background every
explainer reads the same way keeps them comparable.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from bench.explainers.base import seed_from
from bench.prepare import sample_rows

SUMMARIES = ("sample", "kmeans")


def summarize(X_train: np.ndarray, size: int, method: str, rng: np.random.Generator) -> np.ndarray:
    if method not in SUMMARIES:
        raise ValueError(f"explain.background_summary must be one of {SUMMARIES}, got {method!r}")
    if method == "sample" or size >= len(X_train):
        return X_train[sample_rows(len(X_train), size, rng)]
    rows = X_train.reshape(len(X_train), -1)
    centres = KMeans(n_clusters=size, n_init=3, random_state=seed_from(rng)).fit(rows).cluster_centers_
    return _nearest_training_values(centres, rows).astype(X_train.dtype).reshape((size, *X_train.shape[1:]))


def _nearest_training_values(centres: np.ndarray, rows: np.ndarray) -> np.ndarray:
    snapped = np.empty_like(centres)
    for j in range(rows.shape[1]):
        values = np.unique(rows[:, j])
        above = np.clip(np.searchsorted(values, centres[:, j]), 0, len(values) - 1)
        lower, upper = values[np.maximum(above - 1, 0)], values[above]
        snapped[:, j] = np.where(np.abs(centres[:, j] - lower) <= np.abs(upper - centres[:, j]), lower, upper)
    return snapped
