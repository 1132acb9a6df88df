"""Prediction gaps on important and unimportant features, PGI and PGU (OpenXAI: Agarwal et al.,
"OpenXAI: Towards a Transparent Evaluation of Model Explanations", NeurIPS 2022 Datasets and
Benchmarks; after Dai et al., "Fairness via Explanation Quality", AIES 2022).

    PG(x) = mean over n_perturbations x' of |f(x) - f(x')|

where x' adds Gaussian noise of std `noise_std` to the k = ceil(top_fraction * d) (OpenXAI's k)
features with the largest |phi| (PGI) or to all the other features (PGU), and f is the explained
output (the target class's probability, or the regression output). A faithful explanation puts
the features the output depends on at the top: PGI high (higher is better), PGU low (lower is
better). With top_fraction = 1 PGU perturbs nothing and is 0.

Deliberate differences from OpenXAI's `eval_pred_faithfulness` (openxai/metrics.py):
- one k (METRICS.md); OpenXAI's leaderboard reports the area under PG over k = 1..0.25 d.
- every feature gets Gaussian noise; OpenXAI's NormalPerturbation flips the values of discrete
  features instead (flip_percentage), which needs feature types the harness does not carry.
- f is the explained target's output; OpenXAI takes the model's first output column, P(class 0),
  which gives the same gap for binary tasks only.
- ties in |phi| are broken by feature order (a stable sort); torch.topk leaves them unspecified.
x itself and all its perturbed inputs go through the model together (bench/metrics/perturbation.py).
"""

from __future__ import annotations

import numpy as np

from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.ground_truth import top_k_size
from bench.metrics.perturbation import explained_outputs


def top_k_mask(attributions: np.ndarray, top_fraction: float) -> np.ndarray:
    """(n, d) True for the k = ceil(top_fraction * d) features of largest |phi| (`top_k_size`)."""
    d = attributions.shape[1]
    k = top_k_size(top_fraction, d)
    order = np.argsort(-np.abs(attributions), axis=1, kind="stable")
    return np.argsort(order, axis=1) < k


def prediction_gap(model, X: np.ndarray, explanation: Explanation, *, rng: np.random.Generator, important: bool,
                   noise_std: float, n_perturbations: int, top_fraction: float) -> np.ndarray:
    """(n,) mean |f(x) - f(x')| with noise on the top-k features (important) or on the others."""
    if not noise_std > 0:
        raise ValueError(f"prediction gap noise_std must be positive, got {noise_std}")
    if n_perturbations < 1:
        raise ValueError(f"prediction gap n_perturbations must be at least 1, got {n_perturbations}")
    shape = X.shape[1:]
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    n, d = flat.shape
    top = top_k_mask(np.asarray(explanation.values, dtype=np.float64).reshape(n, d), top_fraction)
    noisy = top if important else ~top

    def build(rows: slice) -> np.ndarray:
        x = flat[rows, None, :]
        noise = noise_std * rng.standard_normal((len(x), n_perturbations, d)) * noisy[rows, None, :]
        inputs = np.concatenate([x, x + noise], axis=1)  # x itself first
        return inputs.reshape(len(inputs), n_perturbations + 1, *shape)

    outputs = explained_outputs(model, build, n_instances=n, n_perturbations=n_perturbations + 1, n_features=d,
                                target=explanation.target)
    return np.abs(outputs[:, 1:] - outputs[:, :1]).mean(axis=1)


@metric(category="faithfulness", higher_is_better=True)
def pgi(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
        noise_std: float = 0.1, n_perturbations: int = 100, top_fraction: float = 0.25) -> np.ndarray:
    """Prediction gap on important features: noise on the top-k features should move the output. Higher is better."""
    return prediction_gap(model, X, explanation, rng=rng, important=True, noise_std=noise_std,
                          n_perturbations=n_perturbations, top_fraction=top_fraction)


@metric(category="faithfulness", higher_is_better=False)
def pgu(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
        noise_std: float = 0.1, n_perturbations: int = 100, top_fraction: float = 0.25) -> np.ndarray:
    """Prediction gap on unimportant features: noise on the others should not. Lower is better."""
    return prediction_gap(model, X, explanation, rng=rng, important=False, noise_std=noise_std,
                          n_perturbations=n_perturbations, top_fraction=top_fraction)
