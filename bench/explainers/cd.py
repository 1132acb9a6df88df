"""Contextual decomposition (CD) with pairwise interactions (METHODS.md §5; Murdoch et al. 2018,
Singh et al. 2019 (ACD), Singh, Ha, Yu arXiv 2108.06847).

CD carries every activation as two parts, beta (what the feature set S contributes) and gamma
(everything else), with beta + gamma equal to the network's own activation at every layer. The
input splits as beta = x * m_S, gamma = x * (1 - m_S); each layer then has a rule:

- Linear / Conv2d: r = W beta, q = W gamma, and the bias goes to both in proportion to |r| and
  |q| (ACD's reference rule, 1e-20 added to each so that r = q = 0 splits it evenly);
- BatchNorm (eval): an affine map: its scale applies to both parts, its shift splits like a bias;
- ReLU: beta' = relu(beta), gamma' = relu(beta + gamma) - relu(beta);
- MaxPool2d: both parts are taken where the whole activation has its maximum;
- AvgPool2d, AdaptiveAvgPool2d (our extension; linear without a bias), Dropout (eval), Flatten,
  Unflatten, Identity, and a binary model's BinaryLogits (bench/models/torch_estimator.py):
  applied to both parts.

CD(S) is beta at the output; the interaction of S1 and S2 is CD(S1 ∪ S2) - CD(S1) - CD(S2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.core.errors import NotApplicable
from bench.explainers.base import BatchedExplainer, eval_module
from bench.core.tensors import as_tensor, module_device, needs_torch
from bench.core.explanation import Explanation
from bench.core.calls import network_and_count
from bench.models.torch_estimator import BinaryLogits

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


def _network(model) -> tuple[nn.Module, Callable[[int], None]]:
    """The model's network in eval mode, and how to count the rows CD evaluates: CD runs the
    layers itself, not the network's forward, so a cost measurement cannot see them."""
    return network_and_count(eval_module(model))


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


class ContextualDecomposition(BatchedExplainer):
    """values[i, j] = CD({j}) at instance i's target output, for every input feature j (each
    pixel-channel value of an image). `interactions[i, j, k]` = CD({j, k}) - CD({j}) - CD({k})
    when there are at most `max_interaction_features` features (d(d-1)/2 extra feature sets).

    extras: `cd_full`, CD of all features; `bias_share`, the full set's gamma at
    the target output, so that cd_full + bias_share is the output; `interactions_skipped`, why
    interactions is None. gamma's input is zero, but bias_share is not zero in general: where a
    layer's beta is exactly zero too (a unit whose inputs a ReLU has all zeroed), ACD's rule
    splits that unit's bias evenly, and later layers carry gamma's half to the output.

    Each row of a model evaluation is one (instance, feature set) pair; `batch_size` bounds the
    rows decomposed at once (each carries two activations, beta and gamma, hence a smaller
    default than the perturbation methods'). CD needs no background and no randomness."""

    needs_background = False

    def __init__(self, *, interactions: bool = True, max_interaction_features: int = 64, batch_size: int = 1024):
        super().__init__(batch_size=batch_size)
        if isinstance(max_interaction_features, bool) or not isinstance(max_interaction_features, int) \
                or max_interaction_features < 2:
            raise ValueError(f"cd max_interaction_features must be an integer of at least 2, "
                             f"got {max_interaction_features!r}")
        self.interactions = interactions
        self.max_interaction_features = max_interaction_features

    def not_applicable(self, model) -> str | None:
        return needs_torch(model, "contextual decomposition") or unsupported(_network(model)[0])

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        reason = self.not_applicable(model)
        if reason:
            raise NotApplicable(reason)
        network, count = _network(model)
        device = module_device(network)
        inputs, target = as_tensor(X, device), np.asarray(target, dtype=int)
        n, d = len(X), int(np.prod(X.shape[1:]))
        skipped = None
        if not self.interactions:
            skipped = "interactions=False"
        elif d > self.max_interaction_features:
            skipped = (f"{d} input features > max_interaction_features={self.max_interaction_features} "
                       f"({d * (d - 1) // 2} feature pairs per instance)")
        masks = feature_sets(d, pairs=skipped is None).to(device)
        beta, gamma = self._target_parts(network, count, inputs, masks, torch.as_tensor(target, device=device))
        extras = {"cd_full": beta[:, d], "bias_share": gamma[:, d]}
        interactions = None
        if skipped is None:
            single, pair = beta[:, :d], beta[:, d + 1:]
            j, k = np.triu_indices(d, 1)  # the same order as torch.triu_indices in feature_sets
            interactions = np.zeros((n, d, d))
            interactions[:, j, k] = interactions[:, k, j] = pair - single[:, j] - single[:, k]
        else:
            extras["interactions_skipped"] = skipped
        return Explanation(beta[:, :d], "attribution", target, interactions=interactions, extras=extras,
                           input_shape=X.shape[1:])

    def _target_parts(self, network: nn.Module, count: Callable[[int], None], inputs: Tensor, masks: Tensor,
                      target: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(n, s) float64 beta and gamma at each instance's target output for every feature set,
        `batch_size` rows at a time; row i * s + k holds instance i with feature set k."""
        n, s = len(inputs), len(masks)
        beta, gamma = torch.empty(n * s, device=inputs.device), torch.empty(n * s, device=inputs.device)
        with torch.no_grad():
            for start in range(0, n * s, self.batch_size):
                rows = torch.arange(start, min(start + self.batch_size, n * s), device=inputs.device)
                instance = rows // s
                relevant = masks[rows % s].view(len(rows), *inputs.shape[1:])
                out_beta, out_gamma = decompose(network, inputs[instance], relevant)
                beta[rows] = out_beta[torch.arange(len(rows)), target[instance]]
                gamma[rows] = out_gamma[torch.arange(len(rows)), target[instance]]
                count(len(rows))
        return beta.view(n, s).double().cpu().numpy(), gamma.view(n, s).double().cpu().numpy()
