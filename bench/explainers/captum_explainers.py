"""Captum's attribution methods behind the one explainer interface.

Gradient methods explain the network's output (logits, or the regression output):
`saliency` (|gradient|, Simonyan et al. 2014), `ig` (Integrated Gradients, Sundararajan et
al. 2017), `smoothgrad` (gradients averaged over noisy copies, Smilkov et al. 2017),
`input_x_gradient`, `deeplift` (rescale rule, Shrikumar et al. 2017), `gradient_shap_captum`
(captum's GradientShap) and `gradcam` (Grad-CAM, Selvaraju et al. 2017). Perturbation methods
need only the model's outputs, so they explain any model's `model_output` (probabilities, or the
regression output):
`feature_ablation`, `occlusion` (image patches, Zeiler & Fergus 2014) and `shapley_sampling`
(Castro et al. 2009).

torch, captum and the torch RNG helper are imported in the methods that compute: captum takes
seconds to load, and `--help` reads only the constructors (bench/explainers/base.py).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np

from bench.core.errors import NotApplicable
from bench.explainers.base import BatchedExplainer, Differentiable, Explainer, check_positive_int, eval_module, input_gradient, numpy_global_seed, seed_from
from bench.core.tensors import as_tensor, module_device, needs_torch
from bench.core.explanation import REFERENCES, Baseline, Explanation, reference_input
from bench.core.images import is_image, patch_groups

if TYPE_CHECKING:
    import torch
    from torch import nn


# captum's quadrature rules for the path integral
IntegrationMethod = Literal["gausslegendre", "riemann_right", "riemann_left", "riemann_middle", "riemann_trapezoid"]


def _check_baseline(method: str, baseline: str) -> None:
    if baseline not in REFERENCES:
        raise ValueError(f"{method} baseline must be one of {REFERENCES}, got {baseline!r}")


def _reference(X: torch.Tensor, background: np.ndarray, baseline: str) -> torch.Tensor:
    """The reference input, one per row of X (on X's device): the background mean, or zeros."""
    return as_tensor(reference_input(background, baseline)[None], X.device).expand(X.shape).contiguous()


def _explanation(attributions: torch.Tensor, X: np.ndarray, target: np.ndarray, **extras) -> Explanation:
    values = attributions.detach().cpu().numpy().reshape(len(X), -1).astype(np.float64)
    return Explanation(values, "attribution", target, input_shape=X.shape[1:], extras=extras)


class _GradientMethod(Explainer):
    """Explains the model's network where it lives: inputs, baselines and targets go to its device."""

    def not_applicable(self, model) -> str | None:
        return needs_torch(model, "a gradient method")

    @staticmethod
    def _network(model, X: np.ndarray, target: np.ndarray, *, differentiable: bool = False):
        """(network in eval mode, inputs, targets), the inputs and targets on its device."""
        import torch

        module = eval_module(model)
        device = module_device(module)
        inputs = as_tensor(X, device)
        return module, inputs.requires_grad_() if differentiable else inputs, torch.as_tensor(target, device=device)


class Saliency(_GradientMethod):
    """The gradient; `absolute`: its magnitude, as Simonyan et al. define saliency."""

    needs_background = False

    def __init__(self, *, absolute: bool = True):
        self.absolute = absolute

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        from captum import attr

        module, inputs, targets = self._network(model, X, target, differentiable=True)
        return _explanation(attr.Saliency(module).attribute(inputs, target=targets, abs=self.absolute), X, target)

    def differentiable(self, model, *, background, rng) -> Differentiable:
        def saliency(network, inputs, targets):
            gradient = input_gradient(network, inputs, targets)
            return gradient.abs() if self.absolute else gradient

        return Differentiable(eval_module(model), saliency)


class IntegratedGradients(_GradientMethod, BatchedExplainer):
    """The gradient integrated along the straight path from the `baseline` to the input, with
    `n_steps` points of the quadrature `method`."""

    def __init__(self, *, n_steps: int = 50, baseline: Baseline = "mean", method: IntegrationMethod = "gausslegendre",
                 batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("ig n_steps", n_steps)
        _check_baseline("ig", baseline)
        self.n_steps = n_steps
        self.baseline = baseline
        self.method = method

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        from captum import attr

        module, inputs, targets = self._network(model, X, target)
        attributions, delta = attr.IntegratedGradients(module).attribute(
            inputs, baselines=_reference(inputs, background, self.baseline), target=targets, n_steps=self.n_steps,
            method=self.method, internal_batch_size=self.batch_size, return_convergence_delta=True)
        return _explanation(attributions, X, target, convergence_delta=delta.detach().cpu().numpy())

    def differentiable(self, model, *, background, rng) -> Differentiable:
        """The same quadrature as captum's (its own step sizes and points), in one graph: the
        n_steps path points of every input are one batch."""
        import torch
        # captum's quadrature (step sizes and points): private, and no public function gives it
        from captum.attr._utils.approximation_methods import approximation_parameters

        step_sizes, alphas = approximation_parameters(self.method)
        weights, points = step_sizes(self.n_steps), alphas(self.n_steps)

        def integrated_gradients(network, inputs, targets):
            reference = _reference(inputs, background, self.baseline)
            path = torch.cat([reference + alpha * (inputs - reference) for alpha in points])
            gradients = input_gradient(network, path, targets.repeat(self.n_steps)).view(self.n_steps, *inputs.shape)
            weight = torch.as_tensor(weights, dtype=inputs.dtype, device=inputs.device)
            return (inputs - reference) * torch.einsum("s,s...->...", weight, gradients)

        return Differentiable(eval_module(model), integrated_gradients)


class SmoothGrad(_GradientMethod):
    """The gradient averaged over `n_samples` copies of the input with Gaussian noise of standard
    deviation `noise_level` times the range of the background's values (the paper's sigma /
    (x_max - x_min), best at 10-20%). What captum's NoiseTunnel(Saliency) computes, but the noise
    of every instance is drawn in one go from the unit's `rng`: captum draws it per chunk (the
    attributions would depend on the chunk size) and with torch's RNG on the network's device
    (a GPU run would draw other noise than a CPU run)."""

    def __init__(self, *, n_samples: int = 50, noise_level: float = 0.15):
        check_positive_int("smoothgrad n_samples", n_samples)
        self.n_samples = n_samples
        self.noise_level = noise_level

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        from captum import attr

        stdev = self.noise_level * float(np.ptp(background))
        noisy = np.asarray(X, dtype=np.float32)[None] + rng.normal(0.0, stdev, size=(self.n_samples, *X.shape))
        flat = noisy.reshape(self.n_samples * len(X), *X.shape[1:])
        module, inputs, targets = self._network(model, flat, np.tile(target, self.n_samples), differentiable=True)
        grads = attr.Saliency(module).attribute(inputs, target=targets, abs=False)
        return _explanation(grads.view(self.n_samples, *X.shape).mean(dim=0), X, target, noise_stdev=stdev)

    def differentiable(self, model, *, background, rng) -> Differentiable:
        """The same noise at every call on inputs of the same shape (drawn from a seed taken from
        `rng` once), so that an attack compares maps with the same noise."""
        import torch

        stdev, seed = self.noise_level * float(np.ptp(background)), seed_from(rng)

        def smoothgrad(network, inputs, targets):
            noise = np.random.default_rng(seed).normal(0.0, stdev, size=(self.n_samples, *inputs.shape))
            noisy = inputs[None] + torch.as_tensor(noise, dtype=inputs.dtype, device=inputs.device)
            gradients = input_gradient(network, noisy.flatten(0, 1), targets.repeat(self.n_samples))
            return gradients.view(self.n_samples, *inputs.shape).mean(dim=0)

        return Differentiable(eval_module(model), smoothgrad)


class InputXGradient(_GradientMethod):
    needs_background = False

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        from captum import attr

        module, inputs, targets = self._network(model, X, target, differentiable=True)
        return _explanation(attr.InputXGradient(module).attribute(inputs, target=targets), X, target)

    def differentiable(self, model, *, background, rng) -> Differentiable:
        return Differentiable(eval_module(model), lambda network, inputs, targets:
                              inputs * input_gradient(network, inputs, targets))


class DeepLift(_GradientMethod):
    """DeepLIFT's rescale rule against the `baseline`. Captum follows nonlinearities through
    module hooks. Where its rules do not keep summation-to-delta (a product of activations, a
    functional softmax, and captum 0.9's MaxPool rule, whose attributions miss by a few percent),
    the unit is n/a rather than attributions that do not add up: `tolerance` is the largest miss,
    relative to the output's change, that is accepted."""

    def __init__(self, *, baseline: Baseline = "mean", tolerance: float = 1e-3):
        _check_baseline("deeplift", baseline)
        self.baseline = baseline
        self.tolerance = tolerance

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        from captum import attr
        from torch import nn

        module, inputs, targets = self._network(model, X, target, differentiable=True)
        with warnings.catch_warnings():  # captum announces the hooks it sets on every call
            warnings.filterwarnings("ignore", message="Setting forward, backward hooks")
            attributions, delta = attr.DeepLift(module).attribute(
                inputs, baselines=_reference(inputs, background, self.baseline), target=targets,
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
        return _explanation(attributions, X, target, convergence_delta=delta.detach().cpu().numpy())


class GradientShapCaptum(_GradientMethod):
    """Captum's GradientShap: gradients at `n_samples` random points between the input (plus
    Gaussian noise of `stdev`) and random background rows, times (input - background row). Captum draws
    the noise on the network's device: with stdev > 0 a GPU run draws other noise than a CPU run."""

    def __init__(self, *, n_samples: int = 50, stdev: float = 0.0):
        check_positive_int("gradient_shap_captum n_samples", n_samples)
        self.n_samples = n_samples
        self.stdev = stdev

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        from captum import attr

        from bench.models.training import seeded

        seed = seed_from(rng)
        module, inputs, targets = self._network(model, X, target)
        # captum draws the path points and background rows from numpy's RNG, the noise from torch's.
        with seeded(seed), numpy_global_seed(seed):
            attributions = attr.GradientShap(module).attribute(
                inputs, baselines=as_tensor(background, inputs.device), n_samples=self.n_samples, stdevs=self.stdev,
                target=targets)
        return _explanation(attributions, X, target)

    def differentiable(self, model, *, background, rng) -> Differentiable:
        """GradientShap's estimator in one graph: for each input, `n_samples` background rows b and
        points alpha ~ U(0, 1), the mean of grad f(b + alpha (x' - b)) * (x' - b), x' = x plus
        Gaussian noise of `stdev`. The draws come from a seed taken from `rng` once, so that every
        call on inputs of the same shape uses the same ones."""
        import torch

        seed, rows = seed_from(rng), np.asarray(background, dtype=np.float32)

        def gradient_shap(network, inputs, targets):
            draws = np.random.default_rng(seed)
            chosen = rows[draws.integers(len(rows), size=(self.n_samples, len(inputs)))]
            alphas = draws.uniform(size=(self.n_samples, len(inputs), *[1] * (inputs.dim() - 1)))
            noise = draws.normal(0.0, self.stdev, size=(self.n_samples, *inputs.shape)) if self.stdev > 0 else 0.0
            reference = torch.as_tensor(chosen, device=inputs.device)
            noisy = inputs[None] + torch.as_tensor(noise, dtype=inputs.dtype, device=inputs.device)
            path = reference + torch.as_tensor(alphas, dtype=inputs.dtype, device=inputs.device) * (noisy - reference)
            gradients = input_gradient(network, path.flatten(0, 1), targets.repeat(self.n_samples))
            return (gradients.view(self.n_samples, *inputs.shape) * (noisy - reference)).mean(dim=0)

        return Differentiable(eval_module(model), gradient_shap)


class GradCam(_GradientMethod):
    """Grad-CAM (Selvaraju et al., ICCV 2017): a convolutional layer's maps weighted by the
    spatial mean of the target's gradient at that layer, summed over channels, through a ReLU,
    then upsampled bilinearly to the input's size (captum's LayerGradCam and
    LayerAttribution.interpolate). `layer`: one of the predicting network's layers, by the name
    options give it (`model.predictor_layers`: `conv2` of the cnn, as CNN-INTE's `layer` names it);
    None: its last Conv2d. Every channel of a pixel gets the pixel's value."""

    needs_background = False

    def __init__(self, *, layer: str | None = None):
        self.layer = layer

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        if not is_image(X):
            raise NotApplicable(f"Grad-CAM weighs a convolutional layer's maps: it explains images (n, channels, "
                                f"height, width); these inputs have shape {X.shape}")
        from captum import attr

        module, inputs, targets = self._network(model, X, target, differentiable=True)
        name, layer = self._find_layer(model, module)
        maps = attr.LayerGradCam(module, layer).attribute(inputs, target=targets, relu_attributions=True)
        upsampled = attr.LayerAttribution.interpolate(maps, tuple(X.shape[2:]), interpolate_mode="bilinear")
        return _explanation(upsampled.expand(-1, X.shape[1], -1, -1), X, target, layer=name)

    def check_model(self, model) -> None:
        if self.layer is None or "image" not in getattr(model, "input_kinds", ()):
            return
        layers = _predictor_layers(model)
        if layers is not None and self.layer not in layers:
            raise ValueError(self._unknown_layer(layers))

    def _unknown_layer(self, layers: list[str]) -> str:
        return (f"gradcam layer {self.layer!r} is not a layer of the model's network; its layers: {', '.join(layers)}; "
                "name one with explainers.gradcam.layer=...")

    def _find_layer(self, model, module: nn.Module) -> tuple[str, nn.Module]:
        """(the layer's name, the layer) in `module`, the network as gradients reach it: wrapped
        (a binary model's log-odds, a counted call), so that `conv2` sits at e.g. `inner.0.conv2`.
        Only the predicting network's layers count: FLINT's network holds its interpreter's
        convolutions too, which its predictions never pass through."""
        from torch import nn

        paths = dict(module.named_modules())
        own = _predictor_layers(model)
        # A network of another kind: any of its modules, named by its path or the path's last parts.
        layers = own if own is not None else [path for path in paths if path]

        def path_of(name: str) -> str | None:
            return next((path for path in paths if path == name or path.endswith(f".{name}")), None)

        if self.layer is None:
            convolutions = [name for name in layers if isinstance(paths.get(path_of(name)), nn.Conv2d)]
            if not convolutions:
                raise NotApplicable("Grad-CAM needs a convolutional layer, and this network has none")
            return convolutions[-1], paths[path_of(convolutions[-1])]
        path = path_of(self.layer) if own is None or self.layer in own else None
        if path is None:
            raise ValueError(self._unknown_layer(layers))
        return self.layer, paths[path]


def _predictor_layers(model) -> list[str] | None:
    """The names of the predicting network's layers (bench.models.torch_estimator), where the
    model offers them (the project's torch models do)."""
    layers = getattr(model, "predictor_layers", None)
    return layers("image") if callable(layers) else None


class _PerturbationMethod(BatchedExplainer):
    def _forward(self, model, shape):
        import torch

        return lambda inputs: torch.as_tensor(self.batched_output(model, inputs.detach().numpy().reshape((-1, *shape))))

    def _per_eval(self, X) -> int:
        """Captum evaluates each perturbation on every row at once: this many per model call."""
        return max(1, self.batch_size // len(X))


class FeatureAblation(_PerturbationMethod):
    """Each feature replaced by the baseline's value: the output's change is its attribution.
    An image is ablated by square patches of `patch` pixels (all channels together; edge patches
    smaller), each pixel getting its patch's change: 784 single pixels of MNIST would cost 784
    model calls per image and credit no pixel whose neighbours carry the same evidence."""

    def __init__(self, *, baseline: Baseline = "mean", patch: int = 4, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        _check_baseline("feature_ablation", baseline)
        check_positive_int("feature_ablation patch", patch)
        self.baseline = baseline
        self.patch = patch

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        import torch
        from captum import attr

        inputs = as_tensor(X)
        values = attr.FeatureAblation(self._forward(model, X.shape[1:])).attribute(
            inputs, baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
            feature_mask=torch.as_tensor(patch_groups(X.shape[1:], self.patch))[None] if is_image(X) else None,
            perturbations_per_eval=self._per_eval(X))
        return _explanation(values, X, target, **({"patch": self.patch} if is_image(X) else {}))


class Occlusion(_PerturbationMethod):
    """Square patches of `window` pixels (all channels), slid by `stride` over an image and
    replaced by the baseline."""

    def __init__(self, *, window: int = 2, stride: int = 1, baseline: Baseline = "mean", batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("occlusion window", window)
        check_positive_int("occlusion stride", stride)
        _check_baseline("occlusion", baseline)
        self.window = window
        self.stride = stride
        self.baseline = baseline

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        if not is_image(X):
            raise NotApplicable(f"occlusion slides patches over images (n, channels, height, width); "
                                f"these inputs have shape {X.shape}")
        import torch
        from captum import attr

        inputs, channels = as_tensor(X), X.shape[1]
        values = attr.Occlusion(self._forward(model, X.shape[1:])).attribute(
            inputs, sliding_window_shapes=(channels, self.window, self.window), strides=(channels, self.stride, self.stride),
            baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
            perturbations_per_eval=self._per_eval(X))
        return _explanation(values, X, target)


class ShapleyValueSampling(_PerturbationMethod):
    """Shapley values from `n_samples` random feature orderings, a removed feature taking the
    baseline's value."""

    def __init__(self, *, n_samples: int = 25, baseline: Baseline = "mean", batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("shapley_sampling n_samples", n_samples)
        _check_baseline("shapley_sampling", baseline)
        self.n_samples = n_samples
        self.baseline = baseline

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        import torch
        from captum import attr

        from bench.models.training import seeded

        inputs = as_tensor(X)
        with seeded(seed_from(rng)):  # captum draws the orderings from torch's global RNG
            values = attr.ShapleyValueSampling(self._forward(model, X.shape[1:])).attribute(
                inputs, baselines=_reference(inputs, background, self.baseline), target=torch.as_tensor(target),
                n_samples=self.n_samples, perturbations_per_eval=self._per_eval(X))
        return _explanation(values, X, target)
