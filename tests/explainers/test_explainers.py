"""Explainers on models whose exact attributions are known analytically."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.explainers import IntegratedGradients, KernelShap, LimeTabular, Native, RandomExplainer
from bench.models import CNN, LogisticRegression


class LinearRegressor:
    """f(x) = x @ w + b as a regressor, with its torch module."""

    classes_ = None

    def __init__(self, w, b=0.5):
        self.module = nn.Linear(len(w), 1)
        with torch.no_grad():
            self.module.weight.copy_(torch.tensor([w], dtype=torch.float32))
            self.module.bias.fill_(b)
        self.w = np.asarray(w)

    def predict(self, X):
        with torch.no_grad():
            return self.module(torch.as_tensor(np.asarray(X, dtype=np.float32)))[:, 0].numpy()

    def torch_module(self):
        return self.module


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(20, 4)).astype(np.float32)


def test_kernel_shap_of_a_linear_model_is_w_times_x_minus_the_background_mean(data):
    X, background = data
    model = LinearRegressor([2.0, -1.0, 0.5, 0.0])
    # d = 4: shap enumerates all 2^4 coalitions, so the estimate is exact (no l1 selection).
    explanation = KernelShap(nsamples=100, l1_reg=False).explain(
        model, X, target=np.zeros(len(X), dtype=int), background=background, rng=np.random.default_rng(0))
    expected = (X - background.mean(axis=0)) * model.w
    np.testing.assert_allclose(explanation.values, expected, atol=1e-4)
    assert explanation.kind == "attribution" and explanation.values.shape == (5, 4)


def test_kernel_shap_explains_the_requested_class_of_a_classifier(data):
    X, background = data
    y = (X[:, 0] + background[:5, 0] > 0).astype(int)
    model = LogisticRegression().fit(np.vstack([X, background]), np.concatenate([y, (background[:, 0] > 0).astype(int)]))
    explainer = KernelShap(nsamples=100, l1_reg=False)
    target = np.array([0, 1, 0, 1, 1])
    values = explainer.explain(model, X, target=target, background=background, rng=np.random.default_rng(0)).values
    # Efficiency: attributions add up to f_target(x) - E[f_target(background)].
    proba, base = model.predict_proba(X), model.predict_proba(background).mean(axis=0)
    np.testing.assert_allclose(values.sum(axis=1), proba[np.arange(5), target] - base[target], atol=1e-6)


def test_kernel_shap_is_seeded_by_its_rng():
    rng = np.random.default_rng(1)
    X, background = rng.normal(size=(2, 12)), rng.normal(size=(10, 12))
    model = LinearRegressor(list(rng.normal(size=12)))
    explain = lambda seed: KernelShap(nsamples=40, l1_reg=False).explain(  # noqa: E731
        model, X, target=np.zeros(2, dtype=int), background=background, rng=np.random.default_rng(seed)).values
    np.testing.assert_array_equal(explain(0), explain(0))
    assert not np.array_equal(explain(0), explain(1))


def test_integrated_gradients_of_a_linear_model_is_w_times_x_minus_baseline(data):
    X, background = data
    model = LinearRegressor([2.0, -1.0, 0.5, 0.0])
    target = np.zeros(len(X), dtype=int)
    for baseline, reference in (("zero", 0.0), ("mean", background.mean(axis=0))):
        explanation = IntegratedGradients(n_steps=5, baseline=baseline).explain(
            model, X, target=target, background=background, rng=np.random.default_rng(0))
        np.testing.assert_allclose(explanation.values, (X - reference) * model.w, rtol=1e-5, atol=1e-5)


def test_integrated_gradients_needs_a_torch_model():
    reason = IntegratedGradients().not_applicable(LogisticRegression())
    assert "not a torch model" in reason
    assert IntegratedGradients().not_applicable(LinearRegressor([1.0])) is None
    with pytest.raises(ValueError, match="baseline"):
        IntegratedGradients(baseline="blur")


def test_random_control_is_seeded_and_model_free(data):
    X, background = data
    explain = lambda seed: RandomExplainer().explain(  # noqa: E731
        None, X, target=np.zeros(len(X), dtype=int), background=background, rng=np.random.default_rng(seed)).values
    np.testing.assert_array_equal(explain(3), explain(3))
    assert explain(3).shape == X.shape and not np.array_equal(explain(3), explain(4))


def test_native_returns_the_models_own_explanation_for_the_requested_target(data):
    X, background = data
    y = (background[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(background, y)
    target = np.array([0, 1, 1, 0, 1])
    explanation = Native().explain(model, X, target=target, background=background, rng=np.random.default_rng(0))
    expected = np.where(target == 1, 1.0, -1.0)[:, None] * X * model.coef_[0]  # binary: signed log-odds impacts
    np.testing.assert_allclose(explanation.values, expected, rtol=1e-6)
    np.testing.assert_array_equal(explanation.target, target)


def test_native_is_not_applicable_to_a_black_box():
    assert Native().not_applicable(LogisticRegression()) is None
    assert "not interpretable by design" in Native().not_applicable(LinearRegressor([1.0]))


@pytest.fixture
def linear_problem():
    """Unit-variance features, so a linear surrogate's coefficients keep w's order."""
    rng = np.random.default_rng(1)
    return LinearRegressor([3.0, -2.0, 1.0, 0.5]), rng.normal(size=(3, 4)), rng.normal(size=(200, 4))


def test_continuous_lime_recovers_the_sign_and_order_of_a_linear_models_weights(linear_problem):
    model, X, background = linear_problem
    e = LimeTabular(num_samples=2000, discretize_continuous=False).explain(
        model, X, target=np.zeros(3, int), background=background, rng=np.random.default_rng(0))
    assert e.values.shape == (3, 4)
    for row in e.values:
        np.testing.assert_array_equal(np.sign(row), np.sign(model.w))
        np.testing.assert_array_equal(np.argsort(-np.abs(row)), np.argsort(-np.abs(model.w)))


def test_discretised_lime_signs_follow_the_quartile_of_the_instance_and_are_seeded(linear_problem):
    model, _, background = linear_problem
    X = 1.5 * np.array([[1, -1, 1, -1], [-1, 1, 1, 1], [1, 1, -1, -1]])  # every value in an outer quartile
    explain = lambda seed: LimeTabular(num_samples=2000).explain(  # noqa: E731
        model, X, target=np.zeros(3, int), background=background, rng=np.random.default_rng(seed)).values
    first = explain(0)
    # In the top (bottom) quartile, "x in this bin" raises (lowers) f by the sign of w.
    np.testing.assert_array_equal(np.sign(first), np.sign(model.w * X))
    np.testing.assert_array_equal(first, explain(0))
    assert not np.array_equal(first, explain(1))


def test_lime_explains_the_requested_class_and_refuses_image_models(data):
    X, background = data
    y = (background[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(background, y)
    to_one = LimeTabular(num_samples=500).explain(model, X, target=np.ones(5, int), background=background,
                                                  rng=np.random.default_rng(0))
    to_zero = LimeTabular(num_samples=500).explain(model, X, target=np.zeros(5, int), background=background,
                                                   rng=np.random.default_rng(0))
    np.testing.assert_allclose(to_one.values, -to_zero.values, atol=1e-10)  # p(0) = 1 - p(1)
    assert "takes images" in LimeTabular().not_applicable(CNN())
