"""Faithfulness correlation (Bhatt, Weller, Moura, IJCAI 2020).

For each instance: draw `n_subsets` random feature subsets S of a fixed size, set S to the
baseline, and take the Pearson correlation between the attributions' sum over S and the
drop of the explained output, f(x)_y - f(x with S at the baseline)_y. 1 for attributions
that add up to the model's response to removing features (a linear model's w * (x - baseline)),
about 0 for attributions unrelated to the model.
"""

from __future__ import annotations

import numpy as np

from bench.explanation import REFERENCES, Baseline, Explanation, reference_input
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.perturbation import explained_outputs
from bench.metrics.rowwise import pearson_rows


@metric(category="faithfulness", higher_is_better=True)
def faithfulness_correlation(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                             rng: np.random.Generator, baseline: Baseline = "mean", n_subsets: int = 100,
                             subset_fraction: float = 0.25) -> np.ndarray:
    """Returns one correlation per explained instance, shape (n,); NaN where the output or the
    subset sums do not vary (a correlation is undefined there). `n_subsets` random subsets of
    `subset_fraction` * d features (Quantus' nr_runs and subset size) are set to the `baseline`."""
    if baseline not in REFERENCES:
        raise ValueError(f"faithfulness_correlation baseline must be one of {REFERENCES}, got {baseline!r}")
    if not 0 < subset_fraction <= 1 or n_subsets < 2:
        raise ValueError(f"faithfulness_correlation needs 0 < subset_fraction <= 1 and n_subsets >= 2, got "
                         f"{subset_fraction} and {n_subsets}")
    shape = X.shape[1:]
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    n, d = flat.shape
    size = max(1, round(subset_fraction * d))
    reference = reference_input(context.background, baseline).reshape(d)
    attributions = np.asarray(explanation.values, dtype=np.float64).reshape(n, d)
    subset_sums = np.empty((n, n_subsets))

    def build(rows: slice) -> np.ndarray:
        # (k, subsets, d) masks of `size` features each, the first `size` of a random order:
        # drawn chunk by chunk, so memory stays bounded for images too.
        masks = np.argsort(rng.random((rows.stop - rows.start, n_subsets, d)), axis=2) < size
        subset_sums[rows] = np.einsum("nsd,nd->ns", masks, attributions[rows])
        perturbed = np.where(masks, reference, flat[rows, None, :])
        return np.concatenate([flat[rows, None, :], perturbed], axis=1).reshape(len(perturbed), n_subsets + 1, *shape)

    outputs = explained_outputs(model, build, n_instances=n, n_perturbations=n_subsets + 1, n_features=d,
                                target=explanation.target)  # the original input first
    return pearson_rows(subset_sums, outputs[:, :1] - outputs[:, 1:])
