"""What an explanation metric may read besides the model, the explained rows and the explanation.

run.py builds one context per fold and gives each explainer's metrics a copy with that
explainer's `explain` and an empty `explainer_cache`. `cache` is shared by the explainers of
the fold, so what depends only on the model and the data (ground-truth Shapley values, a model
retrained on permuted labels) is computed once per fold; `explainer_cache` holds what several
metrics of one explainer share (its explanations of the training rows, for ROAR).
Randomness shared through `cache` is drawn from `fold_rng(key)`, never from a metric's own
`rng`, so that it does not depend on which explainer asked first.

Metrics that explain again and compare with the explanation (robustness, sanity) call
`reexplain`. By default a re-explanation draws independently of the explanation
(`draws="independent"`): a user who calls a sampling explainer (LIME, Kernel SHAP, SmoothGrad)
twice gets two draws, so its sampling noise is part of how much its explanation moves, as a
deterministic explainer's is not. `draws="shared"` re-explains with the explanation's own draws
(its seed), which takes that noise out of the comparison: the change measured is the input's or
the model's alone. The independent draws come from the fold's stream of the re-explanation's
purpose (`fold_rng`), apart from every explanation's own: every explainer of the fold
re-explains with the same streams, the same config and seed give the same values, and no value
depends on which metric asked first (the robustness metrics share their re-explanations).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from bench.data.synthetic import SyntheticTruth
from bench.core.errors import NotApplicable
from bench.core.explanation import Differentiable, Explanation

# How a re-explanation draws: apart from the explanation it is compared with, or its very draws.
Draws = Literal["independent", "shared"]
DRAWS = get_args(Draws)


def check_draws(metric_name: str, draws) -> None:
    if draws not in DRAWS:
        raise ValueError(f"{metric_name} draws must be one of {DRAWS} (re-explain with draws of its own, or with "
                         f"those of the explanation it is compared with), got {draws!r}")


@dataclass(frozen=True)
class MetricContext:
    background: np.ndarray  # the rows explainers and removal baselines summarise the data with
    task_type: str
    X_train: np.ndarray
    y_train: np.ndarray
    # explain(model, X, target, rng=None) -> Explanation: the unit's explainer again, with the same
    # options, on another model or other rows (robustness, sanity, ROAR); rng=None draws what the
    # unit's explanation drew (its seed), a Generator draws from it. Metrics that compare the
    # result with the explanation call `reexplain`.
    explain: Callable[..., Explanation] | None
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
        """The fold's stream named `key`, the same whichever explainer asks: for what is cached
        per fold, and for draws every explainer's metrics make alike."""
        return np.random.default_rng([self.seed, zlib.crc32(f"{self.stream}/{key}".encode())])

    def reexplain(self, model, X: np.ndarray, target: np.ndarray, *, draws: str, purpose: str) -> Explanation:
        """`explain` for a metric that compares the result with the explanation (see the module
        docstring): with `draws="independent"` from the fold's stream named by `purpose` (one per
        re-explanation of a metric, so that they draw apart), with "shared" from the unit's own."""
        check_draws("reexplain", draws)
        if draws == "shared":
            return self.explain(model, X, target)
        return self.explain(model, X, target, rng=self.fold_rng(f"reexplain/{purpose}"))
