"""The network shap's torch explainers (bench/explainers/shap_explainers.py) are given: apart
because it is an nn.Module, and torch is loaded only when an explainer computes."""

from __future__ import annotations

import torch
from torch import nn


class TargetColumn(nn.Module):
    """One output column of a network, kept 2-D. shap's torch explainers explain every output
    of the network they are given; explaining each row's target alone keeps their cost (and
    their cost rows) that of the explanation asked for."""

    def __init__(self, network: nn.Module, column: int):
        super().__init__()
        self.network = network
        self.column = column

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.network(inputs)[:, self.column:self.column + 1]
