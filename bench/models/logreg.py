"""scikit-learn's logistic regression, with the capabilities every model declares."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression as _SklearnLogisticRegression

from bench.models.base import Capabilities


class LogisticRegression(Capabilities, _SklearnLogisticRegression):
    task_types = ("binary", "multiclass")
