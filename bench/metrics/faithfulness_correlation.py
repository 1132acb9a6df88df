"""Faithfulness correlation (Bhatt, Weller, Moura, IJCAI 2020).

For each instance: draw `n_subsets` random subsets S of a fixed size of the features (or of an
image's square patches), set S to the baseline, and take the Pearson correlation between the
attributions' sum over S and the drop of the explained output, f(x)_y - f(x with S at the
baseline)_y. 1 for attributions
that add up to the model's response to removing features (a linear model's w * (x - baseline)),
about 0 for attributions unrelated to the model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.perturbation import explained_outputs
from bench.metrics.removal import REMOVALS, Removal, removal_units, removed_values
from bench.metrics.rowwise import pearson_rows

# subsets(rows, n_units) -> (k, n_subsets, n_units) bool: the units each subset removes.
Subsets = Callable[[slice, int], np.ndarray]


def correlation_on_subsets(model, X: np.ndarray, explanation: Explanation, *, removed: np.ndarray,
                           patch: int | None, subsets: Subsets, n_subsets: int) -> np.ndarray:
    """(n,) the Pearson correlation, per instance, between the attributions' sum over each subset
    of units and the drop of the explained output when the subset takes its `removed` values."""
    shape = X.shape[1:]
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    n, d = flat.shape
    units = removal_units(X, patch)
    scores = units.scores(np.asarray(explanation.values, dtype=np.float64).reshape(n, d))
    subset_sums = np.empty((n, n_subsets))

    def build(rows: slice) -> np.ndarray:
        chosen = subsets(rows, units.count)
        subset_sums[rows] = np.einsum("ksu,ku->ks", chosen, scores[rows])
        perturbed = np.where(units.expand(chosen), removed[rows, None, :], flat[rows, None, :])
        return np.concatenate([flat[rows, None, :], perturbed], axis=1).reshape(len(perturbed), n_subsets + 1, *shape)

    outputs = explained_outputs(model, build, n_instances=n, n_perturbations=n_subsets + 1, n_features=d,
                                target=explanation.target)  # the original input first
    return pearson_rows(subset_sums, outputs[:, :1] - outputs[:, 1:])


@metric(category="faithfulness", higher_is_better=True)
def faithfulness_correlation(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                             rng: np.random.Generator, baseline: Removal = "mean", n_subsets: int = 100,
                             subset_fraction: float = 0.25, patch: int | None = None) -> np.ndarray:
    """Returns one correlation per explained instance, shape (n,); NaN where the output or the
    subset sums do not vary (a correlation is undefined there). `n_subsets` random subsets of
    `subset_fraction` of the units (Quantus' nr_runs and subset size) take the `baseline`'s values
    (bench/metrics/removal.py); the units are features, or an image's square patches of `patch`
    pixels."""
    if baseline not in REMOVALS:
        raise ValueError(f"faithfulness_correlation baseline must be one of {REMOVALS}, got {baseline!r}")
    if not 0 < subset_fraction <= 1 or n_subsets < 2:
        raise ValueError(f"faithfulness_correlation needs 0 < subset_fraction <= 1 and n_subsets >= 2, got "
                         f"{subset_fraction} and {n_subsets}")

    def random_subsets(rows: slice, n_units: int) -> np.ndarray:
        # The first `size` units of a random order, drawn chunk by chunk so that memory stays
        # bounded for images too.
        size = max(1, round(subset_fraction * n_units))
        return np.argsort(rng.random((rows.stop - rows.start, n_subsets, n_units)), axis=2) < size

    return correlation_on_subsets(model, X, explanation, removed=removed_values(X, context.background, baseline),
                                  patch=patch, subsets=random_subsets, n_subsets=n_subsets)
