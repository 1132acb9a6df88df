"""The background distribution explainers integrate over: a seeded summary of the training rows.

`sample`: rows drawn without replacement. `kmeans`: for each k-means centre, the training row
nearest to it, so every background row is one the model was trained on (a centre itself can
be no valid input at all: a one-hot group of fractions, or an unseen category). shap.kmeans
keeps the centres, snapped value by value, and weights them by cluster size; here every row
counts once, for every explainer and metric alike. Either summary's mean is an estimate of
the training mean, not the training mean itself.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances_argmin

from bench.explainers.base import seed_from
from bench.data.splits import sample_rows

BackgroundSummary = Literal["sample", "kmeans"]
SUMMARIES = get_args(BackgroundSummary)


def summarize(X_train: np.ndarray, size: int, method: str, rng: np.random.Generator) -> np.ndarray:
    if method not in SUMMARIES:
        raise ValueError(f"explain.background_summary must be one of {SUMMARIES}, got {method!r}")
    if method == "sample" or size >= len(X_train):
        return X_train[sample_rows(len(X_train), size, rng)]
    rows = X_train.reshape(len(X_train), -1)
    centres = KMeans(n_clusters=size, n_init=3, random_state=seed_from(rng)).fit(rows).cluster_centers_
    return X_train[np.sort(pairwise_distances_argmin(centres, rows))]
