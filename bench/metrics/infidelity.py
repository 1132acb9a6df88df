"""Infidelity (Yeh, Hsieh, Suggala, Inouye, Ravikumar, "On the (In)fidelity and Sensitivity of
Explanations", NeurIPS 2019).

    INFD(phi, f, x) = E_I[(I^T phi - (f(x) - f(x - I)))^2]

read the attributions phi as a linear model of how the explained output f (the target class's
probability, or the regression output) responds to a perturbation I of the input; infidelity is
that model's mean squared error over random perturbations. Lower is better: for a linear
model f(x) = w.x the attribution phi = w has infidelity 0 under any perturbation.

`infidelity_normalised` first rescales phi by the beta that minimises the error,
beta = E[Delta I^T phi] / E[(I^T phi)^2] with Delta = f(x) - f(x - I) (captum's
`infidelity(normalize=True)`; beta = 0 where every I^T phi is 0, as captum's safe_div does, and
then any beta gives the same value), so it scores the attributions' direction only: any positive
multiple of w scores 0 on a linear model. XAI-Bench (Liu et al. 2021) reports this normalised
form: the "infidelity" column of its tables, and of IMN's Table 3, is `infidelity_normalised`.

Perturbations (`perturbation`):
- "noisy_baseline" (default; Yeh et al.'s code and XAI-Bench's, ../shared/docs/XAIBENCH.md):
  the input is replaced by a noisy baseline near 0, x - I = clip(-noise_std z, 0, 1) with
  z ~ N(0, I_d), so I = x + clip(noise_std z, -1, 0). The clip to [0, 1] was made for pixel
  inputs; it is kept as published so that the numbers compare with XAI-Bench's.
- "gaussian": I ~ N(0, noise_std^2 I_d), the example of captum's documentation.
Each instance gets `n_perturbations` perturbations; x itself and all its perturbed inputs go
through the model together (bench/metrics/perturbation.py).
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.perturbation import explained_outputs

# "noisy_baseline": x - I = clip(-noise_std z, 0, 1), Yeh et al.'s code and XAI-Bench's;
# "gaussian": I ~ N(0, noise_std^2), captum's documented example.
Perturbation = Literal["noisy_baseline", "gaussian"]
PERTURBATIONS = get_args(Perturbation)


def check_perturbation(perturbation: str, noise_std: float, n_perturbations: int) -> None:
    if perturbation not in PERTURBATIONS:
        raise ValueError(f"infidelity perturbation must be one of {PERTURBATIONS}, got {perturbation!r}")
    if not noise_std > 0:
        raise ValueError(f"infidelity noise_std must be positive, got {noise_std}")
    if n_perturbations < 1:
        raise ValueError(f"infidelity n_perturbations must be at least 1, got {n_perturbations}")


def draw_perturbations(x: np.ndarray, *, perturbation: str, noise_std: float, n_perturbations: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The perturbations I and the perturbed inputs x - I, each (k, n_perturbations, d), of the k
    flattened rows x."""
    z = rng.standard_normal((len(x), n_perturbations, x.shape[1]))
    if perturbation == "noisy_baseline":
        perturbed = np.clip(-noise_std * z, 0.0, 1.0)
        return x[:, None, :] - perturbed, perturbed
    perturbations = noise_std * z
    return perturbations, x[:, None, :] - perturbations


def infidelity_terms(model, X: np.ndarray, explanation: Explanation, *, rng: np.random.Generator, perturbation: str,
                     noise_std: float, n_perturbations: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, n_perturbations) I^T phi and the output drops f(x) - f(x - I) of each perturbation."""
    check_perturbation(perturbation, noise_std, n_perturbations)
    shape = X.shape[1:]
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    n, d = flat.shape
    attributions = np.asarray(explanation.values, dtype=np.float64).reshape(n, d)
    attribution_sums = np.empty((n, n_perturbations))

    def build(rows: slice) -> np.ndarray:
        # Drawn chunk by chunk, so that n x n_perturbations x d numbers never sit in memory at
        # once; only their sums I^T phi are kept.
        perturbations, perturbed = draw_perturbations(flat[rows], perturbation=perturbation, noise_std=noise_std,
                                                      n_perturbations=n_perturbations, rng=rng)
        attribution_sums[rows] = np.einsum("kmd,kd->km", perturbations, attributions[rows])
        inputs = np.concatenate([flat[rows, None, :], perturbed], axis=1)  # x itself first
        return inputs.reshape(len(inputs), n_perturbations + 1, *shape)

    outputs = explained_outputs(model, build, n_instances=n, n_perturbations=n_perturbations + 1, n_features=d,
                                target=explanation.target)
    return attribution_sums, outputs[:, :1] - outputs[:, 1:]


@metric(category="faithfulness", higher_is_better=False)
def infidelity(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
               perturbation: Perturbation = "noisy_baseline", noise_std: float = 0.2,
               n_perturbations: int = 1000) -> np.ndarray:
    """(n,) E_I[(I^T phi - (f(x) - f(x - I)))^2]. Lower is better."""
    attribution_sums, output_drops = infidelity_terms(model, X, explanation, rng=rng, perturbation=perturbation,
                                                      noise_std=noise_std, n_perturbations=n_perturbations)
    return np.mean((attribution_sums - output_drops) ** 2, axis=1)


@metric(category="faithfulness", higher_is_better=False)
def infidelity_normalised(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                          rng: np.random.Generator, perturbation: Perturbation = "noisy_baseline", noise_std: float = 0.2,
                          n_perturbations: int = 1000) -> np.ndarray:
    """(n,) E_I[(beta I^T phi - (f(x) - f(x - I)))^2] with the best beta per instance. Lower is better."""
    attribution_sums, output_drops = infidelity_terms(model, X, explanation, rng=rng, perturbation=perturbation,
                                                      noise_std=noise_std, n_perturbations=n_perturbations)
    covariance = np.mean(output_drops * attribution_sums, axis=1)
    second_moment = np.mean(attribution_sums ** 2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(second_moment > 0, covariance / second_moment, 0.0)
    return np.mean((beta[:, None] * attribution_sums - output_drops) ** 2, axis=1)
