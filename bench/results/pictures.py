"""What the pictures of an image fold are drawn from: computed by the run with the fold's model and
data (bench/pipeline/pictures.py), stored beside the fold's model as the artifact PICTURES, and
drawn by the report (bench/report/pictures.py). The report needs neither the model nor the data,
so a lost picture is drawn again without training or loading anything; whether a fold is done
depends on its rows alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PICTURES = "pictures.pkl"  # a fit unit's artifact: its FoldPictures


@dataclass(frozen=True)
class GalleryRow:
    explainer: str
    heatmaps: np.ndarray  # (k, height, width)
    fractions: np.ndarray  # (m,) fraction of the input removed
    curves: np.ndarray  # (k, m) the explained output along the deletion


@dataclass(frozen=True)
class Gallery:
    """The fold's explanations: its first explained images and each explainer's row of them."""

    title: str
    images: np.ndarray  # (k, C, H, W)
    rows: tuple[GalleryRow, ...]


@dataclass(frozen=True)
class ConceptPictures:
    """A concepts model's attributes (FLINT), as bench/report/concept_pictures.py draws them."""

    relevance: np.ndarray  # (C, J) class-attribute relevance r_jc
    relevant: float  # the r_jc above which an attribute counts as relevant to a class
    rows: tuple[int, ...]  # the attributes of the attributes picture
    most_activating: dict[int, np.ndarray]  # attribute -> its most activating training samples (images)
    maximisation: dict[int, np.ndarray]  # attribute -> its activation-maximisation image (AM+PI)
    local_images: np.ndarray  # (n, C, H, W) test images explained locally
    local_targets: np.ndarray  # (n,) the class each is explained for
    local_top: np.ndarray  # (n, t) the attributes most relevant to each
    local_relevance: np.ndarray  # (n, J)
    local_gradients: np.ndarray  # (n, t, 1, H, W) each top attribute's input attribution, channels summed


@dataclass(frozen=True)
class PathPictures:
    """A meta-learner's paths (CNN-INTE), as bench/report/path_pictures.py draws them."""

    rows: np.ndarray  # (n,) the test rows drawn
    images: np.ndarray  # (n, C, H, W)
    classes: np.ndarray  # the model's class labels
    targets: np.ndarray  # (n,) the predicted class index of each
    prototypes: np.ndarray  # (n, 2, C, H, W) its cluster's and its sub-cluster's prototype
    subclusters: np.ndarray  # (n,) its sub-cluster's index within its cluster
    n_subclusters: int
    extras: dict  # the explanation's path: cluster, distances, learners' votes, the combiner's decision


@dataclass(frozen=True)
class FoldPictures:
    name: str  # the pictures' file stem: <dataset>-<model>-<model hash>-fold<k>-seed<s>
    gallery: Gallery | None
    concepts: ConceptPictures | None = None
    paths: PathPictures | None = None
