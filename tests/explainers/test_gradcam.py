"""Grad-CAM against its definition computed by hand: the layer's maps weighted by the spatial
mean of the target's gradient, summed over channels, ReLU, bilinear upsampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench.core.errors import NotApplicable
from bench.explainers import GradCam
from bench.core.calls import CountingModel
from bench.models import CNN, MLP, Flint, TrainingLoop


@pytest.fixture(scope="module")
def cnn_and_images():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 1, 8, 8)).astype(np.float32)
    y = (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(int) + 2 * (X[:, 0, 0, 0] > 0.5)
    return CNN(channels=(3, 4), training=CNN.loop(epochs=2, lr=1e-2)).fit(X, y), X[:5]


def by_hand(model, X, target, layer_name="conv2"):
    network = model.torch_module()  # the logits Grad-CAM explains (a binary model's: each class's log-odds)
    layer = next(module for name, module in network.named_modules()
                 if name == layer_name or name.endswith(f".{layer_name}"))
    saved = {}
    hook = layer.register_forward_hook(lambda module, inputs, output: saved.update(maps=output))
    inputs = torch.as_tensor(X)
    with torch.enable_grad():
        network.eval()
        outputs = network(inputs)
        selected = outputs[torch.arange(len(X)), torch.as_tensor(target)].sum()
        gradients, = torch.autograd.grad(selected, saved["maps"])
    hook.remove()
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    maps = F.relu((weights * saved["maps"]).sum(dim=1, keepdim=True))
    return F.interpolate(maps, size=X.shape[2:], mode="bilinear").detach().numpy().reshape(len(X), -1)


def test_gradcam_is_the_weighted_maps_of_the_last_convolution(cnn_and_images):
    model, X = cnn_and_images
    target = np.array([0, 1, 2, 3, 1])
    explanation = GradCam().explain(model, X, target=target, background=X, rng=np.random.default_rng(0))
    assert explanation.values.shape == (5, 64) and explanation.extras["layer"] == "conv2"
    np.testing.assert_allclose(explanation.values, by_hand(model, X, target), rtol=1e-5, atol=1e-7)
    assert (explanation.values >= 0).all()


def test_a_layer_is_chosen_by_name(cnn_and_images):
    model, X = cnn_and_images
    target = np.zeros(5, int)
    explanation = GradCam(layer="conv1").explain(model, X, target=target, background=X, rng=np.random.default_rng(0))
    np.testing.assert_allclose(explanation.values, by_hand(model, X, target, "conv1"), rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="gradcam layer 'conv9' is not a layer of the model's network; its layers: "
                                         "conv1, relu1, conv2"):
        GradCam(layer="conv9").explain(model, X, target=target, background=X, rng=np.random.default_rng(0))


def test_gradcam_is_not_applicable_to_tables():
    X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    model = MLP(hidden_sizes=(4,), training=TrainingLoop(epochs=1)).fit(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(NotApplicable, match="it explains images"):
        GradCam().explain(model, X[:2], target=np.zeros(2, int), background=X, rng=np.random.default_rng(0))


def test_layers_are_named_as_the_model_names_them_through_any_wrapper(cnn_and_images):
    model, X = cnn_and_images
    counted = CountingModel(model)  # as a run explains: the network sits at `inner.` there
    explanation = GradCam(layer="conv1").explain(counted, X, target=np.zeros(5, int))
    assert explanation.extras["layer"] == "conv1" and counted.calls == 1
    with pytest.raises(ValueError, match="its layers: conv1, relu1, conv2, pool"):
        GradCam(layer="inner.conv1").explain(counted, X)


def test_flints_gradcam_reads_fs_last_convolution_not_its_interpreters():
    # FLINT's network holds Psi's convolution after f's; its predictions never pass through it.
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 1, 8, 8)).astype(np.float32)
    y = (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(int)
    flint = Flint(channels=(3, 4), n_attributes=3, beta_from=1, l1_from=1, entropy_from=1,
                  training=Flint.loop(epochs=1, lr=1e-2), device="cpu").fit(X, y)
    target = np.array([0, 1, 1])
    explanation = GradCam().explain(flint, X[:3], target=target)
    assert explanation.extras["layer"] == "conv2"
    expected = by_hand(flint, X[:3], target, "predictor.conv2")
    np.testing.assert_allclose(explanation.values, expected, rtol=1e-5, atol=1e-7)
    assert expected.any()
