"""The residual trunk shared by hyperlinear (IMN) and TabResNet (METHODS.md §1; Kadra et al.)."""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """Linear -> BN -> GELU -> Dropout -> Linear -> BN, add the skip, GELU.

    The second BatchNorm's scale starts at zero, so every block starts as the identity.
    `dropout_on_skip` reproduces the authors' code, which also drops units of the skip path
    (the paper does not).
    """

    def __init__(self, width: int, *, dropout: float, dropout_on_skip: bool = False):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(width, width), nn.BatchNorm1d(width),
        )
        nn.init.zeros_(self.body[-1].weight)
        self.skip = nn.Dropout(dropout) if dropout_on_skip else nn.Identity()
        self.activation = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.body(x) + self.skip(x))


class ResidualTrunk(nn.Module):
    """(B, M) -> (B, width): Linear(M, width) -> BN -> GELU -> Dropout -> n_blocks residual blocks."""

    def __init__(self, n_features: int, *, width: int, n_blocks: int, dropout: float, dropout_on_skip: bool = False):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, width), nn.BatchNorm1d(width), nn.GELU(), nn.Dropout(dropout),
            *(ResidualBlock(width, dropout=dropout, dropout_on_skip=dropout_on_skip) for _ in range(n_blocks)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
