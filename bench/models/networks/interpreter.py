"""g's route from the input as a network of its own (FLINT: f up to its layer I, Psi, then h),
so that gradient explainers and the parameter-randomisation cascade explain g, not f."""

from __future__ import annotations

import torch
from torch import nn


class InterpreterNetwork(nn.Module):
    """The logits of the interpreter of `network` (a module with an `interpreter(x)` method, as
    FlintNetwork has). It holds the network itself, not a copy: its layers are the model's."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network.interpreter(x)
