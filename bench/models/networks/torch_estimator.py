"""The tensor side of bench/models/torch_estimator.py: inference in row chunks, class
probabilities from a network's outputs, and the two wrappers `torch_module()` puts around the
fitted networks (see that module's output convention)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# Inference in chunks of rows: kernel SHAP asks for ~10^5 rows at once, and chunks whose
# activations stay in cache run 2-2.5x faster on a CPU than one huge batch. A chunk holds at
# most CHUNK_ROWS rows and CHUNK_ELEMENTS input numbers: 4,096 table rows of up to 32
# features, 167 MNIST images (whose convolutions' activations are 16-32 times the image; on 2
# cores, 8,000 images take 0.75 s in chunks of 64-167 and 1.8 s in chunks of 4,096).
CHUNK_ROWS = 4096
CHUNK_ELEMENTS = 4096 * 32


def chunks(X: np.ndarray) -> tuple[torch.Tensor, ...]:
    """X (float32) as row chunks of at most CHUNK_ROWS rows and CHUNK_ELEMENTS numbers."""
    rows = max(1, min(CHUNK_ROWS, CHUNK_ELEMENTS // max(1, int(np.prod(X.shape[1:])))))
    return torch.split(torch.as_tensor(X), rows)


def in_chunks(fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray, device: torch.device) -> torch.Tensor:
    """fn over row chunks of X (float32) on `device`, without gradients, concatenated on the CPU."""
    with torch.no_grad():
        return torch.cat([fn(part.to(device)).cpu() for part in chunks(X)])


def probabilities(output: torch.Tensor, binary: bool) -> torch.Tensor:
    """(B, C) class probabilities from one network's outputs."""
    if binary:
        positive = torch.sigmoid(output)
        return torch.cat([1 - positive, positive], dim=1)
    return torch.softmax(output, dim=1)


class BinaryLogits(nn.Module):
    """(B, 1) positive-class logit z -> (B, 2) log-odds of each class, (-z, z). Linear, without
    parameters: gradient and DeepLIFT rules pass through it, and nothing re-initialises it."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.cat([-z, z], dim=1)


class Ensemble(nn.Module):
    """Several networks (IMN's snapshots) as one: the logits of the averaged class probabilities
    (binary: the log-odds pair of the averaged positive probability), or the averaged regression
    output. Its members sit at `members.<i>` (the sanity metrics rely on that)."""

    def __init__(self, members: list[nn.Module], output: str):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = torch.stack([member(x) for member in self.members])  # (K, B, outputs)
        if self.output == "regression":
            return outputs.mean(dim=0)
        if self.output == "binary":
            # log mean sigmoid(z_k) - log mean sigmoid(-z_k): the means' 1/K cancel.
            log_odds = torch.logsumexp(F.logsigmoid(outputs), dim=0) - torch.logsumexp(F.logsigmoid(-outputs), dim=0)
            return torch.cat([-log_odds, log_odds], dim=1)
        return torch.logsumexp(torch.log_softmax(outputs, dim=2), dim=0) - np.log(len(self.members))
