"""scikit-learn's logistic regression, with the capabilities every model declares and its
native explanation: the impacts x_m * w_mc of its (global) linear model."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression as _SklearnLogisticRegression

from bench.core.explanation import Explanation
from bench.models.base import Capabilities, class_indices
from bench.models.linear_explanation import linear_explanation


class LogisticRegression(Capabilities, _SklearnLogisticRegression):
    task_types = ("binary", "multiclass")

    def explain(self, X: np.ndarray, target: np.ndarray | None = None) -> Explanation:
        """Impacts plus bias equal the target class's decision function (log-odds for binary)."""
        X = np.asarray(X, dtype=np.float64)
        linear = np.vstack([self.coef_.T, self.intercept_[None, :]])  # (M+1, C), C=1 when binary
        models = np.broadcast_to(linear, (len(X), *linear.shape))
        return linear_explanation(X, models, class_indices(self, X, target), binary=len(self.classes_) == 2)
