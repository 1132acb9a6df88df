"""The picture of image explanations: one panel per image and heatmap, one deletion plot per
explainer; drawn by the report from what the run stored, and shown on the leaderboard page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from bench.pipeline.pictures import gallery_row, pictures_name
from bench.report.gallery import GALLERY_FOLDER, draw_gallery, gallery_files
from bench.report.main import main as report
from bench.results import FitUnit, ResultStore
from bench.results.pictures import PICTURES, FoldPictures, Gallery, GalleryRow
from tests.metrics.conftest import Linear, explanation, make_context


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_a_gallery_has_a_panel_per_image_and_heatmap_and_a_curve_per_explainer(tmp_path, channels):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(3, channels, 6, 6))  # standardised: not in [0, 1]
    rows = [GalleryRow(name, rng.normal(size=(3, 6, 6)), np.linspace(0, 1, 5), rng.random((3, 5)))
            for name in ("saliency", "occlusion")]
    path = tmp_path / "figures" / "picture.png"
    # 3 originals, 2 x 3 heatmaps, 2 deletion plots.
    assert draw_gallery(images, rows, "a title", path) == 3 + 2 * 3 + 2
    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_gallery_row_holds_the_first_images_heatmaps_and_their_deletion_curves():
    w = np.arange(16.0)
    model, X = Linear(w), np.ones((6, 1, 4, 4))
    row = gallery_row("exact", model, X, explanation((X * w.reshape(1, 4, 4)).reshape(6, -1)),
                      make_context(np.zeros((1, 1, 4, 4))), {"replacement": "zero", "step": 4},
                      np.random.default_rng(0))
    assert row.heatmaps.shape == (4, 4, 4)  # the first 4 images, channels summed
    np.testing.assert_allclose(row.fractions, [0, 0.25, 0.5, 0.75, 1])
    # Pixels 15..0 removed 4 at a time: 120, 120 - 54, 120 - 92, 120 - 114, 0.
    np.testing.assert_allclose(row.curves, np.tile([120, 66, 28, 6, 0], (4, 1)))


def test_the_report_draws_the_stored_pictures_and_the_page_shows_them(tmp_path):
    results = tmp_path / "results"
    unit = FitUnit("mnist", "mnist_embedded", "mnist_embedded", 0, 0, "cnn", "m", "x")
    rng = np.random.default_rng(0)
    row = GalleryRow("saliency", rng.normal(size=(2, 4, 4)), np.linspace(0, 1, 3), rng.random((2, 3)))
    store = ResultStore(results)
    store.save_artifact(unit, PICTURES, FoldPictures(pictures_name(unit), Gallery("t", rng.random((2, 1, 4, 4)), (row,))))
    rows = pd.DataFrame([{"run_id": "r", "unit": "u", "suite": "mnist", "dataset": "mnist_embedded", "fold": 0,
                          "seed": 0, "model": "cnn", "category": "prediction", "metric": "accuracy", "value": 0.9,
                          "higher_is_better": True, "status": "ok"}])
    (results / "rows").mkdir(parents=True)
    rows.to_parquet(results / "rows" / "u.parquet")
    stale = results / "leaderboard" / "galleries" / "of-an-earlier-run.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    assert report(["--results", str(results)]) == 0
    picture = results / GALLERY_FOLDER / f"{pictures_name(unit)}.png"
    assert gallery_files(results) == [picture]  # drawn from the stored data: no model, no data
    page = (results / "leaderboard" / "index.html").read_text()
    assert "Explanations of images" in page and f'loading="lazy" src="galleries/{picture.name}"' in page
    with Image.open(results / "leaderboard" / "galleries" / picture.name) as beside:  # beside the page, in 256 colours
        assert beside.mode == "P" and beside.size == Image.open(picture).size
    assert not stale.exists()
    # Drawn once: a picture newer than its data is left alone; a lost one comes back.
    drawn = picture.stat().st_mtime_ns
    assert report(["--results", str(results)]) == 0 and picture.stat().st_mtime_ns == drawn
    picture.unlink()
    assert report(["--results", str(results)]) == 0 and picture.exists()
