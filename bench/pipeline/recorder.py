"""Where a run's units go as they finish: their rows into the store (and the experiment tracker),
and what happened to each into the run's summary. Passed down the loop, so that no unit reports
back up through a callback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.core.errors import DataUnavailable
from bench.results import ResultStore


@dataclass
class RunSummary:
    run_id: str
    results: str
    units_computed: int = 0
    fits: int = 0  # models trained by this run
    fits_failed: list[str] = field(default_factory=list)  # why, for each that failed
    skipped: list[tuple[str, DataUnavailable]] = field(default_factory=list)  # (task label, why)
    units: dict[str, Any] = field(default_factory=dict)  # key -> unit, of every unit of the run
    resumed_keys: set[str] = field(default_factory=set)  # stored already; a unit computed again leaves it
    tables: dict[str, str] = field(default_factory=dict)  # markdown of this run's units
    failed: dict[str, str] = field(default_factory=dict)  # unit key -> the error of a unit this run stored as failed

    def resumed(self, units: list) -> None:
        self.units.update((unit.key, unit) for unit in units)
        self.resumed_keys.update(unit.key for unit in units)

    @property
    def unit_keys(self) -> set[str]:
        return set(self.units)

    @property
    def units_resumed(self) -> int:
        return len(self.resumed_keys)

    @property
    def every_fit_failed(self) -> bool:
        return self.fits > 0 and len(self.fits_failed) == self.fits


@dataclass(frozen=True)
class Recorder:
    store: ResultStore
    tracker: Any  # bench.results.trackers: log_rows, log_report, finish
    summary: RunSummary

    def record(self, unit, rows: list[dict]) -> None:
        """A computed unit: its rows stored, sent to the tracker, and counted."""
        self.store.write(unit, rows)
        self.tracker.log_rows(rows)
        summary = self.summary
        summary.units_computed += 1
        errors = [row["error"] for row in rows if row["status"] == "failed"]
        if errors:
            summary.failed[unit.key] = errors[0]
        summary.units[unit.key] = unit
        summary.resumed_keys.discard(unit.key)  # its stored file could not be read: computed, not resumed

    def resumed(self, units: list) -> None:
        """Units found stored (by an earlier run, or by another run meanwhile)."""
        self.summary.resumed(units)
