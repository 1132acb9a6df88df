"""FLINT's networks and losses (bench/models/flint.py, whose docstring gives the terms): the
network of f, Psi, h and d, the image decoder d, the loss terms, and the objective of the
attributes' activation maximisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.cnn import pooled
from bench.models.networks.torch_estimator import probabilities
from bench.models.torch_estimator import layer_names


def entropy(p: torch.Tensor) -> torch.Tensor:
    """H(p) over the last axis, in nats (0 log 0 = 0)."""
    return -(p * torch.log(p.clamp_min(1e-12))).sum(dim=-1)


def output_fidelity_loss(f_logits: torch.Tensor, g_logits: torch.Tensor, binary: bool) -> torch.Tensor:
    """Cross-entropy of g's softmax against f's detached softmax, averaged over the batch: the
    authors' `loss_cce(expl, output.detach())` (flint.py), f's distribution the target and g's
    log-probabilities the prediction; no gradient reaches f through it."""
    target = probabilities(f_logits.detach(), binary)
    return -(target * F.log_softmax(g_logits, dim=1)).sum(dim=1).mean()


def input_fidelity_loss(reconstruction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(reconstruction, x)


def conciseness_diversity_loss(phi: torch.Tensor, delta_ent: float, delta_l1: float) -> torch.Tensor:
    """delta_ent * [mean_x H(softmax|Phi(x)|) - H(softmax(mean_batch |Phi|))] + delta_l1 * mean|Phi|:
    low when each x activates few attributes and the batch as a whole many of them."""
    magnitude = phi.abs()
    spread = entropy(torch.softmax(magnitude, dim=1)).mean() - entropy(torch.softmax(magnitude.mean(dim=0), dim=0))
    return delta_ent * spread + delta_l1 * magnitude.mean()


class FlintNetwork(nn.Module):
    """f (a named Sequential) with Psi reading its layer `layer`, h and d. Its forward is f's
    logits: what predict_proba and the gradient explainers read."""

    def __init__(self, predictor: nn.Sequential, layer: str, psi: nn.Module, head: nn.Module, decoder: nn.Module,
                 *, frozen_predictor: bool = False):
        super().__init__()
        self.predictor, self.psi, self.head, self.decoder = predictor, psi, head, decoder
        self.split = layer_names(predictor).index(layer) + 1
        self.frozen_predictor = frozen_predictor

    def train(self, mode: bool = True) -> "FlintNetwork":
        """A frozen f (FLINT post-hoc) stays in eval mode, its dropout off, while the rest trains."""
        super().train(mode)
        if self.frozen_predictor:
            self.predictor.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predictor(x)

    def logits_and_attributes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.predictor[:self.split](x)
        return self.predictor[self.split:](hidden), self.psi(hidden)

    def attributes(self, x: torch.Tensor) -> torch.Tensor:
        return self.psi(self.predictor[:self.split](x))

    def interpreter(self, x: torch.Tensor) -> torch.Tensor:
        """g's logits."""
        return self.head(self.attributes(x))


class ImageDecoder(nn.Module):
    """Linear(J, 2 x h x w) with h, w = H/4, W/4 rounded up, two transposed 3x3 convolutions of
    stride 2 (2 -> 8 -> C), each followed by a ReLU, cropped to H x W (the authors' decode_MNIST
    for 28 x 28)."""

    def __init__(self, n_attributes: int, image_shape: tuple[int, int, int]):
        super().__init__()
        self.channels, self.height, self.width = image_shape
        self.small = (pooled(self.height, 2), pooled(self.width, 2))
        self.linear = nn.Linear(n_attributes, 2 * self.small[0] * self.small[1])
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2, 8, kernel_size=3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, self.channels, kernel_size=3, stride=2, padding=1, output_padding=1), nn.ReLU())

    def forward(self, phi: torch.Tensor) -> torch.Tensor:
        images = self.up(self.linear(phi).view(-1, 2, *self.small))
        return images[:, :, :self.height, :self.width]


def am_objective(network: FlintNetwork, x: torch.Tensor, j: int) -> torch.Tensor:
    """2 Phi_j(x) - 10 D(x) - 6 TV(x) of one image x (1, C, H, W); see Flint.activation_maximisation."""
    outside = (x - x.clamp(0, 1)).abs().sum()
    variation = (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    return 2 * network.attributes(x)[0, j] - 10 * outside - 6 * variation
