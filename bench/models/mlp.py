"""A feed-forward network (ReLU, dropout) for tabular classification and regression."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from torch import nn

from bench.models.torch_estimator import TorchEstimator


class MLP(TorchEstimator):
    def __init__(self, *, hidden_sizes: Sequence[int] = (128, 128), **training):
        super().__init__(**training)
        self.hidden_sizes = hidden_sizes

    def _build(self, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
        layers: list[nn.Module] = [nn.Flatten()]
        width = int(np.prod(input_shape))
        for size in self.hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(self.dropout)]
            width = size
        layers.append(nn.Linear(width, n_outputs))
        return nn.Sequential(*layers)
