"""A feed-forward network (ReLU, dropout) for tables: `MLP` classifies, `MLPRegressor` regresses.
Trained with Adam at a constant rate, early stopping on a validation split."""

from __future__ import annotations

from collections import OrderedDict
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval
from torch import nn

from bench.data.task import TASK_TYPES
from bench.models.torch_estimator import LOOP, TorchClassifier, TorchEstimator, TorchRegressor, store_params
from bench.models.training import LRSchedule, Optimizer, SnapshotTiming


class _MLPNetwork(TorchEstimator):
    _parameter_constraints = {
        **TorchEstimator._parameter_constraints,
        "hidden_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, hidden_sizes: tuple[int, ...] = (128, 128), dropout: float = 0.1,
                 optimizer: Optimizer = LOOP.optimizer, lr: float = LOOP.lr, weight_decay: float = LOOP.weight_decay,
                 batch_size: int = LOOP.batch_size, epochs: int = LOOP.epochs, patience: int | None = LOOP.patience,
                 validation_fraction: float = LOOP.validation_fraction, lr_schedule: LRSchedule = LOOP.lr_schedule,
                 warmup_epochs: int = LOOP.warmup_epochs, t_mult: int = LOOP.t_mult, n_restarts: int = LOOP.n_restarts,
                 snapshots: SnapshotTiming = LOOP.snapshots, device: str = LOOP.device,
                 random_state: int = LOOP.random_state):
        store_params(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_sizes("hidden_sizes")

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        """flatten, then fc<i>, relu<i>, dropout<i> per hidden layer, then the output layer fc<n+1>:
        named, so that a model built on this one addresses a layer by name (CNN-INTE)."""
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
        width = int(np.prod(input_shape))
        for i, size in enumerate(self.hidden_sizes, start=1):
            layers += [(f"fc{i}", nn.Linear(width, size)), (f"relu{i}", nn.ReLU()),
                       (f"dropout{i}", nn.Dropout(self.dropout))]
            width = size
        layers.append((f"fc{len(self.hidden_sizes) + 1}", nn.Linear(width, n_outputs)))
        return nn.Sequential(OrderedDict(layers))


class MLPRegressor(TorchRegressor, _MLPNetwork):
    pass


class MLP(TorchClassifier, _MLPNetwork):
    task_types = TASK_TYPES  # regression through MLPRegressor (bench.models.base.for_task)
    regression_twin = MLPRegressor
