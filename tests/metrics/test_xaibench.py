"""XAI-Bench's faithfulness, monotonicity and ROAR metrics on linear models, where what removing
a feature does is known: with f(x) = w.x and independent zero-mean features, removing x_j
changes the output by w_j x_j, so |w * x| is the exact attribution."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from bench.data.gaussian import Gaussian
from bench.data.synthetic import SyntheticTruth
from bench.core.errors import NotApplicable
from bench.core.explanation import Explanation
from bench.metrics.base import info_of
from bench.core.calls import CountingModel
from bench.metrics.xaibench import faithfulness, monotonicity, roar_faithfulness, roar_monotonicity
from tests.metrics.conftest import make_context

W = np.array([4.0, 3.0, 2.0, 1.0, 0.5])  # distinct |w|: a strict order of importance
STANDARD = Gaussian(np.zeros(5), np.eye(5))
ALL_METRICS = (faithfulness, monotonicity, roar_faithfulness, roar_monotonicity)


class Linear:
    """f(x) = x @ w, a regressor."""

    classes_ = None

    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)

    def fit(self, X, y):  # a "retrained" model that ignores its training data: f itself
        return self

    def predict(self, X):
        return np.asarray(X) @ self.w


class Logistic:
    """P(class 1) = sigmoid(x @ w)."""

    classes_ = np.array([0, 1])

    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)

    def predict_proba(self, X):
        p1 = 1 / (1 + np.exp(-(np.asarray(X) @ self.w)))
        return np.column_stack([1 - p1, p1])


class CountingLinearRegression(LinearRegression):
    """Records, for every fitted instance, the number of rows of each predict call."""

    fitted: list = []

    def fit(self, X, y):
        self.predicted_rows = []
        CountingLinearRegression.fitted.append(self)
        return super().fit(X, y)

    def predict(self, X):
        self.predicted_rows.append(len(X))
        return super().predict(X)


def exact(X, w=W, target=None):
    return Explanation(np.asarray(X) * w, "attribution", np.zeros(len(X), dtype=int) if target is None else target)


def random_attribution(X, seed=1):
    return Explanation(np.random.default_rng(seed).normal(size=np.shape(X)), "attribution", np.zeros(len(X), dtype=int))


def synthetic_context(distribution=STANDARD, *, n_train=200, w=W, seed=0, **kwargs):
    """Training rows of `distribution` with the noiseless label x @ w; the explainer is exact."""
    X_train = distribution.sample(n_train, np.random.default_rng(seed))
    kwargs.setdefault("explain", lambda model, X, target: exact(X, w, target))
    kwargs.setdefault("y_train", X_train @ w)
    return make_context(X_train, X_train=X_train, synthetic=SyntheticTruth(distribution, "gaussianLinear"), **kwargs)


def rows(n, distribution=STANDARD, seed=7):
    return distribution.sample(n, np.random.default_rng(seed))


def point_mass(d):
    """Every conditional draw is the conditional mean (0): expectations are exact."""
    return Gaussian(np.zeros(d), np.zeros((d, d)))


def rng():
    return np.random.default_rng(0)


# faithfulness

def test_faithfulness_is_one_for_the_exact_attribution_when_removal_is_exact():
    w = W[:3]
    X = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
    scores = faithfulness(Linear(w), X, exact(X, w), context=synthetic_context(point_mass(3), w=w), rng=rng(),
                          n_samples=3)
    assert scores == pytest.approx([1.0, 1.0])


def test_faithfulness_of_the_exact_attribution_is_near_one_and_of_a_random_one_near_zero():
    X = rows(30)
    context = synthetic_context()
    assert faithfulness(Linear(W), X, exact(X), context=context, rng=rng(), n_samples=1000).mean() > 0.99
    X = rows(200)
    assert abs(faithfulness(Linear(W), X, random_attribution(X), context=context, rng=rng(), n_samples=20).mean()) < 0.15


def test_faithfulness_resamples_from_the_conditional_of_correlated_features():
    # rho = .5: resampling x_j given x_-j changes w.x by w_j (x_j - E[x_j | x_-j]) on average,
    # which is the exact attribution here, not w_j x_j.
    rho = 0.5
    distribution = Gaussian(np.zeros(5), (1 - rho) * np.eye(5) + rho)
    X = rows(30, distribution)
    conditional_means = np.stack([distribution.conditional_mean(X, ~np.eye(5, dtype=bool)[j])[:, j]
                                  for j in range(5)], axis=1)
    attribution = Explanation(W * (X - conditional_means), "attribution", np.zeros(30, dtype=int))
    scores = faithfulness(Linear(W), X, attribution, context=synthetic_context(distribution), rng=rng(),
                          n_samples=1000)
    assert scores.mean() > 0.99


def test_faithfulness_evaluates_every_resampled_row_in_one_model_call():
    X = rows(20)
    counted = CountingModel(Linear(W))
    scores = faithfulness(counted, X, exact(X), context=synthetic_context(), rng=rng())
    assert scores.shape == (20,)
    assert counted.calls == 1 and counted.rows == 20 * (1 + 5 * 100)


# monotonicity

def test_monotonicity_on_a_hand_computed_curve_and_the_original_codes_curve():
    w, x = np.ones(3), np.array([3.0, 1.0, 2.0])
    X = np.stack([x, -x])  # the mean prediction, the curve's start, is 0
    context = synthetic_context(point_mass(3), w=w)
    # Adding features 1, 2, 0 (ascending |phi|): curve 0, 1, 3, 6; changes 1, 2, 3, all increasing.
    correct = monotonicity(Linear(w), X, exact(X, w), context=context, rng=rng(), n_samples=2)
    # The original stores step s at 1 + the feature index: 0, 6, 1, 3; changes 6, 5, 2.
    original = monotonicity(Linear(w), X, exact(X, w), context=context, rng=rng(), n_samples=2, compat="xaibench")
    assert correct == pytest.approx([1.0, 1.0])
    assert original == pytest.approx([0.0, 0.0])


def test_monotonicity_of_the_exact_attribution_beats_a_random_one():
    # Sampled removal is noisy (the mean of n draws of the absent features' w.x misses by
    # about |w| / sqrt(n), comparable to the smallest |w_j x_j|), hence many draws; rows in
    # +- pairs make the mean prediction, where the curve starts, the expected 0.
    X = rows(20)
    X = np.concatenate([X, -X])
    context = synthetic_context()
    good = monotonicity(Linear(W), X, exact(X), context=context, rng=rng(), n_samples=2000).mean()
    bad = monotonicity(Linear(W), X, random_attribution(X), context=context, rng=rng(), n_samples=2000).mean()
    assert good > 0.85 and bad < 0.6


def test_monotonicity_takes_two_model_calls_and_follows_a_classifiers_target_probability():
    X = rows(20)
    counted = CountingModel(Logistic(W))
    target = np.ones(20, dtype=int)
    scores = monotonicity(counted, X, exact(X, target=target), context=synthetic_context(task_type="binary"),
                          rng=rng(), n_samples=10)
    assert counted.calls == 2  # the mean prediction, then every sampled step
    assert scores.shape == (20,) and np.all((scores >= 0) & (scores <= 1))


# roar_faithfulness

def test_roar_faithfulness_of_the_exact_attribution_is_high_with_linear_retraining():
    X = rows(50)
    context = synthetic_context()
    good = roar_faithfulness(Linear(W), X, exact(X), context=context, rng=rng(), retrained_model=LinearRegression)
    bad = roar_faithfulness(Linear(W), X, random_attribution(X), context=context, rng=rng(),
                            retrained_model=LinearRegression)
    assert good.mean() > 0.8 and abs(bad.mean()) < 0.3


def test_roar_faithfulness_pairs_rows_correctly_and_the_original_code_does_not():
    # The "retrained" model is f itself, so delta_r = |w_j x_j| for the r-th most important j:
    # the exact attribution sorted, a correlation of exactly 1.
    X = rows(6)
    context = synthetic_context(n_train=4)
    correct = roar_faithfulness(Linear(W), X, exact(X), context=context, rng=rng(),
                                retrained_model=lambda: Linear(W))
    original = roar_faithfulness(Linear(W), X, exact(X), context=context, rng=rng(),
                                 retrained_model=lambda: Linear(W), compat="xaibench")
    assert correct == pytest.approx(np.ones(6))
    # The original correlates row i of [training |phi|; explained |phi|] in feature order with
    # explained row i's deltas in rank order.
    paired = np.abs(np.concatenate([context.X_train, X]) * W)[:6]
    deltas = -np.sort(-np.abs(X * W), axis=1)
    expected = [np.corrcoef(a, b)[0, 1] for a, b in zip(paired, deltas)]
    assert original == pytest.approx(expected)
    assert not np.allclose(original, correct)


def test_each_retraining_predicts_every_explained_row_in_one_call():
    X = rows(30)
    CountingLinearRegression.fitted = []
    roar_faithfulness(Linear(W), X, exact(X), context=synthetic_context(), rng=rng(),
                      retrained_model=CountingLinearRegression)
    assert [model.predicted_rows for model in CountingLinearRegression.fitted] == [[30]] * 5
    CountingLinearRegression.fitted = []
    roar_monotonicity(Linear(W), X, exact(X), context=synthetic_context(), rng=rng(),
                      retrained_model=CountingLinearRegression)
    assert [model.predicted_rows for model in CountingLinearRegression.fitted] == [[30]] * 6


# roar_monotonicity

def test_roar_monotonicity_is_one_for_the_exact_attribution_when_retraining_is_exact():
    # Keeping the k least important features of f itself moves the output by the k-th
    # smallest |w_j x_j|, an increasing sequence.
    X = rows(20)
    scores = roar_monotonicity(Linear(W), X, exact(X), context=synthetic_context(), rng=rng(),
                               retrained_model=lambda: Linear(W))
    assert scores == pytest.approx(np.ones(20))


def test_roar_monotonicity_of_the_exact_attribution_beats_a_random_one_with_linear_retraining():
    X = rows(50)
    context = synthetic_context()
    good = roar_monotonicity(Linear(W), X, exact(X), context=context, rng=rng(), retrained_model=LinearRegression)
    bad = roar_monotonicity(Linear(W), X, random_attribution(X), context=context, rng=rng(),
                            retrained_model=LinearRegression)
    assert good.mean() > bad.mean() + 0.15


# what both ROAR metrics share, and the retrained models

def test_the_training_rows_are_explained_once_for_both_roar_metrics_for_the_predicted_class():
    calls = []

    def explain(model, X, target):
        calls.append(target)
        return exact(X, target=target)

    X = rows(10)
    X_train = rows(200, seed=0)
    context = synthetic_context(explain=explain, task_type="binary", y_train=(X_train @ W > 0).astype(int))
    model, target = Logistic(W), np.ones(10, dtype=int)
    for fn in (roar_faithfulness, roar_monotonicity):
        fn(model, X, exact(X, target=target), context=context, rng=rng(), retrained_model=LogisticRegression)
    assert len(calls) == 1
    assert np.array_equal(calls[0], (context.X_train @ W > 0).astype(int))


def test_same_retrains_the_runs_model_config():
    fits = []

    def fit(X, y):
        fits.append(len(X))
        return LinearRegression().fit(X, y)

    X = rows(10)
    roar_monotonicity(Linear(W), X, exact(X), context=synthetic_context(fit=fit), rng=rng(), retrained_model="same")
    assert fits == [200] * 6


@pytest.mark.parametrize("task_type", ["regression", "binary"])
def test_default_mlp_retraining_is_seeded_by_rng_and_silent(task_type):
    w = W[:3]
    distribution = Gaussian(np.zeros(3), np.eye(3))
    X_train = distribution.sample(60, np.random.default_rng(0))
    y_train = X_train @ w if task_type == "regression" else (X_train @ w >= 0).astype(int)
    context = synthetic_context(distribution, n_train=60, w=w, y_train=y_train, task_type=task_type)
    model, X = (Linear(w) if task_type == "regression" else Logistic(w)), rows(10, distribution)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's ConvergenceWarning must not escape
        first = roar_faithfulness(model, X, exact(X, w), context=context, rng=np.random.default_rng(3))
    again = roar_faithfulness(model, X, exact(X, w), context=context, rng=np.random.default_rng(3))
    assert np.array_equal(first, again) and np.all(np.abs(first) <= 1)


# applicability, parameters, metadata

@pytest.mark.parametrize("fn", ALL_METRICS)
def test_without_the_datas_distribution_the_metrics_do_not_apply(fn):
    X = rows(5)
    with pytest.raises(NotApplicable, match="distribution"):
        fn(Linear(W), X, exact(X), context=make_context(X), rng=rng())


def test_parameters_are_validated():
    X, context = rows(5), synthetic_context()
    with pytest.raises(ValueError, match="n_samples"):
        faithfulness(Linear(W), X, exact(X), context=context, rng=rng(), n_samples=0)
    with pytest.raises(ValueError, match="n_samples"):
        monotonicity(Linear(W), X, exact(X), context=context, rng=rng(), n_samples=0)
    for fn in (monotonicity, roar_faithfulness):
        with pytest.raises(ValueError, match="compat"):
            fn(Linear(W), X, exact(X), context=context, rng=rng(), compat="original")
    for fn in (roar_faithfulness, roar_monotonicity):
        with pytest.raises(ValueError, match="retrained_model"):
            fn(Linear(W), X, exact(X), context=context, rng=rng(), retrained_model="svm")


def test_undefined_correlations_count_as_zero():
    X = rows(5)
    flat = Explanation(np.ones((5, 5)), "attribution", np.zeros(5, dtype=int))  # constant |phi|
    assert np.array_equal(faithfulness(Linear(W), X, flat, context=synthetic_context(), rng=rng(), n_samples=2),
                          np.zeros(5))


def test_metadata():
    for fn in ALL_METRICS:
        info = info_of(fn)
        assert info.category == "faithfulness" and info.higher_is_better and info.kinds == ("attribution",)


def test_n_train_rows_retrains_on_and_explains_only_the_first_training_rows():
    explained, fitted = [], []

    def explain(model, X, target):
        explained.append(len(X))
        return exact(X, target=target)

    class Recording(LinearRegression):
        def fit(self, X, y):
            fitted.append(len(X))
            return super().fit(X, y)

    X = rows(10)
    context = synthetic_context(explain=explain)
    for fn in (roar_faithfulness, roar_monotonicity):
        fn(Linear(W), X, exact(X), context=context, rng=rng(), retrained_model=Recording, n_train_rows=50)
    assert explained == [50] and fitted == [50] * (5 + 6)
    with pytest.raises(ValueError, match="n_train_rows"):
        roar_monotonicity(Linear(W), X, exact(X), context=context, rng=rng(), retrained_model=Recording,
                          n_train_rows=1)
