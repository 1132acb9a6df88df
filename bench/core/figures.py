"""Figures as files: matplotlib on its file-only backend, a PNG written atomically, and an image
drawn into an axis. Imported before pyplot anywhere, so that no window is ever opened."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never a window, also on machines without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.core.io import atomic_path  # noqa: E402


def save_png(figure, path: Path, dpi: int = 110) -> Path:
    """The figure laid out, written to `path` atomically, and closed."""
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi)
    plt.close(figure)
    return path


def in_256_colours(path: Path) -> bytes:
    """The PNG at `path` again with a palette of 256 colours: plots, heatmaps and a page's text
    lose nothing visible, and the file is a half to a third of its size."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(256)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def show_image(axis, image: np.ndarray, title: str = "", **options) -> None:
    """One (channels, height, width) image in `axis`, without ticks: grey levels in [0, 1] (the
    range of the image data here) unless `options` say otherwise, or colour with 3 channels."""
    axis.imshow(image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1),
                **({"cmap": "gray", "vmin": 0, "vmax": 1} | options))
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title, fontsize=7)
