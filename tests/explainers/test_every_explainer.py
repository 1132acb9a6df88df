"""Every configured explainer (explainers=all) on a torch MLP, a random forest and a CNN: the
attributions' shape, determinism for a seed, and a clear n/a where a method cannot apply."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from bench.core.errors import NotApplicable
from bench.metrics.cost import measure
from bench.models import CNN, MLP, HyperLinear, RandomForest, TrainingLoop
from tests.conftest import FAST_ALL_EXPLAINERS, compose_config

GRADIENT = {"saliency", "ig", "smoothgrad", "input_x_gradient", "deeplift", "gradient_shap", "gradient_shap_captum",
            "deep_shap", "cd", "gradcam"}
IMAGE_ONLY = {"lime_image", "occlusion", "partition_shap"}


def explainer_configs() -> dict:
    return dict(compose_config(FAST_ALL_EXPLAINERS).explainers)


def tabular(seed=0, n=60, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)


def images(n=60):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(n, 1, 6, 6)).astype(np.float32)
    return X, (X[:, 0, :3].mean(axis=(1, 2)) > X[:, 0, 3:].mean(axis=(1, 2))).astype(int)


CASES = {
    # model, data, and the explainers expected to be n/a with a phrase of their reason
    "mlp": (lambda: MLP(hidden_sizes=(8,), training=TrainingLoop(epochs=2)), tabular,
            {"native": "not interpretable by design", **{e: "images" for e in IMAGE_ONLY | {"gradcam"}}}),
    "rf": (lambda: RandomForest(n_estimators=5), tabular,
           {"native": "not interpretable by design", **{e: "not a torch model" for e in GRADIENT - {"cd"}},
            "cd": "RandomForest", **{e: "images" for e in IMAGE_ONLY}}),
    "hyperlinear": (lambda: HyperLinear(hidden_size=8, n_blocks=1, training=HyperLinear.loop(epochs=2, warmup_epochs=0)),
                    tabular,
                    {"cd": "no rule for Ensemble", "deeplift": "outside DeepLIFT's layer rules",
                     "deep_shap": "outside DeepLIFT's layer rules", **{e: "images" for e in IMAGE_ONLY | {"gradcam"}}}),
    "cnn": (lambda: CNN(channels=(4, 4), training=CNN.loop(epochs=2)), images,
            {"native": "not interpretable by design", "lime": "lime_image", "exact_shap": "max_features",
             "deeplift": "MaxPool rule"}),
}


@pytest.fixture(scope="module")
def configs():
    return explainer_configs()


@pytest.mark.parametrize("case", CASES)
def test_every_explainer_explains_or_says_why_not(case, configs):
    make_model, make_data, expected_na = CASES[case]
    X, y = make_data()
    model = make_model().fit(X, y)
    explained, background, target = X[:3], X[10:30], np.array([0, 1, 1])
    for name, node in configs.items():
        explainer = instantiate(node)
        reason = explainer.not_applicable(model)

        def explain(seed, explainer=explainer):
            return measure(lambda m: explainer.explain(
                m, explained, target=target, background=background, rng=np.random.default_rng(seed)), model)

        numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()
        if reason is None:
            try:
                explanation, cost = explain(0)
            except NotApplicable as e:
                reason = str(e)
        # Explainers seed the libraries' global RNGs for their call only.
        after = np.random.get_state()
        np.testing.assert_array_equal(after[1], numpy_state[1], err_msg=name)
        assert after[2] == numpy_state[2], name
        assert torch.equal(torch.get_rng_state(), torch_state), name
        if name in expected_na:
            assert reason is not None and expected_na[name] in reason, (name, reason)
            continue
        assert reason is None, (name, reason)
        values = explanation.values
        assert values.shape == (3, X[0].size) and np.isfinite(values).all(), name
        np.testing.assert_array_equal(explain(0)[0].values, values, err_msg=name)
        np.testing.assert_array_equal(explanation.target, target)
        if name != "random":
            assert cost.model_evaluations > 0 and cost.model_calls > 0, name
        if "batch_size" in node:  # a speed setting: the attributions stay, the calls multiply
            small = measure(lambda m, e=instantiate(node, batch_size=7): e.explain(
                m, explained, target=target, background=background, rng=np.random.default_rng(0)), model)
            np.testing.assert_allclose(small[0].values, values, rtol=1e-5, atol=1e-6, err_msg=name)
            assert small[1].model_calls > cost.model_calls or cost.model_evaluations <= 7, name
