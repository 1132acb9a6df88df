"""Tidy result rows on disk: one parquet file per unit, written atomically (temporary file +
rename), so a crash never leaves a half-written unit and a rerun skips every finished one."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pandas as pd

from bench.io import atomic_path
from bench.results.units import EXPLANATION, ExplainUnit, FitUnit, LoadUnit, MetricUnit, scores_path, unit_path

ROW_COLUMNS = [
    "run_id", "unit", "suite", "task_id", "dataset_id", "dataset", "fold", "split_kind", "split_seed", "seed", "model",
    "model_config", "explainer", "metric", "category", "value", "higher_is_better", "n_instances", "status", "error",
    "duration_s", "model_evaluations", "config_hash", "versions", "device",
]
STATUSES = ("ok", "failed", "n/a")


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    unknown = {k for row in rows for k in row} - set(ROW_COLUMNS)
    if unknown:
        raise ValueError(f"result rows have unknown columns {sorted(unknown)}")
    bad = {row["status"] for row in rows} - set(STATUSES)
    if bad:
        raise ValueError(f"result row status must be one of {STATUSES}, got {sorted(bad)}")
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS)
    frame["value"] = frame["value"].astype(float)
    for column in ("task_id", "dataset_id", "split_seed", "n_instances", "model_evaluations"):
        frame[column] = frame[column].astype("Int64")
    return frame


class ResultStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def is_done(self, unit: FitUnit | ExplainUnit | MetricUnit) -> bool:
        """Finished: stored, and no row failed (failures are retried, "n/a" is an answer)."""
        path = unit_path(self.root, unit)
        if not path.exists():
            return False
        return not (pd.read_parquet(path, columns=["status"])["status"] == "failed").any()

    def write(self, unit: FitUnit | ExplainUnit | MetricUnit | LoadUnit, rows: list[dict]) -> None:
        with atomic_path(unit_path(self.root, unit)) as tmp:
            rows_frame(rows).to_parquet(tmp, index=False)

    def remove(self, unit: LoadUnit) -> None:
        unit_path(self.root, unit).unlink(missing_ok=True)

    def forget_explanation(self, unit: ExplainUnit) -> None:
        """Removes a stored explanation and the rows of every metric that scored it (this run's
        metrics or others'), before it is explained again: no score outlives its explanation."""
        unit_path(self.root, unit, EXPLANATION).unlink(missing_ok=True)
        shutil.rmtree(scores_path(self.root, unit), ignore_errors=True)

    def read_all(self) -> pd.DataFrame:
        files = sorted((self.root / "rows").rglob("*.parquet"))
        if not files:
            return rows_frame([])
        # reindex: rows stored before a column was added read as missing there.
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True).reindex(columns=ROW_COLUMNS)

    def save_artifact(self, unit: FitUnit | ExplainUnit, what: str, obj) -> None:
        with atomic_path(unit_path(self.root, unit, what)) as tmp, open(tmp, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)

    def has_artifact(self, unit: FitUnit | ExplainUnit, what: str) -> bool:
        return unit_path(self.root, unit, what).exists()

    def load_artifact(self, unit: FitUnit | ExplainUnit, what: str):
        path = unit_path(self.root, unit, what)
        if not path.exists():
            return None
        with open(path, "rb") as f:
            return pickle.load(f)
