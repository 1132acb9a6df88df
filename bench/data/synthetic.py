"""XAI-Bench synthetic data (Liu et al., NeurIPS 2021 D&B; ../shared/docs/XAIBENCH.md).

x ~ N(0, Sigma) with Sigma = I + rho (11^T - I), d = 5; y = g(x) + eps, eps ~ N(0, noise_std^2);
y standardised (population std) separately within the train and the test batch, as the
original code does. Classification mode: label = 1[y_raw >= 0].

`compat="xaibench"` reproduces the original code's piecewise g1, which is 0 on [-0.5, 0) where
the paper intends -1 (XAIBENCH.md); the default is the paper's definition.
gaussianPairwiseInteraction is ours, not XAI-Bench's: the linear label plus a planted product
c * x2 * x4 of a feature with a main effect and one without, the ground truth of interaction
recovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from bench.data.gaussian import Gaussian

N_FEATURES = 5
LINEAR_WEIGHTS = np.array([4.0, 3.0, 2.0, 1.0, 0.0])


def gaussian_linear(x: np.ndarray) -> np.ndarray:
    return x @ LINEAR_WEIGHTS


def gaussian_nonlinear_additive(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + np.abs(x[:, 1]) + x[:, 2] ** 2 + np.exp(-x[:, 3])


def gaussian_piecewise_constant(x: np.ndarray, compat: str = "correct") -> np.ndarray:
    g0 = np.where(x[:, 0] < 0, -1.0, 1.0)
    # The paper intends -1 on [-0.5, 0); the original code has 0 there (compat="xaibench").
    g1_left = 0.0 if compat == "xaibench" else -1.0
    g1 = np.select([x[:, 1] < -0.5, x[:, 1] < 0, x[:, 1] < 0.5], [-2.0, g1_left, 1.0], default=2.0)
    g2 = np.where(np.cos(np.pi * x[:, 2]) <= -0.5, -1.0, 1.0)
    return g0 + g1 + g2


INTERACTION_STRENGTH = 3.0
PLANTED_INTERACTIONS = {"gaussianPairwiseInteraction": ((2, 4),)}


def gaussian_pairwise_interaction(x: np.ndarray) -> np.ndarray:
    (i, j), = PLANTED_INTERACTIONS["gaussianPairwiseInteraction"]
    return gaussian_linear(x) + INTERACTION_STRENGTH * x[:, i] * x[:, j]


GENERATORS = {
    "gaussianLinear": gaussian_linear,
    "gaussianNonLinearAdditive": gaussian_nonlinear_additive,
    "gaussianPiecewiseConstant": gaussian_piecewise_constant,
    "gaussianPairwiseInteraction": gaussian_pairwise_interaction,
}
# XAI-Bench's classification mode, and ours for the interaction set.
CLASSIFIABLE = ("gaussianLinear", "gaussianPiecewiseConstant", "gaussianPairwiseInteraction")
# "correct": every definition as its paper gives it; "xaibench": the original XAI-Bench code's
# quirks (XAIBENCH.md), to reproduce numbers published with it. The run's `compat` switch.
Compat = Literal["correct", "xaibench"]
COMPAT_MODES = get_args(Compat)
SyntheticMode = Literal["regression", "classification"]  # XAI-Bench's two modes


@dataclass(frozen=True)
class SyntheticTruth:
    """What a synthetic task knows about itself, for ground-truth metrics: the distribution of
    its inputs, the label function's name and the feature pairs it multiplies."""

    distribution: Gaussian
    generator: str
    interactions: tuple[tuple[int, int], ...] = ()


def check_compat(compat: str) -> None:
    if compat not in COMPAT_MODES:
        raise ValueError(f"compat must be one of {COMPAT_MODES} (the paper's definitions, or the original "
                         f"XAI-Bench code's quirks), got {compat!r}")


def label_function(name: str, compat: str = "correct"):
    check_compat(compat)
    if name == "gaussianPiecewiseConstant":
        return lambda x: gaussian_piecewise_constant(x, compat)
    return GENERATORS[name]


def covariance(rho: float, d: int = N_FEATURES) -> np.ndarray:
    if not -1.0 / (d - 1) < rho < 1.0:
        raise ValueError(f"rho must lie in (-1/(d-1), 1) for a positive-definite covariance, got {rho}")
    return np.eye(d) + rho * (np.ones((d, d)) - np.eye(d))


def check_mode(name: str, mode: str) -> None:
    if name not in GENERATORS:
        raise ValueError(f"unknown synthetic dataset {name!r}; available: {sorted(GENERATORS)}")
    if mode not in get_args(SyntheticMode):
        raise ValueError(f"synthetic_mode must be one of {get_args(SyntheticMode)}, got {mode!r}")
    if mode == "classification" and name not in CLASSIFIABLE:
        raise ValueError(f"{name} has no classification mode in XAI-Bench; use one of {CLASSIFIABLE} "
                         "(data.datasets=[...]) or synthetic_mode=regression")


def _standardise(y: np.ndarray) -> np.ndarray:
    return (y - y.mean()) / y.std()


def generate(
    name: str, *, rho: float, n_train: int, n_test: int, noise_std: float, mode: str, rng: np.random.Generator,
    compat: str = "correct",
) -> tuple[np.ndarray, np.ndarray]:
    """Returns X (n_train + n_test, 5) and y, train rows first."""
    check_mode(name, mode)
    label = label_function(name, compat)
    sigma = covariance(rho)
    parts = []
    for n in (n_train, n_test):
        x = rng.multivariate_normal(np.zeros(N_FEATURES), sigma, size=n)
        y_raw = label(x) + rng.normal(0.0, noise_std, size=n)
        y = (y_raw >= 0).astype(int) if mode == "classification" else _standardise(y_raw)
        parts.append((x, y))
    return np.vstack([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1], parts[1][1]])
