"""The explanation-manipulation attack and its metrics on cases whose answers are known, the
explanations' smoothness against SmoothGrad, and FGSM accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.core.errors import NotApplicable
from bench.explainers.captum_explainers import (
    GradientShapCaptum,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from bench.explainers.random import RandomExplainer
from bench.metrics import fgsm_accuracy, manipulation_topk, smoothgrad_spearman, smoothgrad_ssim, smoothgrad_topk
from bench.metrics.manipulation import (
    manipulation_attack,
    project,
    softplus_surrogate,
    spearman_rows,
    top_k_intersection,
    top_k_of,
    valid_range,
)
from bench.models import MLP, TrainingLoop
from tests.metrics.conftest import explanation, make_context


class Quadratic(nn.Module):
    """Class 1's logit 0.5 * sum(x^2), class 0's 0: the gradient of class 1 is x itself."""

    def forward(self, x):
        z = 0.5 * (x ** 2).flatten(1).sum(dim=1, keepdim=True)
        return torch.cat([torch.zeros_like(z), z], dim=1)


def saliency_of(network):
    return Saliency().differentiable(_Wrapped(network), background=np.zeros((1, 2)), rng=np.random.default_rng(0))


class _Wrapped:
    """A binary classifier whose torch module is `network` (the logits of classes 0 and 1)."""

    classes_ = np.array([0, 1])

    def __init__(self, network):
        self.network = network

    def torch_module(self):
        return self.network


def test_a_point_outside_the_ball_goes_to_its_nearest_face_and_stays_in_the_valid_range():
    x = torch.tensor([[0.5, 0.5, 0.5, 0.98]])
    candidate = torch.tensor([[0.2, 0.9, 0.55, 1.5]])
    projected = project(candidate, x, 0.1, torch.tensor(0.0), torch.tensor(1.0))
    # Below the ball: x - eps (the authors' code would put x + eps); above: x + eps; inside: kept;
    # past the valid range: its bound.
    np.testing.assert_allclose(projected, [[0.4, 0.6, 0.55, 1.0]], atol=1e-7)
    # A row outside the training range keeps itself in its box.
    outside = torch.tensor([[2.0]])
    assert project(torch.tensor([[1.5]]), outside, 0.1, torch.tensor(0.0), torch.tensor(1.0)).item() == pytest.approx(1.9)


def test_the_valid_range_is_one_range_for_an_image_and_each_feature_own_on_a_table():
    low, high = valid_range(np.array([[0.0, -2.0], [1.0, 3.0]]))
    np.testing.assert_array_equal(low, [0.0, -2.0])
    np.testing.assert_array_equal(high, [1.0, 3.0])
    images = np.zeros((2, 1, 2, 2), dtype=np.float32)
    images[0, 0, 0, 0] = 1.0
    low, high = valid_range(images)
    assert low.shape == (1, 2, 2) and (low == 0).all() and (high == 1).all()


def test_top_k_intersection_and_spearman_on_hand_made_maps():
    a = np.array([[4.0, 3.0, 2.0, 1.0]] * 3)
    b = np.array([[4.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 1.0, 2.0]])
    np.testing.assert_allclose(top_k_intersection(a, b, 2), [1.0, 0.0, 1.0])
    # Rank differences of 1 on each of 4 entries: 1 - 6 * 4 / (4 * 15) = 0.6.
    np.testing.assert_allclose(spearman_rows(a, b), [1.0, -1.0, 0.6])
    assert np.isnan(spearman_rows(np.ones((1, 3)), np.arange(3.0)[None]))[0]


def test_the_attack_on_a_quadratic_reaches_the_analytic_optimum():
    # Saliency |x|; top-1 objective -max|x_i|: the attack lowers the largest coordinate to the
    # ball's face, 1.0 - 0.1, and leaves the other.
    x = np.array([[1.0, 0.5]], dtype=np.float32)
    result = manipulation_attack(Quadratic(), saliency_of(Quadratic()), x, np.array([1]),
                                 low=np.array([-5.0, -5.0]), high=np.array([5.0, 5.0]), epsilon=0.1, step=0.02,
                                 iterations=50, top_k=1)
    np.testing.assert_allclose(result.adversarial, [[0.9, 0.5]], atol=1e-6)
    np.testing.assert_allclose(result.objective_start, [-1.0])
    np.testing.assert_allclose(result.objective_best, [-0.9], atol=1e-6)
    np.testing.assert_allclose(result.attacked, [[0.9, 0.5]], atol=1e-6)
    assert result.reverted[0] == 0 and result.surrogate[0] == 0


def test_the_top_k_set_is_selected_again_at_every_step():
    # Top-2 of |x| = (1.0, 0.61, 0.5) in a ball of 0.3: the attack lowers the first two until the
    # second falls below the third, which then enters the top-2 and is lowered in turn; the two
    # leapfrog down to the second's face, 0.31, the first reaching its own, 0.7: the optimum of
    # -(x_1 + max(x_2, x_3)) over the ball, -1.01. An attack on the original's set, coordinates 1
    # and 2 alone, would leave the third at 0.5: its top-2 would be 0.7 and 0.5, -1.2, and the
    # attacked explanation's top-2 would have lost coordinate 2 (intersection 0.5, not 1).
    x = np.array([[1.0, 0.61, 0.5]], dtype=np.float32)
    result = manipulation_attack(Quadratic(), saliency_of(Quadratic()), x, np.array([1]), low=np.full(3, -5.0),
                                 high=np.full(3, 5.0), epsilon=0.3, step=0.02, iterations=100, top_k=2)
    np.testing.assert_allclose(result.adversarial[0, :2], [0.7, 0.31], atol=1e-6)
    assert 0.29 < result.adversarial[0, 2] < 0.31  # within a step below the second, which sits on its face
    np.testing.assert_allclose(result.objective_best, [-1.01], atol=1e-6)
    np.testing.assert_allclose(result.objective_best, -np.sort(result.attacked, axis=1)[:, -2:].sum(axis=1), atol=1e-6)
    np.testing.assert_array_equal(top_k_intersection(result.original, result.attacked, 2), [1.0])


def test_the_attack_keeps_the_best_point_it_visited_not_its_last():
    # Top-1 of |x| on x = (0.025, 0) by steps of 0.02: 0.025, then 0.005 (the best), then -0.015,
    # past the optimum at 0: the last point's |x_1| is 0.015, the best one's 0.005.
    x = np.array([[0.025, 0.0]], dtype=np.float32)
    result = manipulation_attack(Quadratic(), saliency_of(Quadratic()), x, np.array([1]), low=np.full(2, -5.0),
                                 high=np.full(2, 5.0), epsilon=0.1, step=0.02, iterations=2, top_k=1)
    np.testing.assert_allclose(result.adversarial, [[0.005, 0.0]], atol=1e-7)
    np.testing.assert_allclose(result.attacked, [[0.005, 0.0]], atol=1e-7)
    np.testing.assert_allclose(result.objective_best, [-0.005], atol=1e-7)
    np.testing.assert_allclose(result.objective_start, [-0.025], atol=1e-7)


class FlipsAwayFrom(nn.Module):
    """Predicts class 0 at `start` and class 1 anywhere else."""

    def __init__(self, start):
        super().__init__()
        self.start = torch.as_tensor(start)

    def forward(self, x):
        same = ((x - self.start).flatten(1).abs().max(dim=1).values < 1e-9).float()[:, None]
        return torch.cat([same, 1 - same], dim=1)


def test_a_step_that_changes_the_predicted_class_is_reverted():
    x = np.array([[1.0, 0.5]], dtype=np.float32)
    result = manipulation_attack(FlipsAwayFrom(x), saliency_of(Quadratic()), x, np.array([1]),
                                 low=np.array([-5.0, -5.0]), high=np.array([5.0, 5.0]), epsilon=0.1, step=0.02,
                                 iterations=10, top_k=1)
    assert result.reverted[0] == 1.0  # every step changed the class: the point never moved
    np.testing.assert_array_equal(result.adversarial, x)
    np.testing.assert_array_equal(result.attacked, result.original)


def test_a_reverted_step_holds_back_only_its_own_instance():
    x = np.array([[1.0, 0.5], [2.0, 0.5]], dtype=np.float32)

    class FlipsTheFirst(nn.Module):
        """Class 0 for the first row away from its start, class 1 everywhere else."""

        def forward(self, rows):
            moved = (rows[:, 0] - 1.0).abs() > 1e-9
            first = (rows[:, 0] < 1.5) & moved
            z = torch.where(first, -1.0, 1.0)[:, None]
            return torch.cat([torch.zeros_like(z), z], dim=1)

    result = manipulation_attack(FlipsTheFirst(), saliency_of(Quadratic()), x, np.array([1, 1]),
                                 low=np.full(2, -5.0), high=np.full(2, 5.0), epsilon=0.1, step=0.02, iterations=10,
                                 top_k=1)
    np.testing.assert_array_equal(result.reverted, [1.0, 0.0])
    np.testing.assert_allclose(result.adversarial, [[1.0, 0.5], [1.9, 0.5]], atol=1e-6)


def trained_mlp(activation_relu=True, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    model = MLP(hidden_sizes=(16,), training=TrainingLoop(epochs=30), random_state=seed, device="cpu").fit(X, y)
    if not activation_relu:  # the same net made smooth: its saliency has a second derivative
        for module in list(model.networks_[0].modules()):
            for name, child in module.named_children():
                if isinstance(child, nn.ReLU):
                    setattr(module, name, nn.Tanh())
    return model, X


def test_a_relu_net_is_attacked_through_its_softplus_surrogate_and_never_below_its_start():
    model, X = trained_mlp()
    network = model.torch_module().eval()
    surrogate = softplus_surrogate(network, 10.0)
    assert sum(isinstance(m, nn.Softplus) for m in surrogate.modules()) == 1
    assert not any(isinstance(m, nn.Softplus) for m in network.modules())  # the network is untouched
    low, high = valid_range(X)
    attack = dict(low=low, high=high, epsilon=0.3, step=0.05, iterations=30, top_k=2)
    result = manipulation_attack(network, Saliency().differentiable(model, background=X, rng=None), X[:20],
                                 network(torch.as_tensor(X[:20])).argmax(1).numpy(), **attack)
    assert (result.surrogate == 1).all()
    # The objectives are the real explanation's (not the surrogate's) at x and at the point kept.
    np.testing.assert_allclose(result.objective_start, -np.sort(result.original, axis=1)[:, -2:].sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(result.objective_best, -np.sort(result.attacked, axis=1)[:, -2:].sum(axis=1), rtol=1e-6)
    assert (result.objective_best > result.objective_start + 1e-4).any()  # the attack moved some explanation
    assert (np.abs(result.adversarial - X[:20]) <= 0.3 + 1e-6).all()
    again = manipulation_attack(network, Saliency().differentiable(model, background=X, rng=None), X[:20],
                                network(torch.as_tensor(X[:20])).argmax(1).numpy(), **attack)
    np.testing.assert_array_equal(again.adversarial, result.adversarial)  # deterministic
    smooth, _ = trained_mlp(activation_relu=False)
    smooth_net = smooth.torch_module().eval()
    followed = manipulation_attack(smooth_net, Saliency().differentiable(smooth, background=X, rng=None), X[:5],
                                   smooth_net(torch.as_tensor(X[:5])).argmax(1).numpy(), **attack)
    assert (followed.surrogate == 0).all() and softplus_surrogate(smooth_net, 10.0) is None


def test_the_differentiable_forms_equal_the_explainers():
    model, X = trained_mlp(activation_relu=False)
    target = model.predict(X[:8])
    for explainer in (Saliency(), InputXGradient(), IntegratedGradients(n_steps=7)):
        form = explainer.differentiable(model, background=X, rng=np.random.default_rng(0))
        mine = form.explain(form.network, torch.as_tensor(X[:8]), torch.as_tensor(target)).detach().numpy()
        reference = explainer.explain(model, X[:8], target=target, background=X, rng=np.random.default_rng(0)).values
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6)
    for explainer in (SmoothGrad(n_samples=4), GradientShapCaptum(n_samples=4)):  # the same draws at every call
        form = explainer.differentiable(model, background=X, rng=np.random.default_rng(0))
        first, second = (form.explain(form.network, torch.as_tensor(X[:8]), torch.as_tensor(target)).detach()
                         for _ in range(2))
        torch.testing.assert_close(first, second)


def test_smoothgrad_and_gradient_shap_forms_equal_the_explainers_on_a_linear_net():
    # A linear net's gradient is its weights at every point: SmoothGrad is w whatever the noise, and
    # GradientSHAP against one background row b is (x - b) * w whatever the path points.
    model = _Wrapped(LinearImage())
    X = np.random.default_rng(0).uniform(size=(3, 1, 6, 6)).astype(np.float32)
    background = X[:1]
    target = np.ones(3, dtype=int)
    for explainer in (SmoothGrad(n_samples=3), GradientShapCaptum(n_samples=3)):
        form = explainer.differentiable(model, background=background, rng=np.random.default_rng(0))
        mine = form.explain(form.network, torch.as_tensor(X), torch.as_tensor(target)).detach().numpy()
        reference = explainer.explain(model, X, target=target, background=background, rng=np.random.default_rng(0))
        np.testing.assert_allclose(mine.reshape(3, -1), reference.values, rtol=1e-5, atol=1e-6)


def test_hyperlinear_differentiable_impacts_equal_its_explanation_for_every_class():
    from bench.models import HyperLinear

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 4)).astype(np.float32)
    y = np.argmax(X[:, :3], axis=1)
    model = HyperLinear(training=HyperLinear.loop(epochs=4, warmup_epochs=1, batch_size=30), random_state=0,
                        device="cpu").fit(X, y)
    target = np.array([0, 1, 2, 1, 0])
    form = model.differentiable_explanation()
    mine = form.explain(form.network, torch.as_tensor(X[:5]), torch.as_tensor(target)).detach().numpy()
    np.testing.assert_allclose(mine, model.explain(X[:5], target=target).values, rtol=1e-5, atol=1e-6)


def test_the_metric_is_not_applicable_without_a_differentiable_explanation_or_a_network():
    model, X = trained_mlp()
    target = model.predict(X[:4])
    context = make_context(X, X_train=X, task_type="binary")
    random_form = lambda m: RandomExplainer().differentiable(m, background=X, rng=None)  # noqa: E731
    with pytest.raises(NotApplicable, match="not differentiable"):
        manipulation_topk(model, X[:4], explanation(np.zeros((4, 6)), target),
                          context=context.__class__(**{**context.__dict__, "differentiable": random_form}), rng=None)

    class NoNetwork:
        classes_ = np.array([0, 1])

    with pytest.raises(NotApplicable, match="not a torch model"):
        manipulation_topk(NoNetwork(), X[:4], explanation(np.zeros((4, 6)), target), context=context, rng=None)
    with pytest.raises(ValueError, match="top_k must be between 1 and the 6"):
        top_k_of(7, (6,), "manipulation_topk")
    assert top_k_of(None, (6,), "m") == 2 and top_k_of(None, (1, 28, 28), "m") == 50


class LinearImage(nn.Module):
    """Two classes, class 1's logit w . x on 1x6x6 images: its gradient is w everywhere."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(-1, 2, 36).view(1, 1, 6, 6))

    def forward(self, x):
        z = (x * self.w).flatten(1).sum(dim=1, keepdim=True)
        return torch.cat([torch.zeros_like(z), z], dim=1)


def test_a_linear_net_saliency_is_its_smoothgrad_and_scores_one_on_every_smoothness_metric():
    model = _Wrapped(LinearImage())
    X = np.random.default_rng(0).uniform(size=(3, 1, 6, 6)).astype(np.float32)
    target = np.ones(3, dtype=int)
    saliency = Saliency().explain(model, X, target=target, background=X, rng=None)
    context = make_context(X.reshape(3, -1), X_train=X, task_type="binary")
    context = context.__class__(**{**context.__dict__, "background": X})
    for fn in (smoothgrad_topk, smoothgrad_spearman, smoothgrad_ssim):
        np.testing.assert_allclose(fn(model, X, saliency, context=context, rng=None, n_samples=5), 1.0, atol=1e-6)
    with pytest.raises(NotApplicable, match="compares images"):
        smoothgrad_ssim(model, X.reshape(3, -1), saliency, context=context, rng=None)


class Linear2(nn.Module):
    """Class 1's logit w . x, w = (1, -1): FGSM moves x by -eps * (1, -1) for label 1."""

    def forward(self, x):
        z = (x[:, :1] - x[:, 1:2])
        return torch.cat([torch.zeros_like(z), z], dim=1)


def test_fgsm_accuracy_follows_the_gradient_sign_and_the_valid_range():
    model = _Wrapped(Linear2())
    X = np.array([[0.6, 0.1], [0.6, 0.1]], dtype=np.float32)  # z = 0.5, class 1
    y = np.array([1, 1])
    train = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert fgsm_accuracy(y, None, model, X, train, epsilon=0.2) == 1.0  # z = 0.5 - 0.4 > 0
    assert fgsm_accuracy(y, None, model, X, train, epsilon=0.3) == 0.0  # z = 0.5 - 0.6 < 0
    # The range stops the second feature at 1: x = (0.0, 1.0) at eps 2, z = -1.
    assert fgsm_accuracy(y, None, model, X, np.array([[0.0, 0.0], [1.0, 0.3]]), epsilon=2.0) == 0.0
    assert fgsm_accuracy(y, None, model, X, np.array([[0.55, 0.0], [1.0, 0.12]]), epsilon=2.0) == 1.0  # z = 0.43

    class NoNetwork:
        pass

    with pytest.raises(NotApplicable, match="not a torch model"):
        fgsm_accuracy(y, None, NoNetwork(), X, train)
