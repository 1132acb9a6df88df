"""Ground-truth metrics on synthetic Gaussian data, where the truth is known: the exact Shapley
values of the trained model at the explained rows (bench/metrics/shapley.py), and the feature
pairs the label function multiplies.

The ground truth phi_GT is that of the model, not of the label function (XAI-Bench). It is
computed once per fold, in `context.cache`, with the fold's own stream
(`context.fold_rng("exact_shapley")`), never the metric's `rng`: every explainer is compared
with the same draws, whichever asks first. It is keyed on (n_samples, compat, the explained
rows, the targets), so metrics share it only when they use the same `n_samples` and `compat`;
give every ground-truth metric the same values, or each distinct pair pays for its own
(2^d - 1) * n_samples + 1 evaluations per instance.

Against phi_GT (Liu et al., NeurIPS 2021 D&B, XAI-Bench; ../shared/docs/XAIBENCH.md):
- shapley_mse: mean_j (phi_j - phi_GT_j)^2 per instance; its mean over instances is
  XAI-Bench's sum (phi - phi_GT)^2 / (N d). Lower is better.
- shapley_corr: Pearson(phi, phi_GT) per instance, an undefined correlation (a constant row)
  counted as 0 as XAI-Bench does. Higher is better.

Agreement between phi and phi_GT (Krishna et al. 2022, "The Disagreement Problem in Explainable
Machine Learning"; as OpenXAI's openxai/metrics.py computes it, Agarwal et al. 2022). Features
rank by |value|; top-k is the first k of that ranking, k = ceil(top_fraction * d) (`top_k_size`).
All are fractions in [0, 1], higher is better:
- feature_agreement (FA): |top_k(phi) ∩ top_k(phi_GT)| / k.
- rank_agreement (RA): positions of the top k holding the same feature in both, / k. As in
  OpenXAI the feature's dense rank must match too, so features an explanation ties do not count
  as ranked (phi = (3, 3, 1) against phi_GT = (3, 2, 1) agrees on position 1, not on 2).
- sign_agreement (SA): features in both top-k with the same sign, / k.
- signed_rank_agreement (SRA): RA that also needs the same sign.
- rank_correlation (RC): Spearman correlation of |phi| and |phi_GT| over all features (the
  paper allows a chosen feature subset; OpenXAI uses all). Ties get their average rank
  (OpenXAI ranks them densely; the two agree without ties); NaN for a constant row.
- pairwise_rank_agreement (PRA): the fraction of feature pairs i < j whose order agrees:
  [|phi_i| > |phi_j|] == [|phi_GT_i| > |phi_GT_j|] (OpenXAI's test, ties included).
OpenXAI flips the sign of its ground truth (a logistic regression's weights) for instances
predicted 0; phi_GT here is already that of each instance's explained output, so it is not.

interaction_recovery (ours): for explanations that give pairwise interactions I (n, d, d),
e.g. contextual decomposition, on a task with planted pairs P (gaussianPairwiseInteraction
multiplies x2 and x4): pairs i < j rank by |(I_ij + I_ji) / 2|, and the score is the fraction
of P among the top |P| pairs; ties rank a planted pair last, so a flat I recovers nothing.
1 when the planted pairs lead, 0 when others do. Higher is better.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from scipy.stats import rankdata

from bench.data.synthetic import Compat
from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.rowwise import pearson_rows, spearman_rows
from bench.metrics.shapley import exact_shapley

DEFAULT_SAMPLES = 500  # draws per coalition; XAI-Bench used 20000


def ground_truth_shapley(model, X: np.ndarray, explanation: Explanation, context: MetricContext, *,
                         n_samples: int, compat: Compat, metric_name: str) -> np.ndarray:
    """(n, d) the exact Shapley values of the explained outputs, computed once per fold."""
    distribution = context.require_synthetic(metric_name).distribution
    target = np.asarray(explanation.target, dtype=np.int64)
    rows = hashlib.sha1(np.ascontiguousarray(X, dtype=np.float64).tobytes()).hexdigest()
    key = ("exact_shapley", n_samples, compat, rows, target.tobytes())
    return context.cached(key, lambda: exact_shapley(model, X, target, distribution, n_samples=n_samples,
                                                     compat=compat, rng=context.fold_rng("exact_shapley")))


def attributions_and_truth(model, X: np.ndarray, explanation: Explanation, context: MetricContext, *,
                           n_samples: int, compat: Compat, metric_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) the explanation's attributions and (n, d) the ground truth they are judged by."""
    truth = ground_truth_shapley(model, X, explanation, context, n_samples=n_samples, compat=compat,
                                 metric_name=metric_name)
    return np.asarray(explanation.values, dtype=np.float64).reshape(truth.shape), truth


def top_k_size(top_fraction: float, n_features: int) -> int:
    """k = ceil(top_fraction * d), at least 1: OpenXAI's "top k% of features (rounded up)"
    (openxai/experiment_utils.py, convert_k_to_int), the one k of every top-k metric here."""
    if not 0 < top_fraction <= 1:
        raise ValueError(f"top_fraction must lie in (0, 1], the share of features in the top k, got {top_fraction}")
    # Rounded to 9 decimals first: a product that binary floating point puts a hair above an
    # integer (0.07 * 100 = 7.000000000000001) must stay that integer, not round up to the next.
    return max(1, math.ceil(round(top_fraction * n_features, 9)))


def top_k_agreement(a: np.ndarray, b: np.ndarray, k: int, *, same_rank: bool, same_sign: bool) -> np.ndarray:
    """(n,) FA (neither), RA (same_rank), SA (same_sign) or SRA (both) of each row of a and b."""
    tops, ranks, signs = [], [], []
    for values in (a, b):
        top = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
        tops.append(top)
        ranks.append(np.take_along_axis(rankdata(-np.abs(values), method="dense", axis=1), top, axis=1))
        signs.append(np.take_along_axis(np.sign(values), top, axis=1))
    # agree[i, p, q]: position p of a's top k and position q of b's top k hold the same feature ...
    agree = tops[0][:, :, None] == tops[1][:, None, :]
    if same_rank:  # ... at the same position and the same dense rank ...
        agree &= np.eye(k, dtype=bool) & (ranks[0][:, :, None] == ranks[1][:, None, :])
    if same_sign:  # ... with the same sign.
        agree &= signs[0][:, :, None] == signs[1][:, None, :]
    return agree.any(axis=2).sum(axis=1) / k


def pairwise_order_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) PRA: the fraction of pairs i < j that |a| and |b| order the same way."""
    d = a.shape[1]
    if d < 2:
        return np.full(len(a), np.nan)
    i, j = np.triu_indices(d, 1)
    a_first = np.abs(a[:, i]) > np.abs(a[:, j])
    b_first = np.abs(b[:, i]) > np.abs(b[:, j])
    return (a_first == b_first).mean(axis=1)


def planted_pair_recovery(interactions: np.ndarray, planted: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(n,) the fraction of the planted pairs among the top len(planted) pairs by |symmetrised I|."""
    n, d, _ = interactions.shape
    i, j = np.triu_indices(d, 1)
    pair_index = {pair: p for p, pair in enumerate(zip(i.tolist(), j.tolist()))}
    is_planted = np.zeros(len(i), dtype=bool)
    for pair in planted:
        key = tuple(sorted(pair))
        if key not in pair_index:
            raise ValueError(f"planted interaction {pair} is not a pair of two of the {d} features")
        is_planted[pair_index[key]] = True
    strength = np.abs(interactions + interactions.transpose(0, 2, 1))[:, i, j] / 2
    # Sorted by decreasing strength; among equals the planted pairs come last (see the docstring).
    order = np.lexsort((np.broadcast_to(is_planted, strength.shape), -strength), axis=-1)
    return is_planted[order[:, :is_planted.sum()]].mean(axis=1)


@metric(category="ground_truth", higher_is_better=False)
def shapley_mse(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                n_samples: int = DEFAULT_SAMPLES, compat: Compat = "correct") -> np.ndarray:
    phi, truth = attributions_and_truth(model, X, explanation, context, n_samples=n_samples, compat=compat,
                                        metric_name="shapley_mse")
    return ((phi - truth) ** 2).mean(axis=1)


@metric(category="ground_truth", higher_is_better=True)
def shapley_corr(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext, rng: np.random.Generator,
                 n_samples: int = DEFAULT_SAMPLES, compat: Compat = "correct") -> np.ndarray:
    phi, truth = attributions_and_truth(model, X, explanation, context, n_samples=n_samples, compat=compat,
                                        metric_name="shapley_corr")
    return np.nan_to_num(pearson_rows(phi, truth), nan=0.0)


def _top_k_metric(name: str, *, same_rank: bool, same_sign: bool):
    def agreement(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                  rng: np.random.Generator, top_fraction: float = 0.25, n_samples: int = DEFAULT_SAMPLES,
                  compat: Compat = "correct") -> np.ndarray:
        phi, truth = attributions_and_truth(model, X, explanation, context, n_samples=n_samples, compat=compat,
                                            metric_name=name)
        k = top_k_size(top_fraction, phi.shape[1])
        return top_k_agreement(phi, truth, k, same_rank=same_rank, same_sign=same_sign)

    agreement.__name__ = agreement.__qualname__ = name
    return metric(category="ground_truth", higher_is_better=True)(agreement)


feature_agreement = _top_k_metric("feature_agreement", same_rank=False, same_sign=False)
rank_agreement = _top_k_metric("rank_agreement", same_rank=True, same_sign=False)
sign_agreement = _top_k_metric("sign_agreement", same_rank=False, same_sign=True)
signed_rank_agreement = _top_k_metric("signed_rank_agreement", same_rank=True, same_sign=True)


@metric(category="ground_truth", higher_is_better=True)
def rank_correlation(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                     rng: np.random.Generator, n_samples: int = DEFAULT_SAMPLES, compat: Compat = "correct") -> np.ndarray:
    phi, truth = attributions_and_truth(model, X, explanation, context, n_samples=n_samples, compat=compat,
                                        metric_name="rank_correlation")
    return np.nan_to_num(spearman_rows(np.abs(phi), np.abs(truth)), nan=0.0)  # a constant ranking agrees with nothing


@metric(category="ground_truth", higher_is_better=True)
def pairwise_rank_agreement(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                            rng: np.random.Generator, n_samples: int = DEFAULT_SAMPLES,
                            compat: Compat = "correct") -> np.ndarray:
    phi, truth = attributions_and_truth(model, X, explanation, context, n_samples=n_samples, compat=compat,
                                        metric_name="pairwise_rank_agreement")
    return pairwise_order_agreement(phi, truth)


@metric(category="ground_truth", higher_is_better=True)
def interaction_recovery(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                         rng: np.random.Generator) -> np.ndarray:
    synthetic = context.require_synthetic("interaction_recovery")
    if explanation.interactions is None:
        raise NotApplicable("interaction_recovery needs pairwise interaction scores, which this explainer does not "
                            "give (contextual decomposition does)")
    if not synthetic.interactions:
        raise NotApplicable(f"interaction_recovery needs planted feature pairs; {synthetic.generator} has none "
                            "(gaussianPairwiseInteraction has)")
    return planted_pair_recovery(np.asarray(explanation.interactions, dtype=np.float64), synthetic.interactions)
