"""The pictures of image folds, drawn from what the runs stored (bench/results/pictures.py) into
RESULTS/figures/explanations/: the fold's gallery (bench/report/gallery.py) and the model's own
pictures (bench/report/concept_pictures.py, bench/report/path_pictures.py). A picture is drawn
when it is missing or older than what it is drawn from, so a lost picture comes back and a fold
computed again is drawn again, without training or loading anything."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bench.core.errors import one_line
from bench.report.concept_pictures import concept_picture_paths, draw_concept_pictures
from bench.report.gallery import GALLERY_FOLDER, draw_gallery
from bench.report.path_pictures import draw_path_pictures, path_picture_paths
from bench.results import ResultStore
from bench.results.pictures import PICTURES, FoldPictures

log = logging.getLogger("bench")


def picture_drawers(pictures: FoldPictures, stem: Path) -> list[tuple[list[Path], Callable[[], object]]]:
    """(the files, how to draw them) of each picture of the fold."""
    drawers = []
    if pictures.gallery is not None:
        gallery = pictures.gallery
        drawers.append(([stem.with_suffix(".png")],
                        lambda: draw_gallery(gallery.images, list(gallery.rows), gallery.title, stem.with_suffix(".png"))))
    if pictures.concepts is not None:
        drawers.append((concept_picture_paths(stem), lambda: draw_concept_pictures(pictures.concepts, stem)))
    if pictures.paths is not None:
        drawers.append((path_picture_paths(stem), lambda: draw_path_pictures(pictures.paths, stem)))
    return drawers


def draw_pictures(store: ResultStore, artifacts: list[Path] | None = None) -> list[Path]:
    """Draws the pictures of the stored `artifacts` (every fold's under the store, by default) that
    are missing or older than their artifact; returns the files drawn. A picture that cannot be
    drawn is a warning: the rows it would show are stored."""
    drawn = []
    folder = store.root / GALLERY_FOLDER
    for artifact in store.artifact_files(PICTURES) if artifacts is None else artifacts:
        pictures = store.load_artifact_at(artifact)
        if pictures is None:
            continue
        stored_at = artifact.stat().st_mtime_ns
        for paths, draw in picture_drawers(pictures, folder / pictures.name):
            if all(path.exists() and path.stat().st_mtime_ns >= stored_at for path in paths):
                continue
            try:
                draw()
            except Exception as e:
                log.warning("%s: a picture could not be drawn: %s", pictures.name, one_line(e))
                continue
            drawn += paths
            log.info("%s drawn in %s", ", ".join(path.name for path in paths), folder)
    return drawn
