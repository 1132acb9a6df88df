"""Torch helpers every layer above may use: whether a model has a network, inputs as tensors on
the network's device. torch is imported where a tensor is made: `--help` and config errors
import the modules that use these helpers for their signatures, and torch takes seconds to load."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn


def needs_torch(model, method: str) -> str | None:
    """The n/a reason of a method that needs the model's torch network, or None."""
    if not callable(getattr(model, "torch_module", None)):
        return f"{type(model).__name__} is not a torch model: {method} needs its network"
    return None


def as_tensor(X: np.ndarray, device: torch.device | None = None) -> torch.Tensor:
    """float32 inputs for a network, on its device (`module_device`)."""
    import torch

    return torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)


def module_device(module: nn.Module) -> torch.device:
    """Where a network computes, so that its inputs go there (the model's `device` option)."""
    import torch

    tensor = next(itertools.chain(module.parameters(), module.buffers()), None)
    return torch.device("cpu") if tensor is None else tensor.device
