"""SHAP explainers (Lundberg & Lee 2017) through `shap`.

Model-agnostic ones explain `model_output` (class probabilities, or the regression output)
against the background rows: `kernel_shap` (a weighted linear regression over sampled
coalitions), `permutation_shap` (antithetic permutation sampling), `exact_shap` (every
coalition: exact interventional Shapley values, for few features) and, for images,
`partition_shap` (Owen values over a hierarchy of image regions). Torch ones explain the
network's output: `gradient_shap` (expected gradients) and `deep_shap` (DeepLIFT's rescale
rule averaged over the background).

shap and torch are imported in the methods that compute: shap takes seconds to load, and `--help`
reads only the constructors (bench/explainers/base.py).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np

from bench.core.errors import NotApplicable
from bench.explainers.base import BatchedExplainer, Explainer, check_positive_int, eval_module, flatten, numpy_global_seed, seed_from
from bench.core.tensors import as_tensor, module_device, needs_torch
from bench.core.explanation import REFERENCES, Baseline, Explanation, reference_input
from bench.core.images import is_image

if TYPE_CHECKING:
    from torch import nn


def _of_target(values, X: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(n, d) attributions of each row's target output, from shap's (n, *input, outputs) array
    (or a list of per-output arrays, or no output axis for a single output)."""
    if isinstance(values, list):
        values = np.stack(values, axis=-1)
    values = np.asarray(values, dtype=np.float64).reshape(len(X), int(np.prod(X.shape[1:])), -1)
    return values[np.arange(len(X)), :, target]


class _ModelAgnosticShap(BatchedExplainer):
    def _output_fn(self, model, shape: tuple[int, ...]):
        # shap works on flat rows; the model sees them in its input shape.
        return lambda rows: self.batched_output(model, np.asarray(rows).reshape((len(rows), *shape)))


class KernelShap(_ModelAgnosticShap):
    """`nsamples`: coalitions per instance ("auto": shap's 2d + 2048); `link`: the space the
    regression fits (identity, or logit for probabilities). `l1_reg` is shap's feature selection
    before its regression; the default, False, keeps every feature. shap's own default,
    "num_features(10)", keeps the 10 features LARS picks first and sets every other attribution
    to exactly 0: above 10 features a benchmark would credit that as sparseness and charge it as
    error against the exact Shapley values."""

    def __init__(self, *, nsamples: int | str = "auto", link: Literal["identity", "logit"] = "identity",
                 l1_reg: str | int | float | bool = False, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        if nsamples != "auto":
            check_positive_int("kernel_shap nsamples (coalitions per instance, or 'auto')", nsamples)
        self.nsamples = nsamples
        self.link = link
        self.l1_reg = l1_reg

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        import shap

        explainer = shap.KernelExplainer(self._output_fn(model, X.shape[1:]), flatten(background), link=self.link)
        with numpy_global_seed(seed_from(rng)):
            values = explainer.shap_values(flatten(X), nsamples=self.nsamples, l1_reg=self.l1_reg, silent=True)
        expected = np.atleast_1d(explainer.expected_value)[target]
        return Explanation(_of_target(values, X, target), "attribution", target,
                           extras={"expected_value": expected}, input_shape=X.shape[1:])


class _MaskerShap(_ModelAgnosticShap):
    """Permutation and exact SHAP: shap's Explainer API over an Independent masker, which
    replaces a hidden feature by its value in each background row (interventional Shapley)."""

    def _explain_masked(self, explainer_class, model, X, target, background, rng, max_evals, **options) -> Explanation:
        import shap

        masker = shap.maskers.Independent(flatten(background), max_samples=len(background))
        with numpy_global_seed(seed_from(rng)):
            explainer = explainer_class(self._output_fn(model, X.shape[1:]), masker, **options)
            result = explainer(flatten(X), max_evals=max_evals, batch_size=self.batch_size, silent=True)
        base = np.asarray(result.base_values, dtype=np.float64).reshape(len(X), -1)
        return Explanation(_of_target(result.values, X, target), "attribution", target,
                           extras={"expected_value": base[np.arange(len(X)), target]}, input_shape=X.shape[1:])


class PermutationShap(_MaskerShap):
    """`n_permutations` feature orderings, each walked forwards and backwards: 2d + 1 evaluations
    per permutation and background row."""

    def __init__(self, *, n_permutations: int = 10, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("permutation_shap n_permutations", n_permutations)
        self.n_permutations = n_permutations

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        import shap

        # Each of shap's permutations is walked forwards and backwards: 2d + 1 evaluations.
        max_evals = self.n_permutations * (2 * flatten(X).shape[1] + 1)
        # shap reseeds numpy's global RNG from `seed`, from the OS when it is None.
        return self._explain_masked(shap.explainers.PermutationExplainer, model, X, target, background, rng, max_evals,
                             seed=seed_from(rng))


class ExactShap(_MaskerShap):
    """All 2^d coalitions per instance: n/a above `max_features` features."""

    def __init__(self, *, max_features: int = 12, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("exact_shap max_features", max_features)
        self.max_features = max_features

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        d = flatten(X).shape[1]
        if d > self.max_features:
            raise NotApplicable(f"exact Shapley values of {d} features take 2^{d} coalitions per instance; exact_shap "
                                f"runs up to max_features={self.max_features} (raise it, or use permutation_shap)")
        import shap

        return self._explain_masked(shap.explainers.ExactExplainer, model, X, target, background, rng, 2**d)


class PartitionShap(_ModelAgnosticShap):
    """Owen values over shap's hierarchy of image regions (shap's Partition explainer with its
    Image masker, the way shap explains images): the image is split in halves, quarters, ... down
    to pixels, and `max_evals` model evaluations per image are spent from the top down on the
    regions whose removal matters. A hidden region takes the `baseline`'s values (a numeric mask:
    shap's blur and inpainting maskers need OpenCV, which bench does not depend on). Images only."""

    def __init__(self, *, max_evals: int = 500, baseline: Baseline = "mean", batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("partition_shap max_evals", max_evals)
        if baseline not in REFERENCES:
            raise ValueError(f"partition_shap baseline must be one of {REFERENCES}, got {baseline!r}")
        self.max_evals = max_evals
        self.baseline = baseline

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        if not is_image(X):
            raise NotApplicable(f"partition_shap splits images into regions (n, channels, height, width); these "
                                f"inputs have shape {X.shape}: use permutation_shap or kernel_shap on tables")
        import shap

        # shap's Image masker builds its regions over (height, width, channels).
        channels_last = np.moveaxis(np.asarray(X, dtype=np.float64), 1, -1)
        reference = np.moveaxis(reference_input(background, self.baseline), 0, -1)
        masker = shap.maskers.Image(reference, reference.shape)
        explainer = shap.explainers.Partition(
            lambda images: self.batched_output(model, np.moveaxis(np.asarray(images), -1, 1)), masker)
        values, expected = np.empty(flatten(X).shape), np.empty(len(X))
        with numpy_global_seed(seed_from(rng)):
            for column in np.unique(target):
                rows = target == column
                # shap's batch_size also decides which regions a budget opens (it expands the tree a
                # batch at a time): its own default keeps the values independent of ours, which
                # only splits model calls.
                result = explainer(channels_last[rows], max_evals=self.max_evals, outputs=[int(column)], silent=True)
                values[rows] = flatten(np.moveaxis(np.asarray(result.values)[..., 0], -1, 1))
                expected[rows] = np.asarray(result.base_values).reshape(rows.sum(), -1)[:, 0]
        return Explanation(values, "attribution", target, extras={"expected_value": expected},
                           input_shape=X.shape[1:])


def _by_target(explain_column, model, X: np.ndarray, target: np.ndarray,
               background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) attributions and (n,) expected values, explaining the rows of each target class
    with `explain_column(network's column, rows, background) -> (values, expected value)`, the
    rows and background as tensors on the network's device."""
    from bench.explainers._target_column import TargetColumn

    network = eval_module(model)
    device = module_device(network)
    values, expected = np.empty(flatten(X).shape), np.empty(len(X))
    for column in np.unique(target):
        rows = target == column
        values[rows], expected[rows] = explain_column(TargetColumn(network, int(column)), as_tensor(X[rows], device),
                                                      as_tensor(background, device))
    return values, expected


class GradientShap(BatchedExplainer):
    """Expected gradients: gradients at `nsamples` random points between the input and background
    rows (shap's default 200), with Gaussian noise of `local_smoothing` added to the input."""

    def __init__(self, *, nsamples: int = 200, local_smoothing: float = 0.0, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("gradient_shap nsamples", nsamples)
        self.nsamples = nsamples
        self.local_smoothing = local_smoothing

    def not_applicable(self, model) -> str | None:
        return needs_torch(model, "gradient_shap")

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        import shap

        from bench.models.training import seeded

        seed = seed_from(rng)

        def explain_column(network, rows, reference):
            explainer = shap.GradientExplainer(network, reference, batch_size=self.batch_size,
                                               local_smoothing=self.local_smoothing)
            values = explainer.shap_values(rows, nsamples=self.nsamples, rseed=seed)
            return _of_target(values, rows, np.zeros(len(rows), dtype=int)), np.nan

        # shap reseeds numpy's global RNG with rseed, and draws local smoothing from torch's.
        with seeded(seed), numpy_global_seed(seed):
            values, _ = _by_target(explain_column, model, X, target, background)
        return Explanation(values, "attribution", target, input_shape=X.shape[1:])


class DeepShap(Explainer):
    """DeepLIFT's multipliers averaged over background rows. shap follows a network's layers
    through module hooks; a computation outside them (a product of activations, a functional
    softmax) breaks additivity, and that is reported as n/a, not as attributions."""

    def not_applicable(self, model) -> str | None:
        return needs_torch(model, "deep_shap")

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        import shap

        def explain_column(network, rows, reference):
            explainer = shap.DeepExplainer(network, reference)
            try:
                with warnings.catch_warnings():
                    # A binary model's BinaryLogits is linear: shap's plain gradient through a module
                    # it does not know is DeepLIFT's rule for it (the additivity check confirms).
                    warnings.filterwarnings("ignore", message="unrecognized nn.Module: BinaryLogits")
                    values = explainer.shap_values(rows, check_additivity=True)
            except AssertionError as e:
                raise NotApplicable("the network computes outside DeepLIFT's layer rules: DeepSHAP values do not add "
                                    f"up to its output ({' '.join(str(e).split()[-6:])})") from e
            return _of_target(values, rows, np.zeros(len(rows), dtype=int)), np.atleast_1d(explainer.expected_value)[0]

        network = eval_module(model)
        own = {id(module): set(module._parameters) for module in network.modules()}
        try:
            values, expected = _by_target(explain_column, model, X, target, background)
        finally:
            _remove_interim_values(network, own)
        return Explanation(values, "attribution", target, extras={"expected_value": expected}, input_shape=X.shape[1:])


def _remove_interim_values(network: nn.Module, own: dict[int, set[str]]) -> None:
    """shap's DeepExplainer stores each layer's input and output as parameters `x` and `y` and
    removes them only below containers (nn.Sequential, ...): inside another module (a counted or
    target-column wrapper) they stay, and a later sanity check would see a ReLU with parameters.
    Removes the `x` and `y` a module did not have before (`own`: its parameter names then)."""
    for module in network.modules():
        for name in ("x", "y"):
            if name in module._parameters and name not in own.get(id(module), set()):
                del module._parameters[name]
