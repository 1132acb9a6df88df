"""Deletion-curve area on a linear model, where every point of the curve is known."""

from __future__ import annotations

import numpy as np
import pytest

from bench.data.gaussian import Gaussian
from bench.data.synthetic import SyntheticTruth, covariance
from bench.core.errors import NotApplicable
from bench.metrics import deletion_auc, info_of, insertion_auc
from bench.metrics.deletion import deletion_steps
from tests.metrics.conftest import Linear, explanation, make_context


def test_area_of_a_linear_model_with_its_exact_attribution():
    model, x = Linear([3.0, 2.0, 1.0]), np.ones((1, 3))
    # Removing features 0, 1, 2 in turn (zero baseline): outputs 6, 3, 1, 0 at fractions
    # 0, 1/3, 2/3, 1; trapezoid area = (1/3) * (4.5 + 2 + 0.5) = 7/3.
    area = deletion_auc(model, x, explanation(x * model.w), context=make_context(np.zeros((2, 3))),
                        rng=np.random.default_rng(0), replacement="zero")
    assert area == pytest.approx([7 / 3])


def test_the_reversed_order_gives_the_larger_area():
    model, x = Linear([3.0, 2.0, 1.0]), np.ones((1, 3))
    # Least important first: outputs 6, 5, 3, 0 -> (1/3) * (5.5 + 4 + 1.5) = 11/3.
    area = deletion_auc(model, x, explanation(-(x * model.w)), context=make_context(np.zeros((2, 3))),
                        rng=np.random.default_rng(0), replacement="zero")
    assert area == pytest.approx([11 / 3])


def test_mean_baseline_and_steps_of_two_features():
    model = Linear([1.0, 1.0, 1.0, 1.0])
    x = np.array([[2.0, 2.0, 2.0, 2.0]])
    background = np.array([[0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]])  # mean 1 per feature
    # Steps of 2 features: 0, 2, 4 removed -> outputs 8, 6, 4 at fractions 0, .5, 1; area 6.
    area = deletion_auc(model, x, explanation([[4.0, 3.0, 2.0, 1.0]]), context=make_context(background),
                        rng=np.random.default_rng(0), replacement="mean", step=2)
    assert area == pytest.approx([6.0])


def test_classifier_curve_follows_the_target_class_probability():
    class FirstFeatureIsTheProbability:
        classes_ = np.array([0, 1])

        def predict_proba(self, X):
            # P(class 1) = x0 (in [0, 1]): removing x0 drops it to 0.
            p1 = np.asarray(X)[:, 0]
            return np.column_stack([1 - p1, p1])

    x = np.array([[1.0, 0.5]])
    area = deletion_auc(FirstFeatureIsTheProbability(), x, explanation([[1.0, 0.0]], target=np.array([1])), context=make_context(np.zeros((1, 2))),
                        rng=np.random.default_rng(0), replacement="zero")
    # P(1): 1 (nothing removed), 0 (x0 removed), 0 (both) at fractions 0, .5, 1 -> area 0.25
    assert area == pytest.approx([0.25])


def test_all_perturbed_inputs_go_through_the_model_in_one_call():
    model = Linear(np.arange(10.0))
    X = np.random.default_rng(0).normal(size=(30, 10))
    values = deletion_auc(model, X, explanation(X * model.w), context=make_context(X), rng=np.random.default_rng(0))
    assert values.shape == (30,)
    assert model.calls == 1


def test_steps_always_end_at_all_features_and_reject_zero():
    assert list(deletion_steps(5, 2)) == [0, 2, 4, 5]
    assert list(deletion_steps(4, 1)) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="positive"):
        deletion_steps(4, 0)


def test_metadata():
    info = info_of(deletion_auc)
    assert info.category == "faithfulness" and not info.higher_is_better and info.kinds == ("attribution",)


@pytest.mark.parametrize(("attribution_sign", "area"), [
    # Most relevant first: outputs 0, 3, 5, 6 -> (1/3) * (1.5 + 4 + 5.5) = 11/3, which is also
    # the area of the LeRF deletion curve 6, 5, 3, 0 (the same sets, read backwards).
    (1, 11 / 3),
    # The reversed attribution inserts the least relevant first: 0, 1, 3, 6 -> 7/3, the area of
    # MoRF deletion (test_area_of_a_linear_model_with_its_exact_attribution).
    (-1, 7 / 3),
])
def test_insertion_curve_of_a_linear_model(attribution_sign, area):
    model, x = Linear([3.0, 2.0, 1.0]), np.ones((1, 3))
    value = insertion_auc(model, x, explanation(attribution_sign * x * model.w), context=make_context(np.zeros((2, 3))),
                          rng=np.random.default_rng(0), replacement="zero")
    assert value == pytest.approx([area])


def test_conditional_replacement_follows_the_conditional_mean_of_a_linear_model():
    # With correlated features, removing x0 moves the others' expectation: for a linear model
    # the expected curve is w . E[x | x_present], computed here in closed form.
    gaussian = Gaussian(np.zeros(3), covariance(0.5, d=3))
    truth = SyntheticTruth(gaussian, "gaussianLinear")
    model, x = Linear([3.0, 2.0, 1.0]), np.array([[1.0, -1.0, 2.0]])
    order = [0, 1, 2]  # attribution 3, 2, 1 ranks the features 0, 1, 2
    expected_curve = []
    for removed in range(4):
        keep = np.isin(np.arange(3), order[removed:])
        expected_curve.append(model.w @ gaussian.conditional_mean(x[0], keep))
    expected = np.trapezoid(expected_curve, x=np.arange(4) / 3)
    value = deletion_auc(model, x, explanation([[3.0, 2.0, 1.0]]), context=make_context(synthetic=truth),
                         rng=np.random.default_rng(0), replacement="conditional", n_samples=20_000)
    # Monte-Carlo error of each point: sd(w . x_removed | x_present) / sqrt(20000) < 0.03.
    assert value == pytest.approx([expected], abs=0.03)


def test_conditional_replacement_needs_a_known_distribution():
    model, x = Linear([1.0, 1.0]), np.ones((1, 2))
    with pytest.raises(NotApplicable, match="distribution"):
        deletion_auc(model, x, explanation(x), context=make_context(np.zeros((1, 2))), rng=np.random.default_rng(0),
                     replacement="conditional")
