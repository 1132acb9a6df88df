"""The value every explainer returns and every explanation metric reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("attribution", "concepts", "path")
REFERENCES = ("mean", "zero")  # what stands in for a removed feature


def reference_input(background: np.ndarray, reference: str) -> np.ndarray:
    """One input, shaped like a background row, that removal-based explainers and metrics put in
    place of removed features: the background's mean, or zeros."""
    if reference not in REFERENCES:
        raise ValueError(f"baseline must be one of {REFERENCES}, got {reference!r}")
    background = np.asarray(background, dtype=np.float64)
    return background.mean(axis=0) if reference == "mean" else np.zeros(background.shape[1:])


@dataclass(frozen=True)
class Explanation:
    """`values`: (n, d) feature attributions for the `target` output of each instance, in the
    model's (flattened) input space; `extras` holds method-specific outputs (e.g. shap's
    expected value, an image's shape)."""

    values: np.ndarray
    kind: str
    target: np.ndarray
    interactions: np.ndarray | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Explanation.kind must be one of {KINDS}, got {self.kind!r}")
        if self.values.ndim not in (2, 3):
            raise ValueError(f"Explanation.values must be (n, d) or (n, C, d), got shape {self.values.shape}")
        if len(self.target) != len(self.values):
            raise ValueError(f"{len(self.values)} explained instances but {len(self.target)} targets")

    def by_source_column(self, source_columns: list[str]) -> pd.DataFrame:
        """(n, original columns) attributions: the model's input features summed per column of
        the data they encode (a one-hot group sums to its categorical column)."""
        if self.values.ndim != 2 or self.values.shape[1] != len(source_columns):
            raise ValueError(f"{self.values.shape[1:]} attributions do not match {len(source_columns)} encoded columns")
        frame = pd.DataFrame(self.values, columns=source_columns)
        return frame.T.groupby(level=0, sort=False).sum().T
