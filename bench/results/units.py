"""Units of work and the one function that turns a unit into its storage path: the writer and
the resume check both go through `unit_path`, so they cannot disagree."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def config_hash(*parts: Any) -> str:
    """A short stable hash of plain (JSON-able) configuration values."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def slug(text: str) -> str:
    """`text` safe as a file or folder name."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", str(text)).strip("_") or "_"


INTERPRETER = "g"  # ExplainUnit.entry of a unit that explains the model's interpreter


@dataclass(frozen=True)
class FitUnit:
    """Train one model on one fold of one task; yields the prediction-metric rows.

    The folder (and the fitted model and predictions stored there) depends on the model, the
    data and the split; the unit's name adds the prediction metrics. A new metric is thus a
    new unit scored from the stored predictions, and leaves the explanations alone."""

    suite: str
    dataset: str
    data_id: str  # "task-3", "dataset-1510" or the dataset's name for embedded data
    fold: int
    seed: int
    model: str
    model_hash: str  # model config, data options that change the training data, split
    metrics_hash: str  # prediction metrics

    @property
    def folder(self) -> Path:
        return (Path(slug(self.suite)) / slug(f"{self.dataset}-{self.data_id}") / f"fold{self.fold}-seed{self.seed}"
                / slug(f"{self.model}-{self.model_hash}"))

    @property
    def name(self) -> str:
        return f"_fit-{self.metrics_hash}"

    @property
    def key(self) -> str:
        return str(self.folder / self.name)


@dataclass(frozen=True)
class ExplainUnit:
    """Explain the fitted model of `fit` with one explainer: the explanation (an artifact) and
    its cost rows. Its metrics are units of their own (MetricUnit)."""

    fit: FitUnit
    explainer: str
    explainer_hash: str  # explainer config + the explained sample's options
    # What it explains: "" the model, INTERPRETER the interpreter g learnt with it (the entry
    # <model>:g, bench/models/interpreter.py), whose units sit beside the model's under a prefix.
    entry: str = ""

    @property
    def folder(self) -> Path:
        return self.fit.folder

    @property
    def name(self) -> str:
        return slug(f"{self.entry}{'-' if self.entry else ''}{self.explainer}-{self.explainer_hash}")

    @property
    def scores_folder(self) -> Path:
        """Where its metric units are stored, beside its own rows."""
        return self.folder / self.name

    @property
    def key(self) -> str:
        return str(self.folder / self.name)


@dataclass(frozen=True)
class MetricUnit:
    """Score the stored explanation of `explanation` with one metric: keyed by that explanation
    and the metric's options, so adding a metric to a finished run explains nothing again."""

    explanation: ExplainUnit
    metric: str
    metric_hash: str  # the metric's options

    @property
    def folder(self) -> Path:
        return self.explanation.scores_folder

    @property
    def name(self) -> str:
        return slug(f"{self.metric}-{self.metric_hash}")

    @property
    def key(self) -> str:
        return f"{self.explanation.key}{METRIC_SEPARATOR}{self.name}"


# Joins a metric unit's key to its explanation's: a character no slug holds.
METRIC_SEPARATOR = "#"


def explanation_key(unit_key: str) -> str:
    """The explain unit a row belongs to: its own, or the one its metric scored."""
    return unit_key.split(METRIC_SEPARATOR, 1)[0]


@dataclass(frozen=True)
class StoredMetricUnit:
    """A metric unit as unit_path reads it (its folder and name) from a row's `unit` key alone: a
    reader of rows (a paper's reproduction) has the keys, not the units that wrote them."""

    key: str

    @property
    def folder(self) -> Path:
        return Path(explanation_key(self.key))

    @property
    def name(self) -> str:
        return self.key.split(METRIC_SEPARATOR, 1)[1]


EXPLANATION = "explanation.pkl"  # an explain unit's artifact
VALUES = "values.pkl"  # a metric unit's artifact: its (n,) score of each instance, NaN where undefined


def unit_path(root: str | Path, unit: "FitUnit | ExplainUnit | MetricUnit | LoadUnit", what: str = "rows") -> Path:
    """`what`: "rows" (the unit's tidy rows) or an artifact name ("model.pkl", "explanation.pkl",
    ...). A fit unit's artifacts belong to its folder: every metric set shares the model."""
    if what == "rows":
        return Path(root) / "rows" / unit.folder / f"{unit.name}.parquet"
    return Path(root) / "artifacts" / unit.folder / f"{_artifact_stem(unit)}.{what}"


def lock_path(root: str | Path, unit: "FitUnit | ExplainUnit") -> Path:
    """The lock a run holds while it computes `unit` (bench/results/locks.py), outside rows/ and
    artifacts/, whose readers never see it. A fit unit's is its model's: every metric set shares
    the model, so one run trains it and the others score its stored predictions."""
    return Path(root) / LOCKS / unit.folder / f"{_artifact_stem(unit)}.lock"


LOCKS = "locks"  # beside rows/ and artifacts/: every lock of the runs that share the folder


def _artifact_stem(unit: "FitUnit | ExplainUnit") -> str:
    return "_model" if isinstance(unit, FitUnit) else unit.name


def scores_path(root: str | Path, unit: ExplainUnit) -> Path:
    """The folder of the rows of every metric unit of `unit`'s explanation."""
    return Path(root) / "rows" / unit.scores_folder


@dataclass(frozen=True)
class LoadUnit:
    """Loading one task: stored only when it could not be loaded (why, for the skipped table)."""

    suite: str
    dataset: str
    data_id: str

    @property
    def folder(self) -> Path:
        return Path(slug(self.suite)) / slug(f"{self.dataset}-{self.data_id}")

    @property
    def name(self) -> str:
        return "_load"

    @property
    def key(self) -> str:
        return str(self.folder / self.name)
