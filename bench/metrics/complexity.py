"""How concentrated an explanation is, read off |phi| alone (no model calls).

- `sparseness`: the Gini index of |phi| (Chalasani et al. 2020, as Quantus computes it):
  with |phi| sorted ascending, sum_i (2i - d - 1) |phi|_(i) / (d sum_i |phi|_i). 0 when every
  feature gets the same weight, (d - 1) / d when one feature gets it all. Higher is sparser.
- `complexity`: the entropy of the normalised |phi| (Bhatt et al. 2020), in nats. 0 when one
  feature gets everything, log d when all share equally. Lower is simpler.

- `conciseness`: FLINT's CNS (Parekh et al. 2021) of a concepts explanation: the number of
  attributes whose relevance r_jx exceeds 1/tau; its mean over instances is the paper's CNS_g.
  Lower is more concise.

An all-zero explanation concentrates nothing: sparseness 0 and complexity log d, the values
of a uniform one, rather than a division by zero.
"""

from __future__ import annotations

import numpy as np

from bench.core.explanation import Explanation
from bench.metrics.base import metric
from bench.metrics.context import MetricContext


def _magnitudes(explanation: Explanation) -> np.ndarray:
    """(n, d) |phi|, an all-zero row replaced by a uniform one (see the module docstring)."""
    magnitude = np.abs(np.asarray(explanation.values, dtype=np.float64)).reshape(len(explanation.values), -1)
    magnitude[magnitude.sum(axis=1) == 0] = 1.0
    return magnitude


@metric(category="complexity", higher_is_better=True)
def sparseness(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
               rng: np.random.Generator) -> np.ndarray:
    magnitude = np.sort(_magnitudes(explanation), axis=1)
    d = magnitude.shape[1]
    weights = 2 * np.arange(1, d + 1) - d - 1
    return magnitude @ weights / (d * magnitude.sum(axis=1))


@metric(category="complexity", higher_is_better=False)
def complexity(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
               rng: np.random.Generator) -> np.ndarray:
    magnitude = _magnitudes(explanation)
    share = magnitude / magnitude.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(share > 0, share * np.log(share), 0.0).sum(axis=1)


@metric(category="complexity", higher_is_better=False, kinds=("concepts",))
def conciseness(model, X: np.ndarray, explanation: Explanation, *, context: MetricContext,
                rng: np.random.Generator, tau: float = 2.0) -> np.ndarray:
    """(n,) #{j : r_jx > 1/tau} per instance (tau 1.5 to 5 in the paper)."""
    if not tau > 0:
        raise ValueError(f"conciseness tau must be positive, got {tau}")
    return (np.asarray(explanation.concepts.relevance) > 1 / tau).sum(axis=1).astype(np.float64)
