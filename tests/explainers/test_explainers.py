"""Explainers on models whose exact attributions are known analytically."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.core.errors import NotApplicable
from bench.explainers import (
    DeepLift,
    DeepShap,
    ExactShap,
    FeatureAblation,
    GradientShap,
    GradientShapCaptum,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    LimeImage,
    LimeTabular,
    Native,
    Occlusion,
    PartitionShap,
    PermutationShap,
    RandomExplainer,
    Saliency,
    ShapleyValueSampling,
    SmoothGrad,
)
from bench.metrics.cost import measure
from bench.models import LogisticRegression
from tests.metrics.conftest import Linear


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


class Network:
    """A model that is only its torch network: what gradient and DeepLIFT methods read; the
    logits of `n_classes` classes, or a regression output (n_classes None)."""

    def __init__(self, module: nn.Module, n_classes: int | None = None):
        self.module = module
        self.classes_ = None if n_classes is None else np.arange(n_classes)

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


def test_kernel_shap_keeps_every_feature_by_default_and_selects_only_when_asked():
    # d = 30: "auto" samples 2 * 30 + 2048 of the 2^30 coalitions, but a linear model's game
    # v(S) = w_S.x_S + w_rest.E[x_rest] is additive in S, so the weighted regression fits every
    # sampled coalition exactly and returns w * (x - E_background[x]) up to float64 rounding.
    rng = np.random.default_rng(2)
    X, background = rng.normal(size=(3, 30)), rng.normal(size=(20, 30))
    model = Linear(rng.normal(size=30))

    def explain(**options):
        return KernelShap(**options).explain(model, X, target=np.zeros(3, dtype=int), background=background,
                                             rng=np.random.default_rng(0)).values

    np.testing.assert_allclose(explain(), model.w * (X - background.mean(axis=0)), rtol=0, atol=1e-10)
    # shap's own default, asked for: 10 features kept, the other 20 attributions exactly 0.
    np.testing.assert_array_equal(np.count_nonzero(explain(l1_reg="num_features(10)"), axis=1), 10)


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
    assert "not a torch model" in reason and "LogisticRegression" in reason
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


def test_lime_explains_the_requested_class_and_refuses_images(data):
    X, background = data
    y = (background[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(background, y)
    to_one = LimeTabular(num_samples=500).explain(model, X, target=np.ones(5, int), background=background,
                                                  rng=np.random.default_rng(0))
    to_zero = LimeTabular(num_samples=500).explain(model, X, target=np.zeros(5, int), background=background,
                                                   rng=np.random.default_rng(0))
    np.testing.assert_allclose(to_one.values, -to_zero.values, atol=1e-10)  # p(0) = 1 - p(1)
    with pytest.raises(NotApplicable, match="lime_image"):
        LimeTabular().explain(model, np.zeros((2, 1, 4, 4)), target=np.zeros(2, int), background=background,
                              rng=np.random.default_rng(0))


ZERO = np.zeros(5, dtype=int)


@pytest.mark.parametrize("explainer", [
    ExactShap(), PermutationShap(n_permutations=3), ShapleyValueSampling(n_samples=3), FeatureAblation(),
    DeepShap(), DeepLift(),
], ids=lambda e: type(e).__name__)
def test_shapley_and_removal_methods_on_a_linear_model_give_w_times_x_minus_the_background_mean(data, explainer):
    # f is additive, so every coalition and ordering gives the same marginal contribution:
    # sampled methods are exact too, and removal by the mean equals the Shapley value.
    X, background = data
    model = LinearRegressor([2.0, -1.0, 0.5, 0.0])
    explanation = explainer.explain(model, X, target=ZERO, background=background, rng=np.random.default_rng(0))
    np.testing.assert_allclose(explanation.values, (X - background.mean(axis=0)) * model.w, rtol=1e-2, atol=1e-5)


def test_gradient_explainers_of_a_linear_model(data):
    X, background = data
    model = LinearRegressor([2.0, -1.0, 0.5, 0.0])
    explain = lambda e, bg=background: e.explain(  # noqa: E731
        model, X, target=ZERO, background=bg, rng=np.random.default_rng(0)).values
    w = np.broadcast_to(model.w, X.shape)
    np.testing.assert_allclose(explain(Saliency()), np.abs(w), rtol=1e-6)
    np.testing.assert_allclose(explain(Saliency(absolute=False)), w, rtol=1e-6)
    np.testing.assert_allclose(explain(SmoothGrad(n_samples=4)), w, rtol=1e-5)  # the gradient is constant
    np.testing.assert_allclose(explain(InputXGradient()), X * model.w, rtol=1e-5, atol=1e-6)
    # Against one background row b, expected gradients are w * (x - b) at any sampled point.
    one_row = background[:1]
    for e in (GradientShap(nsamples=8), GradientShapCaptum(n_samples=8)):
        np.testing.assert_allclose(explain(e, one_row), (X - one_row) * model.w, rtol=1e-4, atol=1e-5)


def flat(a: np.ndarray) -> np.ndarray:
    return a.reshape(len(a), -1)


def linear_image_model(shape: tuple[int, ...]):
    """f(x) = w.x on images of `shape`, with 3 images and 10 background images to explain it on."""
    rng = np.random.default_rng(0)
    images, background = rng.normal(size=(3, *shape)), rng.normal(size=(10, *shape))
    model = LinearRegressor(list(rng.normal(size=int(np.prod(shape)))))
    model.predict = (lambda predict: lambda X: predict(flat(X)))(model.predict)
    return model, images, background


def test_occlusion_of_single_pixels_of_a_linear_image_model_is_w_times_x_minus_baseline():
    model, images, background = linear_image_model((1, 4, 4))
    values = Occlusion(window=1).explain(model, images, target=np.zeros(3, int), background=background,
                                         rng=np.random.default_rng(0)).values
    np.testing.assert_allclose(values, (flat(images) - flat(background).mean(axis=0)) * model.w, rtol=1e-4, atol=1e-5)
    with pytest.raises(NotApplicable, match="images"):
        Occlusion().explain(model, flat(images), target=np.zeros(3, int), background=flat(background),
                            rng=np.random.default_rng(0))


class ImageClassifier:
    """Two classes; the logit of class 1 is the mean of the top-left 2x2 cell minus the rest's."""

    classes_ = np.array([0, 1])

    def predict_proba(self, images):
        images = np.asarray(images)
        logit = 4 * (images[:, 0, :2, :2].mean(axis=(1, 2)) - images[:, 0, 2:, 2:].mean(axis=(1, 2)))
        p = 1 / (1 + np.exp(-logit))
        return np.stack([1 - p, p], axis=1)


def test_lime_image_weights_the_cells_the_classifier_reads_and_is_seeded():
    images = np.ones((2, 1, 4, 4))
    explain = lambda seed: LimeImage(num_samples=300, hide_color=0.0).explain(  # noqa: E731
        ImageClassifier(), images, target=np.ones(2, int), background=images, rng=np.random.default_rng(seed)).values
    values = explain(0).reshape(2, 4, 4)
    assert (values[:, :2, :2] > 0.05).all() and (values[:, 2:, 2:] < -0.05).all()
    assert np.abs(values[:, :2, 2:]).max() < 0.05  # a cell the model ignores
    assert (values[:, 0, 0] == values[:, 1, 1]).all()  # one weight per cell (superpixel)
    np.testing.assert_array_equal(explain(0), explain(0))
    with pytest.raises(NotApplicable, match="images"):
        LimeImage().explain(ImageClassifier(), np.ones((2, 16)), target=np.ones(2, int), background=np.ones((2, 16)),
                            rng=np.random.default_rng(0))


def test_lime_images_surrogates_of_every_class_predict_the_models_probabilities_at_the_instance():
    images = np.random.default_rng(1).random((3, 1, 4, 4))
    model = ImageClassifier()
    explain = lambda every_class: LimeImage(num_samples=300, every_class=every_class).explain(  # noqa: E731
        model, images, target=np.ones(3, int), background=images, rng=np.random.default_rng(0))
    both = explain(True)
    # The model is nearly linear in the cells, so each class's surrogate reproduces its probability.
    np.testing.assert_allclose(both.extras["surrogate_prediction"], model.predict_proba(images), atol=0.01)
    ones = np.ones((2, 1, 4, 4))
    top = LimeImage(num_samples=300, hide_color=0.0, num_features=2).explain(
        model, ones, target=np.ones(2, int), background=ones, rng=np.random.default_rng(0)).values
    # The two cells the model reads keep their weights; the two it ignores are dropped.
    assert (top.reshape(2, 4, 4)[:, ::2, ::2] != 0).tolist() == [[[True, False], [False, True]]] * 2
    alone = explain(False)
    np.testing.assert_array_equal(both.values, alone.values)  # the explained class's weights are the same
    assert "surrogate_prediction" not in alone.extras


def test_integrated_gradients_is_complete_on_a_nonlinear_network(data):
    X, background = data
    torch.manual_seed(0)
    model = Network(nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)), 3)
    target = np.array([0, 1, 2, 1, 0])
    e = IntegratedGradients(n_steps=64).explain(model, X, target=target, background=background,
                                                rng=np.random.default_rng(0))
    with torch.no_grad():
        out = model.module(torch.as_tensor(X)).numpy()[np.arange(5), target]
        base = model.module(torch.as_tensor(background.mean(axis=0, keepdims=True))).numpy()[0, target]
    gap = e.values.sum(axis=1) - (out - base)
    np.testing.assert_allclose(gap, e.extras["convergence_delta"], atol=1e-5)  # the delta is this gap
    assert np.abs(gap).max() < 1e-3 * np.abs(out - base).max()


def test_exact_shap_is_not_applicable_to_many_features_and_deeplift_to_a_product_of_activations(data):
    X, background = data
    model = LinearRegressor([1.0] * 4)
    with pytest.raises(NotApplicable, match="max_features=3"):
        ExactShap(max_features=3).explain(model, X, target=ZERO, background=background, rng=np.random.default_rng(0))

    class Product(nn.Module):  # f = (a.x) * (b.x): no module for the product, so no DeepLIFT rule
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 1), nn.Linear(4, 1)

        def forward(self, x):
            return self.a(x) * self.b(x)

    torch.manual_seed(0)
    product = Network(Product())
    for explainer in (DeepLift(), DeepShap()):
        with pytest.raises(NotApplicable, match="outside DeepLIFT's layer rules"):
            explainer.explain(product, X, target=ZERO, background=background, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size"):
        KernelShap(batch_size=0)
    with pytest.raises(ValueError, match="n_permutations must be a positive integer"):
        PermutationShap(n_permutations=0)
    with pytest.raises(ValueError, match="nsamples"):
        KernelShap(nsamples="many")


def test_deep_shap_explains_each_rows_own_class_and_adds_up_to_its_logit(data):
    X, background = data
    torch.manual_seed(0)
    model = Network(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), 3)
    target = np.array([2, 0, 1, 2, 0])
    e = DeepShap().explain(model, X, target=target, background=background, rng=np.random.default_rng(0))
    with torch.no_grad():
        logits = model.module(torch.as_tensor(X)).numpy()[np.arange(5), target]
        expected = model.module(torch.as_tensor(background)).numpy().mean(axis=0)[target]
    np.testing.assert_allclose(e.extras["expected_value"], expected, rtol=1e-5)
    np.testing.assert_allclose(e.values.sum(axis=1), logits - expected, atol=1e-4)
    alone = [DeepShap().explain(model, X[i:i + 1], target=target[i:i + 1], background=background,
                                rng=np.random.default_rng(0)).values[0] for i in range(5)]
    np.testing.assert_allclose(e.values, alone, atol=1e-6)


def test_deep_shap_leaves_no_parameters_on_the_layers_of_a_counted_network(data):
    # shap stores each layer's input and output as parameters and misses those inside a wrapper
    # such as the counted network of a run; a later sanity check would find a ReLU with parameters.
    X, background = data
    model = Network(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), 3)
    before = [name for name, _ in model.module.named_parameters()]
    measure(lambda counted: DeepShap().explain(counted, X, target=np.zeros(len(X), int), background=background,
                                               rng=np.random.default_rng(0)), model)
    assert [name for name, _ in model.module.named_parameters()] == before


def test_feature_ablation_of_an_image_credits_each_pixel_with_its_patchs_change():
    model, images, background = linear_image_model((2, 5, 5))
    explanation = FeatureAblation(patch=2).explain(model, images, target=np.zeros(3, int), background=background,
                                                   rng=np.random.default_rng(0))
    # For f(x) = w.x the change of ablating a patch is the sum of w (x - mean background) over its
    # pixels in both channels; patches are 2x2, those at the right and bottom edges smaller.
    contribution = ((images - background.mean(axis=0)) * model.w.reshape(2, 5, 5)).sum(axis=1)  # (3, 5, 5)
    cells = np.add.reduceat(np.add.reduceat(contribution, [0, 2, 4], axis=1), [0, 2, 4], axis=2)  # (3, 3, 3)
    expected = np.repeat(np.repeat(cells, 2, axis=1), 2, axis=2)[:, :5, :5]
    np.testing.assert_allclose(explanation.values, flat(np.repeat(expected[:, None], 2, axis=1)), rtol=1e-4, atol=1e-5)
    assert explanation.extras["patch"] == 2


def test_partition_shap_of_a_linear_image_model_is_w_times_x_minus_baseline():
    model, images, background = linear_image_model((2, 4, 4))
    # Owen values of an additive model are its Shapley values, w (x - mean background), once the
    # budget reaches single pixels (a 2x4x4 image's hierarchy has 63 regions).
    explanation = PartitionShap(max_evals=2000).explain(model, images, target=np.zeros(3, int), background=background,
                                                       rng=np.random.default_rng(0))
    np.testing.assert_allclose(explanation.values, (flat(images) - flat(background).mean(axis=0)) * model.w,
                               atol=1e-6)
    np.testing.assert_allclose(explanation.extras["expected_value"], model.predict(background.mean(axis=0)[None])[0],
                               atol=1e-6)
    with pytest.raises(NotApplicable, match="images"):
        PartitionShap().explain(model, flat(images), target=np.zeros(3, int), background=flat(background),
                                rng=np.random.default_rng(0))


def test_partition_shap_explains_each_rows_target_class_and_adds_up():
    images = np.random.default_rng(1).random((4, 1, 4, 4))
    target = np.array([0, 1, 1, 0])
    explanation = PartitionShap(baseline="zero", max_evals=300).explain(
        ImageClassifier(), images, target=target, background=images, rng=np.random.default_rng(0))
    probabilities = ImageClassifier().predict_proba(images)[np.arange(4), target]
    at_zero = ImageClassifier().predict_proba(np.zeros((1, 1, 4, 4)))[0, target]
    np.testing.assert_allclose(explanation.values.sum(axis=1), probabilities - at_zero, atol=1e-8)
