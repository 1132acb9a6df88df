"""A feed-forward network (ReLU, dropout) for tabular classification and regression."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from torch import nn

from bench.models.torch_estimator import TorchEstimator


class MLP(TorchEstimator):
    def __init__(
        self,
        *,
        hidden_sizes: Sequence[int] = (128, 128),
        dropout: float = 0.1,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int = 10,
        validation_fraction: float = 0.1,
        random_state: int = 0,
    ):
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        layers: list[nn.Module] = [nn.Flatten()]
        width = int(np.prod(input_shape))
        for size in self.hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(self.dropout)]
            width = size
        layers.append(nn.Linear(width, n_outputs))
        return nn.Sequential(*layers)
