"""Tidy result rows on disk: one parquet file per unit, written atomically (temporary file +
rename), so a crash never leaves a half-written unit and a rerun skips every finished one.

A file that cannot be read (damaged by hand, a full disk of another tool, a copy cut short)
is moved aside to `<results>/quarantine/`, with a warning naming it, and its unit counts as
not done: the run computes it again instead of stopping on it.

Runs that share a folder compute a unit under its claim (`claim`), one at a time."""

from __future__ import annotations

import logging
import os
import pickle
import shutil
from pathlib import Path

import pandas as pd

from bench.core.errors import one_line
from bench.core.io import atomic_path
from bench.results.entries import interpreter_rows_on_their_entry
from bench.results.locks import locked
from bench.results.units import (EXPLANATION, ExplainUnit, FitUnit, LoadUnit, MetricUnit, lock_path, scores_path,
                                 unit_path)

ROW_COLUMNS = [
    "run_id", "unit", "suite", "input_kind", "task_id", "dataset_id", "dataset", "fold", "split_kind", "split_seed", "n_train", "seed",
    "model", "predictor", "model_config", "budget", "explainer", "metric", "category", "value", "higher_is_better", "n_instances", "status", "error",
    "duration_s", "model_evaluations", "config_hash", "versions", "device",
]
STATUSES = ("ok", "failed", "n/a")
QUARANTINE = "quarantine"  # where unreadable result files go, beside rows/ and artifacts/

log = logging.getLogger("bench")


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    unknown = {k for row in rows for k in row} - set(ROW_COLUMNS)
    if unknown:
        raise ValueError(f"result rows have unknown columns {sorted(unknown)}")
    bad = {row["status"] for row in rows} - set(STATUSES)
    if bad:
        raise ValueError(f"result row status must be one of {STATUSES}, got {sorted(bad)}")
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS)
    frame["value"] = frame["value"].astype(float)
    for column in ("task_id", "dataset_id", "split_seed", "n_train", "n_instances", "model_evaluations"):
        frame[column] = frame[column].astype("Int64")
    return frame


# Modules whose classes stored artifacts name but which have moved (issue 29's layout): a stored
# explanation or model stays readable, rather than being quarantined and computed again.
MOVED_MODULES = {"bench.explanation": "bench.core.explanation",
                 "bench.models.residual": "bench.models.networks.residual"}
# Classes that moved out of a module that stays, by (old module, name): the networks a fitted
# model holds, moved to bench/models/networks/ so that the models' modules import without torch.
MOVED_CLASSES = {
    ("bench.models.flint", "FlintNetwork"): "bench.models.networks.flint",
    ("bench.models.flint", "ImageDecoder"): "bench.models.networks.flint",
    ("bench.models.hyperlinear", "HyperLinearNetwork"): "bench.models.networks.hyperlinear",
    ("bench.models.torch_estimator", "BinaryLogits"): "bench.models.networks.torch_estimator",
    ("bench.models.torch_estimator", "Ensemble"): "bench.models.networks.torch_estimator",
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        return super().find_class(MOVED_CLASSES.get((module, name), MOVED_MODULES.get(module, module)), name)


class ResultStore:
    """`quarantine`: move unreadable files aside (a run, which recomputes their units); a reader
    that must not write (`python -m bench.report`) only skips them, with the same warning."""

    def __init__(self, root: str | Path, *, quarantine: bool = True):
        self.root = Path(root)
        self.quarantine = quarantine

    def is_done(self, unit: FitUnit | ExplainUnit | MetricUnit) -> bool:
        """Finished: stored, and no row failed (failures are retried, "n/a" is an answer)."""
        path = unit_path(self.root, unit)
        if not path.exists():
            return False
        rows = self._read(path, columns=["status"])
        return rows is not None and not (rows["status"] == "failed").any()

    def write(self, unit: FitUnit | ExplainUnit | MetricUnit | LoadUnit, rows: list[dict]) -> None:
        with atomic_path(unit_path(self.root, unit)) as tmp:
            rows_frame(rows).to_parquet(tmp, index=False)

    def remove(self, unit: LoadUnit) -> None:
        unit_path(self.root, unit).unlink(missing_ok=True)

    def claim(self, unit: FitUnit | ExplainUnit):
        """A context that holds `unit`'s lock while this run computes it (an explain unit's covers
        the metric units that score it); while another run holds it, this one says so and waits.
        Reading needs no claim: every file is written whole."""
        return locked(lock_path(self.root, unit),
                      on_wait=lambda: log.info("waiting for another run computing %s", unit.key))

    def forget_explanation(self, unit: ExplainUnit) -> None:
        """Removes a stored explanation and the rows of every metric that scored it (this run's
        metrics or others'), before it is explained again: no score outlives its explanation.
        Only under the unit's claim: another run may be scoring it."""
        unit_path(self.root, unit, EXPLANATION).unlink(missing_ok=True)
        shutil.rmtree(scores_path(self.root, unit), ignore_errors=True)

    def read_all(self) -> pd.DataFrame:
        """Every stored row. Files that are not result rows (another tool's parquet) are skipped
        with a warning; unreadable ones too, after quarantine."""
        return self._rows(sorted((self.root / "rows").rglob("*.parquet")))

    def rows_stamp(self) -> str:
        """What changes when a row file is written, replaced or removed: how many there are and the
        newest one's modification time, from the file system alone (no file is read)."""
        count, newest = 0, 0
        for folder, _, names in os.walk(self.root / "rows"):
            for name in names:
                if name.endswith(".parquet"):
                    count += 1
                    newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
        return f"{count} {newest}"

    def read(self, units) -> pd.DataFrame:
        """The stored rows of `units` (those stored), as `read_all` reads them: a run's own, without
        reading the thousands of files of a large results folder."""
        return self._rows([path for path in (unit_path(self.root, unit) for unit in units) if path.exists()])

    def _rows(self, paths: list[Path]) -> pd.DataFrame:
        frames = []
        for path in paths:
            frame = self._read(path)
            if frame is None:
                continue
            if not {"unit", "status"} <= set(frame.columns):
                log.warning("%s is not a file of result rows (its columns: %s); skipped", path,
                            ", ".join(map(str, frame.columns[:8])))
                continue
            frames.append(frame)
        if not frames:
            return rows_frame([])
        # reindex: rows stored before a column was added read as missing there, and a column this
        # version does not know (rows of a newer one) is left out.
        return interpreter_rows_on_their_entry(pd.concat(frames, ignore_index=True).reindex(columns=ROW_COLUMNS))

    def save_artifact(self, unit: FitUnit | ExplainUnit, what: str, obj) -> None:
        with atomic_path(unit_path(self.root, unit, what)) as tmp, open(tmp, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)

    def has_artifact(self, unit: FitUnit | ExplainUnit, what: str) -> bool:
        return unit_path(self.root, unit, what).exists()

    def load_artifact(self, unit: FitUnit | ExplainUnit, what: str):
        """The stored object, or None when there is none or it cannot be read (quarantined)."""
        return self.load_artifact_at(unit_path(self.root, unit, what))

    def artifact_files(self, what: str) -> list[Path]:
        """Every stored artifact named `what` (e.g. every fold's pictures), in path order."""
        return sorted((self.root / "artifacts").rglob(f"*.{what}"))

    def load_artifact_at(self, path: Path):
        """The object stored at `path` (unit_path's or artifact_files'), as load_artifact reads it."""
        if not path.exists():
            return None
        try:
            with open(path, "rb") as f:
                return _Unpickler(f).load()
        except Exception as e:  # truncated, overwritten, or pickled by code that is gone
            self._unreadable(path, e)
            return None

    def _read(self, path: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
        try:
            return pd.read_parquet(path, columns=columns)
        except Exception as e:  # pyarrow's errors for a damaged file are many (ArrowInvalid, OSError, ...)
            self._unreadable(path, e)
            return None

    def _unreadable(self, path: Path, error: Exception) -> None:
        if isinstance(error, MemoryError):
            raise error
        if isinstance(error, OSError) and error.errno is not None:
            # The file system refused (permissions, a stale NFS handle): the file may be fine.
            log.warning("%s cannot be read (%s); left in place, skipped", path, one_line(error, 200))
            return
        if not self.quarantine:
            log.warning("%s cannot be read (%s); skipped", path, one_line(error, 200))
            return
        target = self._quarantine_path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        except OSError as e:
            log.warning("%s cannot be read (%s) nor moved aside (%s); skipped", path, one_line(error, 200),
                        one_line(e, 200))
            return
        log.warning("%s cannot be read (%s); moved to %s, its unit will be computed again", path,
                    one_line(error, 200), target)

    def _quarantine_path(self, path: Path) -> Path:
        """Under quarantine/, at the file's place in the results folder; never over an earlier one."""
        target = self.root / QUARANTINE / path.relative_to(self.root)
        n = 1
        while target.exists():
            target = target.with_name(f"{path.name}.{n}")
            n += 1
        return target
