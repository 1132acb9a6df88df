"""Contextual decomposition (CD) with pairwise interactions (METHODS.md §5; Murdoch et al. 2018,
Singh et al. 2019 (ACD), Singh, Ha, Yu arXiv 2108.06847): every activation carried as two parts,
beta (what a feature set S contributes) and gamma (everything else), through each layer's rule
(bench/explainers/_cd_rules.py); CD(S) is beta at the output, and the interaction of S1 and S2 is
CD(S1 ∪ S2) - CD(S1) - CD(S2).

The rules and torch are imported when CD computes: `--help` reads only the constructor
(bench/explainers/base.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import NotApplicable
from bench.explainers.base import BatchedExplainer, eval_module
from bench.core.tensors import as_tensor, module_device, needs_torch
from bench.core.explanation import Explanation

if TYPE_CHECKING:
    from torch import Tensor, nn


def _network(model) -> tuple[nn.Module, Callable[[int], None]]:
    """The model's network in eval mode, and how to count the rows CD evaluates: CD runs the
    layers itself, not the network's forward, so a cost measurement cannot see them."""
    from bench.core.counted_network import network_and_count

    return network_and_count(eval_module(model))


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
        reason = needs_torch(model, "contextual decomposition")
        if reason:
            return reason
        from bench.explainers._cd_rules import unsupported

        return unsupported(_network(model)[0])

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        reason = self.not_applicable(model)
        if reason:
            raise NotApplicable(reason)
        import torch

        from bench.explainers._cd_rules import feature_sets

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
        import torch

        from bench.explainers._cd_rules import decompose

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
