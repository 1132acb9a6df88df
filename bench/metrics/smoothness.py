"""Smoothness of an explanation: how close it is to SmoothGrad of the same model (Smilkov et al.
2017), the average gradient over noisy copies of the input. ATEX claims that its fine-tuning makes
plain gradients SmoothGrad-like (Tang et al. 2022, METHODS.md §3); these metrics test that claim
on any attribution. Higher is better for all three.

The reference is |SmoothGrad| of the explained class, with `n_samples` Gaussian copies of
standard deviation `noise_level` times the range of the background's values (the `smoothgrad`
explainer's defaults), its noise drawn from the fold's stream, so every explainer of a fold is
compared with the same reference. Both maps are compared in magnitude:
- `smoothgrad_topk`: the share of the top-K entries the two maps have in common (K as the
  manipulation metrics': 50 on an image, a quarter of the features on a table);
- `smoothgrad_spearman`: Spearman's rank correlation of the two maps;
- `smoothgrad_ssim`: the structural similarity of the two maps (Wang et al. 2004,
  scikit-image's, 7x7 windows, smaller on an image under 7 pixels a side), each scaled to a
  maximum of 1; images only.
"""

from __future__ import annotations

import numpy as np

from bench.core.errors import NotApplicable
from bench.core.tensors import needs_torch
from bench.explainers.captum_explainers import SmoothGrad
from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.manipulation import spearman_rows, top_k_intersection, top_k_of
from bench.metrics.subsample import first_instances, padded
from bench.models.base import class_labels


def check_reference(*, n_samples: int, noise_level: float, n_instances: int | None, top_k: int | None = None) -> None:
    """The options, checked before any work (bench.metrics.base.MetricInfo.check)."""
    problems = [f"{name} must be at least 1, got {value}" for name, value in
                (("n_samples", n_samples), ("n_instances", n_instances), ("top_k", top_k))
                if value is not None and value < 1]
    problems += [f"noise_level must be >= 0, got {noise_level}"] if not noise_level >= 0 else []
    if problems:
        raise ValueError("; ".join(problems))


def smoothgrad_pair(model, X: np.ndarray, explanation: Explanation, context: MetricContext, metric_name: str,
                    n_samples: int, noise_level: float, n_instances: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(|explanation|, |SmoothGrad|), both (n, d), of the first `n_instances` explained rows."""
    reason = needs_torch(model, metric_name)
    if reason:
        raise NotApplicable(reason)
    scored_X, scored = first_instances(X, explanation, n_instances, metric_name)

    def compute() -> np.ndarray:
        reference = SmoothGrad(n_samples=n_samples, noise_level=noise_level).explain(
            model, scored_X, target=class_labels(model, scored.target), background=context.background,
            rng=context.fold_rng(f"smoothgrad/{n_samples}/{noise_level}"))
        return np.abs(reference.values).reshape(len(scored_X), -1)

    reference = context.cached_for_explainer(("smoothgrad", n_samples, noise_level, len(scored_X)), compute)
    return np.abs(np.asarray(scored.values, dtype=np.float64)).reshape(len(scored_X), -1), reference


@metric(category="robustness", higher_is_better=True, check=check_reference)
def smoothgrad_topk(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                    n_samples: int = 50, noise_level: float = 0.15, top_k: int | None = None,
                    n_instances: int | None = None) -> np.ndarray:
    """(n,) the share of top-K entries the explanation shares with SmoothGrad."""
    mine, reference = smoothgrad_pair(model, X, explanation, context, "smoothgrad_topk", n_samples, noise_level,
                                      n_instances)
    k = top_k_of(top_k, X.shape[1:], "smoothgrad_topk")
    return padded(top_k_intersection(mine, reference, k), len(X))


@metric(category="robustness", higher_is_better=True, check=check_reference)
def smoothgrad_spearman(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                        rng: np.random.Generator, n_samples: int = 50, noise_level: float = 0.15,
                        n_instances: int | None = None) -> np.ndarray:
    """(n,) Spearman rank correlation of the explanation with SmoothGrad."""
    mine, reference = smoothgrad_pair(model, X, explanation, context, "smoothgrad_spearman", n_samples, noise_level,
                                      n_instances)
    return padded(spearman_rows(mine, reference), len(X))


@metric(category="robustness", higher_is_better=True, check=check_reference)
def smoothgrad_ssim(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                    n_samples: int = 50, noise_level: float = 0.15, n_instances: int | None = None) -> np.ndarray:
    """(n,) SSIM of the explanation and SmoothGrad, each map scaled to a maximum of 1; NaN for a
    map that is zero everywhere."""
    if np.ndim(X) != 4:
        raise NotApplicable("smoothgrad_ssim compares images (structural similarity of pixel maps); these rows are a table")
    mine, reference = smoothgrad_pair(model, X, explanation, context, "smoothgrad_ssim", n_samples, noise_level,
                                      n_instances)
    shape = X.shape[1:]
    values = [ssim_of_maps(a.reshape(shape), b.reshape(shape)) for a, b in zip(mine, reference, strict=True)]
    return padded(np.array(values), len(X))


def ssim_of_maps(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two (C, H, W) non-negative maps, each scaled to a maximum of 1."""
    from skimage.metrics import structural_similarity  # here: `--help` imports this module, not scikit-image

    window = min(7, *a.shape[1:])
    window -= 1 - window % 2  # odd, as SSIM's windows are
    if a.max() <= 0 or b.max() <= 0 or window < 3:
        return np.nan
    return float(structural_similarity(a / a.max(), b / b.max(), data_range=1.0, channel_axis=0, win_size=window))
