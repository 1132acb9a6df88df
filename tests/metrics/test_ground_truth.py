"""Exact Shapley values under the Gaussian conditional, and the metrics that compare an
explanation with them, on cases whose answers are known analytically.

Monte-Carlo tolerances: for an affine model f(x) = w.x + b, the estimate of v(S) is
b + w_S.x_S + the mean of w_U.x_U over n draws from x_U | x_S, with variance
w_U' Sigma_{U|S} w_U / n, independent across coalitions. phi = v @ C (C = shapley_coefficients)
so sd(phi_j) = sqrt(sum_S C_Sj^2 var v(S)); the tests allow 5 such standard errors (a seeded
draw, and a chance of about 6e-7 per value that an unlucky seed would exceed it).
"""

from __future__ import annotations

import dataclasses
import itertools
from math import factorial

import numpy as np
import pytest

from bench.data.gaussian import Gaussian
from bench.data.synthetic import SyntheticTruth, covariance
from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import info_of
from bench.core.calls import CountingModel
from bench.metrics.ground_truth import (
    feature_agreement, interaction_recovery, pairwise_order_agreement, pairwise_rank_agreement,
    planted_pair_recovery, rank_agreement, rank_correlation, shapley_corr, shapley_mse, sign_agreement,
    signed_rank_agreement, top_k_agreement, top_k_size,
)
from bench.metrics.shapley import coalition_masks, exact_shapley, shapley_coefficients
from tests.metrics.conftest import make_context

AGREEMENTS = (feature_agreement, rank_agreement, sign_agreement, signed_rank_agreement, rank_correlation,
              pairwise_rank_agreement)


class Affine:
    """f(x) = x @ w + b, a regressor."""

    classes_ = None

    def __init__(self, w, b=0.0):
        self.w, self.b = np.asarray(w, dtype=float), b

    def predict(self, X):
        return np.asarray(X) @ self.w + self.b


class Logistic:
    """P(class 1) = sigmoid(x @ w), a classifier."""

    classes_ = np.array([0, 1])

    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)

    def predict_proba(self, X):
        p1 = 1 / (1 + np.exp(-np.asarray(X) @ self.w))
        return np.column_stack([1 - p1, p1])


def explanation(values, target=None, interactions=None):
    values = np.asarray(values, dtype=float)
    target = np.zeros(len(values), dtype=int) if target is None else target
    return Explanation(values, "attribution", target, interactions=interactions)


def affine_standard_error(w, gaussian: Gaussian, n_samples: int) -> np.ndarray:
    """(d,) the Monte-Carlo standard error of each phi_j of an affine model (module docstring)."""
    cov, d = gaussian.cov, len(w)
    variances = []
    for keep in coalition_masks(d):
        kept, removed = np.flatnonzero(keep), np.flatnonzero(~keep)
        conditional = cov[np.ix_(removed, removed)]
        if len(kept):
            conditional = conditional - cov[np.ix_(removed, kept)] @ np.linalg.solve(
                cov[np.ix_(kept, kept)], cov[np.ix_(kept, removed)])
        variances.append(w[removed] @ conditional @ w[removed] / n_samples)
    return np.sqrt(shapley_coefficients(d).T ** 2 @ np.array(variances))


def shapley_by_permutations(value, d: int) -> np.ndarray:
    """Shapley's definition itself: each feature's marginal contribution v(before + j) - v(before)
    averaged over all d! orders (independent of `shapley_coefficients`)."""
    total = 0.0
    for order in itertools.permutations(range(d)):
        keep = np.zeros(d, dtype=bool)
        contribution = []
        before = value(keep)
        for j in order:
            keep[j] = True
            after = value(keep)
            contribution.append((j, after - before))
            before = after
        total = total + np.column_stack([c for _, c in sorted(contribution)])
    return total / factorial(d)


@pytest.fixture
def linear_task():
    """An affine model on correlated 5-d Gaussian data (rho = .5), 4 explained rows."""
    gaussian = Gaussian(np.array([0.5, -1.0, 0.0, 1.0, 0.0]), covariance(0.5, 5))
    X = gaussian.sample(4, np.random.default_rng(1))
    model = Affine([4.0, -3.0, 2.0, 1.0, 0.5], b=0.3)
    context = make_context(synthetic=SyntheticTruth(gaussian, "gaussianLinear"))
    return model, X, context, gaussian


def test_independent_features_give_w_times_x_minus_the_mean():
    gaussian = Gaussian(np.array([1.0, -1.0, 0.5, 0.0]), np.diag([1.0, 2.0, 0.5, 1.0]))
    X = gaussian.sample(5, np.random.default_rng(0))
    model, n_samples = Affine([2.0, -1.0, 0.5, 1.0], b=0.7), 4000
    phi = exact_shapley(model, X, np.zeros(5, dtype=int), gaussian, n_samples=n_samples, rng=np.random.default_rng(0))
    tolerance = 5 * affine_standard_error(model.w, gaussian, n_samples)
    assert np.all(np.abs(phi - model.w * (X - gaussian.mean)) <= tolerance)


def test_correlated_features_match_the_conditional_mean_closed_form(linear_task):
    model, X, _, gaussian = linear_task
    n_samples = 3000
    phi = exact_shapley(model, X, np.zeros(len(X), dtype=int), gaussian, n_samples=n_samples,
                        rng=np.random.default_rng(0))
    # For an affine model v(S) = f(E[x | x_S]) exactly; the Shapley values of that game.
    expected = shapley_by_permutations(lambda keep: model.predict(gaussian.conditional_mean(X, keep)), 5)
    assert np.all(np.abs(phi - expected) <= 5 * affine_standard_error(model.w, gaussian, n_samples))
    # Correlation moves credit between features: these are not the independent case's w * (x - mu).
    assert not np.allclose(expected, model.w * (X - gaussian.mean), atol=0.1)


def test_efficiency_and_the_xaibench_offset(linear_task):
    model, X, _, gaussian = linear_task
    target, n_samples, d = np.zeros(len(X), dtype=int), 2000, 5
    correct = exact_shapley(model, X, target, gaussian, n_samples=n_samples, rng=np.random.default_rng(3))
    compat = exact_shapley(model, X, target, gaussian, n_samples=n_samples, rng=np.random.default_rng(3),
                           compat="xaibench")
    # The same draws: compat adds the same v(empty) / d to every feature.
    offset = compat - correct
    np.testing.assert_allclose(offset, offset[:, :1].repeat(d, axis=1), atol=1e-12)
    v_empty = d * offset[:, 0]
    # Efficiency holds exactly for the estimated game: sum phi = f(x) - v(empty).
    np.testing.assert_allclose(correct.sum(axis=1), model.predict(X) - v_empty, atol=1e-9)
    # v(empty) = E f(x) = w.mu + b, up to sd(f) / sqrt(n).
    standard_error = np.sqrt(model.w @ gaussian.cov @ model.w / n_samples)
    assert np.all(np.abs(v_empty - (model.w @ gaussian.mean + model.b)) <= 5 * standard_error)


def test_a_classifier_explains_the_target_class_probability(linear_task):
    _, X, _, gaussian = linear_task
    model = Logistic([1.0, -0.5, 0.3, 0.0, 0.2])
    phi = {c: exact_shapley(model, X, np.full(len(X), c), gaussian, n_samples=200, rng=np.random.default_rng(0))
           for c in (0, 1)}
    # p0 = 1 - p1 on the same draws, and a constant game has zero Shapley values: phi0 = -phi1.
    np.testing.assert_allclose(phi[0], -phi[1], atol=1e-12)
    assert phi[1].shape == X.shape
    # Efficiency: phi1 adds up to p1(x) - E p1, which lies in (-1, 1).
    np.testing.assert_array_less(np.abs(phi[1].sum(axis=1)), 1)


def test_shapley_coefficients_sum_to_zero_per_feature():
    # A constant game (v(S) = c for all S) has zero Shapley values.
    np.testing.assert_allclose(shapley_coefficients(6).sum(axis=0), 0, atol=1e-12)


def test_exact_shapley_refuses_what_it_cannot_compute(linear_task):
    model, X, _, gaussian = linear_task
    target = np.zeros(len(X), dtype=int)
    with pytest.raises(NotApplicable, match="max_features=4"):
        exact_shapley(model, X, target, gaussian, n_samples=10, rng=np.random.default_rng(0), max_features=4)
    with pytest.raises(NotApplicable, match="5 features"):
        exact_shapley(model, X[:, :3], target, gaussian, n_samples=10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_samples"):
        exact_shapley(model, X, target, gaussian, n_samples=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="compat must be one of"):
        exact_shapley(model, X, target, gaussian, n_samples=10, rng=np.random.default_rng(0), compat="shap")


def test_the_ground_truth_agrees_perfectly_with_itself(linear_task):
    model, X, context, gaussian = linear_task
    target = np.zeros(len(X), dtype=int)
    # The metrics draw the ground truth from the fold's stream, so this is it exactly.
    truth = exact_shapley(model, X, target, gaussian, n_samples=500, rng=context.fold_rng("exact_shapley"))
    e = explanation(truth)
    kwargs = dict(context=context, rng=np.random.default_rng(0), n_samples=500)
    np.testing.assert_allclose(shapley_mse(model, X, e, **kwargs), 0, atol=1e-24)
    np.testing.assert_allclose(shapley_corr(model, X, e, **kwargs), 1)
    for agreement in AGREEMENTS:
        np.testing.assert_allclose(agreement(model, X, e, **kwargs), 1, err_msg=agreement.__name__)
    # A shifted explanation: mse = the shift squared; the constant one has no correlation (-> 0).
    np.testing.assert_allclose(shapley_mse(model, X, explanation(truth + 0.5), **kwargs), 0.25)
    np.testing.assert_allclose(shapley_corr(model, X, explanation(np.ones_like(truth)), **kwargs), 0)


def test_top_k_agreements_of_a_hand_made_explanation():
    truth = np.array([[8.0, -7, 6, 5, 4, 3, 2, 1]])
    # The same top two (features 0 and 1) in the same order, but feature 1 positive, and the
    # other six in the reverse order.
    phi = np.array([[8.0, 7, 1, 2, 3, 4, 5, 6]])
    k = top_k_size(0.25, 8)
    assert k == 2
    assert top_k_agreement(phi, truth, k, same_rank=False, same_sign=False) == pytest.approx([1.0])  # FA
    assert top_k_agreement(phi, truth, k, same_rank=True, same_sign=False) == pytest.approx([1.0])  # RA
    # Only feature 0 keeps its sign: SA = SRA = 1/2.
    assert top_k_agreement(phi, truth, k, same_rank=False, same_sign=True) == pytest.approx([0.5])
    assert top_k_agreement(phi, truth, k, same_rank=True, same_sign=True) == pytest.approx([0.5])
    # Pairs: the 1 + 6 + 6 involving feature 0 or 1 agree, the 15 among features 2..7 all
    # disagree: PRA = 13 / 28.
    assert pairwise_order_agreement(phi, truth) == pytest.approx([13 / 28])


def test_swapped_top_features_and_a_wider_top_k():
    truth = np.array([[8.0, -7, 6, 5, 4, 3, 2, 1]])
    phi = np.array([[-7.0, 8, 6, 5, 4, 3, 2, 1]])  # features 0 and 1 swapped, both signs flipped
    # k = 2: the same two features (FA = 1), at swapped positions (RA = 0), each with the other
    # sign (SA = SRA = 0).
    expected = {(False, False): 1.0, (True, False): 0.0, (False, True): 0.0, (True, True): 0.0}
    for (same_rank, same_sign), value in expected.items():
        assert top_k_agreement(phi, truth, 2, same_rank=same_rank, same_sign=same_sign) == pytest.approx([value])
    # k = 4 (top_fraction .5): features 2 and 3 add two agreements of every kind.
    k = top_k_size(0.5, 8)
    assert k == 4
    expected = {(False, False): 1.0, (True, False): 0.5, (False, True): 0.5, (True, True): 0.5}
    for (same_rank, same_sign), value in expected.items():
        assert top_k_agreement(phi, truth, k, same_rank=same_rank, same_sign=same_sign) == pytest.approx([value])
    # Only the pair (0, 1) is ordered differently: PRA = 27 / 28.
    assert pairwise_order_agreement(phi, truth) == pytest.approx([27 / 28])


def test_rank_agreement_needs_the_same_dense_rank_as_openxai():
    # Features 0 and 1 tie in phi: position 2 holds feature 1 in both, but at dense rank 1 in
    # phi and 2 in the truth, so only position 1 agrees.
    assert top_k_agreement(np.array([[3.0, 3, 1]]), np.array([[3.0, 2, 1]]), 2, same_rank=True,
                           same_sign=False) == pytest.approx([0.5])


def test_rank_correlation_and_agreements_on_several_rows(linear_task):
    model, X, context, gaussian = linear_task
    truth = exact_shapley(model, X, np.zeros(len(X), dtype=int), gaussian, n_samples=500,
                          rng=context.fold_rng("exact_shapley"))
    reversed_order = np.argsort(np.argsort(-np.abs(truth), axis=1), axis=1) + 1.0  # |phi| = 1 for the top feature
    e = explanation(reversed_order)
    kwargs = dict(context=context, rng=np.random.default_rng(0), n_samples=500)
    # The magnitude ranking reversed: RC = -1, PRA = 0 (no pair in the same order), FA = 0 at
    # k = ceil(.25 * 5) = 2.
    np.testing.assert_allclose(rank_correlation(model, X, e, **kwargs), -1)
    np.testing.assert_allclose(pairwise_rank_agreement(model, X, e, **kwargs), 0)
    np.testing.assert_allclose(feature_agreement(model, X, e, **kwargs), 0)
    # k = ceil(.6 * 5) = 3 of 5 features: the middle one is in both top threes.
    np.testing.assert_allclose(feature_agreement(model, X, e, top_fraction=0.6, **kwargs), 1 / 3)


@pytest.mark.parametrize("d, k", [(4, 1), (5, 2), (8, 2), (9, 3), (10, 3), (13, 4), (18, 5), (30, 8)])
def test_top_k_is_a_quarter_of_the_features_rounded_up_as_in_openxai(d, k):
    # OpenXAI's convert_k_to_int: ceil(0.25 d). Rounding to nearest would give 1, 2, 2, 3, 4 at
    # d = 5, 9, 10, 13, 18.
    assert top_k_size(0.25, d) == k


def test_top_k_is_not_pushed_up_by_floating_point_noise():
    assert 0.07 * 100 > 7  # 7.000000000000001 in binary floating point
    assert top_k_size(0.07, 100) == 7


def test_feature_agreement_on_five_features_compares_the_top_two(linear_task):
    model, X, context, gaussian = linear_task
    truth = exact_shapley(model, X, np.zeros(len(X), dtype=int), gaussian, n_samples=500,
                          rng=context.fold_rng("exact_shapley"))
    # Swap the values of each row's two largest |phi_GT|: the top one is wrong, the top two are
    # the same set. At k = ceil(.25 * 5) = 2, FA = 1; rounding .25 * 5 to 1 would give FA = 0.
    top_two = np.argsort(-np.abs(truth), axis=1)[:, :2]
    swapped = truth.copy()
    rows = np.arange(len(X))[:, None]
    swapped[rows, top_two] = truth[rows, top_two[:, ::-1]]
    kwargs = dict(context=context, rng=np.random.default_rng(0), n_samples=500)
    np.testing.assert_array_equal(feature_agreement(model, X, explanation(swapped), **kwargs), 1.0)
    np.testing.assert_array_equal(feature_agreement(model, X, explanation(swapped), top_fraction=0.2, **kwargs), 0.0)


def test_top_fraction_is_validated():
    assert top_k_size(0.01, 5) == 1
    assert top_k_size(1.0, 5) == 5
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="top_fraction"):
            top_k_size(bad, 5)


def test_interaction_recovery_finds_the_planted_pair():
    d, planted = 5, ((2, 4),)
    interactions = np.zeros((3, d, d))
    interactions[0, 2, 4] = interactions[0, 4, 2] = -5.0  # planted pair strongest (sign ignored)
    interactions[0, 0, 1] = 1.0
    interactions[1, 4, 2] = 5.0  # given one-sided: symmetrised to 2.5, still the strongest
    interactions[1, 0, 3] = 2.0
    interactions[2, 2, 4] = interactions[2, 4, 2] = 1.0  # another pair dominates
    interactions[2, 1, 3] = 3.0
    np.testing.assert_allclose(planted_pair_recovery(interactions, planted), [1, 1, 0])
    # A flat matrix ranks the planted pair last among equals: nothing recovered.
    np.testing.assert_allclose(planted_pair_recovery(np.zeros((1, d, d)), planted), [0])
    # Two planted pairs, one in the top two: 1/2.
    two = np.zeros((1, d, d))
    two[0, 0, 1], two[0, 2, 3], two[0, 1, 4] = 3.0, 1.0, 2.0
    np.testing.assert_allclose(planted_pair_recovery(two, ((0, 1), (3, 2))), [0.5])
    with pytest.raises(ValueError, match="planted interaction"):
        planted_pair_recovery(two, ((1, 1),))


def test_interaction_recovery_through_the_metric_and_its_not_applicable_paths():
    gaussian = Gaussian(np.zeros(5), np.eye(5))
    planted = make_context(synthetic=SyntheticTruth(gaussian, "gaussianPairwiseInteraction", ((2, 4),)))
    interactions = np.zeros((1, 5, 5))
    interactions[0, 2, 4] = 1.0
    e = explanation(np.zeros((1, 5)), interactions=interactions)
    assert interaction_recovery(None, np.zeros((1, 5)), e, context=planted, rng=None) == pytest.approx([1.0])
    with pytest.raises(NotApplicable, match="does not give"):
        interaction_recovery(None, np.zeros((1, 5)), explanation(np.zeros((1, 5))), context=planted, rng=None)
    none_planted = make_context(synthetic=SyntheticTruth(gaussian, "gaussianLinear"))
    with pytest.raises(NotApplicable, match="gaussianLinear has none"):
        interaction_recovery(None, np.zeros((1, 5)), e, context=none_planted, rng=None)
    with pytest.raises(NotApplicable, match="synthetic"):
        interaction_recovery(None, np.zeros((1, 5)), e, context=make_context(), rng=None)


def test_ground_truth_metrics_need_a_synthetic_task(linear_task):
    model, X, _, _ = linear_task
    for fn in (shapley_mse, shapley_corr, *AGREEMENTS):
        with pytest.raises(NotApplicable, match=fn.__name__):
            fn(model, X, explanation(np.zeros_like(X)), context=make_context(), rng=np.random.default_rng(0))


def test_the_ground_truth_is_computed_once_per_fold_for_every_explainer(linear_task):
    model, X, context, _ = linear_task
    counted = CountingModel(model)
    rng = np.random.default_rng(0)
    first = shapley_mse(counted, X, explanation(np.zeros_like(X)), context=context, rng=rng, n_samples=300)
    # f(x) in one call, then every sampled coalition of the 4 rows in one more.
    assert counted.calls == 2 and counted.rows == len(X) * (1 + 31 * 300)
    # Another explainer's metrics get a copy of the context sharing its fold cache (run.py).
    other = dataclasses.replace(context, explainer_cache={})
    for fn in (shapley_mse, shapley_corr, *AGREEMENTS):
        fn(counted, X, explanation(np.ones_like(X)), context=other, rng=np.random.default_rng(9), n_samples=300)
    assert counted.calls == 2
    # Whichever explainer asks first, the same draws: a fresh fold computes the same truth.
    again = shapley_mse(model, X, explanation(np.zeros_like(X)), context=dataclasses.replace(context, cache={}),
                        rng=np.random.default_rng(123), n_samples=300)
    np.testing.assert_array_equal(first, again)
    # Another n_samples is another ground truth.
    shapley_mse(counted, X, explanation(np.zeros_like(X)), context=other, rng=rng, n_samples=10)
    assert counted.calls == 4


def test_metric_parameters_are_validated(linear_task):
    model, X, context, _ = linear_task
    e = explanation(np.zeros_like(X))
    with pytest.raises(ValueError, match="compat must be one of"):
        shapley_mse(model, X, e, context=context, rng=None, compat="original")
    with pytest.raises(ValueError, match="n_samples"):
        shapley_corr(model, X, e, context=context, rng=None, n_samples=0)
    with pytest.raises(ValueError, match="top_fraction"):
        feature_agreement(model, X, e, context=context, rng=None, n_samples=20, top_fraction=0)


def test_metadata():
    assert not info_of(shapley_mse).higher_is_better
    for fn in (shapley_corr, *AGREEMENTS, interaction_recovery):
        info = info_of(fn)
        assert info.category == "ground_truth" and info.higher_is_better and info.name == fn.__name__
