"""The perturbation engine: the same outputs as a loop over instances, in few counted calls."""

from __future__ import annotations

import numpy as np

import bench.metrics.perturbation as perturbation
from bench.core.calls import CountingModel
from bench.metrics.perturbation import explained_outputs, outputs_at


class Softmax:
    classes_ = np.array([0, 1, 2])

    def __init__(self, weights):
        self.weights = weights

    def predict_proba(self, X):
        logits = np.asarray(X) @ self.weights
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def test_batched_outputs_equal_the_unbatched_loop_and_calls_are_counted(monkeypatch):
    rng = np.random.default_rng(0)
    model = Softmax(rng.normal(size=(4, 3)))
    X = rng.normal(size=(7, 4))
    target = rng.integers(0, 3, size=7)
    noise = rng.normal(size=(7, 5, 4))

    def build(rows):
        return X[rows, None, :] + noise[rows]

    expected = np.array([[model.predict_proba((X[i] + noise[i, m])[None])[0, target[i]] for m in range(5)]
                         for i in range(7)])
    counted = CountingModel(model)
    np.testing.assert_allclose(explained_outputs(counted, build, n_instances=7, n_perturbations=5, n_features=4,
                                                 target=target), expected, atol=1e-12)
    assert (counted.calls, counted.rows) == (1, 35)
    # A memory bound of 3 instances x 5 perturbations x 4 features per call: 3 calls, same values.
    monkeypatch.setattr(perturbation, "MAX_ELEMENTS_PER_CALL", 60)
    counted = CountingModel(model)
    np.testing.assert_allclose(explained_outputs(counted, build, n_instances=7, n_perturbations=5, n_features=4,
                                                 target=target), expected, atol=1e-12)
    assert (counted.calls, counted.rows) == (3, 35)


def test_outputs_at_the_rows_themselves():
    model = Softmax(np.eye(3))
    X = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    np.testing.assert_allclose(outputs_at(model, X, np.array([0, 2])), model.predict_proba(X)[[0, 1], [0, 2]])
