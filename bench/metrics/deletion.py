"""Deletion and insertion curves (Petsiuk et al. 2018, RISE; Samek et al. 2017, MoRF/LeRF).

Deletion: starting from x, features are removed `step` at a time, most relevant first (MoRF,
decreasing attribution). Insertion: starting from an input with every feature removed, they
are put back most relevant first. The curve is the model's output for the explained target
(class probability, or the regression output) against the fraction of features removed
(inserted); the score is its area by the trapezoid rule over [0, 1], one value per instance.
A faithful explanation makes deletion fall fast (low area) and insertion rise fast (high area).

The LeRF (least relevant first) curves are these two read backwards: LeRF deletion visits the
same sets of present features as MoRF insertion, in reverse, so its area is insertion_auc's
(and LeRF insertion's is deletion_auc's); with `step` > 1 the grid differs only when d is not a
multiple of it. Samek et al.'s area between the LeRF and MoRF deletion curves is therefore
insertion_auc - deletion_auc. A removed feature is replaced by
- "mean" or "zero": the background's mean, or 0 (`bench.explanation.reference_input`), or
- "conditional": a draw from the data's conditional distribution given the features still
  present (exact for synthetic Gaussian tasks; XAIBENCH.md), averaged over `n_samples` draws.
Every curve point of a chunk of instances goes through the model in one call
(bench/metrics/perturbation.py).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from bench.explanation import Baseline, Explanation, reference_input
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.perturbation import explained_outputs

# What stands in for a removed feature: a Baseline, or draws from p(x_removed | x_present)
# ("conditional": synthetic tasks only).
Replacement = Literal[Baseline, "conditional"]
REPLACEMENTS = get_args(Replacement)


def deletion_steps(n_features: int, step: int) -> np.ndarray:
    """Numbers of removed features along the curve: 0, step, 2*step, ..., always ending at d."""
    if step < 1:
        raise ValueError(f"deletion step must be a positive number of features, got {step}")
    return np.unique(np.append(np.arange(0, n_features, step), n_features))


def curve_area(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
               insertion: bool, replacement: str, step: int, n_samples: int) -> np.ndarray:
    """(n,) area under the deletion (insertion) curve; see the module docstring."""
    if replacement not in REPLACEMENTS:
        raise ValueError(f"replacement must be one of {REPLACEMENTS}, got {replacement!r}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    shape = X.shape[1:]
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    n, d = flat.shape
    steps = deletion_steps(d, step)
    attributions = np.asarray(explanation.values, dtype=np.float64).reshape(n, d)
    # rank[i, j]: position of feature j in instance i's order (0 = most relevant, changed first).
    rank = np.argsort(np.argsort(-attributions, axis=1, kind="stable"), axis=1)
    draws = n_samples if replacement == "conditional" else 1
    if replacement == "conditional":
        distribution = context.require_synthetic("conditional replacement").distribution
    else:
        reference = reference_input(context.background, replacement).reshape(d)

    def build(rows: slice) -> np.ndarray:
        changed = rank[rows, None, :] < steps[None, :, None]  # (k, steps, d)
        present = ~changed if not insertion else changed
        if replacement != "conditional":
            return np.where(present, flat[rows, None, :], reference).reshape(len(present), len(steps), *shape)
        x = np.broadcast_to(flat[rows, None, :], present.shape)
        sampled = distribution.sample_conditional(x, present, draws, rng)  # (k, steps, draws, d)
        return sampled.reshape(len(present), len(steps) * draws, *shape)

    outputs = explained_outputs(model, build, n_instances=n, n_perturbations=len(steps) * draws, n_features=d,
                                target=explanation.target)
    curves = outputs.reshape(n, len(steps), draws).mean(axis=2)
    return np.trapezoid(curves, x=steps / d, axis=1)


@metric(category="faithfulness", higher_is_better=False)
def deletion_auc(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                 replacement: Replacement = "mean", step: int = 1, n_samples: int = 1) -> np.ndarray:
    """MoRF deletion: the output should fall as soon as the top features go. Lower is better.
    `replacement` stands in for a removed feature (Replacement); `step` features go per point of
    the curve; `n_samples` conditional draws are averaged per point (conditional only)."""
    return curve_area(model, X, explanation, context=context, rng=rng, insertion=False,
                      replacement=replacement, step=step, n_samples=n_samples)


@metric(category="faithfulness", higher_is_better=True)
def insertion_auc(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                  replacement: Replacement = "mean", step: int = 1, n_samples: int = 1) -> np.ndarray:
    """MoRF insertion: the output should rise as soon as the top features return. Higher is better.
    Options as deletion_auc's."""
    return curve_area(model, X, explanation, context=context, rng=rng, insertion=True,
                      replacement=replacement, step=step, n_samples=n_samples)
