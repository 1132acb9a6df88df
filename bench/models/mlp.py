"""A feed-forward network (ReLU, dropout) for tables: `MLP` classifies, `MLPRegressor` regresses.
Trained with Adam at a constant rate, early stopping on a validation split."""

from __future__ import annotations

from collections import OrderedDict
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils._param_validation import Interval

from bench.data.task import TASK_TYPES
from bench.models.base import store_params
from bench.models.torch_estimator import DEVICE, RANDOM_STATE, TorchClassifier, TorchEstimator, TorchRegressor
from bench.models.training import TrainingLoop

if TYPE_CHECKING:
    from torch import nn


class _MLPNetwork(TorchEstimator):
    _parameter_constraints = {
        **TorchEstimator._parameter_constraints,
        "hidden_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, hidden_sizes: tuple[int, ...] = (128, 128), dropout: float = 0.1,
                 training: TrainingLoop | None = None, device: str = DEVICE, random_state: int = RANDOM_STATE):
        store_params(self, locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        self._check_sizes("hidden_sizes")

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        """flatten, then fc<i>, relu<i>, dropout<i> per hidden layer, then the output layer fc<n+1>:
        named, so that a model built on this one addresses a layer by name (CNN-INTE)."""
        # torch here, not with the module: the class imports without it (bench.models.networks)
        from torch import nn

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
