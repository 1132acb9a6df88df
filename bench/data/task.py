"""A Task is one dataset with its splits and metadata, whatever its source (OpenML, embedded,
synthetic, images). Models and explainers only ever see the arrays a Split yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

TASK_TYPES = ("binary", "multiclass", "regression")
INPUT_KINDS = ("tabular", "image")


@dataclass(frozen=True)
class Split:
    fold: int
    train: np.ndarray  # row indices
    test: np.ndarray
    kind: str  # "openml" (the task's official split), "local" (seeded here) or "generated"
    seed: int | None = None  # the seed that made a local or generated split


@dataclass(frozen=True)
class Task:
    """`X` is a DataFrame for tabular data and an (n, channels, height, width) array for images;
    `y` holds class labels (any dtype) or regression targets."""

    suite: str
    name: str
    task_type: str
    input_kind: str
    X: Any
    y: np.ndarray
    splits: tuple[Split, ...]
    task_id: int | None = None
    dataset_id: int | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"task_type must be one of {TASK_TYPES}, got {self.task_type!r}")
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {self.input_kind!r}")
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")

    @property
    def is_classification(self) -> bool:
        return self.task_type != "regression"

    def split(self, fold: int) -> Split:
        for s in self.splits:
            if s.fold == fold:
                return s
        raise ValueError(
            f"task {self.name!r} has folds {[s.fold for s in self.splits]}, not fold {fold}; "
            "set data.folds to a subset of them"
        )

    def rows(self, index: np.ndarray) -> tuple[Any, np.ndarray]:
        X = self.X.iloc[index] if isinstance(self.X, pd.DataFrame) else self.X[index]
        return X, self.y[index]


def infer_task_type(y: np.ndarray | pd.Series, *, is_nominal: bool) -> str:
    if not is_nominal:
        return "regression"
    n_classes = pd.Series(y).dropna().nunique()
    return "binary" if n_classes == 2 else "multiclass"
