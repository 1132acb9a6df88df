"""PGI and PGU on linear models, where the gaps are known analytically."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics.base import info_of
from bench.metrics.prediction_gap import pgi, pgu, top_k_mask
from tests.metrics.conftest import Linear, explanation, make_context


def score(fn, model, X, values, target=None, **params):
    return fn(model, X, explanation(values, target), context=make_context(X), rng=np.random.default_rng(0), **params)


# Only the two features the explanation ranks first (top_fraction 0.5 of d = 4) carry weight.
W = np.array([3.0, -2.0, 0.0, 0.0])
X = np.random.default_rng(1).normal(size=(3, 4))


def test_pgu_is_zero_when_only_the_top_features_matter():
    assert score(pgu, Linear(W), X, X * W, top_fraction=0.5) == pytest.approx(np.zeros(3), abs=1e-12)


def test_pgi_is_the_mean_absolute_gaussian_gap():
    # f(x') - f(x) = w_top . noise ~ N(0, std^2 ||w_top||^2): E|.| = sqrt(2/pi) std ||w_top||.
    std, m = 0.1, 20_000
    gap = score(pgi, Linear(W), X, np.tile(W, (3, 1)), top_fraction=0.5, noise_std=std, n_perturbations=m)
    scale = std * np.linalg.norm(W)
    standard_error = scale * np.sqrt(1 - 2 / np.pi) / np.sqrt(m)
    assert gap == pytest.approx(np.full(3, np.sqrt(2 / np.pi) * scale), abs=4 * standard_error)


def test_a_wrong_ranking_swaps_the_gaps():
    # Ranking the zero-weight features first: PGI sees no change, PGU all of it.
    values = np.tile([0.0, 0.0, 1.0, -1.0], (3, 1))
    assert score(pgi, Linear(W), X, values, top_fraction=0.5) == pytest.approx(np.zeros(3), abs=1e-12)
    assert np.all(score(pgu, Linear(W), X, values, top_fraction=0.5) > 0.1)


def test_top_k_is_a_quarter_of_the_features_by_magnitude_and_at_least_one():
    mask = top_k_mask(np.array([[0.1, -5.0, 2.0, 0.3], [1.0, 1.0, 0.0, 0.0]]), 0.25)
    assert mask.tolist() == [[False, True, False, False], [True, False, False, False]]  # ties: feature order
    assert top_k_mask(np.array([[1.0, 2.0]]), 0.25).tolist() == [[False, True]]  # ceil(0.5) = 1
    assert top_k_mask(np.array([[1.0, 2.0, 3.0, 4.0]]), 0.5).sum() == 2
    assert top_k_mask(np.array([[5.0, 4.0, 3.0, 2.0, 1.0]]), 0.25).tolist() == [[True, True, False, False, False]]


def test_on_five_features_the_gaps_split_the_top_two_from_the_rest():
    # k = ceil(.25 * 5) = 2, OpenXAI's k. Only the two features ranked first carry weight, so
    # PGU perturbs neither (exactly 0) and PGI both; with k = 1 PGU would perturb feature 1.
    w = np.array([3.0, -2.0, 0.0, 0.0, 0.0])
    X5 = np.random.default_rng(2).normal(size=(3, 5))
    values = np.tile([2.0, 1.0, 0.5, 0.25, 0.125], (3, 1))
    assert score(pgu, Linear(w), X5, values) == pytest.approx(np.zeros(3), abs=1e-12)
    assert np.all(score(pgi, Linear(w), X5, values) > 0.1)


def test_classifier_gap_is_on_the_target_class_probability():
    class ConstantFirstClass:
        """P(class 0) = 0.5 always; classes 1 and 2 share the rest according to x0."""

        classes_ = np.array([0, 1, 2])

        def predict_proba(self, X):
            s = 1 / (1 + np.exp(-np.asarray(X)[:, 0]))
            return np.column_stack([np.full(len(X), 0.5), 0.5 * s, 0.5 * (1 - s)])

    model, values = ConstantFirstClass(), np.tile([1.0, 0.0, 0.0, 0.0], (3, 1))
    assert score(pgi, model, X, values, target=np.zeros(3, dtype=int)) == pytest.approx(np.zeros(3), abs=1e-12)
    assert np.all(score(pgi, model, X, values, target=np.array([1, 2, 1])) > 0)


def test_one_model_call_and_parameter_checks():
    model = Linear(W)
    score(pgi, model, X, X)
    assert model.calls == 1
    with pytest.raises(ValueError, match="top_fraction"):
        score(pgi, model, X, X, top_fraction=0.0)
    with pytest.raises(ValueError, match="noise_std"):
        score(pgu, model, X, X, noise_std=-1.0)
    with pytest.raises(ValueError, match="n_perturbations"):
        score(pgu, model, X, X, n_perturbations=0)


def test_metadata():
    assert info_of(pgi).category == "faithfulness" and info_of(pgi).higher_is_better
    assert info_of(pgu).category == "faithfulness" and not info_of(pgu).higher_is_better
