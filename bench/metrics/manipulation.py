"""Explanation manipulation: how much of an explanation an adversary can move with an input change
that is imperceptible and keeps the prediction (Ghorbani, Abid, Zou, "Interpretation of Neural
Networks Is Fragile", AAAI 2019; the evaluation of ATEX, METHODS.md §3). Higher is better for
the two scores: the explanation resists.

The top-k attack, as the ATEX authors run it (src/attack_explain.py, attacker_explain.py): with
I(x) the magnitude of the explanation (|saliency| for `explainers=saliency`; |attribution| for a
signed one, as Ghorbani et al. attack IG's and DeepLIFT's maps), maximise -sum(top-K entries of
I(x')) over x' by `iterations` steps of size `step` along the objective's gradient,
max-normalised per instance (the authors') or its sign; after each step x' is projected onto the
L_inf ball of radius `epsilon` around x and the data's valid range, and a step that changes the
model's predicted class is reverted for that instance (which then stays where it is: the same
step is proposed again, as in the authors' code, so an instance that reaches the decision
boundary early is attacked no further). A regressor's steps are never reverted. The top-K set is
re-selected at every step (the authors' objective; Ghorbani's paper fixes it at x). Two
departures from the authors' code, both named in METHODS.md: a coordinate that leaves the ball
is clamped to its nearest face (their `clip_image_perturb` sets it to x + epsilon whichever
side it left), and the attack keeps the best point it visited (the highest objective on the
explanation itself) rather than its last.

Scores per instance: the top-K intersection |top-K of I(x) ∩ top-K of I(x')| / K, and Spearman's
rank correlation between I(x) and I(x') (average ranks for ties; the authors' code ranks ties
by position). Diagnostics: the fraction of steps reverted, and whether the attack followed a
softplus surrogate.

Second derivatives: the objective's gradient goes through the network's own gradient, whose
second-order terms a piecewise-linear network (ReLU, max-pooling) lacks: a ReLU net's saliency
cannot be attacked with gradients at all (the authors' note), and its IG or input x gradient
only through their first-order part. So a network whose nonlinearities are ReLU modules alone
is attacked through a copy with each ReLU replaced by softplus(`softplus_beta`) (Ghorbani et
al.'s surrogate); a network with a smooth activation module too (cnn_tanh's Tanh, TabResNet's
GELU) is attacked as it is, as the ATEX authors attack their net. Every score is measured on the
real explanation; `manipulation_surrogate` is 1 where the surrogate was followed. An explanation
whose gradient is zero everywhere (a linear model's saliency) does not move: it keeps all of
its top-K.

The valid range: the training data's, one range for every pixel of an image ([0, 1] on MNIST),
each feature's own on a table. K: `top_k` entries, None: 50 on images (the paper's, on MNIST's
784 pixels; at most a quarter of a small image's pixels) and a quarter of the features on a
table. The attack needs the explanation as a torch function of the input (the explainer's
`differentiable`): saliency, input_x_gradient, ig, smoothgrad, gradient_shap_captum (SHAP
values by expected gradients) and hyperlinear's native explanation; any other explainer, and a
model without a torch network, is n/a with the reason.

One attack per explainer unit is shared by the four metrics (`context.cached_for_explainer`),
`batch_size` instances per graph, on the network's device (the GPU where the model lives there).
SmoothGrad's and GradientSHAP's draws are made per graph, so their attack depends on
`batch_size`; the other explanations' does not.

torch is imported by the functions of the attack: `--help` imports every metric for its
signature (the typed schemas), and torch takes seconds to load.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.stats import rankdata

from bench.core.errors import NotApplicable
from bench.explainers.base import eval_module
from bench.core.tensors import as_tensor, module_device, needs_torch
from bench.core.explanation import Differentiable, Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext
from bench.metrics.subsample import first_instances, padded

if TYPE_CHECKING:
    import torch
    from torch import nn

Direction = Literal["max_normalised", "sign"]
IMAGE_TOP_K = 50  # the ATEX paper's K on MNIST
TABLE_TOP_K_SHARE = 0.25


@dataclass(frozen=True)
class AttackResult:
    original: np.ndarray  # (n, d) I(x), the explanation's magnitude
    attacked: np.ndarray  # (n, d) I(x') at the best point
    reverted: np.ndarray  # (n,) fraction of steps reverted because the predicted class changed
    surrogate: np.ndarray  # (n,) 1.0 where the attack followed the softplus surrogate
    objective_start: np.ndarray  # (n,) -sum(top-K of I(x))
    objective_best: np.ndarray  # (n,) -sum(top-K of I(x')), never below the start
    adversarial: np.ndarray  # (n, d) x', the best point


def valid_range(X_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), broadcastable to one row: one range for every pixel of an image, each
    feature's own on a table."""
    X_train = np.asarray(X_train, dtype=np.float32)
    if X_train.ndim > 2:
        return np.full(X_train.shape[1:], X_train.min()), np.full(X_train.shape[1:], X_train.max())
    return X_train.min(axis=0), X_train.max(axis=0)


def project(candidate: torch.Tensor, x: torch.Tensor, epsilon: float, low: torch.Tensor,
            high: torch.Tensor) -> torch.Tensor:
    """The nearest point of the L_inf ball of radius epsilon around x within [low, high]: each
    coordinate clamped to its nearest face. The box always holds x itself, also where x lies
    outside the training range (a test row may)."""
    import torch

    lower = torch.minimum(torch.maximum(x - epsilon, low), x)
    upper = torch.maximum(torch.minimum(x + epsilon, high), x)
    return torch.maximum(torch.minimum(candidate, upper), lower)


def top_k_objective(attributions: torch.Tensor, k: int) -> torch.Tensor:
    """(B,) -sum of the k largest magnitudes of each instance's attributions."""
    return -attributions.flatten(1).abs().topk(k, dim=1).values.sum(dim=1)


def softplus_surrogate(network: nn.Module, beta: float) -> nn.Module | None:
    """A copy of `network` with every nn.ReLU replaced by softplus(beta) where the network's
    nonlinearities are ReLU modules alone; None where it has none or a smooth one too (see the
    module docstring). A counted network (bench/core/counted_network.py) is copied without its counter:
    the surrogate is not the model, and copying the counter would copy the whole model."""
    from torch import nn

    from bench.core.counted_network import network_and_count

    smooth_activations = (nn.Tanh, nn.Sigmoid, nn.Softplus, nn.GELU, nn.SiLU, nn.ELU, nn.CELU, nn.SELU, nn.Mish,
                          nn.Softmax, nn.LogSoftmax)
    network = network_and_count(network)[0]
    modules = list(network.modules())
    if not any(isinstance(m, nn.ReLU) for m in modules) or any(isinstance(m, smooth_activations) for m in modules):
        return None
    surrogate = copy.deepcopy(network)
    for module in list(surrogate.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.ReLU):
                setattr(module, name, nn.Softplus(beta=beta))
    return surrogate.eval()


def manipulation_attack(predictor: nn.Module, differentiable: Differentiable, X: np.ndarray, targets: np.ndarray, *,
                        low: np.ndarray, high: np.ndarray, epsilon: float, step: float, iterations: int, top_k: int,
                        direction: Direction = "max_normalised", softplus_beta: float = 10.0,
                        batch_size: int = 100) -> AttackResult:
    """The top-k attack on the rows of X (see the module docstring); `predictor` gives the class
    logits whose argmax must not change, `differentiable` the attacked explanation."""
    import torch

    device = module_device(predictor)
    low_t, high_t = as_tensor(low, device), as_tensor(high, device)
    surrogate = softplus_surrogate(differentiable.network, softplus_beta)
    parts = [_attack_batch(predictor, differentiable, surrogate, as_tensor(X[i:i + batch_size], device),
                           torch.as_tensor(targets[i:i + batch_size], device=device), low_t, high_t, epsilon=epsilon,
                           step=step, iterations=iterations, top_k=top_k, direction=direction)
             for i in range(0, len(X), batch_size)]
    return AttackResult(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _attack_batch(predictor, differentiable, surrogate, x0, targets, low, high, *, epsilon, step, iterations, top_k,
                  direction) -> tuple[np.ndarray, ...]:
    import torch

    explain, network = differentiable.explain, differentiable.network
    attacked_network = network if surrogate is None else surrogate

    def objective(on: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(objective per instance, its gradient in x)."""
        x = x.detach().requires_grad_()
        value = top_k_objective(explain(on, x, targets), top_k)
        gradient = torch.autograd.grad(value.sum(), x, allow_unused=True)[0] if value.requires_grad else None
        return value.detach(), torch.zeros_like(x) if gradient is None else gradient

    def predicted(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return predictor(x).argmax(dim=1)

    start_value = top_k_objective(_detached(explain, network, x0, targets), top_k)
    label = predicted(x0)
    shape = (-1, *[1] * (x0.dim() - 1))  # a per-instance value against the instances' inputs
    current, best, best_value = x0.clone(), x0.clone(), start_value.clone()
    reverted = torch.zeros(len(x0), device=x0.device)
    for iteration in range(iterations + 1):
        value, gradient = objective(attacked_network, current)
        if surrogate is not None:  # the point kept is the one that moved the real explanation most
            value = top_k_objective(_detached(explain, network, current, targets), top_k)
        better = value > best_value
        best_value = torch.where(better, value, best_value)
        best = torch.where(better.view(shape), current, best)
        if iteration == iterations:
            break
        if direction == "sign":
            move = gradient.sign()
        else:
            move = gradient / gradient.flatten(1).abs().max(dim=1).values.clamp_min(1e-12).view(shape)
        candidate = project(current + step * move, x0, epsilon, low, high)
        kept = predicted(candidate) == label
        reverted += (~kept).float()
        current = torch.where(kept.view(shape), candidate, current)
    original = _detached(explain, network, x0, targets).abs()
    attacked = _detached(explain, network, best, targets).abs()
    n = len(x0)
    return (original.flatten(1).double().cpu().numpy(), attacked.flatten(1).double().cpu().numpy(),
            (reverted / max(iterations, 1)).double().cpu().numpy(), np.full(n, float(surrogate is not None)),
            start_value.double().cpu().numpy(), best_value.double().cpu().numpy(),
            best.flatten(1).double().cpu().numpy())


def _detached(explain, network: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The explanation at x, without its graph."""
    return explain(network, x.detach().clone().requires_grad_(), targets).detach()


def top_k_intersection(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """(n,) |top-k of a ∩ top-k of b| / k per row (ties broken by position, as the authors' argsort)."""
    first = np.argsort(-a, axis=1, kind="stable")[:, :k]
    second = np.argsort(-b, axis=1, kind="stable")[:, :k]
    return np.array([len(np.intersect1d(p, q)) / k for p, q in zip(first, second, strict=True)])


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) Spearman's rank correlation per row (average ranks for ties); NaN for a constant row."""
    ranks_a, ranks_b = rankdata(a, axis=1), rankdata(b, axis=1)
    ranks_a -= ranks_a.mean(axis=1, keepdims=True)
    ranks_b -= ranks_b.mean(axis=1, keepdims=True)
    scale = np.sqrt((ranks_a ** 2).sum(axis=1) * (ranks_b ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, (ranks_a * ranks_b).sum(axis=1) / scale, np.nan)


def top_k_of(top_k: int | None, input_shape: tuple[int, ...], metric_name: str) -> int:
    d = int(np.prod(input_shape))
    share = int(np.ceil(TABLE_TOP_K_SHARE * d))
    k = (min(IMAGE_TOP_K, share) if len(input_shape) > 1 else share) if top_k is None else top_k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= d:
        raise ValueError(f"{metric_name} top_k must be between 1 and the {d} input features, got {top_k!r}")
    return int(k)


def check_attack(*, epsilon: float, step: float, iterations: int, top_k: int | None, direction: Direction,
                 softplus_beta: float, batch_size: int, n_instances: int | None) -> None:
    """The attack's options, checked before any work (bench.metrics.base.MetricInfo.check)."""
    problems = [f"{name} must be positive, got {value}" for name, value in
                (("epsilon", epsilon), ("step", step), ("softplus_beta", softplus_beta)) if not value > 0]
    problems += [f"{name} must be at least 1, got {value}" for name, value in
                 (("iterations", iterations), ("batch_size", batch_size), ("top_k", top_k), ("n_instances", n_instances))
                 if value is not None and value < 1]
    if problems:
        raise ValueError("; ".join(problems))


def attack_of(model, X: np.ndarray, explanation: Explanation, context: MetricContext, metric_name: str, *,
              epsilon: float, step: float, iterations: int, top_k: int | None, direction: Direction,
              softplus_beta: float, batch_size: int, n_instances: int | None) -> tuple[AttackResult, int]:
    """The unit's attack (computed once per explainer unit and option set) and its K."""
    reason = needs_torch(model, "the manipulation attack")
    if reason:
        raise NotApplicable(reason)
    if context.differentiable is None:
        raise NotApplicable(f"{metric_name} attacks the unit's explainer, and this run's metric context has none")
    check_attack(epsilon=epsilon, step=step, iterations=iterations, top_k=top_k, direction=direction,
                 softplus_beta=softplus_beta, batch_size=batch_size, n_instances=n_instances)
    scored_X, scored = first_instances(X, explanation, n_instances, metric_name)
    k = top_k_of(top_k, scored_X.shape[1:], metric_name)

    def compute() -> AttackResult:
        differentiable = context.differentiable(model)
        low, high = valid_range(context.X_train)
        return manipulation_attack(eval_module(model), differentiable, scored_X, np.asarray(scored.target),
                                   low=low, high=high, epsilon=epsilon, step=step, iterations=iterations, top_k=k,
                                   direction=direction, softplus_beta=softplus_beta, batch_size=batch_size)

    key = ("manipulation", epsilon, step, iterations, k, direction, softplus_beta, batch_size, len(scored_X))
    return context.cached_for_explainer(key, compute), k


# Every metric below takes the metric contract's `rng` and leaves it unused: the attack is
# deterministic (SmoothGrad's noise comes from the explainer's own stream).

@metric(category="robustness", higher_is_better=True, check=check_attack, shares="attack")
def manipulation_topk(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                      rng: np.random.Generator, epsilon: float = 0.08, step: float = 0.02, iterations: int = 200,
                      top_k: int | None = None, direction: Direction = "max_normalised", softplus_beta: float = 10.0,
                      batch_size: int = 100, n_instances: int | None = None) -> np.ndarray:
    """(n,) top-K intersection of the explanation before and after the attack; NaN after the
    first `n_instances`."""
    result, k = attack_of(model, X, explanation, context, "manipulation_topk", epsilon=epsilon, step=step,
                          iterations=iterations, top_k=top_k, direction=direction, softplus_beta=softplus_beta,
                          batch_size=batch_size, n_instances=n_instances)
    return padded(top_k_intersection(result.original, result.attacked, k), len(X))


@metric(category="robustness", higher_is_better=True, check=check_attack, shares="attack")
def manipulation_spearman(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                          rng: np.random.Generator, epsilon: float = 0.08, step: float = 0.02, iterations: int = 200,
                          top_k: int | None = None, direction: Direction = "max_normalised",
                          softplus_beta: float = 10.0, batch_size: int = 100,
                          n_instances: int | None = None) -> np.ndarray:
    """(n,) Spearman rank correlation of the explanation before and after the attack."""
    result, _ = attack_of(model, X, explanation, context, "manipulation_spearman", epsilon=epsilon, step=step,
                          iterations=iterations, top_k=top_k, direction=direction, softplus_beta=softplus_beta,
                          batch_size=batch_size, n_instances=n_instances)
    return padded(spearman_rows(result.original, result.attacked), len(X))


@metric(category="diagnostic", higher_is_better=False, check=check_attack, shares="attack")
def manipulation_reverted(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                          rng: np.random.Generator, epsilon: float = 0.08, step: float = 0.02, iterations: int = 200,
                          top_k: int | None = None, direction: Direction = "max_normalised",
                          softplus_beta: float = 10.0, batch_size: int = 100,
                          n_instances: int | None = None) -> np.ndarray:
    """(n,) the fraction of the attack's steps reverted because they changed the predicted class
    (a diagnostic: an instance stays where its first reverted step left it, so a high share means
    it met the decision boundary early and was attacked no further)."""
    result, _ = attack_of(model, X, explanation, context, "manipulation_reverted", epsilon=epsilon, step=step,
                          iterations=iterations, top_k=top_k, direction=direction, softplus_beta=softplus_beta,
                          batch_size=batch_size, n_instances=n_instances)
    return padded(result.reverted, len(X))


@metric(category="diagnostic", higher_is_better=False, check=check_attack, shares="attack")
def manipulation_surrogate(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                           rng: np.random.Generator, epsilon: float = 0.08, step: float = 0.02, iterations: int = 200,
                           top_k: int | None = None, direction: Direction = "max_normalised",
                           softplus_beta: float = 10.0, batch_size: int = 100,
                           n_instances: int | None = None) -> np.ndarray:
    """(n,) 1 where the attack followed the softplus surrogate of a ReLU network, 0 where it
    followed the network itself (a diagnostic, so that the tables say which)."""
    result, _ = attack_of(model, X, explanation, context, "manipulation_surrogate", epsilon=epsilon, step=step,
                          iterations=iterations, top_k=top_k, direction=direction, softplus_beta=softplus_beta,
                          batch_size=batch_size, n_instances=n_instances)
    return padded(result.surrogate, len(X))
