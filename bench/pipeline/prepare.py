"""From a task's fold to model-ready arrays: preprocessing fitted on the training part only,
labels as integer codes over all of the task's classes, and the seeded sample of test points
(and background rows) that every explainer shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data.task import Split, Task
from bench.core.errors import UnusableFold


@dataclass(frozen=True)
class Fold:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray | None  # original labels of codes 0..C-1; None for regression
    feature_names: list[str] | None
    source_columns: list[str] | None = None  # the original column each feature encodes (one-hot groups)


def prepare_fold(task: Task, split: Split, preprocessor) -> Fold:
    """Raises UnusableFold, naming the problem, for a fold no model can learn from: a training
    part with a single class or a constant target, or features preprocessing cannot use."""
    X_train_raw, y_train = task.rows(split.train)
    X_test_raw, y_test = task.rows(split.test)
    classes = None
    if task.is_classification:
        # Codes over the whole task's classes, so a class absent from one fold keeps its column.
        classes = np.unique(task.y.astype(str))
        y_train = np.searchsorted(classes, y_train.astype(str)).astype(np.int64)
        y_test = np.searchsorted(classes, y_test.astype(str)).astype(np.int64)
    else:
        y_train, y_test = y_train.astype(np.float64), y_test.astype(np.float64)
    if len(np.unique(y_train)) < 2:
        what = f"a single class ('{classes[y_train[0]]}')" if classes is not None else "a constant target"
        raise UnusableFold(f"the training part of fold {split.fold} has {what}: there is nothing to learn")
    X_train = preprocessor.fit_transform(X_train_raw, y_train)
    return Fold(
        X_train=np.asarray(X_train, dtype=np.float32), y_train=y_train,
        X_test=np.asarray(preprocessor.transform(X_test_raw), dtype=np.float32), y_test=y_test,
        classes=classes, feature_names=getattr(preprocessor, "feature_names_out_", None),
        source_columns=getattr(preprocessor, "source_columns_", None),
    )


def scores(model, X: np.ndarray, n_classes: int | None, method: str = "predict_proba") -> np.ndarray:
    """(n, C) probabilities with a column for every class of the task (zero for a class the
    model never saw), or (n,) regression predictions. `method`: the model's method that gives
    the probabilities (`interpreter_proba`: an interpreter's, e.g. FLINT's g)."""
    if n_classes is None:
        return np.asarray(model.predict(X), dtype=np.float64)
    proba = np.zeros((len(X), n_classes))
    proba[:, np.asarray(model.classes_, dtype=int)] = getattr(model, method)(X)
    # Models fed float32 return float32 probabilities whose rows can miss 1 by more than
    # sklearn's log loss tolerates.
    return proba / proba.sum(axis=1, keepdims=True)
