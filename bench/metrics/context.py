"""What an explanation metric may read besides the model, the explained rows and the explanation.

run.py builds one context per fold and gives each explainer's metrics a copy with that
explainer's `explain` and an empty `explainer_cache`. `cache` is shared by the explainers of
the fold, so what depends only on the model and the data (ground-truth Shapley values, a model
retrained on permuted labels) is computed once per fold; `explainer_cache` holds what several
metrics of one explainer share (its explanations of the training rows, for ROAR).
Randomness shared through `cache` is drawn from `fold_rng(key)`, never from a metric's own
`rng`, so that it does not depend on which explainer asked first.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.data.synthetic import SyntheticTruth
from bench.core.errors import NotApplicable
from bench.core.explanation import Differentiable, Explanation


@dataclass(frozen=True)
class MetricContext:
    background: np.ndarray  # the rows explainers and removal baselines summarise the data with
    task_type: str
    X_train: np.ndarray
    y_train: np.ndarray
    # explain(model, X, target) -> Explanation: the unit's explainer again, with the same options
    # and the same seed, on another model or other rows (robustness, sanity, ROAR).
    explain: Callable[[Any, np.ndarray, np.ndarray], Explanation] | None
    # fit(X, y) -> a fresh, fitted model of the run's model config (data randomisation).
    fit: Callable[[np.ndarray, np.ndarray], Any]
    seed: int = 0  # the run's seed
    stream: str = ""  # names the fold (data id and fold), so that folds and datasets draw apart
    synthetic: SyntheticTruth | None = None
    # differentiable(model) -> the unit's explanation as a torch function of the input (the
    # manipulation attack); raises NotApplicable for an explainer computed outside torch.
    differentiable: Callable[[Any], Differentiable] | None = None
    cache: dict = field(default_factory=dict)
    explainer_cache: dict = field(default_factory=dict)

    def require_synthetic(self, metric_name: str) -> SyntheticTruth:
        if self.synthetic is None:
            raise NotApplicable(f"{metric_name} needs the data's distribution, which only synthetic tasks "
                                "(data=xai_synthetic or the embedded gaussian* sets) carry")
        return self.synthetic

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Per fold, shared by every explainer's metrics."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def cached_for_explainer(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Per explainer unit, shared by its metrics."""
        if key not in self.explainer_cache:
            self.explainer_cache[key] = compute()
        return self.explainer_cache[key]

    def fold_rng(self, key: str) -> np.random.Generator:
        """A stream for something cached per fold, the same whichever explainer computes it."""
        return np.random.default_rng([self.seed, zlib.crc32(f"{self.stream}/{key}".encode())])
