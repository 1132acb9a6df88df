"""Cost measurement: evaluations counted through every path a model can be called by."""

from __future__ import annotations

import numpy as np
import torch

from bench.metrics.cost import PeakMemory, measure
from bench.core.calls import CountingModel
from bench.models import MLP, TrainingLoop


def fitted_mlp():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    return MLP(hidden_sizes=[4], training=TrainingLoop(epochs=2)).fit(X, (X[:, 0] > 0).astype(np.int64)), X


def test_rows_are_counted_through_predict_proba_and_the_torch_module():
    model, X = fitted_mlp()
    counted = CountingModel(model)
    counted.predict_proba(X[:7])
    counted.predict(X[:3])
    counted.torch_module()(torch.as_tensor(X[:5]))
    assert counted.rows == 15
    assert counted.classes_ is model.classes_  # everything else is the model's own


def test_a_model_without_a_torch_module_still_lacks_one():
    class Plain:
        def predict(self, X):
            return X

    assert not hasattr(CountingModel(Plain()), "torch_module")
    assert not hasattr(CountingModel(Plain()), "explain")  # a black box stays one


def test_an_inherent_models_own_explanation_counts_one_evaluation_per_row():
    class Inherent:
        def explain(self, X, target=None):
            return target

    counted = CountingModel(Inherent())
    assert counted.explain(np.zeros((7, 2)), target="t") == "t"
    assert (counted.rows, counted.calls) == (7, 1)


def test_measure_reports_the_explainer_s_evaluations():
    model, X = fitted_mlp()
    result, cost = measure(lambda m: m.predict_proba(X[:10]).shape, model)
    assert result == (10, 2)
    assert cost.model_evaluations == 10 and cost.model_calls == 1
    assert cost.seconds >= 0
    assert cost.per_instance(5)["model_evaluations_per_instance"] == 2
    assert cost.per_instance(5)["model_calls_per_instance"] == 0.2


def test_peak_memory_sees_a_large_allocation():
    with PeakMemory() as memory:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched so that it is resident
        block.sum()
    del block
    assert memory.peak_bytes >= 32 * 2**20
