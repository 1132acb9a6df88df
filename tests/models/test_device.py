"""The `device` option: where a torch model trains and predicts, where the explainers and the
metrics that run its network put their inputs, and that a GPU run equals a CPU run up to float
noise (on a machine with CUDA; skipped with the reason elsewhere)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from bench.core.device import describe_device, resolve_device
from bench.core.explanation import Explanation
from bench.metrics import deletion_auc
from bench.metrics.robustness import logits
from bench.models import CNN, MLP, CNNInte, CNNTanh, HyperLinear
from tests.conftest import compose_config
from tests.metrics.conftest import make_context

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine (torch "
                          f"{torch.__version__}): the GPU parity checks run where one is")
# Dropout draws its masks from the device's generator, which differs between a CPU and a GPU:
# without it, the two runs compute the same arithmetic, up to float rounding.
# (the model's options, its loop's)
NO_DROPOUT = (dict(hidden_sizes=(16,), dropout=0.0), dict(epochs=5, lr=1e-2))
IMN_NO_DROPOUT = (dict(hidden_size=16, n_blocks=1, dropout=0.0), dict(epochs=6, warmup_epochs=1))
# Deterministic explainers (stochastic ones draw on the device's generator where captum does).
EXPLAINERS = ["native", "ig", "saliency", "input_x_gradient", "kernel_shap", "cd", "feature_ablation"]


def small(estimator, options: tuple[dict, dict], **run):
    own, loop = options
    return estimator(**own, training=estimator.loop(**loop), **run)


def data(seed: int = 0, n: int = 80, d: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def test_auto_is_the_cpu_without_cuda_and_rows_name_the_processor():
    if not torch.cuda.is_available():
        assert resolve_device("auto") == torch.device("cpu")
    assert describe_device("cpu").startswith("cpu (") and len(describe_device("cpu")) > len("cpu ()")


def test_a_pickled_model_loads_on_the_cpu_and_follows_its_device_option():
    X, y = data()
    model = small(MLP, NO_DROPOUT, device="cpu").fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def explain_all(model, X, y):
    explainers = compose_config([f"explainers=[{','.join(EXPLAINERS)}]", "explainers.kernel_shap.nsamples=64",
                                 "explainers.ig.n_steps=16"]).explainers
    background, target = X[40:60], model.predict_proba(X[:6]).argmax(axis=1)
    out = {}
    for name, node in explainers.items():
        explainer = instantiate(node)
        if explainer.not_applicable(model) is None:
            out[name] = explainer.explain(model, X[:6], target=target, background=background,
                                          rng=np.random.default_rng(0)).values
    return out


@CUDA
@pytest.mark.parametrize("estimator, options", [(MLP, NO_DROPOUT), (HyperLinear, IMN_NO_DROPOUT)],
                         ids=["mlp", "hyperlinear"])
def test_a_fit_and_its_explanations_on_cuda_equal_the_cpu_ones(estimator, options):
    X, y = data()
    cpu = small(estimator, options, device="cpu").fit(X, y)
    gpu = small(estimator, options, device="cuda").fit(X, y)
    assert gpu.device_.type == "cuda" and next(gpu.torch_module().parameters()).is_cuda
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-4)
    on_cpu, on_gpu = explain_all(cpu, X, y), explain_all(gpu, X, y)
    assert set(on_gpu) == set(on_cpu) and {"ig", "saliency", "kernel_shap"} <= set(on_gpu)
    for name in on_cpu:
        np.testing.assert_allclose(on_gpu[name], on_cpu[name], rtol=1e-3, atol=1e-4, err_msg=name)
    # The metrics that run the network: deletion evaluates it, output stability reads its logits.
    explanation = Explanation(on_cpu["saliency"], "attribution", np.zeros(6, int))
    context = make_context(X[40:60], task_type="binary")
    np.testing.assert_allclose(deletion_auc(gpu, X[:6], explanation, context=context, rng=np.random.default_rng(0)),
                               deletion_auc(cpu, X[:6], explanation, context=context, rng=np.random.default_rng(0)),
                               atol=1e-4)
    np.testing.assert_allclose(logits(gpu, X), logits(cpu, X), atol=1e-4)


@CUDA
def test_a_model_trained_on_cuda_pickles_to_the_cpu_and_predicts_there():
    X, y = data()
    gpu = small(MLP, NO_DROPOUT, device="cuda").fit(X, y)
    loaded = pickle.loads(pickle.dumps(gpu)).set_params(device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(X), gpu.predict_proba(X), atol=1e-6)
    assert loaded.device_ == torch.device("cpu")


@CUDA
@pytest.mark.parametrize("estimator, hidden_layer", [(CNN, "relu2"), (CNNTanh, "pool2")], ids=["cnn", "cnn_tanh"])
def test_an_image_model_trains_on_cuda_under_device_auto(estimator, hidden_layer):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 1, 28, 28)).astype(np.float32)
    model = estimator(training=estimator.loop(epochs=1), device="auto").fit(X, np.arange(60) % 3)
    assert model.device_.type == "cuda" and next(model.torch_module().parameters()).is_cuda
    on_gpu, hidden_on_gpu = model.predict_proba(X), model.layer_output(X, hidden_layer)
    model.set_params(device="cpu")
    # The same weights on the CPU; cuDNN's convolutions may run in TF32 (torch's default), hence
    # a looser tolerance than the MLP's.
    np.testing.assert_allclose(model.predict_proba(X), on_gpu, atol=1e-2)
    np.testing.assert_allclose(model.layer_output(X, hidden_layer), hidden_on_gpu, rtol=1e-2, atol=1e-2)


@CUDA
def test_cnn_inte_trained_on_cuda_pickles_to_the_cpu_and_interprets_there_the_same():
    X, y = data()
    gpu = CNNInte(base=small(MLP, NO_DROPOUT), k1=2, k2=2, n_estimators=10, device="cuda").fit(X, y)
    assert gpu.base_.device_.type == "cuda"
    on_gpu, path_on_gpu = gpu.interpreter_proba(X), gpu.explain(X[:5])
    loaded = pickle.loads(pickle.dumps(gpu)).set_params(device="cpu")
    np.testing.assert_allclose(loaded.interpreter_proba(X), on_gpu, atol=1e-6)
    on_cpu = loaded.explain(X[:5])
    assert loaded.base_.device_ == torch.device("cpu") and on_cpu.path.nodes == path_on_gpu.path.nodes
    np.testing.assert_array_equal(on_cpu.extras["decision"], path_on_gpu.extras["decision"])
    np.testing.assert_allclose(on_cpu.values, path_on_gpu.values, rtol=1e-4, atol=1e-5)
