"""Contextual decomposition (METHODS.md §5): completeness at every layer, exact answers on a
linear net and on a net with one planted interaction, real models, n/a and cost counting."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.core.errors import NotApplicable
from bench.explainers.cd import ContextualDecomposition
from bench.explainers._cd_rules import decompose, layers
from bench.metrics.cost import measure
from bench.models import CNN, MLP, HyperLinear, LogisticRegression, RandomForest, TrainingLoop
from bench.models.networks.residual import ResidualTrunk
from tests.tolerances import assert_float32_sum_close


class Network:
    """A model that is only its torch network: the logits of `n_classes` classes, or a regression
    output (n_classes None)."""

    def __init__(self, module: nn.Module, n_classes: int | None = None):
        self.module = module.eval()
        self.classes_ = None if n_classes is None else np.arange(n_classes)

    def predict(self, X):
        with torch.no_grad():
            return self.module(torch.as_tensor(np.asarray(X, dtype=np.float32)))[:, 0].numpy()

    def torch_module(self) -> nn.Module:
        return self.module


def randomise_batch_norm(net: nn.Module) -> nn.Module:
    """Running statistics and an affine map far from the identity, so that BN's rule matters."""
    generator = torch.Generator().manual_seed(1)
    for layer in net.modules():
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            size = layer.num_features
            layer.running_mean.copy_(torch.randn(size, generator=generator))
            layer.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
            with torch.no_grad():
                layer.weight.copy_(torch.randn(size, generator=generator))
                layer.bias.copy_(torch.randn(size, generator=generator))
    return net.eval()


def random_mlp() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                        nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    return randomise_batch_norm(net), torch.randn(6, 5)


def random_cnn() -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),  # 7x7 -> 4x4
        nn.Sequential(nn.Conv2d(4, 5, 3, padding=1), nn.ReLU()),  # a nested Sequential
        nn.AvgPool2d(2, stride=1), nn.MaxPool2d(3, stride=2, padding=1),  # 4x4 -> 3x3 -> 2x2
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(5, 3),
    )
    return randomise_batch_norm(net), torch.randn(6, 2, 7, 7)


NETS = pytest.mark.parametrize("make", [random_mlp, random_cnn], ids=["mlp", "cnn"])


@NETS
def test_beta_plus_gamma_is_the_activation_at_every_layer(make):
    net, x = make()
    relevant = (torch.rand(x.shape, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    with torch.no_grad():
        parts = decompose(net, x, relevant, return_layers=True)
        activation = x
        np.testing.assert_allclose(parts[0][0] + parts[0][1], x)
        for layer, (beta, gamma) in zip(layers(net), parts[1:], strict=True):
            activation = layer(activation)
            np.testing.assert_allclose(beta + gamma, activation, atol=1e-5, err_msg=type(layer).__name__)
        assert not torch.allclose(parts[-1][0], torch.zeros(1)) and not torch.allclose(parts[-1][1], torch.zeros(1))


@NETS
def test_cd_of_all_features_is_the_output_when_no_unit_sees_only_zeros(make):
    net, x = make()
    with torch.no_grad():
        beta, gamma = decompose(net, x, torch.ones_like(x))
        output = net(x)
    # gamma's input is zero, and in these nets every unit sees some non-zero beta: every bias
    # goes to beta (the next test shows where that fails).
    np.testing.assert_allclose(beta, output, atol=1e-5)
    np.testing.assert_allclose(gamma, 0.0, atol=1e-5)
    target = np.arange(len(x)) % 3
    e = ContextualDecomposition(interactions=False).explain(Network(net, 3), x.numpy(), target=target, background=None,
                                                            rng=None)
    np.testing.assert_allclose(e.extras["cd_full"] + e.extras["bias_share"], output[np.arange(len(x)), target],
                               atol=1e-5)
    np.testing.assert_allclose(e.extras["bias_share"], 0.0, atol=1e-5)


def test_the_bias_share_is_half_the_bias_of_units_a_relu_cut_off():
    # conv-BN-ReLU, then a 1x1 conv with bias c and a linear read-out v without one. With every
    # feature relevant gamma stays zero up to the ReLU; where the ReLU zeroes a pixel, the 1x1
    # conv sees beta = gamma = 0 there and ACD's rule gives each half of c. v carries gamma's
    # halves to the output: bias_share = c / 2 * sum of v over the zeroed pixels.
    c, v = 0.8, np.array([1.0, 2.0, 3.0, 4.0])
    net = nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1), nn.ReLU(), nn.Conv2d(1, 1, 1), nn.Flatten(),
                        nn.Linear(4, 1, bias=False))
    values = [(net[0].weight, 1.0), (net[0].bias, 0.25), (net[1].running_mean, 0.5), (net[1].running_var, 4.0),
              (net[1].weight, 1.5), (net[1].bias, -0.2), (net[3].weight, 2.0), (net[3].bias, c)]
    with torch.no_grad():
        for tensor, value in values:
            tensor.fill_(value)
        net[5].weight.copy_(torch.as_tensor(v[None]))
    net.eval()
    X = np.random.default_rng(0).normal(size=(6, 1, 2, 2)).astype(np.float32)
    e = ContextualDecomposition(interactions=False).explain(Network(net), X, target=np.zeros(6, int),
                                                            background=None, rng=None)
    with torch.no_grad():
        zeroed = (net[:3](torch.as_tensor(X)) == 0).flatten(1).numpy()
        output = net(torch.as_tensor(X))[:, 0].numpy()
    assert zeroed.any(axis=1).sum() >= 3  # most rows lose some pixel: the share is not zero
    np.testing.assert_allclose(e.extras["bias_share"], c / 2 * zeroed @ v, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(e.extras["cd_full"] + e.extras["bias_share"], output, atol=1e-5)


def test_cd_of_a_linear_net_is_w_times_x_plus_its_share_of_the_bias():
    w, b = np.array([2.0, -1.0, 0.5, 3.0]), 0.7
    linear = nn.Linear(4, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(w[None]))
        linear.bias.fill_(b)
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    e = ContextualDecomposition().explain(Network(nn.Sequential(linear)), X, target=np.zeros(5, int),
                                          background=None, rng=None)
    own = X * w
    rest = own.sum(axis=1, keepdims=True) - own
    np.testing.assert_allclose(e.values, own + np.abs(own) / (np.abs(own) + np.abs(rest)) * b, rtol=1e-5)
    # CD of all features is the layer's float32 sum of x_m * w_m and b (b rounded to float32 too).
    assert_float32_sum_close(e.extras["cd_full"], np.column_stack([own, np.full(len(X), b)]))


def planted_interaction_net(a: np.ndarray, c: float, pair: tuple[int, int]) -> nn.Module:
    """f(x) = sum_k a_k x_k + c (|x_j + x_k| - |x_j - x_k|) for (j, k) = pair, as one hidden ReLU
    layer without biases: z = relu(z) - relu(-z) and |z| = relu(z) + relu(-z)."""
    d = len(a)
    j, k = pair
    plus, minus = np.zeros(d), np.zeros(d)
    plus[[j, k]], minus[[j, k]] = (1.0, 1.0), (1.0, -1.0)
    hidden_weights = np.vstack([np.eye(d), -np.eye(d), plus, -plus, minus, -minus])
    output_weights = np.concatenate([a, -a, [c, c, -c, -c]])
    hidden, output = nn.Linear(d, len(hidden_weights), bias=False), nn.Linear(len(hidden_weights), 1, bias=False)
    with torch.no_grad():
        hidden.weight.copy_(torch.as_tensor(hidden_weights))
        output.weight.copy_(torch.as_tensor(output_weights[None]))
    return nn.Sequential(hidden, nn.ReLU(), output)


def test_the_planted_interaction_is_the_only_one():
    a, c = np.array([1.0, -2.0, 0.5, 1.5, -1.0]), 2.0
    net = planted_interaction_net(a, c, (1, 2))
    X = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    e = ContextualDecomposition().explain(Network(net), X, target=np.zeros(8, int), background=None, rng=None)
    np.testing.assert_allclose(e.values, X * a, atol=1e-5)  # a single feature never reaches the |.| terms
    strength = np.abs(e.interactions).mean(axis=0)
    assert np.unravel_index(strength.argmax(), strength.shape) in {(1, 2), (2, 1)}
    expected = np.zeros((8, 5, 5))
    expected[:, 1, 2] = expected[:, 2, 1] = c * (np.abs(X[:, 1] + X[:, 2]) - np.abs(X[:, 1] - X[:, 2]))
    np.testing.assert_allclose(e.interactions, expected, atol=1e-5)


# --- real models ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlp_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    return MLP(hidden_sizes=(8,), training=TrainingLoop(epochs=2)).fit(X, np.arange(40) % 3), X[:6], np.arange(6) % 3


@pytest.fixture(scope="module")
def cnn_problem():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(20, 1, 5, 5)).astype(np.float32)
    return CNN(channels=(2, 3), training=CNN.loop(epochs=1)).fit(X, np.arange(20) % 2), X[:3], np.array([0, 1, 1])


@pytest.mark.parametrize("problem", ["mlp_problem", "cnn_problem"])
def test_real_models_are_decomposed_completely_and_deterministically(problem, request):
    model, X, target = request.getfixturevalue(problem)
    n, d = len(X), int(np.prod(X.shape[1:]))

    def explain():
        return ContextualDecomposition(batch_size=50).explain(model, X, target=target, background=None, rng=None)

    e = explain()
    assert e.kind == "attribution" and e.values.shape == (n, d) and e.values.dtype == np.float64
    assert e.interactions.shape == (n, d, d) and e.input_shape == X.shape[1:]
    np.testing.assert_array_equal(e.interactions, e.interactions.transpose(0, 2, 1))
    np.testing.assert_array_equal(e.interactions[:, np.arange(d), np.arange(d)], 0.0)
    with torch.no_grad():
        logits = model.torch_module().eval()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(e.extras["cd_full"] + e.extras["bias_share"], logits[np.arange(n), target], atol=1e-5)
    again = explain()
    np.testing.assert_array_equal(e.values, again.values)
    np.testing.assert_array_equal(e.interactions, again.interactions)


def test_interactions_are_skipped_above_max_interaction_features(mlp_problem):
    model, X, target = mlp_problem
    e = ContextualDecomposition(max_interaction_features=4).explain(model, X, target=target, background=None, rng=None)
    assert e.interactions is None and "max_interaction_features=4" in e.extras["interactions_skipped"]
    full = ContextualDecomposition().explain(model, X, target=target, background=None, rng=None)
    np.testing.assert_allclose(e.values, full.values, atol=1e-6)
    with pytest.raises(ValueError, match="max_interaction_features"):
        ContextualDecomposition(max_interaction_features=0)


def test_counted_models_are_explained_identically_and_their_rows_counted(mlp_problem):
    model, X, target = mlp_problem
    explainer = ContextualDecomposition(batch_size=7)
    e, cost = measure(lambda counted: explainer.explain(counted, X, target=target, background=None, rng=None), model)
    direct = explainer.explain(model, X, target=target, background=None, rng=None)
    np.testing.assert_array_equal(e.values, direct.values)
    np.testing.assert_array_equal(e.interactions, direct.interactions)
    d = X.shape[1]
    assert cost.model_evaluations == len(X) * (d + 1 + d * (d - 1) // 2)  # singletons, all features, pairs


# --- not applicable ------------------------------------------------------------------------

def test_models_without_a_network_are_not_applicable():
    for model in (RandomForest(), LogisticRegression()):
        assert "not a torch model" in ContextualDecomposition().not_applicable(model)


@pytest.mark.parametrize("module, name", [
    (nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), "Tanh"),
    (nn.Sequential(ResidualTrunk(3, width=4, n_blocks=1, dropout=0.0), nn.Linear(4, 1)), "ResidualTrunk"),
    (nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False)), "running statistics"),
], ids=["tanh", "residual", "batch-norm-without-statistics"])
def test_networks_with_a_layer_without_a_rule_are_not_applicable(module, name):
    reason = ContextualDecomposition().not_applicable(Network(module))
    assert name in reason
    with pytest.raises(NotApplicable, match=name):
        ContextualDecomposition().explain(Network(module), np.zeros((2, 3), np.float32), target=np.zeros(2, int),
                                          background=None, rng=None)


@pytest.mark.parametrize("n_restarts, layer", [(1, "HyperLinearNetwork"), (2, "Ensemble")])
def test_hyperlinear_and_its_snapshot_ensemble_are_not_applicable(n_restarts, layer):
    rng = np.random.default_rng(0)
    training = HyperLinear.loop(epochs=2, warmup_epochs=0, n_restarts=n_restarts, batch_size=16)
    model = HyperLinear(hidden_size=4, n_blocks=1, training=training).fit(rng.normal(size=(32, 3)).astype(np.float32),
                                                                         np.arange(32) % 2)
    reason = ContextualDecomposition().not_applicable(model)
    assert f"no rule for {layer}" in reason and "Sequential" in reason
