"""ATEX's tensor maths (bench/models/atex.py): SmoothGrad of the label's logit, its scaling to a
magnitude, and uniform noise orthogonal to it."""

from __future__ import annotations

import torch
from torch import nn


def class_logits(output: torch.Tensor) -> torch.Tensor:
    """(B, C) logits whose softmax is the class probabilities: a binary net's one logit z
    becomes (0, z)."""
    return torch.cat([torch.zeros_like(output), output], dim=1) if output.shape[1] == 1 else output


def label_logit(output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(B,) the logit of each row's label; for a binary net, the label's log-odds (z or -z)."""
    if output.shape[1] == 1:
        return torch.where(labels.bool(), output[:, 0], -output[:, 0])
    return output.gather(1, labels.long()[:, None])[:, 0]


def smoothgrad(module: nn.Module, X: torch.Tensor, labels: torch.Tensor, *, samples: int, sigma: float,
               low: torch.Tensor, high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The mean input gradient of each label's logit over `samples` noisy copies of X (Gaussian,
    sd `sigma`, clipped to [low, high]); no graph is kept."""
    total = torch.zeros_like(X)
    for _ in range(samples):
        noise = torch.randn(X.shape, generator=generator, device=X.device) * sigma
        noisy = torch.clamp(X + noise, low, high).requires_grad_()
        total += torch.autograd.grad(label_logit(module(noisy), labels).sum(), noisy)[0]
    return total / samples


def scaled_to_max(s: torch.Tensor, magnitude: float) -> torch.Tensor:
    """Each row scaled so that its largest |entry| is `magnitude` (a zero row stays zero)."""
    peak = s.flatten(1).abs().max(dim=1).values.clamp_min(1e-12)
    return s / peak.view(-1, *[1] * (s.dim() - 1)) * magnitude


def orthogonal_noise(s: torch.Tensor, copies: int, magnitude: float, generator: torch.Generator) -> torch.Tensor:
    """(copies x B, ...) uniform noise in [-magnitude, magnitude] with its component along each
    row's s removed (the row's whole input is one vector; the authors' code projects per channel,
    the same on grey images)."""
    direction = s.flatten(1) / s.flatten(1).norm(dim=1, keepdim=True).clamp_min(1e-12)
    direction = direction.repeat(copies, 1)
    noise = (torch.rand(direction.shape, generator=generator, device=s.device) * 2 - 1) * magnitude
    noise = noise - (noise * direction).sum(dim=1, keepdim=True) * direction
    return noise.view(copies * len(s), *s.shape[1:])
