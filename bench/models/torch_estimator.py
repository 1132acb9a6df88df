"""sklearn-style wrapper around a torch network: subclasses only build the network."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bench.models.base import Capabilities, check_fitted
from bench.models.torch_training import fit_module, seeded


class TorchEstimator(Capabilities):
    """Subclasses take their architecture's options and pass the training ones on here."""

    def __init__(
        self,
        *,
        dropout: float = 0.1,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int = 10,
        validation_fraction: float = 0.1,
        random_state: int = 0,
    ):
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        raise NotImplementedError

    def fit(self, X: np.ndarray, y: np.ndarray) -> "TorchEstimator":
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        classification = np.issubdtype(y.dtype, np.integer)
        if classification:
            self.classes_, targets = np.unique(y, return_inverse=True)
            targets, n_outputs, loss_fn = targets.astype(np.int64), len(self.classes_), nn.CrossEntropyLoss()
        else:
            self.classes_, targets, n_outputs, loss_fn = None, y.astype(np.float32)[:, None], 1, nn.MSELoss()
        with seeded(self.random_state) as generator:
            self.module_ = self._build(X.shape[1:], n_outputs)
            self.history_ = fit_module(
                self.module_, X, targets, loss_fn=loss_fn, lr=self.lr, weight_decay=self.weight_decay,
                batch_size=self.batch_size, max_epochs=self.max_epochs, patience=self.patience,
                validation_fraction=self.validation_fraction, generator=generator, stratify=classification,
            )
        return self

    def torch_module(self) -> nn.Module:
        self._check_fitted()
        return self.module_

    def _forward(self, X: np.ndarray) -> np.ndarray:
        self._check_fitted()
        with torch.no_grad():
            return self.module_(torch.as_tensor(np.asarray(X, dtype=np.float32))).numpy()

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self._check_fitted()
        if self.classes_ is None:
            raise AttributeError("predict_proba is only available after fitting on class labels")
        # float64 softmax: float32 rows can miss summing to one by more than sklearn tolerates.
        return torch.softmax(torch.as_tensor(self._forward(X), dtype=torch.float64), dim=1).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        out = self._forward(X)
        if self.classes_ is None:
            return out[:, 0].astype(np.float64)
        return self.classes_[out.argmax(axis=1)]

    def _check_fitted(self) -> None:
        check_fitted(self, "module_")
