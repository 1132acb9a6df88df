"""Contextual decomposition's rules (METHODS.md §5; Murdoch et al. 2018, Singh et al. 2019 (ACD),
Singh, Ha, Yu arXiv 2108.06847), which the explainer (bench/explainers/cd.py) runs over a network.

CD carries every activation as two parts, beta (what the feature set S contributes) and gamma
(everything else), with beta + gamma equal to the network's own activation at every layer. The
input splits as beta = x * m_S, gamma = x * (1 - m_S); each layer then has a rule:

- Linear / Conv2d: r = W beta, q = W gamma, and the bias goes to both in proportion to |r| and
  |q| (ACD's reference rule, 1e-20 added to each so that r = q = 0 splits it evenly);
- BatchNorm (eval): an affine map: its scale applies to both parts, its shift splits like a bias;
- ReLU: beta' = relu(beta), gamma' = relu(beta + gamma) - relu(beta);
- MaxPool2d: both parts are taken where the whole activation has its maximum;
- AvgPool2d, AdaptiveAvgPool2d (our extension; linear without a bias), Dropout (eval), Flatten,
  Unflatten, Identity, and a binary model's BinaryLogits (bench/models/networks/torch_estimator.py):
  applied to both parts.

CD(S) is beta at the output; the interaction of S1 and S2 is CD(S1 ∪ S2) - CD(S1) - CD(S2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.models.networks.torch_estimator import BinaryLogits

Parts = tuple[Tensor, Tensor]


def _split_bias(r: Tensor, q: Tensor, bias: Tensor) -> Parts:
    """Adds `bias` to r and q in proportion to |r| and |q|, elementwise (ACD's rule)."""
    prop_rel, prop_irrel = r.abs() + 1e-20, q.abs() + 1e-20
    total = prop_rel + prop_irrel
    return r + prop_rel / total * bias, q + prop_irrel / total * bias


def _linear(layer: nn.Linear, beta: Tensor, gamma: Tensor) -> Parts:
    r, q = F.linear(beta, layer.weight), F.linear(gamma, layer.weight)
    return (r, q) if layer.bias is None else _split_bias(r, q, layer.bias)


def _conv2d(layer: nn.Conv2d, beta: Tensor, gamma: Tensor) -> Parts:
    # The layer's own convolution without its bias (it handles padding modes other than zeros).
    r, q = layer._conv_forward(beta, layer.weight, None), layer._conv_forward(gamma, layer.weight, None)
    return (r, q) if layer.bias is None else _split_bias(r, q, layer.bias.view(1, -1, 1, 1))


def _batch_norm(layer: nn.BatchNorm1d | nn.BatchNorm2d, beta: Tensor, gamma: Tensor) -> Parts:
    # In eval mode y = scale * x + shift, with the running statistics.
    scale = torch.rsqrt(layer.running_var + layer.eps)
    shift = -layer.running_mean * scale
    if layer.affine:
        scale, shift = scale * layer.weight, shift * layer.weight + layer.bias
    shape = (1, -1) + (1,) * (beta.dim() - 2)  # channels on axis 1: (B, C), (B, C, L) or (B, C, H, W)
    return _split_bias(beta * scale.view(shape), gamma * scale.view(shape), shift.view(shape))


def _relu(layer: nn.ReLU, beta: Tensor, gamma: Tensor) -> Parts:
    relevant = F.relu(beta)
    return relevant, F.relu(beta + gamma) - relevant


def _max_pool2d(layer: nn.MaxPool2d, beta: Tensor, gamma: Tensor) -> Parts:
    _, indices = F.max_pool2d(beta + gamma, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                              ceil_mode=layer.ceil_mode, return_indices=True)
    # The indices count positions in each (H, W) plane of the unpadded input.
    flat = indices.flatten(2)
    return (beta.flatten(2).gather(2, flat).view_as(indices), gamma.flatten(2).gather(2, flat).view_as(indices))


def _both(layer: nn.Module, beta: Tensor, gamma: Tensor) -> Parts:
    return layer(beta), layer(gamma)


def _identity(layer: nn.Module, beta: Tensor, gamma: Tensor) -> Parts:
    return beta, gamma  # dropout in eval mode, whatever mode the module is in


# Dispatch on the exact type: a subclass may change forward, and a wrong rule would go unnoticed.
RULES: dict[type, Callable[[nn.Module, Tensor, Tensor], Parts]] = {
    nn.Linear: _linear, nn.Conv2d: _conv2d, nn.BatchNorm1d: _batch_norm, nn.BatchNorm2d: _batch_norm,
    nn.ReLU: _relu, nn.MaxPool2d: _max_pool2d, nn.AvgPool2d: _both, nn.AdaptiveAvgPool2d: _both,
    nn.Flatten: _both, nn.Unflatten: _both, nn.Identity: _identity, nn.Dropout: _identity,
    BinaryLogits: _both,  # a binary model's (-z, z): linear, without a bias
}


def layers(module: nn.Module) -> Iterator[nn.Module]:
    """The leaves of nested nn.Sequential containers in order; any other module is one layer."""
    if type(module) is nn.Sequential:
        for child in module:
            yield from layers(child)
    else:
        yield module


def unsupported(module: nn.Module) -> str | None:
    """Why CD cannot decompose `module`, or None when every layer has a rule."""
    for layer in layers(module):
        if type(layer) not in RULES:
            return (f"contextual decomposition has no rule for {type(layer).__name__}: it takes an nn.Sequential of "
                    f"{', '.join(sorted(t.__name__ for t in RULES))}")
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)) and layer.running_var is None:
            return (f"contextual decomposition needs {type(layer).__name__}'s running statistics (its eval-mode "
                    f"affine map); this one has track_running_stats=False")
    return None


def decompose(module: nn.Module, x: Tensor, relevant: Tensor, *, return_layers: bool = False):
    """(beta, gamma) at the output of `module` (eval-mode semantics) for inputs `x` (B, ...) and
    a mask `relevant` of x's shape (or broadcastable to it), 1 on the feature set S. With
    `return_layers`, the list of (beta, gamma) of the input and after every layer instead.

    Each row of the batch may carry its own feature set: stack instances x sets on axis 0."""
    reason = unsupported(module)
    if reason:
        raise ValueError(reason)
    beta, gamma = x * relevant, x * (1 - relevant)
    parts = [(beta, gamma)]
    for layer in layers(module):
        beta, gamma = RULES[type(layer)](layer, beta, gamma)
        if return_layers:
            parts.append((beta, gamma))
    return parts if return_layers else (beta, gamma)


def feature_sets(d: int, pairs: bool) -> Tensor:
    """(s, d) masks: the d singletons, then all features, then (with `pairs`) every {j, k}, j < k,
    in torch.triu_indices order."""
    masks = [torch.eye(d), torch.ones(1, d)]
    if pairs:
        j, k = torch.triu_indices(d, d, 1)
        pair = torch.zeros(len(j), d)
        pair[torch.arange(len(j)), j] = 1.0
        pair[torch.arange(len(j)), k] = 1.0
        masks.append(pair)
    return torch.cat(masks)
