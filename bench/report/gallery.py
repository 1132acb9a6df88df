"""Pictures of image explanations. People look at image explanations; they do not read them.

For a fold of an image task: a grid whose first row is a sample of the explained test images and
each further row one explainer's heatmaps of them (channels summed; a diverging colormap centred
at zero, each panel scaled to its own largest |attribution|, red for evidence for the explained
class, blue against), with a last column of that explainer's deletion curves, one line per image
(computed by the run: bench/pipeline/pictures.py). Drawn into RESULTS/figures/explanations/
(bench/report/pictures.py); the leaderboard page shows every picture found there."""

from __future__ import annotations

from pathlib import Path

from bench.core.figures import plt, save_png, show_image  # first: it sets matplotlib's file-only backend
import numpy as np  # noqa: E402

from bench.results.pictures import GalleryRow  # noqa: E402

GALLERY_FOLDER = Path("figures") / "explanations"


def draw_gallery(images: np.ndarray, rows: list[GalleryRow], title: str, path: Path) -> int:
    """Writes the grid to `path` (PNG, atomically); returns its number of panels."""
    k = len(images)
    images = np.asarray(images, dtype=np.float64)
    # Shown as grey levels (the channels' mean) or as colour (3 channels), each image stretched
    # to [0, 1]: standardised inputs are not in [0, 1].
    images = images if images.shape[1] == 3 else images.mean(axis=1, keepdims=True)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    images = (images - low) / np.maximum(images.max(axis=(1, 2, 3), keepdims=True) - low, 1e-12)
    figure = plt.figure(figsize=(1.4 * (k + 1.6), 1.4 * (len(rows) + 1)))
    grid = figure.add_gridspec(len(rows) + 1, k + 1, width_ratios=[1] * k + [1.6])
    for column, image in enumerate(images):
        show_image(figure.add_subplot(grid[0, column]), image, f"image {column + 1}")
    for r, row in enumerate(rows, start=1):
        for column, heatmap in enumerate(row.heatmaps):
            axis = figure.add_subplot(grid[r, column])
            scale = np.abs(heatmap).max() or 1.0
            axis.imshow(heatmap, cmap="RdBu_r", vmin=-scale, vmax=scale)
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(row.explainer, fontsize=8, rotation=0, ha="right", va="center")
        axis = figure.add_subplot(grid[r, k])
        for column, curve in enumerate(row.curves):
            axis.plot(row.fractions, curve, linewidth=1, label=f"image {column + 1}")
        axis.set_ylim(-0.02, max(1.0, float(np.nanmax(row.curves))) + 0.02)
        axis.tick_params(labelsize=6)
        if r == 1:
            axis.set_title("deletion curve", fontsize=8)
        if r == len(rows):
            axis.set_xlabel("fraction removed", fontsize=7)
    figure.suptitle(title, fontsize=9)
    panels = len(figure.axes)
    save_png(figure, path, dpi=100)
    return panels


def gallery_files(results_root: str | Path) -> list[Path]:
    """Every picture the runs under `results_root` drew, in name order."""
    return sorted((Path(results_root) / GALLERY_FOLDER).glob("*.png"))
