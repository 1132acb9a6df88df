"""From a task's fold to model-ready arrays: folds no model can learn from are refused with the
reason, and labels are coded over all of the task's classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.data.preprocess import TabularPreprocessor
from bench.data.task import Split, Task
from bench.pipeline.prepare import prepare_fold


def task(y: np.ndarray, *, task_type: str) -> Task:
    X = pd.DataFrame({"x": np.arange(len(y), dtype=float)})
    split = Split(fold=0, train=np.arange(len(y) - 2), test=np.arange(len(y) - 2, len(y)), kind="local", seed=0)
    return Task("unit", "toy", task_type, "tabular", X, y, (split,))


def test_a_training_part_with_a_single_class_is_refused_naming_the_class():
    t = task(np.array(["a"] * 8 + ["b", "a"]), task_type="binary")
    with pytest.raises(ValueError, match=r"training part of fold 0 has a single class \('a'\)"):
        prepare_fold(t, t.splits[0], TabularPreprocessor())


def test_a_constant_regression_target_is_refused():
    t = task(np.array([1.5] * 8 + [2.0, 3.0]), task_type="regression")
    with pytest.raises(ValueError, match="constant target"):
        prepare_fold(t, t.splits[0], TabularPreprocessor())


def test_labels_are_codes_over_every_class_of_the_task():
    t = task(np.array(["b", "c"] * 4 + ["a", "b"]), task_type="multiclass")
    fold = prepare_fold(t, t.splits[0], TabularPreprocessor())
    assert list(fold.classes) == ["a", "b", "c"]
    np.testing.assert_array_equal(fold.y_train, [1, 2] * 4)
    np.testing.assert_array_equal(fold.y_test, [0, 1])

