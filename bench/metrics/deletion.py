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
insertion_auc - deletion_auc. On an image, `patch` removes square patches instead of pixels
(`step` patches per point), ordered by the sum of their pixels' attributions. A removed feature
is replaced by
- "mean", "zero" or "blur": the background's mean, 0, or the blurred image
  (bench/metrics/removal.py), or
- "conditional": a draw from the data's conditional distribution given the features still
  present (exact for synthetic Gaussian tasks; XAIBENCH.md), averaged over `n_samples` draws.
The curves' points go through the model in as few calls as memory allows
(bench/metrics/perturbation.py); a point whose input equals the previous point's (every feature
removed since was already at its removed value) is not evaluated again (`new_points`).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.perturbation import explained_outputs
from bench.metrics.removal import Removal, removal_units, removed_values

# What stands in for a removed feature: a Removal, or draws from p(x_removed | x_present)
# ("conditional": synthetic tasks only).
Replacement = Literal[Removal, "conditional"]
REPLACEMENTS = get_args(Replacement)


def deletion_steps(n_features: int, step: int) -> np.ndarray:
    """Numbers of removed features along the curve: 0, step, 2*step, ..., always ending at d."""
    if step < 1:
        raise ValueError(f"deletion step must be a positive number of features, got {step}")
    return np.unique(np.append(np.arange(0, n_features, step), n_features))


def deletion_curve(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                   rng: np.random.Generator, insertion: bool, replacement: str, step: int, n_samples: int,
                   patch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(fractions (m,), outputs (n, m)): the explained output after removing (inserting) each
    fraction of the units, most relevant first; see the module docstring."""
    if replacement not in REPLACEMENTS:
        raise ValueError(f"replacement must be one of {REPLACEMENTS}, got {replacement!r}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}")
    if replacement == "conditional" and patch is not None:
        raise ValueError("conditional replacement draws single features; it does not remove patches (patch=null)")
    shape = X.shape[1:]
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    n, d = flat.shape
    units = removal_units(X, patch)
    steps = deletion_steps(units.count, step)
    scores = units.scores(np.asarray(explanation.values, dtype=np.float64).reshape(n, d))
    # unit_rank[i, u]: unit u's place in instance i's order (0 = most relevant, changed first);
    # rank[i, j]: that of position j's unit.
    unit_rank = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1)
    rank = units.expand(unit_rank)
    target = np.asarray(explanation.target)
    if replacement == "conditional":
        distribution = context.require_synthetic("conditional replacement").distribution

        def build(rows: slice) -> np.ndarray:
            changed = rank[rows, None, :] < steps[None, :, None]  # (k, steps, d)
            present = ~changed if not insertion else changed
            x = np.broadcast_to(flat[rows, None, :], present.shape)
            sampled = distribution.sample_conditional(x, present, n_samples, rng)  # (k, steps, draws, d)
            return sampled.reshape(len(present), len(steps) * n_samples, *shape)

        outputs = explained_outputs(model, build, n_instances=n, n_perturbations=len(steps) * n_samples,
                                    n_features=d, target=target)
        return steps / units.count, outputs.reshape(n, len(steps), n_samples).mean(axis=2)

    removed = removed_values(X, context.background, replacement)
    # Only the points whose input differs from the previous point's are evaluated (see new_points).
    new = new_points(unit_rank, units.scores((flat != removed).astype(np.float64)) > 0, steps)
    instance, point = np.nonzero(new)

    def build_new(rows: slice) -> np.ndarray:
        i = instance[rows]
        changed = rank[i] < steps[point[rows], None]  # (k, d)
        present = ~changed if not insertion else changed
        return np.where(present, flat[i], removed[i]).reshape(len(i), 1, *shape)

    outputs = np.full((n, len(steps)), np.nan)
    outputs[new] = explained_outputs(model, build_new, n_instances=len(instance), n_perturbations=1, n_features=d,
                                     target=target[instance])[:, 0]
    latest = np.maximum.accumulate(np.where(new, np.arange(len(steps)), 0), axis=1)
    return steps / units.count, np.take_along_axis(outputs, latest, axis=1)


def new_points(unit_rank: np.ndarray, differs: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(n, m) whether each point of each curve shows the model an input its previous point did not.
    Between two points the units of ranks [steps[j-1], steps[j]) change (removed, or inserted);
    when none of them differs from its removed value (`differs` (n, units), e.g. a black MNIST
    pixel set to 0) the input is the previous one and so is the output. On MNIST with the zero
    baseline that skips four points in five of a pixel-by-pixel curve: the same curve, at a fifth
    of the model evaluations. The first point is always evaluated."""
    n = len(unit_rank)
    differs_by_rank = np.zeros(unit_rank.shape)
    np.put_along_axis(differs_by_rank, unit_rank, differs, axis=1)
    before = np.concatenate([np.zeros((n, 1)), np.cumsum(differs_by_rank, axis=1)], axis=1)  # (n, units + 1)
    changes = before[:, steps[1:]] - before[:, steps[:-1]]
    return np.concatenate([np.ones((n, 1), dtype=bool), changes > 0], axis=1)


def curve_area(model, X: np.ndarray, explanation: Explanation, **options) -> np.ndarray:
    """(n,) area under the deletion (insertion) curve over [0, 1], by the trapezoid rule."""
    fractions, curves = deletion_curve(model, X, explanation, **options)
    return np.trapezoid(curves, x=fractions, axis=1)


@metric(category="faithfulness", higher_is_better=False)
def deletion_auc(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                 replacement: Replacement = "mean", step: int = 1, n_samples: int = 1,
                 patch: int | None = None) -> np.ndarray:
    """MoRF deletion: the output should fall as soon as the top features go. Lower is better.
    `replacement` stands in for a removed feature (Replacement); `step` features (patches) go per
    point of the curve; `n_samples` conditional draws are averaged per point (conditional only);
    `patch`: remove an image's square patches of that many pixels instead of single pixels."""
    return curve_area(model, X, explanation, context=context, rng=rng, insertion=False,
                      replacement=replacement, step=step, n_samples=n_samples, patch=patch)


@metric(category="faithfulness", higher_is_better=True)
def insertion_auc(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                  replacement: Replacement = "mean", step: int = 1, n_samples: int = 1,
                  patch: int | None = None) -> np.ndarray:
    """MoRF insertion: the output should rise as soon as the top features return. Higher is better.
    Options as deletion_auc's."""
    return curve_area(model, X, explanation, context=context, rng=rng, insertion=True,
                      replacement=replacement, step=step, n_samples=n_samples, patch=patch)
