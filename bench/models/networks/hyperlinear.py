"""hyperlinear's network (bench/models/hyperlinear.py): IMN's residual hypernetwork, which reads
the instance x (M features) and emits the weights of a linear model, (M+1) x C with the bias in
the last row, applied to the same x."""

from __future__ import annotations

import torch
from torch import nn

from bench.models.networks.residual import ResidualTrunk


class HyperLinearNetwork(nn.Module):
    def __init__(self, n_features: int, n_outputs: int, *, width: int, n_blocks: int, dropout: float,
                 dropout_on_skip: bool):
        super().__init__()
        self.n_features, self.n_outputs = n_features, n_outputs
        self.trunk = ResidualTrunk(n_features, width=width, n_blocks=n_blocks, dropout=dropout,
                                   dropout_on_skip=dropout_on_skip)
        self.head = nn.Linear(width, (n_features + 1) * n_outputs)

    def linear_models(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M) -> (B, M+1, C): each instance's weights, the bias in the last row."""
        return self.head(self.trunk(x)).view(-1, self.n_features + 1, self.n_outputs)

    @staticmethod
    def logits(x: torch.Tensor, models: torch.Tensor) -> torch.Tensor:
        """(B, M), (B, M+1, C) -> (B, C) logits. (Not `apply`: that is nn.Module's, which
        libraries such as captum call to walk the submodules.)"""
        return torch.einsum("bm,bmc->bc", x, models[:, :-1]) + models[:, -1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x, self.linear_models(x))

    def impacts(self, x: torch.Tensor, targets: torch.Tensor, *, binary: bool) -> torch.Tensor:
        """(B, M) x_m * w_m,c(x) for each row's target c, in torch (linear_explanation's rule: a
        binary model's one column is the positive class's, negated for class 0)."""
        weights = self.linear_models(x)[:, :-1]
        if binary:
            return x * weights[:, :, 0] * torch.where(targets == 1, 1.0, -1.0).to(x.dtype)[:, None]
        return x * weights.gather(2, targets.long().view(-1, 1, 1).expand(-1, self.n_features, 1))[:, :, 0]
