"""The tabular baselines, and the native explanations of the inherent ones, each checked against
the identity that defines it: impacts plus bias equal the logit (logistic regression, EBM) or
the leaf probability (decision tree)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from bench.explainers import Native
from bench.models import EBM, CatBoost, DecisionTree, LogisticRegression, RandomForest
from tests.tolerances import assert_float32_sum_close

FAST_EBM = dict(outer_bags=2, max_rounds=200, n_jobs=1)


def classification_data(n_classes: int, *, n: int = 150, d: int = 4, seed: int = 0):
    """Class k around 2 * e_k with unit noise: overlapping, so trees and boosting grow."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.normal(size=(n, d))
    X[np.arange(n), y % d] += 2.0
    return X.astype(np.float32), y


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "multiclass"])
def data(request):
    return classification_data(request.param)


def signed(logit: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A binary model's positive-class log-odds, as the target class's log-odds."""
    return np.where(target == 1, logit, -logit)


def test_logistic_regression_impacts_plus_bias_equal_the_decision_function(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    target = np.arange(len(X)) % len(model.classes_)
    e = model.explain(X, target=target)
    decision = model.decision_function(X)
    expected = signed(decision, target) if decision.ndim == 1 else decision[np.arange(len(X)), target]
    # Impacts plus bias is the decision function, which scikit-learn sums in float32 for float32
    # inputs (the impacts are the same float32 factors, multiplied in float64).
    assert_float32_sum_close(expected, np.column_stack([e.values, e.extras["bias"]]))
    np.testing.assert_allclose(e.extras["weights"][0], model.coef_[target[0]] if decision.ndim == 2 else
                               signed(model.coef_[0], target[:1]), rtol=1e-12)


def test_decision_tree_credits_plus_root_equal_the_leaf_probability(data):
    X, y = data
    model = DecisionTree(random_state=0, max_depth=4).fit(X, y)
    target = np.arange(len(X)) % len(model.classes_)
    e = model.explain(X, target=target)
    np.testing.assert_allclose(e.values.sum(axis=1) + e.extras["bias"],
                               model.predict_proba(X)[np.arange(len(X)), target], atol=1e-12)


def test_decision_tree_credits_only_the_features_it_splits_on():
    X, y = classification_data(2)
    model = DecisionTree(random_state=0, max_depth=1).fit(X, y)  # one split, on one feature
    e = model.explain(X)
    split_feature = model.tree_.feature[0]
    assert np.count_nonzero(np.delete(e.values, split_feature, axis=1)) == 0
    assert np.count_nonzero(e.values[:, split_feature]) == len(X)


def test_ebm_terms_plus_intercept_equal_the_logit(data):
    X, y = data
    model = EBM(random_state=0, **FAST_EBM).fit(X, y)
    target = np.arange(len(X)) % len(model.classes_)
    e = model.explain(X, target=target)
    decision = model.decision_function(X)
    expected = signed(decision, target) if decision.ndim == 1 else decision[np.arange(len(X)), target]
    np.testing.assert_allclose(e.values.sum(axis=1) + e.extras["bias"], expected, rtol=1e-8, atol=1e-10)


def test_ebm_splits_a_pair_term_evenly_between_its_features():
    X, y = classification_data(2)
    model = EBM(random_state=0, interactions=[(0, 1)], **FAST_EBM).fit(X, y)
    e = model.explain(X[:5], target=np.ones(5, int))
    terms = e.extras["terms"]
    pair = e.extras["term_features"].index((0, 1))
    np.testing.assert_allclose(e.values[:, 0], terms[:, 0] + terms[:, pair] / 2, rtol=1e-12)


@pytest.mark.parametrize("model", [
    RandomForest(n_estimators=20, class_weight="balanced", random_state=0),
    CatBoost(iterations=50, thread_count=1, random_state=0),
], ids=["rf", "catboost"])
def test_black_box_baselines_predict_probabilities_and_have_no_native_explanation(model, data):
    X, y = data
    fitted = clone(model).fit(X, y)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), len(np.unique(y)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (fitted.predict(X) == y).mean() > 0.8
    assert "not interpretable by design" in Native().not_applicable(fitted)


def test_catboost_is_deterministic_for_a_seed():
    X, y = classification_data(2)
    first = CatBoost(iterations=30, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, CatBoost(iterations=30, random_state=3).fit(X, y).predict_proba(X))
