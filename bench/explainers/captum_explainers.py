"""Captum's attribution methods behind the one explainer interface.

Gradient methods explain the network's output (logits, or the regression output):
`saliency` (|gradient|, Simonyan et al. 2014), `ig` (Integrated Gradients, Sundararajan et
al. 2017), `smoothgrad` (gradients averaged over noisy copies, Smilkov et al. 2017),
`input_x_gradient`, `deeplift` (rescale rule, Shrikumar et al. 2017) and
`gradient_shap_captum` (captum's GradientShap). Perturbation methods need only the model's
outputs, so they explain any model's `model_output` (probabilities, or the regression output):
`feature_ablation`, `occlusion` (image patches, Zeiler & Fergus 2014) and `shapley_sampling`
(Castro et al. 2009).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from captum import attr
from torch import nn

from bench.errors import NotApplicable
from bench.explainers.base import (
    BatchedExplainer,
    Explainer,
    as_tensor,
    check_positive_int,
    eval_module,
    needs_torch,
    numpy_global_seed,
    seed_from,
)
from bench.explanation import REFERENCES, Explanation, reference_input
from bench.models.torch_training import seeded


def _check_baseline(method: str, baseline: str) -> None:
    if baseline not in REFERENCES:
        raise ValueError(f"{method} baseline must be one of {REFERENCES}, got {baseline!r}")


def _reference(X: torch.Tensor, background: np.ndarray, baseline: str) -> torch.Tensor:
    """The reference input, one per row of X: the background mean, or zeros."""
    return as_tensor(reference_input(background, baseline)[None]).expand(X.shape).contiguous()


def _differentiable(X: np.ndarray) -> torch.Tensor:
    """Inputs that captum's gradient methods differentiate with respect to."""
    return as_tensor(X).requires_grad_()


def _explanation(attributions: torch.Tensor, X: np.ndarray, target: np.ndarray, **extras) -> Explanation:
    values = attributions.detach().numpy().reshape(len(X), -1).astype(np.float64)
    return Explanation(values, "attribution", target, extras={"input_shape": X.shape[1:], **extras})


class _GradientMethod(Explainer):
    def not_applicable(self, model) -> str | None:
        return needs_torch(model, "a gradient method")


class Saliency(_GradientMethod):
    def __init__(self, *, absolute: bool = True):
        self.absolute = absolute

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        grads = attr.Saliency(eval_module(model)).attribute(_differentiable(X), target=torch.as_tensor(target),
                                                            abs=self.absolute)
        return _explanation(grads, X, target)


class IntegratedGradients(_GradientMethod, BatchedExplainer):
    def __init__(self, *, n_steps: int = 50, baseline: str = "mean", method: str = "gausslegendre",
                 batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("ig n_steps", n_steps)
        _check_baseline("ig", baseline)
        self.n_steps = n_steps
        self.baseline = baseline
        self.method = method

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        inputs = as_tensor(X)
        attributions, delta = attr.IntegratedGradients(eval_module(model)).attribute(
            inputs, baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
            n_steps=self.n_steps, method=self.method, internal_batch_size=self.batch_size,
            return_convergence_delta=True)
        return _explanation(attributions, X, target, convergence_delta=delta.detach().numpy())


class SmoothGrad(_GradientMethod):
    """The gradient averaged over `n_samples` copies of the input with Gaussian noise of standard
    deviation `noise_level` times the range of the background's values (the paper's sigma /
    (x_max - x_min), best at 10-20%). The noise of every instance is drawn in one go: captum
    draws it per chunk, so chunking would make the attributions depend on the chunk size."""

    def __init__(self, *, n_samples: int = 50, noise_level: float = 0.15):
        check_positive_int("smoothgrad n_samples", n_samples)
        self.n_samples = n_samples
        self.noise_level = noise_level

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        stdev = self.noise_level * float(np.ptp(background))
        tunnel = attr.NoiseTunnel(attr.Saliency(eval_module(model)))
        with seeded(seed_from(rng)):
            grads = tunnel.attribute(as_tensor(X), nt_type="smoothgrad", nt_samples=self.n_samples, stdevs=stdev,
                                     target=torch.as_tensor(target), abs=False)
        return _explanation(grads, X, target, noise_stdev=stdev)


class InputXGradient(_GradientMethod):
    def explain(self, model, X, *, target, background, rng) -> Explanation:
        attributions = attr.InputXGradient(eval_module(model)).attribute(_differentiable(X), target=torch.as_tensor(target))
        return _explanation(attributions, X, target)


class DeepLift(_GradientMethod):
    """Captum follows nonlinearities through module hooks. Where its rules do not keep
    summation-to-delta (a product of activations, a functional softmax, and captum 0.9's
    MaxPool rule, whose attributions miss by a few percent), the unit is n/a rather than
    attributions that do not add up."""

    def __init__(self, *, baseline: str = "mean", tolerance: float = 1e-3):
        _check_baseline("deeplift", baseline)
        self.baseline = baseline
        self.tolerance = tolerance

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        inputs = _differentiable(X)
        module = eval_module(model)
        with warnings.catch_warnings():  # captum announces the hooks it sets on every call
            warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
            attributions, delta = attr.DeepLift(module).attribute(
                inputs, baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
                return_convergence_delta=True)
        # delta = sum of attributions - (f(x) - f(baseline)): the explained change, without
        # another (counted) forward pass.
        change = (attributions.detach().flatten(1).sum(dim=1) - delta.detach()).abs().max().item()
        worst = delta.abs().max().item()
        if worst > self.tolerance * max(1.0, change):
            pooling = any(isinstance(m, nn.MaxPool2d) for m in module.modules())
            raise NotApplicable(
                f"DeepLIFT attributions miss f(x) - f(baseline) by up to {worst:.3g} (tolerance {self.tolerance:g} "
                f"of that change): " + ("captum's MaxPool rule does not keep summation-to-delta; deep_shap's does"
                                             if pooling else "the network computes outside DeepLIFT's layer rules"))
        return _explanation(attributions, X, target, convergence_delta=delta.detach().numpy())


class GradientShapCaptum(_GradientMethod):
    """Captum's GradientShap: gradients at random points between the input (plus Gaussian
    noise of `stdev`) and random background rows, times (input - background row)."""

    def __init__(self, *, n_samples: int = 50, stdev: float = 0.0):
        check_positive_int("gradient_shap_captum n_samples", n_samples)
        self.n_samples = n_samples
        self.stdev = stdev

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        seed = seed_from(rng)
        # captum draws the path points and background rows from numpy's RNG, the noise from torch's.
        with seeded(seed), numpy_global_seed(seed):
            attributions = attr.GradientShap(eval_module(model)).attribute(
                as_tensor(X), baselines=as_tensor(background), n_samples=self.n_samples, stdevs=self.stdev,
                target=torch.as_tensor(target))
        return _explanation(attributions, X, target)


class _PerturbationMethod(BatchedExplainer):
    def _forward(self, model, shape):
        return lambda inputs: torch.as_tensor(self.batched_output(model, inputs.detach().numpy().reshape((-1, *shape))))

    def _per_eval(self, X) -> int:
        """Captum evaluates each perturbation on every row at once: this many per model call."""
        return max(1, self.batch_size // len(X))


class FeatureAblation(_PerturbationMethod):
    """Each feature replaced by the baseline's value: the output's change is its attribution."""

    def __init__(self, *, baseline: str = "mean", batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        _check_baseline("feature_ablation", baseline)
        self.baseline = baseline

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        inputs = as_tensor(X)
        values = attr.FeatureAblation(self._forward(model, X.shape[1:])).attribute(
            inputs, baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
            perturbations_per_eval=self._per_eval(X))
        return _explanation(values, X, target)


class Occlusion(_PerturbationMethod):
    """Square patches (all channels) slid over an image and replaced by the baseline."""

    def __init__(self, *, window: int = 2, stride: int = 1, baseline: str = "mean", batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("occlusion window", window)
        check_positive_int("occlusion stride", stride)
        _check_baseline("occlusion", baseline)
        self.window = window
        self.stride = stride
        self.baseline = baseline

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        if X.ndim != 4:
            raise NotApplicable(f"occlusion slides patches over images (n, channels, height, width); "
                                f"these inputs have shape {X.shape}")
        inputs, channels = as_tensor(X), X.shape[1]
        values = attr.Occlusion(self._forward(model, X.shape[1:])).attribute(
            inputs, sliding_window_shapes=(channels, self.window, self.window), strides=(channels, self.stride, self.stride),
            baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
            perturbations_per_eval=self._per_eval(X))
        return _explanation(values, X, target)


class ShapleyValueSampling(_PerturbationMethod):
    """Shapley values from `n_samples` random feature orderings, a removed feature taking the
    baseline's value."""

    def __init__(self, *, n_samples: int = 25, baseline: str = "mean", batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("shapley_sampling n_samples", n_samples)
        _check_baseline("shapley_sampling", baseline)
        self.n_samples = n_samples
        self.baseline = baseline

    def explain(self, model, X, *, target, background, rng) -> Explanation:
        inputs = as_tensor(X)
        with seeded(seed_from(rng)):  # captum draws the orderings from torch's global RNG
            values = attr.ShapleyValueSampling(self._forward(model, X.shape[1:])).attribute(
                inputs, baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
                n_samples=self.n_samples, perturbations_per_eval=self._per_eval(X))
        return _explanation(values, X, target)
