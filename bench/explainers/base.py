"""Explainer interface: options in the constructor, data in `explain`.

`explain(model, X, *, target, background, rng) -> Explanation` explains the `target` output
(class index, or 0 for a regressor's single output) of each row of X, using `background`
(training rows) where the method needs a reference distribution.
"""

from __future__ import annotations

import numpy as np

from bench.explanation import Explanation


class Explainer:
    def not_applicable(self, model) -> str | None:
        """Why this explainer cannot explain `model`, or None when it can."""
        return None

    def explain(self, model, X: np.ndarray, *, target: np.ndarray, background: np.ndarray,
                rng: np.random.Generator) -> Explanation:
        raise NotImplementedError


def flatten(X: np.ndarray) -> np.ndarray:
    return np.asarray(X).reshape(len(X), -1)
