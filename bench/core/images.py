"""What explainers and metrics share about images, (n, channels, height, width) arrays: square
patches as feature groups, and a blurred copy as the "information removed" reference."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from bench.core.errors import NotApplicable

# The blur reference's standard deviation in pixels. RISE (Petsiuk et al. 2018) blurs 224-pixel
# ImageNet images with sigma 5; on 28-pixel MNIST the same relative width (0.6 px) would leave a
# digit legible, while 2 px (about a stroke's width) removes its shape and keeps its mass.
BLUR_SIGMA = 2.0


def is_image(X: np.ndarray) -> bool:
    return np.ndim(X) == 4


def require_images(X: np.ndarray, what: str) -> None:
    """An image-only method on a table is n/a for that task, with the reason, not a failure."""
    if not is_image(X):
        raise NotApplicable(f"{what} applies to images (n, channels, height, width); these inputs have shape "
                         f"{np.shape(X)}")


def patch_groups(image_shape: tuple[int, ...], patch: int) -> np.ndarray:
    """(channels, height, width) group ids: the square `patch` x `patch` cell of each pixel,
    numbered row by row, the same in every channel (edge cells smaller)."""
    if patch < 1:
        raise ValueError(f"patch must be a positive number of pixels, got {patch}")
    channels, height, width = image_shape
    rows, columns = np.arange(height)[:, None] // patch, np.arange(width)[None, :] // patch
    cells = rows * -(-width // patch) + columns
    return np.broadcast_to(cells, (channels, height, width)).copy()


def blurred(X: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    """Each image's channels blurred by a Gaussian of `sigma` pixels (edges reflected)."""
    require_images(X, "the blur baseline")
    return gaussian_filter(np.asarray(X, dtype=np.float64), sigma=(0, 0, sigma, sigma), mode="reflect")
