"""LIME (Ribeiro, Singh, Guestrin, KDD 2016) through `lime`: a locally weighted linear
surrogate fitted on perturbations of each instance; its coefficients are the attributions of
the target output (class probability, or the regression output). lime (and scikit-image,
which it imports) is imported in the methods that compute: `--help` reads only the constructors
(bench/explainers/base.py)."""

from __future__ import annotations

from typing import Literal, get_args
from unittest import mock

import numpy as np

from bench.core.errors import NotApplicable
from bench.explainers.base import BatchedExplainer, check_positive_int, seed_from
from bench.core.explanation import Explanation
from bench.models.base import is_classifier

# lime files a regressor's weights under label 1 (label 0 holds their negation).
REGRESSION_LABEL = 1
ALL_FEATURES = 10**9  # lime's num_features for "keep every superpixel"
# What LimeImage(every_class=True) keeps of its surrogates read as an interpreter (its extras).
INTERPRETER_READINGS = ("surrogate_prediction", "held_out_model_class", "held_out_surrogate_class")
Segmentation = Literal["grid", "quickshift", "slic", "felzenszwalb"]
SEGMENTATIONS = get_args(Segmentation)


def check_kernel_width(method: str, kernel_width: float | None) -> None:
    # A width of 0 weighs every perturbation NaN, and the surrogate's fit fails on each instance.
    if kernel_width is not None and not kernel_width > 0:
        raise ValueError(f"{method} kernel_width must be positive (None: lime's default), got {kernel_width!r}")


class LimeTabular(BatchedExplainer):
    """`num_samples` perturbations per instance (lime's default 5000), weighted by an exponential
    kernel of `kernel_width` (None: lime's 0.75 sqrt(d)). `discretize_continuous=True` (lime's
    default) explains with quartile-bin indicators; False fits the surrogate on the standardised
    features. The perturbation statistics come from the background (training) rows."""

    def __init__(self, *, num_samples: int = 5000, discretize_continuous: bool = True,
                 kernel_width: float | None = None, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        check_positive_int("lime num_samples", num_samples)
        check_kernel_width("lime", kernel_width)
        self.num_samples = num_samples
        self.discretize_continuous = discretize_continuous
        self.kernel_width = kernel_width

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        if X.ndim != 2:
            raise NotApplicable(f"tabular LIME explains rows of features; these inputs have shape {X.shape} "
                                "(use lime_image for images)")
        from lime.lime_tabular import LimeTabularExplainer

        classifier = is_classifier(model)
        explainer = LimeTabularExplainer(
            np.asarray(background, dtype=np.float64), mode="classification" if classifier else "regression",
            discretize_continuous=self.discretize_continuous, kernel_width=self.kernel_width,
            # Every feature is explained, so selecting features would pick them all: "none" fits
            # the same surrogate once, where "auto" (forward selection for d <= 6) fits it d^2 times.
            feature_selection="none", random_state=seed_from(rng),
        )
        output = lambda rows: self.batched_output(model, rows)  # noqa: E731
        predict = output if classifier else (lambda rows: output(rows)[:, 0])
        values, intercepts, scores = np.zeros(X.shape), np.zeros(len(X)), np.zeros(len(X))
        for i, (x, t) in enumerate(zip(np.asarray(X, dtype=np.float64), target, strict=True)):
            label = int(t) if classifier else REGRESSION_LABEL
            surrogate = explainer.explain_instance(x, predict, labels=(label,), num_features=X.shape[1],
                                                   num_samples=self.num_samples)
            for feature, weight in surrogate.local_exp[label]:
                values[i, feature] = weight
            intercepts[i], scores[i] = surrogate.intercept[label], surrogate.score
        return Explanation(values, "attribution", target, extras={"intercept": intercepts, "surrogate_r2": scores})


class LimeImage(BatchedExplainer):
    """Superpixels switched on and off in `num_samples` perturbations (lime's default 1000),
    weighted by a kernel of `kernel_width` (lime_image's 0.25); every pixel (and channel) of a superpixel gets its
    weight. `segmentation="grid"` cuts square cells of `cell_size` pixels, which suits small
    images (quickshift, lime's default, finds few segments in an 8x8 digit); the others are
    scikit-image's algorithms with their default parameters. `hide_color=None` fills a hidden
    superpixel with its mean value (lime's default).

    `num_features`: the superpixels each surrogate keeps (lime's highest-weight selection; the
    others get weight 0); None keeps every one (lime_image's default).

    `every_class=True` reads LIME as a post-hoc interpreter (FLINT's "Fid. LIME"): it also fits the
    surrogate of every other class on the same perturbations, and classifies `held_out_samples`
    more perturbations of each image, which no surrogate was fitted on, drawn from the same
    distribution (each superpixel on or off with probability 1/2; the same segmentation and
    hidden colour) with the explainer's rng: the model's class of each, and the surrogates' (the
    class whose surrogate is highest there), in `extras["held_out_model_class"]` and
    `extras["held_out_surrogate_class"]` (n, held_out_samples), which `surrogate_fidelity`
    compares. `extras["surrogate_prediction"]` (n, C) keeps each surrogate's value at the
    instance (every superpixel on), which `surrogate_fidelity_at_instance` reads: a diagnostic,
    since the instance is among the perturbations each surrogate was fitted on, with the largest
    kernel weight. It costs one ridge fit per class and `held_out_samples` model evaluations per
    image."""

    needs_background = False

    def __init__(self, *, num_samples: int = 1000, segmentation: Segmentation = "grid", cell_size: int = 2,
                 hide_color: float | None = None, kernel_width: float = 0.25, num_features: int | None = None,
                 every_class: bool = False, held_out_samples: int = 100, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        if segmentation not in SEGMENTATIONS:
            raise ValueError(f"lime_image segmentation must be one of {SEGMENTATIONS}, got {segmentation!r}")
        check_positive_int("lime_image num_samples", num_samples)
        check_positive_int("lime_image cell_size", cell_size)
        check_positive_int("lime_image held_out_samples", held_out_samples)
        check_kernel_width("lime_image", kernel_width)
        self.num_samples = num_samples
        self.segmentation = segmentation
        self.cell_size = cell_size
        self.hide_color = hide_color
        self.kernel_width = kernel_width
        if num_features is not None:
            check_positive_int("lime_image num_features", num_features)
        self.num_features = num_features
        self.every_class = every_class
        self.held_out_samples = held_out_samples

    def not_applicable(self, model) -> str | None:
        if not is_classifier(model):
            return f"{type(model).__name__} is a regressor: lime_image explains class probabilities"
        return None

    def _segments(self, seed: int):
        if self.segmentation == "grid":
            cell = self.cell_size
            return lambda image: ((np.arange(image.shape[0])[:, None] // cell) * -(-image.shape[1] // cell)
                                  + np.arange(image.shape[1])[None, :] // cell)
        from lime.wrappers.scikit_image import SegmentationAlgorithm

        algorithm = SegmentationAlgorithm(self.segmentation, random_seed=seed)
        # lime reads superpixel z as the pixels labelled z, for z in 0..S-1; SLIC labels from 1, so
        # its last superpixel would never be hidden and feature 0 would hide nothing: relabelled.
        return lambda image: np.unique(algorithm(image), return_inverse=True)[1].reshape(image.shape[:2])

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        if X.ndim != 4 or X.shape[1] not in (1, 3):
            raise NotApplicable(f"lime_image explains grey or RGB images (n, 1 or 3, height, width); these inputs "
                                f"have shape {X.shape}")
        from lime import lime_image
        from lime.lime_image import LimeImageExplainer

        channels = X.shape[1]

        def predict(images: np.ndarray) -> np.ndarray:  # lime's (N, H, W, 3) back to (N, C, H, W)
            images = images[..., :1] if channels == 1 else images
            return self.batched_output(model, np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32))

        seed = seed_from(rng)
        # Every superpixel: "none" fits the surrogate once (lime's "auto" fits it twice). The top
        # superpixels: "highest_weights", where "auto" would pick forward selection for 6 or fewer,
        # one ridge fit per candidate superpixel and step.
        selection = "none" if self.num_features is None else "highest_weights"
        explainer = LimeImageExplainer(kernel_width=self.kernel_width, feature_selection=selection,
                                       random_state=seed)
        values, readings = np.zeros(X.shape), []
        # lime 0.2.0.1, the last release, draws a progress bar on stderr for every image and has
        # no switch for it (its unreleased master has `progress_bar`).
        with mock.patch.object(lime_image, "tqdm", lambda rows: rows):
            for i, (image, t) in enumerate(zip(np.asarray(X, dtype=np.float64), target, strict=True)):
                rgb = np.repeat(image, 3, axis=0).transpose(1, 2, 0) if channels == 1 else image.transpose(1, 2, 0)
                classes = range(len(model.classes_)) if self.every_class else (int(t),)
                surrogate = explainer.explain_instance(
                    rgb, predict, labels=classes, top_labels=None, hide_color=self.hide_color,
                    num_features=self.num_features or ALL_FEATURES, num_samples=self.num_samples,
                    batch_size=self.batch_size, segmentation_fn=self._segments(seed), random_seed=seed)
                for segment, weight in surrogate.local_exp[int(t)]:
                    values[i][:, surrogate.segments == segment] = weight
                if self.every_class:
                    readings.append(self._read_as_interpreter(surrogate, rgb, predict, len(classes), rng))
        extras = {name: np.array([reading[name] for reading in readings]) for name in INTERPRETER_READINGS} \
            if self.every_class else {}
        return Explanation(values.reshape(len(X), -1), "attribution", target, input_shape=X.shape[1:], extras=extras)

    def _read_as_interpreter(self, surrogate, rgb: np.ndarray, predict, n_classes: int,
                             rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One image's surrogates of every class read as an interpreter: their values at the
        instance, and the classes the model and the surrogates give `held_out_samples` fresh
        perturbations of it (see the class docstring)."""
        intercepts, weights = class_surrogates(surrogate, n_classes)
        masks = rng.integers(0, 2, size=(self.held_out_samples, weights.shape[1]))
        shown = masks[:, surrogate.segments].astype(bool)[..., None]  # (m, H, W, 1): the pixels left on
        neighbours = np.where(shown, rgb, hidden_image(rgb, surrogate.segments, self.hide_color))
        return {"surrogate_prediction": intercepts + weights.sum(axis=1),  # every superpixel on: all ones
                "held_out_model_class": predict(neighbours).argmax(axis=1),
                "held_out_surrogate_class": (intercepts + masks @ weights.T).argmax(axis=1)}


def class_surrogates(surrogate, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(C,) intercepts and (C, S) weights of lime's surrogate of each class over its S superpixels
    (0 for a superpixel a surrogate did not keep): class c's surrogate at a perturbation z in
    {0, 1}^S is intercepts[c] + weights[c] @ z."""
    weights = np.zeros((n_classes, len(np.unique(surrogate.segments))))
    for c in range(n_classes):
        for segment, weight in surrogate.local_exp[c]:
            weights[c, segment] = weight
    return np.array([surrogate.intercept[c] for c in range(n_classes)]), weights


def hidden_image(rgb: np.ndarray, segments: np.ndarray, hide_color: float | None) -> np.ndarray:
    """(H, W, 3) what lime_image shows where a superpixel is off, as its explain_instance builds
    it: `hide_color`, or each superpixel's mean colour where None."""
    if hide_color is not None:
        return np.full_like(rgb, hide_color)
    hidden = np.empty_like(rgb)
    for segment in np.unique(segments):
        hidden[segments == segment] = rgb[segments == segment].mean(axis=0)
    return hidden
