"""Explainer interface: options in the constructor, data in `explain`.

`explain(model, X, *, target=None, background=None, rng=None) -> Explanation` explains the
`target` output of each row of X, using `background` (training rows, or a summary of them) where
the method needs a reference distribution. It is the one public entry: it checks and normalises
its arguments (`Explainer.explain` says how) and calls the method's `_explain`, which each
explainer implements. `not_applicable(model)` says why a model cannot be explained; a reason that
only shows in the data is raised from `_explain` as `bench.core.errors.NotApplicable`. Either way the
run records n/a.

What each family explains: gradient methods explain the network's output (logits, or the
regression output); perturbation methods, which any model can answer, explain what
`model_output` gives (class probabilities, or the regression output).

The explainer modules import torch, shap, captum and lime where they compute, not at the top:
`--help` and config errors import every explainer for its constructor's signature (the typed
schemas, bench/pipeline/config.py), and those libraries take seconds to load.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import NotApplicable
from bench.core.explanation import Differentiable, Explanation
from bench.models.base import class_indices, model_output

if TYPE_CHECKING:
    import torch
    from torch import nn


class Explainer:
    """A method's options are its constructor's; `explain` takes the data.

    `needs_background`: whether the method reads `background`; `explain` refuses None where it
    does. False for saliency, input x gradient, Grad-CAM, CD, LIME on images (it hides a superpixel
    with its mean, or `hide_color`), the native explanation and the random control."""

    needs_background: bool = True

    def not_applicable(self, model) -> str | None:
        """Why this explainer cannot explain `model`, or None when it can."""
        return None

    def check_model(self, model) -> None:
        """Raises ValueError for an option that cannot work with `model`, unfitted as a run's config
        builds it (a layer its network lacks): the run calls it when it makes its plan, so that
        such an option stops it before any training. Every option works with any model unless a
        method says otherwise."""

    def explain(self, model, X: np.ndarray, *, target=None, background: np.ndarray | None = None,
                rng: np.random.Generator | None = None) -> Explanation:
        """The explanation of each row of X (n, *input_shape) for its `target` output.

        target: None explains the predicted class (a regressor's one output). Otherwise one value
            per row (or one for every row): labels of `model.classes_` as `model.predict` returns
            them (strings included), or, where the labels are not numbers, class indices 0..C-1.
            Numeric labels are always read as labels (classes_ = [3, 7]: 7 is class 1), so that
            `target=model.predict(X)` works for any labels; a regressor's target is 0.
            `bench.models.base.class_indices` holds the rule; the explanation's `target` is the
            (n,) class indices.
        background: rows shaped like X's (training rows, or a summary of them: see
            `bench.explainers.background`) that removal, path and sampling methods take their
            reference from. None where the method reads none (`needs_background` False); a method
            that needs it raises a ValueError saying so.
        rng: the Generator that random methods draw from. None: `np.random.default_rng(0)`, so
            that explaining twice gives the same explanation; pass your own to vary the draws.
        """
        if background is None and self.needs_background:
            raise ValueError(f"{type(self).__name__} needs a background: rows shaped like X's (training rows, or "
                             "a sample of them) that it takes its reference from; pass e.g. "
                             "background=X_train[:100]")
        if rng is None:
            rng = np.random.default_rng(0)
        elif not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)) or None, "
                            f"got {type(rng).__name__}")
        return self._explain(model, X, target=class_indices(model, X, target), background=background, rng=rng)

    def _explain(self, model, X: np.ndarray, *, target: np.ndarray, background: np.ndarray | None,
                 rng: np.random.Generator) -> Explanation:
        """The method itself: `target` is an (n,) int array of output indices, checked."""
        raise NotImplementedError

    def differentiable(self, model, *, background: np.ndarray, rng: np.random.Generator) -> Differentiable:
        """The explanation of `model` as a differentiable function of the input; raises
        NotApplicable for a method computed outside torch's graph (the default)."""
        raise NotApplicable(f"{type(self).__name__} is not differentiable in the input through torch; the "
                            "manipulation attack follows the explanation's gradient (saliency, input_x_gradient, "
                            "ig, smoothgrad, gradient_shap_captum and hyperlinear's native explanation offer one)")


def input_gradient(network: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """d network(inputs)[target] / d inputs, with its graph kept for a second derivative."""
    import torch

    if not inputs.requires_grad:
        inputs = inputs.requires_grad_()
    selected = network(inputs).gather(1, targets.long().view(-1, 1)).sum()
    return torch.autograd.grad(selected, inputs, create_graph=True)[0]


class BatchedExplainer(Explainer):
    """A method that evaluates many rows per explained instance (perturbations, path points,
    feature sets): `batch_size` bounds the rows of one model evaluation. It changes speed and
    memory, never the attributions."""

    def __init__(self, *, batch_size: int = 4096):
        check_positive_int("an explainer's batch_size (rows per model evaluation)", batch_size)
        self.batch_size = batch_size

    def batched_output(self, model, rows: np.ndarray) -> np.ndarray:
        """`model_output` over at most `batch_size` rows at a time (perturbation methods ask
        for up to ~10^5 rows at once)."""
        return np.concatenate([model_output(model, rows[i:i + self.batch_size])
                               for i in range(0, len(rows), self.batch_size)])


def check_positive_int(what: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")


def flatten(X: np.ndarray) -> np.ndarray:
    return np.asarray(X).reshape(len(X), -1)


def eval_module(model) -> nn.Module:
    """The model's network in eval mode (dropout off, batch-norm statistics frozen)."""
    return model.torch_module().eval()


def seed_from(rng: np.random.Generator) -> int:
    """A seed for a library that takes one rather than a Generator."""
    return int(rng.integers(2**31 - 1))


@contextlib.contextmanager
def numpy_global_seed(seed: int) -> Iterator[None]:
    """shap's Kernel, Permutation and Gradient explainers and captum's GradientShap sample from
    numpy's global RNG (and some reseed it); seed it for the call and give the caller its state
    back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
