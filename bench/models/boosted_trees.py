"""CatBoost gradient-boosted trees (Prokhorenkova et al. 2018), the strongest baseline of IMN's
accuracy table; a black box: no native explanation."""

from __future__ import annotations

import numpy as np
from catboost import CatBoostClassifier
from sklearn.base import BaseEstimator

from bench.models.base import Capabilities, check_fitted


class CatBoost(Capabilities, BaseEstimator):
    """CatBoost's defaults unless set; `thread_count=-1` uses every core. Wrapped rather than
    subclassed: CatBoost's estimator keeps its options outside sklearn's conventions."""

    task_types = ("binary", "multiclass")

    def __init__(self, *, iterations: int = 1000, learning_rate: float | None = None, depth: int = 6,
                 thread_count: int = -1, random_state: int = 0):
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.depth = depth
        self.thread_count = thread_count
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> "CatBoost":
        self.model_ = CatBoostClassifier(
            iterations=self.iterations, learning_rate=self.learning_rate, depth=self.depth,
            thread_count=self.thread_count, random_seed=self.random_state, verbose=False, allow_writing_files=False,
        ).fit(X, y)
        self.classes_ = np.asarray(self.model_.classes_)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_fitted(self, "model_")
        return self.model_.predict_proba(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
