"""Reproduce a paper's table: run its experiment as a Hydra multirun (resuming whatever is
stored), then print our numbers beside the published ones with the difference, and write them
as tidy rows.

The runs go through Hydra's launchers: the script runs `python -m bench -m experiment=<name> ...`
with the joblib launcher by default (--jobs worker processes on this machine). Hydra overrides
after the table go to the sweep, so another launcher, or a part of the table, is an override away:

    python scripts/reproduce.py imn-table8 --jobs 2                   # joblib, two workers
    python scripts/reproduce.py imn-table8 hydra/launcher=slurm hydra.launcher.partition=cpu
    python scripts/reproduce.py imn-table8 model=logreg seed=0 'data.tasks=[31,54]'

The jobs write into a fresh <results>/hydra/<table>/<time>-*/ (on SLURM, submit from a file
system the compute nodes share), each leaving a bench_summary.json there; the comparison takes
exactly the units those jobs produced. When a job fails, the script still compares what
finished, names the jobs that did not, and exits 1.

Each table's CSV gets a <table>.run.json beside it: the command that wrote it, when it finished
and how long that command ran.

The tables, as bench/papers lists them (bench.papers.REPRODUCTIONS):
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import sys
import time

from bench import papers
from bench.cli.multirun import Sweep, launcher_overrides, run_sweep, sweep_dir
from bench.core.errors import BenchError
from bench.papers import Launch, Option, Reproduction


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_intermixed_args(argv)  # overrides may come before or after the options
    if args.table is None:
        p.error(f"name the table to reproduce: one of {', '.join(table_names())}")
    reproduction = next(r for r in papers.REPRODUCTIONS if r.name == args.table)
    for option in reproduction.options:  # the table's own default, where the command line gives none
        if getattr(args, option.dest) is None:
            setattr(args, option.dest, option.default)
    # Recorded beside the CSV (write_result): which budget its numbers come from, and their cost.
    args.command = shlex.join(["python", "scripts/reproduce.py", *(sys.argv[1:] if argv is None else argv)])
    args.started = time.perf_counter()
    try:
        launcher = launcher_overrides(args.overrides, args.jobs, default_jobs=1)
    except BenchError as e:
        p.error(str(e))
    # The script reads the rows back from its own folders: an override would send the jobs
    # elsewhere and leave the comparison reading stale or no rows.
    for override, option in (("paths.results=", "--results"), ("paths.openml_cache=", "--cache")):
        if any(o.startswith(override) for o in args.overrides):
            p.error(f"set the folder with {option} DIR, not {override}DIR: the script reads the rows back from it")
    return report_failures(reproduction.run(args, launch_for(args, launcher)))


def launch_for(args: argparse.Namespace, launcher: list[str]) -> Launch:
    """A table's way to run its sweeps through `launcher`: in a fresh folder of this invocation's
    own, <results>/hydra/<table>/<time>-*/ (a part of several in a sub-folder of it), printing what
    each job did."""
    folder = None

    def launch(experiment: str, overrides: list[str], part: str = "") -> Sweep:
        nonlocal folder
        folder = folder or sweep_dir(args.results, args.table)
        sweep = run_sweep(experiment, overrides, folder / part, launcher)
        print_jobs(sweep)
        return sweep

    return launch


def print_jobs(sweep: Sweep) -> None:
    print(f"\n{sweep.folder}: {len(sweep.finished)} of {len(sweep.jobs)} job(s) finished")
    for line in sweep.lines():
        print(f"  {line}")


def report_failures(sweeps: list[Sweep]) -> int:
    """1, naming the jobs that did not finish, when a sweep failed; else 0."""
    failures = [failure for failure in (sweep.failure() for sweep in sweeps) if failure]
    for failure in failures:
        print(f"\nerror: {failure}", file=sys.stderr)
    return 1 if failures else 0


def table_names() -> list[str]:
    return sorted(r.name for r in papers.REPRODUCTIONS)


def options_by_flag(reproductions: tuple[Reproduction, ...]) -> dict[str, list[tuple[str, Option]]]:
    """Each option's flag -> the tables that read it, with what it means to each."""
    flags: dict[str, list[tuple[str, Option]]] = {}
    for reproduction in reproductions:
        for option in reproduction.options:
            flags.setdefault(option.flag, []).append((reproduction.name, option))
    return flags


def shared_help(declared: list[tuple[str, Option]]) -> str:
    """"imn-table8: ...; flint-table1, atex-figure: ...": what one option means to each table."""
    tables: dict[str, list[str]] = {}
    for name, option in declared:
        tables.setdefault(option.help, []).append(name)
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in tables.items())


def parser() -> argparse.ArgumentParser:
    reproductions = papers.REPRODUCTIONS
    description = "\n\n".join([__doc__.rstrip(), *(f"{r.name}: {inspect.cleandoc(r.about)}" for r in reproductions)])
    p = argparse.ArgumentParser(prog="python scripts/reproduce.py", description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    # nargs="?", checked by main: argparse would call the overrides required too when the table is missing
    p.add_argument("table", nargs="?", choices=table_names())
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE",
                   help="Hydra overrides for the sweep: another launcher (hydra/launcher=slurm "
                        "hydra.launcher.partition=cpu), or a part of the table (model=logreg seed=0)")
    p.add_argument("--jobs", type=int, help="worker processes of the default launcher, joblib (default 1); "
                   "with another launcher, set its own options instead (hydra.launcher.array_parallelism=4)")
    p.add_argument("--results", default="results", help="results folder (default results)")
    for flag, declared in options_by_flag(reproductions).items():
        option = declared[0][1]
        parse = {"action": option.action} if option.action else {"type": option.parse}
        # No default here: main fills in the chosen table's own.
        p.add_argument(flag, **parse, default=None, help=shared_help(declared))
    return p


if __name__ == "__main__":
    sys.exit(main())
