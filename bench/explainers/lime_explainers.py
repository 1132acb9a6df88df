"""LIME (Ribeiro, Singh, Guestrin, KDD 2016) through `lime`: a locally weighted linear
surrogate fitted on perturbations of each instance; its coefficients are the attributions of
the target output (class probability, or the regression output). lime (and scikit-image,
which it imports) is imported in the methods that compute: `--help` reads only the constructors
(bench/explainers/base.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args
from unittest import mock

import numpy as np

from bench.core.errors import NotApplicable
from bench.explainers.base import BatchedExplainer, check_positive_int, seed_from
from bench.core.explanation import Explanation
from bench.models.base import is_classifier

if TYPE_CHECKING:
    from lime.lime_image import LimeImageExplainer

# lime files a regressor's weights under label 1 (label 0 holds their negation).
REGRESSION_LABEL = 1
ALL_FEATURES = 10**9  # lime's num_features for "keep every superpixel"
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

    `every_class=True` also fits the surrogate of every other class on the same perturbations
    and keeps each surrogate's value at the instance in `extras["surrogate_prediction"]` (n, C):
    LIME read as a post-hoc interpreter, whose argmax `surrogate_fidelity` compares with the
    model's class (FLINT's "Fid. LIME"). It costs one ridge fit per class."""

    needs_background = False

    def __init__(self, *, num_samples: int = 1000, segmentation: Segmentation = "grid", cell_size: int = 2,
                 hide_color: float | None = None, kernel_width: float = 0.25, num_features: int | None = None,
                 every_class: bool = False, batch_size: int = 4096):
        super().__init__(batch_size=batch_size)
        if segmentation not in SEGMENTATIONS:
            raise ValueError(f"lime_image segmentation must be one of {SEGMENTATIONS}, got {segmentation!r}")
        check_positive_int("lime_image num_samples", num_samples)
        check_positive_int("lime_image cell_size", cell_size)
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

        return SegmentationAlgorithm(self.segmentation, random_seed=seed)

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
        n_classes = len(model.classes_)
        values, local_prediction = np.zeros(X.shape), np.zeros((len(X), n_classes))
        # lime 0.2.0.1, the last release, draws a progress bar on stderr for every image and has
        # no switch for it (its unreleased master has `progress_bar`).
        with mock.patch.object(lime_image, "tqdm", lambda rows: rows):
            for i, (image, t) in enumerate(zip(np.asarray(X, dtype=np.float64), target, strict=True)):
                self._explain_one(explainer, predict, image, int(t), seed, values[i], local_prediction[i])
        extras = {"surrogate_prediction": local_prediction} if self.every_class else {}
        return Explanation(values.reshape(len(X), -1), "attribution", target, input_shape=X.shape[1:], extras=extras)

    def _explain_one(self, explainer: LimeImageExplainer, predict, image: np.ndarray, target: int, seed: int,
                     values: np.ndarray, local_prediction: np.ndarray) -> None:
        """Fills one image's `values` (C, H, W) and, with `every_class`, its `local_prediction` (C,)."""
        rgb = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image
        labels = range(len(local_prediction)) if self.every_class else (target,)
        surrogate = explainer.explain_instance(
            rgb.transpose(1, 2, 0), predict, labels=labels, top_labels=None, hide_color=self.hide_color,
            num_features=self.num_features or ALL_FEATURES, num_samples=self.num_samples, batch_size=self.batch_size,
            segmentation_fn=self._segments(seed), random_seed=seed)
        for segment, weight in surrogate.local_exp[target]:
            values[:, surrogate.segments == segment] = weight
        if self.every_class:
            # The instance is the perturbation with every superpixel on (all ones), so each
            # surrogate's value there is its intercept plus all its weights (lime keeps
            # `local_pred` of the last label only).
            local_prediction[:] = [surrogate.intercept[c] + sum(w for _, w in surrogate.local_exp[c])
                                   for c in range(len(local_prediction))]
