"""Prediction metrics on inputs whose values are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics import accuracy, balanced_accuracy, info_of, log_loss, r2, rmse, roc_auc


def test_accuracy_and_balanced_accuracy():
    y = np.array([0, 0, 0, 1])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    assert accuracy(y, proba) == 0.75
    assert balanced_accuracy(y, proba) == pytest.approx((2 / 3 + 1) / 2)


def test_binary_auroc_counts_correctly_ordered_pairs():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    # positive scores .35, .8 against negatives .1, .4: 3 of 4 pairs ordered
    assert roc_auc(y, proba) == 0.75


def test_multiclass_auroc_is_one_vs_one_macro():
    y = np.array([0, 1, 2, 0, 1, 2])
    perfect = np.eye(3)[y] * 0.8 + 0.2 / 3
    assert roc_auc(y, perfect) == 1.0
    # Columns of classes 0 and 2 swapped (Hand & Till's pairwise A(j|k)): pair (0, 2) is
    # ranked backwards both ways (0); pairs (0, 1) and (1, 2) are right one way (1) and tied
    # the other (0.5), so 0.75 each; the macro mean over the three pairs is 0.5.
    swapped = perfect[:, [2, 1, 0]]
    assert roc_auc(y, swapped) == pytest.approx(0.5)


def test_log_loss_of_a_certain_and_a_uniform_prediction():
    y = np.array([0, 1])
    assert log_loss(y, np.array([[0.5, 0.5], [0.5, 0.5]])) == pytest.approx(np.log(2))
    three = np.full((2, 3), 1 / 3)
    assert log_loss(np.array([0, 0]), three) == pytest.approx(np.log(3))  # labels from the columns


def test_regression_metrics():
    y = np.array([1.0, 2.0, 3.0])
    assert rmse(y, np.array([1.0, 2.0, 5.0])) == pytest.approx(np.sqrt(4 / 3))
    assert r2(y, y) == 1.0
    assert r2(y, np.full(3, 2.0)) == 0.0


def test_metadata_declares_direction_and_task_types():
    assert info_of(accuracy).higher_is_better and info_of(accuracy).category == "prediction"
    assert not info_of(log_loss).higher_is_better
    assert info_of(rmse).task_types == ("regression",)
    assert "regression" not in info_of(roc_auc).task_types
