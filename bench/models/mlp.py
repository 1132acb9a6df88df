"""A feed-forward network (ReLU, dropout) for tables: `MLP` classifies, `MLPRegressor` regresses.
Trained with Adam at a constant rate, early stopping on a validation split."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval
from torch import nn

from bench.data.task import TASK_TYPES
from bench.models.torch_estimator import TorchClassifier, TorchEstimator, TorchRegressor, store_params
from bench.models.training import LRSchedule, Optimizer, SnapshotTiming


class _MLPNetwork(TorchEstimator):
    _parameter_constraints = {
        **TorchEstimator._parameter_constraints,
        "hidden_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, hidden_sizes: tuple[int, ...] = (128, 128), dropout: float = 0.1,
                 optimizer: Optimizer = "adam", lr: float = 1e-3, weight_decay: float = 0.0, batch_size: int = 64,
                 epochs: int = 200, patience: int | None = 10, validation_fraction: float = 0.1,
                 lr_schedule: LRSchedule = "constant", warmup_epochs: int = 0, t_mult: int = 2, n_restarts: int = 3,
                 snapshots: SnapshotTiming = "cycle_ends", device: str = "auto", random_state: int = 0):
        store_params(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_sizes("hidden_sizes")

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        layers: list[nn.Module] = [nn.Flatten()]
        width = int(np.prod(input_shape))
        for size in self.hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(self.dropout)]
            width = size
        layers.append(nn.Linear(width, n_outputs))
        return nn.Sequential(*layers)


class MLPRegressor(TorchRegressor, _MLPNetwork):
    pass


class MLP(TorchClassifier, _MLPNetwork):
    task_types = TASK_TYPES  # regression through MLPRegressor (bench.models.base.for_task)
    regression_twin = MLPRegressor
