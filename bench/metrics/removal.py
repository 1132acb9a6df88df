"""What the removal metrics (deletion and insertion, faithfulness correlation, ROAD) share: the
units an input is removed by, and what stands in for a removed unit.

Units are the input's features, or, for an image with `patch` set, its square patches of
`patch` x `patch` pixels (all channels together; bench.core.images.patch_groups): removing 784 MNIST
pixels one at a time asks 784 questions whose answers mostly repeat, and a patch's attribution is
the sum of its pixels'. A removed unit takes its values from the `removal` reference:
- "mean" or "zero": the background's mean, or 0 (bench.core.explanation.reference_input), or
- "blur": the same image blurred (bench.core.images.blurred; images only), which removes the detail
  and keeps the low frequencies, so that the model is not shown an out-of-distribution grey hole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy.sparse import csr_matrix

from bench.core.explanation import reference_input
from bench.core.images import blurred, patch_groups, require_images

Removal = Literal["mean", "zero", "blur"]
REMOVALS = get_args(Removal)


@dataclass(frozen=True)
class Units:
    """How d input positions group into `count` removal units."""

    groups: np.ndarray | None  # (d,) the unit of each flattened position; None: one unit per position
    count: int

    def scores(self, attributions: np.ndarray) -> np.ndarray:
        """(n, count) each unit's attribution, the sum of its positions'."""
        if self.groups is None:
            return attributions
        membership = csr_matrix((np.ones(len(self.groups)), (np.arange(len(self.groups)), self.groups)),
                                shape=(len(self.groups), self.count))
        return np.asarray((membership.T @ attributions.T).T)

    def expand(self, per_unit: np.ndarray) -> np.ndarray:
        """(..., d) each position's value of its unit, from (..., count)."""
        return per_unit if self.groups is None else per_unit[..., self.groups]


def removal_units(X: np.ndarray, patch: int | None) -> Units:
    d = int(np.prod(X.shape[1:]))
    if patch is None:
        return Units(None, d)
    require_images(X, f"removal by patches (patch={patch})")
    groups = patch_groups(X.shape[1:], patch).reshape(d)
    return Units(groups, int(groups.max()) + 1)


def removed_values(X: np.ndarray, background: np.ndarray, removal: str) -> np.ndarray:
    """(n, d) what each flattened position of each row of X becomes when removed."""
    if removal not in REMOVALS:
        raise ValueError(f"removal must be one of {REMOVALS}, got {removal!r}")
    n, d = len(X), int(np.prod(X.shape[1:]))
    if removal == "blur":
        return blurred(X).reshape(n, d)
    return np.broadcast_to(reference_input(background, removal).reshape(d), (n, d))
