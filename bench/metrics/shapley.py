"""Exact Shapley values of a model under the exact Gaussian conditional: the ground truth of
XAI-Bench (Liu et al., "Synthetic Benchmarks for Scientific Research in Explainable Machine
Learning", NeurIPS 2021 Datasets & Benchmarks; ../shared/docs/XAIBENCH.md, "Ground truth").

The game is the observational (conditional) value function of the explained output f (the
probability of the target class, or the regression output):
    v(S) = E[f(x) | x_S],
estimated for every one of the 2^d coalitions S with `n_samples` draws of the other features
from their exact Gaussian conditional given x_S (bench.data.gaussian), except v(all features)
= f(x), which needs no sampling. The Shapley values (Shapley 1953) then follow exactly:
    phi_j = sum_{S not containing j} |S|! (d - |S| - 1)! / d! [v(S + j) - v(S)].
They add up to f(x) - v(empty) whatever the Monte-Carlo error of the v(S) (efficiency holds
for any game); each phi_j carries the error of the v(S) it combines, about
sd(f) / sqrt(n_samples).

`compat="xaibench"` reproduces the original code, whose no-intercept weighted least squares
(huge weights on the empty and the full coalition) returns phi_j + v(empty) / d for every j.

Cost: (2^d - 1) * n_samples + 1 model evaluations per instance, so d is capped (`max_features`).
"""

from __future__ import annotations

from math import factorial

import numpy as np

from bench.data.gaussian import Gaussian
from bench.data.synthetic import Compat, check_compat
from bench.core.errors import NotApplicable
from bench.metrics.perturbation import MAX_ELEMENTS_PER_CALL, explained_outputs, outputs_at

MAX_FEATURES = 12


def coalition_masks(n_features: int) -> np.ndarray:
    """(2^d, d) boolean: row s keeps feature j when bit j of s is set (row 0 is the empty
    coalition, the last row all features)."""
    return ((np.arange(2**n_features)[:, None] >> np.arange(n_features)) & 1).astype(bool)


def shapley_coefficients(n_features: int) -> np.ndarray:
    """(2^d, d) C with phi = v @ C for a game's values v over `coalition_masks`: coalition S
    enters phi_j with +w(|S| - 1) when it holds j (as S' + j) and -w(|S|) when it does not,
    w(s) = s! (d - s - 1)! / d!."""
    d = n_features
    masks = coalition_masks(d)
    weight = np.array([factorial(s) * factorial(d - s - 1) / factorial(d) for s in range(d)])
    size = masks.sum(axis=1)
    # Clipped indices only select a weight the np.where below then discards.
    with_j = weight[np.clip(size - 1, 0, d - 1)][:, None]
    without_j = weight[np.clip(size, 0, d - 1)][:, None]
    return np.where(masks, with_j, -without_j)


def coalition_values(model, X: np.ndarray, target: np.ndarray, distribution: Gaussian, *, n_samples: int,
                     rng: np.random.Generator) -> np.ndarray:
    """(n, 2^d) the estimated v(S) of each instance for every coalition of `coalition_masks`."""
    n, d = X.shape
    masks = coalition_masks(d)
    values = np.empty((n, len(masks)))
    values[:, -1] = outputs_at(model, X, target)
    sampled = np.arange(len(masks) - 1)  # every coalition but the full one
    # Coalitions go through the model in blocks small enough that one instance's draws fit in
    # one call (only matters for large d; at d = 5 all 31 coalitions make one block).
    per_block = max(1, MAX_ELEMENTS_PER_CALL // (n_samples * d))
    for start in range(0, len(sampled), per_block):
        block = sampled[start:start + per_block]

        def build(rows: slice, block=block) -> np.ndarray:
            x = np.broadcast_to(X[rows, None, :], (rows.stop - rows.start, len(block), d))
            draws = distribution.sample_conditional(x, masks[block], n_samples, rng)  # (k, block, draws, d)
            return draws.reshape(len(x), len(block) * n_samples, d)

        outputs = explained_outputs(model, build, n_instances=n, n_perturbations=len(block) * n_samples,
                                    n_features=d, target=target)
        values[:, block] = outputs.reshape(n, len(block), n_samples).mean(axis=2)
    return values


def exact_shapley(model, X: np.ndarray, target: np.ndarray, distribution: Gaussian, *, n_samples: int,
                  rng: np.random.Generator, compat: Compat = "correct", max_features: int = MAX_FEATURES) -> np.ndarray:
    """(n, d) Shapley values of the explained output at each row of X; see the module docstring."""
    check_compat(compat)
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive number of conditional draws per coalition, got {n_samples}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != distribution.n_features:
        raise NotApplicable(f"exact Shapley values need rows of the {distribution.n_features} features of the data's "
                            f"Gaussian, got inputs of shape {X.shape[1:]}")
    d = X.shape[1]
    if d > max_features:
        raise NotApplicable(f"exact Shapley values over all 2^{d} coalitions: {d} features exceed "
                            f"max_features={max_features}")
    values = coalition_values(model, X, np.asarray(target, dtype=int), distribution, n_samples=n_samples, rng=rng)
    phi = values @ shapley_coefficients(d)
    if compat == "xaibench":
        phi = phi + values[:, :1] / d  # values[:, 0] is v(empty)
    return phi
