"""Shared by the metric tests: a linear regressor whose every output is known, explanations of
it, and a metric context with only what a test sets."""

from __future__ import annotations

import numpy as np

from bench.core.explanation import Explanation
from bench.metrics.context import MetricContext


class Linear:
    """f(x) = x @ w, a regressor: calls counts its predict calls."""

    classes_ = None

    def __init__(self, w):
        self.w = np.asarray(w, dtype=float)
        self.calls = 0

    def predict(self, X):
        self.calls += 1
        return np.asarray(X).reshape(len(X), -1) @ self.w


def explanation(values, target=None):
    values = np.asarray(values, dtype=float)
    return Explanation(values, "attribution", np.zeros(len(values), dtype=int) if target is None else target)


def make_context(background=None, *, X_train=None, y_train=None, explain=None, fit=None, synthetic=None,
                 task_type: str = "regression") -> MetricContext:
    def missing(*args, **kwargs):
        raise AssertionError("this test's metric context has no such function")

    background = np.zeros((1, 1)) if background is None else np.asarray(background, dtype=float)
    return MetricContext(background=background, task_type=task_type,
                         X_train=background if X_train is None else X_train,
                         y_train=np.zeros(len(background)) if y_train is None else y_train,
                         explain=explain or missing, fit=fit or missing, synthetic=synthetic)
