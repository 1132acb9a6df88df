"""sklearn-style estimator for the networks trained like IMN (METHODS.md §1): subclasses build
the network; training is `train_snapshots`, and predictions average the snapshots' probabilities
(or regression outputs).

Output layout: a binary task has ONE logit (the positive class, BCE-with-logits, as in the
paper); a multi-class task has one logit per class (cross-entropy); a regression, one output (MSE).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn.utils import check_array
from torch import nn

from bench.models.base import Capabilities, check_fitted
from bench.models.snapshot_training import train_snapshots
from bench.models.torch_training import seeded

StepLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
# Inference in chunks of rows: kernel SHAP asks for ~10^5 rows at once, and chunks whose
# activations stay in cache run 2-2.5x faster on a CPU than one huge batch.
CHUNK_ROWS = 4096


def in_chunks(fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray) -> torch.Tensor:
    """fn over row chunks of X (float32), without gradients, concatenated."""
    with torch.no_grad():
        return torch.cat([fn(part) for part in torch.split(torch.as_tensor(X), CHUNK_ROWS)])


def problem_kind(y: np.ndarray) -> str:
    """"binary", "multiclass" or "regression" from the training labels: integer class codes
    for classification, floats for regression."""
    if not np.issubdtype(y.dtype, np.integer):
        return "regression"
    n_classes = len(np.unique(y))
    if n_classes < 2:
        raise ValueError(f"the training labels hold a single class ({np.unique(y)}); a classifier needs two or more")
    return "binary" if n_classes == 2 else "multiclass"


def task_loss(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if kind == "binary":
        bce = nn.BCEWithLogitsLoss()
        return lambda output, target: bce(output[:, 0], target)
    if kind == "multiclass":
        return nn.CrossEntropyLoss()
    mse = nn.MSELoss()
    return lambda output, target: mse(output[:, 0], target)


def probabilities(output: torch.Tensor, kind: str) -> torch.Tensor:
    """(B, C) class probabilities from one network's outputs."""
    if kind == "binary":
        positive = torch.sigmoid(output)
        return torch.cat([1 - positive, positive], dim=1)
    return torch.softmax(output, dim=1)


class SnapshotEnsemble(nn.Module):
    """The snapshots as one network: log of the averaged class probabilities (so its softmax is
    exactly `predict_proba`), or the averaged regression output. What gradient explainers see."""

    def __init__(self, members: list[nn.Module], kind: str):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.kind = kind

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [member(x) for member in self.members]
        if self.kind == "regression":
            return torch.stack(outputs).mean(dim=0)
        mean = torch.stack([probabilities(o, self.kind) for o in outputs]).mean(dim=0)
        return torch.log(mean.clamp_min(torch.finfo(mean.dtype).tiny))


class SnapshotEstimator(Capabilities):
    name = "snapshot network"  # for messages; subclasses override

    def __init__(
        self,
        *,
        hidden_size: int = 128,
        n_blocks: int = 2,
        dropout: float = 0.25,
        dropout_on_skip: bool = False,
        lr: float = 0.01,
        weight_decay: float = 0.01,
        optimizer: str = "adam",
        batch_size: int = 64,
        epochs: int = 500,
        warmup_epochs: int = 5,
        t_mult: int = 2,
        n_restarts: int = 3,
        snapshots: str = "cycle_ends",
        random_state: int = 0,
    ):
        self.hidden_size = hidden_size
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.dropout_on_skip = dropout_on_skip
        self.lr = lr
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.epochs = epochs
        self.warmup_epochs = warmup_epochs
        self.t_mult = t_mult
        self.n_restarts = n_restarts
        self.snapshots = snapshots
        self.random_state = random_state

    def _build(self, n_features: int, n_outputs: int) -> nn.Module:
        raise NotImplementedError

    def _step_loss(self, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> StepLoss:
        """One mini-batch's training loss; subclasses add penalties."""
        return lambda module, X, y: loss(module(X), y)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "SnapshotEstimator":
        X = self._checked(X)
        y = np.asarray(y)
        self.kind_ = problem_kind(y)
        if self.kind_ == "regression":
            self.classes_, targets, n_outputs = None, torch.as_tensor(y, dtype=torch.float32), 1
        else:
            self.classes_, codes = np.unique(y, return_inverse=True)
            n_outputs = 1 if self.kind_ == "binary" else len(self.classes_)
            targets = torch.as_tensor(codes, dtype=torch.float32 if self.kind_ == "binary" else torch.int64)
        with seeded(self.random_state) as generator:
            self.n_features_in_ = X.shape[1]
            module = self._build(X.shape[1], n_outputs)
            self.snapshots_ = train_snapshots(
                module, torch.as_tensor(X), targets, step_loss=self._step_loss(task_loss(self.kind_)), lr=self.lr,
                weight_decay=self.weight_decay, optimizer=self.optimizer, batch_size=self.batch_size, epochs=self.epochs,
                warmup_epochs=self.warmup_epochs, t_mult=self.t_mult, n_restarts=self.n_restarts,
                snapshots=self.snapshots, generator=generator, model_name=self.name,
            )
        return self

    def torch_module(self) -> nn.Module:
        self._check_fitted()
        return SnapshotEnsemble(self.snapshots_, self.kind_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self._check_fitted()
        if self.classes_ is None:
            raise AttributeError("predict_proba is only available after fitting on class labels")
        X = self._checked(X)
        # float64: float32 rows can miss summing to one by more than sklearn tolerates.
        return np.mean([probabilities(in_chunks(m, X).double(), self.kind_).numpy() for m in self.snapshots_], axis=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        self._check_fitted()
        if self.classes_ is not None:
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        X = self._checked(X)
        return np.mean([in_chunks(m, X)[:, 0].double().numpy() for m in self.snapshots_], axis=0)

    def _checked(self, X: np.ndarray) -> np.ndarray:
        # check_array names NaN and inf in the input instead of letting them reach torch.
        return check_array(X, dtype=np.float32, estimator=self.name)

    def _check_fitted(self) -> None:
        check_fitted(self, "snapshots_")
