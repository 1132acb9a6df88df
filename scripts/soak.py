"""Soak test of resuming: a small joblib sweep, killed with SIGKILL at random times and rerun after
each kill, must end with the rows of an uninterrupted run of the same sweep.

    .venv/bin/python scripts/soak.py --kills 20 [--seed 0] [--out DIR] [OVERRIDES...]

1. The sweep runs once uninterrupted into DIR/reference; its wall time is the window of the kills.
2. Into DIR/soak-1: the sweep, killed at a time drawn uniformly from that window (seeded). Only its
   own process gets the SIGKILL, as from the OOM killer: its workers must notice and end by
   themselves (bench.cli.watchdog). Then the same command again, killed again, ... A rerun skips what is
   stored, so it may finish before its kill time: then its folder is complete and judged, and the
   next kill strikes a fresh folder, DIR/soak-2. After the last kill, its folder's sweep runs to
   the end and is judged too.
3. A kill is survived when no process of its sweep outlived it by GRACE_S, the rows stored once it
   had struck were kept as they were (resumed, not computed again), and its folder ended with the rows
   of the reference: the same unit, metric, value and status (values of cost metrics aside: time
   and memory vary from run to run).

Prints each kill, every row that differs, the kills survived and the wall time; exits 1 when a kill
was not survived. OVERRIDES replace the sweep's option of the same key (`model=logreg`) or add one.
Each run's output is in DIR/<folder>/run-<n>.log.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.core.paths import PROJECT_ROOT
from bench.results import ResultStore
from bench.cli.watchdog import survivors

# Nine jobs (three models, three seeds) of 132 units on the embedded data: ~18 s uninterrupted on
# 2 cores, of which the units take ~8 and the rest is start-up (Hydra, the workers' imports) that a
# kill may strike as well.
SWEEP = ["model=logreg,dtree,mlp", "seed=0,1,2", "explainers=[native,kernel_shap]",
         "explainers.kernel_shap.nsamples=128", "explain.n_instances=8", "explain.background_size=20",
         "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
GRACE_S = 5.0  # the watchdog polls every 0.5 s; the rest is for a busy machine
KEY = ["unit", "metric"]


@dataclass
class Kill:
    at_s: float
    stored: dict[str, int]  # each rows file stored when it struck -> its modification time (ns)
    left: list[int]  # processes of the sweep still running GRACE_S after it

    def survived(self, results: Path, rows_match: bool) -> bool:
        return not self.left and rows_match and not self.recomputed(results)

    def recomputed(self, results: Path) -> list[str]:
        now = rows_files(results)
        return [path for path, mtime in self.stored.items() if now.get(path) != mtime]

    def outcome(self) -> str:
        return (f"{len(self.stored)} unit(s) stored; "
                + (f"process(es) {self.left} still running after {GRACE_S:.0f} s" if self.left
                   else "no process of the sweep left"))


def command(overrides: list[str], results: Path, run: int) -> list[str]:
    return [sys.executable, "-m", "bench", "-m", *overrides, f"paths.results={results}",
            f"hydra.sweep.dir={results}/hydra/run-{run}"]


def rows_files(results: Path) -> dict[str, int]:
    return {str(path.relative_to(results)): path.stat().st_mtime_ns for path in results.glob("rows/**/*.parquet")}


def run_sweep(command: list[str], results: Path, run: int, kill_at: float | None) -> Kill | None:
    """The sweep into `results`, its output in run-<run>.log there, its own process killed `kill_at`
    seconds after its start; None when it finished first."""
    log = results / f"run-{run}.log"
    with open(log, "w") as output:
        # A session of its own, whose id is the sweep's process id: every process it starts stays in it.
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        start = time.perf_counter()
        try:
            code = process.wait(timeout=kill_at)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            at_s = time.perf_counter() - start
            left = wait_for_exit(process.pid)
            return Kill(at_s, rows_files(results), left)
    if code != 0:
        sys.exit(f"error: the sweep failed by itself (exit code {code}); see {log}")
    return None


def wait_for_exit(session: int) -> list[int]:
    """The processes of the session still running after GRACE_S, then killed, so that the next
    run starts alone."""
    deadline = time.monotonic() + GRACE_S
    while (left := survivors(session)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def reproducible_rows(results: Path) -> pd.DataFrame:
    """What two runs of a sweep must agree on: each row's unit, metric, value and status."""
    rows = ResultStore(results, quarantine=False).read_all()
    rows = rows.assign(metric=rows["metric"].fillna(""),  # a unit's n/a row has no metric
                       value=rows["value"].where(rows["category"] != "cost"))
    return rows[[*KEY, "value", "status"]].sort_values(KEY, ignore_index=True)


def differing_rows(reference: pd.DataFrame, soaked: pd.DataFrame) -> pd.DataFrame:
    both = reference.merge(soaked, on=KEY, how="outer", suffixes=("_reference", "_soak"), indicator="stored_in")
    same_value = (both["value_reference"] == both["value_soak"]) | (both["value_reference"].isna()
                                                                   & both["value_soak"].isna())
    same = (both["stored_in"] == "both") & (both["status_reference"] == both["status_soak"]) & same_value
    return both.loc[~same]


@dataclass
class Soak:
    """The sweep killed and rerun folder after folder, each folder judged against the reference."""
    overrides: list[str]
    out: Path
    reference: pd.DataFrame
    units: int  # stored by the uninterrupted run
    kills: list[Kill] = field(default_factory=list)
    survived: int = 0
    differing: int = 0
    folders: int = 0

    def fill_folder(self, kills: int, window_s: float, rng: random.Random) -> None:
        """A fresh folder's sweep, killed at most `kills` times: until a rerun finishes before its
        kill time, or after the last kill, run to its end; then judged."""
        self.folders += 1
        results = self.out / f"soak-{self.folders}"
        results.mkdir()
        struck = []
        for run in itertools.count(1):
            kill = run_sweep(command(self.overrides, results, run), results, run,
                             rng.uniform(0, window_s) if len(struck) < kills else None)
            if kill is None:
                break
            struck.append(kill)
            self.kills.append(kill)
            print(f"kill {len(self.kills)} at {kill.at_s:4.1f} s ({results.name}, run {run}): {kill.outcome()}",
                  flush=True)
        self.judge(results, struck)

    def judge(self, results: Path, struck: list[Kill]) -> None:
        differences = differing_rows(self.reference, reproducible_rows(results))
        recomputed = sorted({path for kill in struck for path in kill.recomputed(results)})
        print(f"{results.name} complete after {len(struck)} kill(s): {len(differences)} row(s) differ from the "
              f"reference; {len(recomputed)} unit(s) stored before a kill were computed again", flush=True)
        if len(differences):
            print(differences.to_string(index=False), flush=True)
        for path in recomputed:
            print(f"  computed again: {path}")
        self.differing += len(differences)
        self.survived += sum(kill.survived(results, differences.empty) for kill in struck)


def merged(defaults: list[str], overrides: list[str]) -> list[str]:
    by_key = {o.split("=", 1)[0]: o for o in [*defaults, *overrides]}  # a later value of a key replaces it
    return list(by_key.values())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=20, help="how many times the sweep is killed (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seeds the kill times (default 0)")
    p.add_argument("--out", type=Path, help="a new or empty folder for the runs' results (default: a new one in /tmp)")
    p.add_argument("overrides", nargs="*", help="sweep overrides, e.g. model=logreg,mlp")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_intermixed_args(argv)
    if args.kills < 1:
        p.error(f"--kills must be at least 1, got {args.kills}")
    if args.out and args.out.exists() and any(args.out.iterdir()):
        p.error(f"--out {args.out}: not empty; name a new folder")
    out = (args.out or Path(tempfile.mkdtemp(prefix="bench-soak-"))).resolve()
    overrides = merged(SWEEP, args.overrides)
    print(f"python -m bench -m {' '.join(overrides)}; results in {out}", flush=True)

    started = time.perf_counter()
    (out / "reference").mkdir(parents=True)
    run_sweep(command(overrides, out / "reference", 0), out / "reference", 0, None)
    window_s = time.perf_counter() - started
    print(f"uninterrupted: {window_s:.1f} s; each kill at a uniform time within it", flush=True)
    soak = Soak(overrides, out, reproducible_rows(out / "reference"), len(rows_files(out / "reference")))
    rng = random.Random(args.seed)
    while len(soak.kills) < args.kills:
        soak.fill_folder(args.kills - len(soak.kills), window_s, rng)

    outlived = sum(bool(kill.left) for kill in soak.kills)
    # The others struck a rerun with nothing left to compute, in its start-up or its resume checks.
    midway = sum(len(kill.stored) < soak.units for kill in soak.kills)
    print(f"\nsurvived {soak.survived} of {len(soak.kills)} kills ({midway} before every unit was stored, "
          f"{soak.folders} folder(s)); {soak.differing} row(s) differ; {outlived} kill(s) left a process running; "
          f"wall time {time.perf_counter() - started:.0f} s")
    return 0 if soak.survived == len(soak.kills) else 1


if __name__ == "__main__":
    sys.exit(main())
