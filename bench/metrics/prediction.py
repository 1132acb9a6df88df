"""Prediction quality on the test part. `y_score` is (n, C) class probabilities for
classification (columns in class-code order) and (n,) predictions for regression."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from bench.metrics.base import metric

CLASSIFICATION = ("binary", "multiclass")


@metric(category="prediction", higher_is_better=True, task_types=CLASSIFICATION)
def accuracy(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return float(skm.accuracy_score(y_true, y_score.argmax(axis=1)))


@metric(category="prediction", higher_is_better=True, task_types=CLASSIFICATION)
def balanced_accuracy(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return float(skm.balanced_accuracy_score(y_true, y_score.argmax(axis=1)))


@metric(category="prediction", higher_is_better=True, task_types=CLASSIFICATION)
def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Binary AUROC; for several classes the one-vs-one macro average (Hand & Till 2001),
    the multi-class AUROC of IMN's protocol."""
    if y_score.shape[1] == 2:
        return float(skm.roc_auc_score(y_true, y_score[:, 1]))
    return float(skm.roc_auc_score(y_true, y_score, multi_class="ovo", average="macro", labels=np.arange(y_score.shape[1])))


@metric(category="prediction", higher_is_better=False, task_types=CLASSIFICATION)
def log_loss(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return float(skm.log_loss(y_true, y_score, labels=np.arange(y_score.shape[1])))


@metric(category="prediction", higher_is_better=False, task_types=("regression",))
def rmse(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_true, dtype=float) - y_score) ** 2)))


@metric(category="prediction", higher_is_better=True, task_types=("regression",))
def r2(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return float(skm.r2_score(y_true, y_score))
