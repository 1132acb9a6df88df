"""What a finished run reports: the pictures of its image folds, the tables of every stored row
(refreshed in place), this run's own tables as markdown, and its tables and leaderboard figures
for the experiment tracker."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from bench.core.errors import one_line
from bench.report.leaderboard import build_leaderboard
from bench.report.pictures import draw_pictures
from bench.report.publish import write_figures
from bench.report.tables import build_tables, refresh_tables, to_markdown
from bench.results import FitUnit, ResultStore, unit_path
from bench.results.pictures import PICTURES
from bench.results.trackers import NullTracker

log = logging.getLogger("bench")


def report_run(store: ResultStore, results: str | Path, units, tracker: NullTracker) -> dict[str, str]:
    """The markdown of the run's own tables (of its `units`); the tables of every stored row are
    refreshed under `results`/tables, and the pictures of the run's folds drawn where missing."""
    draw_pictures(store, [path for path in (unit_path(store.root, unit, PICTURES) for unit in units
                                            if isinstance(unit, FitUnit)) if path.exists()])
    refresh_tables(store, Path(results) / "tables")
    rows = store.read(units)
    tables = build_tables(rows)
    _report_to_tracker(tracker, rows, tables)
    return {name: to_markdown(name, table) for name, table in tables.items()}


def _report_to_tracker(tracker: NullTracker, rows, tables: dict) -> None:
    """The run's tables, and its leaderboard figures for a tracker that keeps images. Every
    unit is stored by now: a failure here is a warning, never a failed run."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            images: dict[str, Path] = {}
            if tracker.wants_images:
                board = build_leaderboard(rows)
                images = {} if board.empty else write_figures(board, Path(folder))
            tracker.log_report(tables, images)
    except Exception as e:
        log.warning("the run's tables and figures were not sent to the tracker: %s", one_line(e))
