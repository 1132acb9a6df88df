"""A data source resolves a suite into task references and loads one task at a time, so that a
task that cannot be loaded is recorded and skipped without touching the others."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping

from bench.data.preprocess import TabularPreprocessor
from bench.data.splits import select_folds
from bench.data.task import Task


@dataclass(frozen=True)
class TaskRef:
    suite: str
    name: str
    task_id: int | None = None
    dataset_id: int | None = None

    @property
    def label(self) -> str:
        if self.task_id is not None:
            return f"task {self.task_id}"
        if self.dataset_id is not None:
            return f"dataset {self.dataset_id}"
        return self.name


class IdentityPreprocessor:
    """For data that arrives model-ready (images scaled to [0, 1], synthetic Gaussians)."""

    def fit(self, X: Any, y: Any = None) -> "IdentityPreprocessor":
        self.feature_names_out_ = None
        return self

    def transform(self, X: Any) -> Any:
        return X

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        return self.fit(X, y).transform(X)


class Source(ABC):
    def __init__(self, *, suite: str, folds: Any, preprocess: Mapping[str, Any] | None, seed: int = 0):
        """`preprocess`: options of TabularPreprocessor (None: its defaults), checked now by building
        one: a task without tabular preprocessing must not hide a misspelt option."""
        self.suite = suite
        self.folds = folds
        self.preprocess = dict(preprocess or {})
        TabularPreprocessor(**self.preprocess)
        self.seed = seed

    @abstractmethod
    def refs(self) -> list[TaskRef]:
        """The tasks of the suite, cheap to list (nothing is loaded)."""

    @abstractmethod
    def load(self, ref: TaskRef) -> Task:
        """Load one task; raises bench.core.errors.DataUnavailable when it cannot."""

    def split_identity(self, ref: TaskRef) -> dict:
        """What decides the task's splits beyond the data config (e.g. how a cached OpenML task's
        split was made), cheap to read without loading the task; part of every unit's key."""
        return {}

    def folds_of(self, task: Task) -> list[int]:
        return select_folds([s.fold for s in task.splits], self.folds)

    def preprocessor(self, task: Task):
        if task.input_kind == "image" or not task.metadata.get("preprocess", True):
            return IdentityPreprocessor()
        return TabularPreprocessor(**self.preprocess)
