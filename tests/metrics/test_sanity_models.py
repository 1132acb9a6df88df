"""The parameter-randomisation cascade on the networks of the interpretable models, which hold
more than the predictor a post-hoc explainer reads (FLINT's Psi, h and decoder) or explain
through part of it (FLINT's and CNN-INTE's own explanations): the cascade is what the explanation
reads, output first, and no step of it leaves the explanation as it was."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from bench.core.tensors import module_device
from bench.explainers import Saliency
from bench.metrics.sanity import cascade, layers_read, model_parameter_randomisation
from bench.models import ATEX, CNN, CNNInte, CNNTanh, Flint, FlintPosthoc
from tests.metrics.conftest import make_context

INTERPRETER = {"n_attributes": 4, "gamma_from": 1, "beta_from": 1, "l1_from": 1, "entropy_from": 1}


def images(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 1, 8, 8)).astype(np.float32)
    return X, (X[:, 0, :4].mean(axis=(1, 2)) > X[:, 0, 4:].mean(axis=(1, 2))).astype(int)


@pytest.fixture(scope="module")
def models() -> dict:
    """One epoch each on 40 8x8 images: trained weights, not good ones."""
    X, y = images()
    base = CNN(channels=(4, 8), training=CNN.loop(epochs=1), device="cpu").fit(X, y)
    return {
        "cnn": base,
        "flint": Flint(**INTERPRETER, channels=(4, 8), training=Flint.loop(epochs=1), device="cpu").fit(X, y),
        "flint_posthoc": FlintPosthoc(base=base, **INTERPRETER, training=FlintPosthoc.loop(epochs=1),
                                      device="cpu").fit(X, y),
        "atex": ATEX(base=CNNTanh(channels=(4, 8), training=CNNTanh.loop(epochs=1), device="cpu"),
                     smoothgrad_samples=1, n_copies=1, rounds=1, training=ATEX.loop(epochs=1, batch_size=40),
                     device="cpu").fit(X, y),
        "cnn_inte": CNNInte(base=base, k1=2, k2=2, n_estimators=5, device="cpu").fit(X, y),
    }


def saliency(model, X, target, rng=None):
    return Saliency().explain(model, X, target=target)


def native(model, X, target, rng=None):
    return model.explain(X, target=target)


def the_cascade(model, explain) -> list[list[nn.Module]]:
    X, _ = images(1, seed=1)
    return cascade(model.torch_module(), lambda: explain(model, X, np.zeros(1, dtype=int)))


def layers(module: nn.Module) -> set[int]:
    return {id(m) for m in module.modules() if any(True for _ in m.parameters(recurse=False))}


def explanations_along_the_cascade(model, explain) -> list[np.ndarray]:
    """The explanation of the trained model, then after each cascade step."""
    X, target = images(4, seed=2)[0], np.array([0, 1, 0, 1])
    seen = []

    def recording(m, X, target, rng=None):
        explanation = explain(m, X, target)
        seen.append(explanation.values.copy())
        return explanation

    original = recording(model, X, target)
    model_parameter_randomisation(model, X, original, context=make_context(explain=recording),
                                  rng=np.random.default_rng(0))
    return [seen[0], *seen[2:]]  # seen[1]: the probe


@pytest.mark.parametrize("name, explain", [("flint", saliency), ("flint_posthoc", saliency), ("atex", saliency),
                                           ("cnn_inte", saliency), ("flint", native), ("flint_posthoc", native),
                                           ("cnn_inte", native)])
def test_every_cascade_step_changes_the_explanation(models, name, explain):
    along = explanations_along_the_cascade(models[name], explain)
    assert len(along) == 1 + len(the_cascade(models[name], explain))
    for before, after in itertools.pairwise(along):
        assert not np.allclose(before, after)


@pytest.mark.parametrize("name", ["flint", "flint_posthoc"])
def test_a_post_hoc_explanation_of_flint_randomises_f_alone(models, name):
    network = models[name]._network()
    steps = the_cascade(models[name], saliency)
    assert {id(layer) for step in steps for layer in step} == layers(network.predictor)  # no Psi, h or decoder
    assert steps[0] == [network.predictor.fc2]


@pytest.mark.parametrize("name", ["flint", "flint_posthoc"])
def test_flints_own_explanation_randomises_h_then_psi_then_f_up_to_its_layer(models, name):
    network = models[name]._network()
    steps = [layer for step in the_cascade(models[name], native) for layer in step]
    assert steps[0] is network.head[1]  # h's weights are read, not called: the relevance is Phi_j w_cj
    psi, below = layers(network.psi), layers(network.predictor[:network.split])
    assert {id(layer) for layer in steps[1:1 + len(psi)]} == psi
    assert {id(layer) for layer in steps[1 + len(psi):]} == below  # f above I and the decoder: not read


def test_cnn_intes_path_randomises_f_up_to_its_layer(models):
    model = models["cnn_inte"]
    steps = the_cascade(model, native)
    assert {id(layer) for step in steps for layer in step} == layers(model.base_.up_to_layer(model.layer_))


def test_flint_posthoc_and_its_base_score_the_same_for_a_post_hoc_explainer(models):
    # The same f, bit for bit: the same cascade, the same randomised weights, the same score.
    X, target = images(6, seed=3)[0], np.zeros(6, dtype=int)

    def score(model):
        return model_parameter_randomisation(model, X, saliency(model, X, target),
                                             context=make_context(explain=saliency), rng=np.random.default_rng(0))

    cnn, posthoc = score(models["cnn"]), score(models["flint_posthoc"])
    assert np.all(cnn < 1)
    np.testing.assert_array_equal(posthoc, cnn)


def test_a_layer_asked_where_it_lives_is_not_read_and_one_whose_weights_are_read_is():
    unused, called, head = nn.Linear(3, 3), nn.Linear(3, 2), nn.Linear(2, 2)
    network = nn.ModuleDict({"unused": unused, "called": called, "head": head})

    def compute():
        x = torch.zeros(1, 3, device=module_device(network))  # the first parameter's device: not a read
        network.to(module_device(network)).requires_grad_(True)  # a move to where it is: not a read
        return called(x) @ head.weight.detach().T  # h's weights, read outside a call

    assert layers_read(network, compute) == [("called", called), ("head", head)]
