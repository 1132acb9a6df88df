"""The image networks: FLINT's f (`CNN`) and ATEX's net (`CNNTanh`), their named layers and
shapes on MNIST's 28x28 and scikit-learn's 8x8 digits, the paper's training defaults, and a
task they learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from torch import nn

from bench.models import CNN, CNNTanh

CNN_LAYERS = ["conv1", "relu1", "conv2", "pool", "dropout1", "relu2", "flatten", "fc1", "relu3", "dropout2", "fc2"]
CNN_TANH_LAYERS = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "tanh", "fc2"]


def shapes(network: nn.Module, input_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Each named layer's output shape (without the batch axis) for one input of `input_shape`."""
    out, x = {}, torch.zeros(2, *input_shape)
    with torch.no_grad():
        for name, layer in network.eval().named_children():
            x = layer(x)
            out[name] = tuple(x.shape[1:])
    return out


def bars(n: int = 60, size: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A bright row (class 0) or column (class 1) at a random place on a dim noisy background:
    the same pixels' mean in both classes, so only the shape tells them apart."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 0.3, (n, 1, size, size)).astype(np.float32)
    y = np.arange(n) % 2
    where = rng.integers(0, size, n)
    for i in range(n):
        if y[i]:
            X[i, 0, :, where[i]] = 1.0
        else:
            X[i, 0, where[i], :] = 1.0
    return X, y


def test_cnn_is_flints_f_with_the_hidden_layer_i_at_relu2():
    network = CNN()._build((1, 28, 28), 10)
    assert [name for name, _ in network.named_children()] == CNN_LAYERS
    seen = shapes(network, (1, 28, 28))
    assert seen["conv1"] == (16, 28, 28) and seen["conv2"] == (32, 28, 28)
    assert seen["relu2"] == (32, 14, 14)  # FLINT's I
    assert network.fc1.in_features == 6272 and seen["fc1"] == (128,) and seen["fc2"] == (10,)
    assert network.dropout1.p == network.dropout2.p == 0.5


def test_cnn_tanh_is_atex_s_net():
    network = CNNTanh()._build((1, 28, 28), 10)
    assert [name for name, _ in network.named_children()] == CNN_TANH_LAYERS
    seen = shapes(network, (1, 28, 28))
    assert seen["pool1"] == (32, 14, 14) and seen["pool2"] == (32, 7, 7)
    assert network.fc1.in_features == 1568 and seen["tanh"] == (120,) and seen["fc2"] == (10,)
    assert isinstance(network.tanh, nn.Tanh)


@pytest.mark.parametrize("estimator, fc1_inputs", [
    (CNN, {(1, 8, 8): 32 * 4 * 4, (1, 28, 28): 32 * 14 * 14, (3, 5, 7): 32 * 3 * 4}),
    (CNNTanh, {(1, 8, 8): 32 * 2 * 2, (1, 28, 28): 32 * 7 * 7, (3, 5, 7): 32 * 2 * 2}),
], ids=["cnn", "cnn_tanh"])
def test_the_networks_take_any_image_size_and_channels(estimator, fc1_inputs):
    # Odd sides pool up (ceil_mode): 5 -> 3 -> 2, 7 -> 4 -> 2.
    for input_shape, fc1_input in fc1_inputs.items():
        network = estimator()._build(input_shape, 3)
        assert network.conv1.in_channels == input_shape[0] and network.fc1.in_features == fc1_input
        assert network.eval()(torch.rand(4, *input_shape)).shape == (4, 3)


def test_the_defaults_are_the_papers():
    flint = CNN().get_params()
    assert {k: flint[k] for k in ("channels", "dropout", "training__optimizer", "training__lr", "training__batch_size",
                                  "training__epochs", "training__patience")} == \
        {"channels": (16, 32), "dropout": 0.5, "training__optimizer": "adam", "training__lr": 1e-4,
         "training__batch_size": 16, "training__epochs": 12, "training__patience": None}
    atex = CNNTanh().get_params()
    assert {k: atex[k] for k in ("channels", "training__optimizer", "training__lr", "training__batch_size",
                                 "training__epochs", "training__validation_fraction")} == \
        {"channels": (32, 32), "training__optimizer": "adam", "training__lr": 1.5e-3, "training__batch_size": 100,
         "training__epochs": 2, "training__validation_fraction": 1 / 6}
    # the best validation epoch's weights, never an early stop
    assert atex["training__patience"] == atex["training__epochs"]


def test_cnn_tanh_keeps_its_best_validation_epoch_without_stopping_early():
    X, y = bars(n=60)
    model = CNNTanh(device="cpu").fit(X, y)
    assert model.history_["epochs"] == 2 and np.isfinite(model.history_["best_validation_loss"])


@pytest.mark.parametrize("estimator, loop", [
    (CNN, dict(lr=1e-3, epochs=10)),  # the paper's 1e-4 x 12 epochs is for 60,000 images, not 60
    (CNNTanh, dict(lr=1e-2, batch_size=16, epochs=10, patience=None)),
], ids=["cnn", "cnn_tanh"])
def test_the_networks_learn_rows_from_columns(estimator, loop):
    X, y = bars()
    model = estimator(training=estimator.loop(**loop), device="cpu").fit(X, y)
    assert model.predict_proba(X).shape == (60, 2)
    np.testing.assert_array_equal(model.predict(X), y)
    X_new, y_new = bars(seed=1)
    assert (model.predict(X_new) == y_new).mean() >= 0.9


def test_layer_output_is_what_a_forward_hook_on_the_named_layer_sees():
    X, y = bars(n=20)
    model = CNN(training=CNN.loop(epochs=1), device="cpu").fit(X, y)
    network = model.networks_[0]  # torch_module() of a binary model wraps it (BinaryLogits)
    seen = []
    hook = dict(network.named_children())["relu2"].register_forward_hook(
        lambda module, inputs, output: seen.append(output))
    with torch.no_grad():
        logit = network(torch.as_tensor(X))
    hook.remove()
    hidden = model.layer_output(X, "relu2")
    assert hidden.shape == (20, 32, 4, 4) and hidden.dtype == np.float32
    np.testing.assert_array_equal(hidden, seen[0].numpy())
    np.testing.assert_allclose(model.layer_output(X, "fc2"), logit.numpy(), rtol=1e-6)


def test_layer_output_names_the_layers_it_has_and_needs_a_fitted_model():
    X, y = bars(n=20)
    with pytest.raises(NotFittedError, match="not fitted"):
        CNNTanh().layer_output(X, "tanh")
    model = CNNTanh(training=CNNTanh.loop(epochs=1, patience=None), device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="no layer 'relu3'; its layers: conv1, relu1, pool1, conv2"):
        model.layer_output(X, "relu3")


@pytest.mark.parametrize("estimator", [CNN, CNNTanh], ids=["cnn", "cnn_tanh"])
def test_channels_are_two_positive_sizes(estimator):
    with pytest.raises(ValueError, match="channels must be two sizes, conv1's and conv2's"):
        estimator(channels=(16, 32, 64))._validate_params()
    with pytest.raises(ValueError, match="channels must be positive integers"):
        estimator(channels=(16, 0))._validate_params()


@pytest.mark.parametrize("input_shape", [(64,), (8, 8)])
@pytest.mark.parametrize("estimator", [CNN, CNNTanh], ids=["cnn", "cnn_tanh"])
def test_the_networks_refuse_inputs_without_channel_height_width(estimator, input_shape):
    assert estimator.input_kinds == ("image",)
    with pytest.raises(ValueError, match="channels, height, width"):
        estimator()._build(input_shape, 2)
