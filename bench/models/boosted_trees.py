"""CatBoost gradient-boosted trees (Prokhorenkova et al. 2018), the strongest baseline of IMN's
accuracy table; a black box: no native explanation."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from bench.models.base import Capabilities


class CatBoost(Capabilities, ClassifierMixin, BaseEstimator):
    """CatBoost's defaults unless set (`learning_rate=None`: CatBoost picks it from the data
    size); `thread_count=-1` uses every core. Wrapped rather than subclassed: CatBoost's
    estimator keeps its options outside scikit-learn's conventions."""

    task_types = ("binary", "multiclass")
    _parameter_constraints = {
        "iterations": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "depth": [Interval(Integral, 1, 16, closed="both")],
        "thread_count": [Interval(Integral, -1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, *, iterations: int = 1000, learning_rate: float | None = None, depth: int = 6,
                 thread_count: int = -1, random_state: int = 0):
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.thread_count = thread_count
        self.random_state = random_state

    def fit(self, X, y) -> "CatBoost":
        # catboost here, not with the module: the class imports without it (the typed Hydra schemas
        # read its signature; `--help` loads no catboost).
        from catboost import CatBoostClassifier

        self._validate_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"the training labels hold one class ({self.classes_}); a classifier needs two or more")
        self.model_ = CatBoostClassifier(
            iterations=self.iterations, learning_rate=self.learning_rate, depth=self.depth,
            thread_count=self.thread_count, random_seed=self.random_state, verbose=False, allow_writing_files=False,
        ).fit(X, np.searchsorted(self.classes_, y))
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(validate_data(self, X, reset=False, ensure_all_finite="allow-nan"))

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # CatBoost splits on missing values itself
        return tags
