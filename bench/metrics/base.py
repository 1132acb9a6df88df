"""Metric metadata, declared once beside each metric (Quantus' habit), read through `info_of`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from bench.data.task import TASK_TYPES

# "diagnostic": a row that says how another was computed (the share of an attack's steps reverted,
# whether it followed a surrogate); shown beside the scores, never ranked.
CATEGORIES = ("prediction", "faithfulness", "robustness", "ground_truth", "sanity", "complexity", "fidelity", "cost",
              "diagnostic")


@dataclass(frozen=True)
class MetricInfo:
    name: str
    category: str
    higher_is_better: bool
    kinds: tuple[str, ...] = ("attribution",)
    task_types: tuple[str, ...] = TASK_TYPES
    # A metric of the model's predictions (metrics.prediction) that attacks the model: it is also
    # given the model, the test rows and the training rows (fgsm_accuracy), after y_true and y_score.
    needs_model: bool = False
    # check(**options) raises ValueError for option values the metric cannot use: the plan calls
    # it before any work, so that a bad value stops the run instead of failing every row.
    check: Callable[..., None] | None = None
    # The computation this metric shares with others (the four rows of one manipulation attack):
    # entries under the metrics' own names must agree on their options, since the tables name
    # those rows without them (a run refuses a split; entries of other names are separate).
    shares: str | None = None


def metric(*, category: str, higher_is_better: bool, kinds=("attribution",), task_types=TASK_TYPES,
           needs_model: bool = False, check: Callable[..., None] | None = None,
           shares: str | None = None) -> Callable:
    if category not in CATEGORIES:
        raise ValueError(f"metric category must be one of {CATEGORIES}, got {category!r}")

    def attach(fn: Callable) -> Callable:
        fn.info = MetricInfo(fn.__name__, category, higher_is_better, tuple(kinds), tuple(task_types), needs_model,
                             check, shares)
        return fn

    return attach


def info_of(fn: Callable) -> MetricInfo:
    """The metadata of a metric, also through the functools.partial Hydra's `_partial_` makes."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    try:
        return fn.info
    except AttributeError:
        raise TypeError(f"{fn!r} is not a metric: decorate it with bench.metrics.base.metric") from None
