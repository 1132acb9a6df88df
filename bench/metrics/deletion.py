"""Deletion curve (MoRF) area, Petsiuk et al. 2018 (RISE) / Samek et al. 2017.

Features are removed (set to a baseline) in order of decreasing attribution, `step` at a
time; the curve is the model's output for the explained target (class probability, or the
regression output) after each removal, against the fraction of features removed, and the
score is its area by the trapezoid rule over [0, 1]. A faithful explanation makes the output
fall fast: lower is better. Every perturbed input of a chunk of instances goes through the
model in one call.
"""

from __future__ import annotations

import numpy as np

from bench.explanation import REFERENCES, Explanation, reference_input
from bench.metrics.base import metric
from bench.models.base import model_output

MAX_ELEMENTS_PER_CALL = 4_000_000  # bounds memory: instances x steps x features per model call


def deletion_steps(n_features: int, step: int) -> np.ndarray:
    """Numbers of removed features along the curve: 0, step, 2*step, ..., always ending at d."""
    if step < 1:
        raise ValueError(f"deletion step must be a positive number of features, got {step}")
    return np.unique(np.append(np.arange(0, n_features, step), n_features))


@metric(category="faithfulness", higher_is_better=False)
def deletion_auc(model, X: np.ndarray, explanation: Explanation, *, background: np.ndarray,
                 rng: np.random.Generator, baseline: str = "mean", step: int = 1) -> np.ndarray:
    """Returns one area per explained instance, shape (n,)."""
    if baseline not in REFERENCES:
        raise ValueError(f"deletion_auc baseline must be one of {REFERENCES}, got {baseline!r}")
    shape = X.shape[1:]
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    n, d = flat.shape
    reference = reference_input(background, baseline).reshape(d)
    steps = deletion_steps(d, step)
    # rank[i, j]: position of feature j in instance i's removal order (0 = most important).
    rank = np.argsort(np.argsort(-explanation.values, axis=1, kind="stable"), axis=1)
    chunk = max(1, MAX_ELEMENTS_PER_CALL // (len(steps) * d))
    curves = np.empty((n, len(steps)))
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        removed = rank[rows, None, :] < steps[None, :, None]  # (chunk, steps, d)
        perturbed = np.where(removed, reference, flat[rows, None, :]).reshape(-1, *shape)
        outputs = model_output(model, perturbed).reshape(removed.shape[0], len(steps), -1)
        curves[rows] = np.take_along_axis(outputs, explanation.target[rows, None, None], axis=2)[..., 0]
    return np.trapezoid(curves, x=steps / d, axis=1)
