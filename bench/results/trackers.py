"""Experiment trackers, chosen by `logger=...`: they receive every unit's rows as it finishes,
and the run's tables and leaderboard images at its end.

A tracker never fails a run: a missing package, an unreachable server or an error while logging
is one warning, after which the run goes on untracked (its results are on disk either way).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import pandas as pd

from bench.core.errors import one_line

log = logging.getLogger("bench")


class NullTracker:
    """Tracks nothing: `logger=none`, and what `logger=wandb` falls back to."""

    wants_images = False

    def __init__(self, *, run_config: dict | None = None):  # logger=none is built with the run's config too
        pass

    def log_rows(self, rows: list[dict]) -> None:
        pass

    def log_report(self, tables: dict[str, pd.DataFrame], images: dict[str, Path]) -> None:
        pass

    def finish(self) -> None:
        pass


def wandb_tracker(*, project: str = "bench", mode: str = "offline", dir: str | None = None, init_timeout: float = 30,
                  run_config: dict | None = None) -> WandbTracker | NullTracker:
    """A Weights & Biases run (`mode: offline` writes under `dir`/wandb; `wandb sync` uploads it
    later), or a NullTracker when wandb is disabled, absent or cannot start."""
    if mode == "disabled":
        return NullTracker()
    try:
        import wandb
    except ImportError:
        log.warning("logger=wandb: the wandb package is not installed, so this run is not tracked; "
                    "install it with pip install -e '.[wandb]' (or use logger=none)")
        return NullTracker()
    try:
        # finish_previous: a run left open in this process (a plan never run) is closed, not continued.
        run = wandb.init(project=project, mode=mode, dir=dir, config=run_config or {}, reinit="finish_previous",
                         settings=wandb.Settings(init_timeout=init_timeout))
    except Exception as e:  # wandb raises many kinds: no API key, timeout, bad setting
        log.warning("logger=wandb: wandb.init failed in %s mode (%s), so this run is not tracked; "
                    "set WANDB_MODE=offline to track it without a server (upload later with `wandb sync`)",
                    mode, one_line(e))
        return NullTracker()
    return WandbTracker(run)


def _untracked_on_error(what: str):
    """The method does nothing once wandb has failed, and a failure of its own is a warning after
    which the run goes on untracked."""
    def wrap(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            if self._run is None:
                return
            try:
                method(self, *args, **kwargs)
            except Exception as e:
                log.warning("logger=wandb: %s failed (%s); the run goes on untracked, its results are on disk as ever "
                            "(use logger=none or WANDB_MODE=disabled to skip wandb)", what, one_line(e))
                self._run = None
        return guarded
    return wrap


class WandbTracker:
    """Logs each unit's ok values as scalars, and at the end every row, the run's tables and its
    leaderboard images."""

    wants_images = True

    def __init__(self, run):
        self._run = run  # None once finished or failed
        self._rows: list[dict] = []

    @_untracked_on_error("logging a unit's rows")
    def log_rows(self, rows: list[dict]) -> None:
        self._rows.extend(rows)
        values = {f"{row['dataset']}/{row['model']}/{row.get('explainer') or 'fit'}/{row['metric']}": row["value"]
                  for row in rows if row["status"] == "ok"}
        if values:
            self._run.log(values)

    @_untracked_on_error("logging the tables and images")
    def log_report(self, tables: dict[str, pd.DataFrame], images: dict[str, Path]) -> None:
        import wandb

        self._run.log({**{f"tables/{name}": _table(table) for name, table in tables.items()},
                       **{f"leaderboard/{name}": wandb.Image(str(path)) for name, path in images.items()}})

    @_untracked_on_error("finishing the run")
    def finish(self) -> None:
        try:
            if self._rows:
                self._run.log({"tables/rows": _table(pd.DataFrame(self._rows))})
        finally:  # what was logged before is kept even when the rows are not
            self._run.finish()
        self._run = None


def _table(frame: pd.DataFrame):
    """wandb.Table rejects pandas' missing values (pd.NA in nullable Int64 columns, NaN in text
    columns): plain Python cells with None where missing. Rows of different units may give one
    column values of different kinds, hence allow_mixed_types."""
    import wandb

    return wandb.Table(dataframe=frame.astype(object).where(frame.notna(), None), allow_mixed_types=True)
