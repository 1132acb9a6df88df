"""The pictures a model draws of itself on an image task, beside the fold's explanation picture
(bench/report/gallery.py): a concepts model's attributes (FLINT, bench/report/concept_pictures.py) and a
meta-learner's paths (CNN-INTE, bench/report/path_pictures.py). They depend on the model alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.report.concept_pictures import concept_picture_paths, draw_concept_pictures
from bench.report.path_pictures import draw_path_pictures, path_picture_paths


@dataclass(frozen=True)
class ModelPictures:
    what: str  # for the log: "attributes", "paths"
    paths: Callable[[Path], list[Path]]  # the files drawn for a stem
    draw: Callable[[object, np.ndarray, np.ndarray, Path], list[Path]]  # (model, X_train, X_test, stem)


def model_pictures(model) -> ModelPictures | None:
    """What `model` (fitted or not) draws of itself, or None."""
    if callable(getattr(model, "global_relevance", None)):
        return ModelPictures("attributes", concept_picture_paths, draw_concept_pictures)
    if callable(getattr(model, "prototype_images", None)):
        return ModelPictures("paths", path_picture_paths,
                             lambda fitted, X_train, X_test, stem: draw_path_pictures(fitted, X_test, stem))
    return None
