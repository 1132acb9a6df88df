"""Reproduce a paper's table: run the experiment (resuming whatever is stored), then print our
numbers beside the published ones with the difference, and write them as tidy rows.

    python scripts/reproduce.py imn-table8 [--experiment paper_imn_accuracy_cpu] [--jobs 2]
                                           [--online] [--cache DIR] [--results DIR]
    python scripts/reproduce.py imn-table3 [--seeds 5] [--rhos 0,0.25,0.5,0.75,0.99] [--figure-seeds N]
                                           [--jobs 2]

imn-table8: IMN's test AUROC with default hyperparameters (Kadra et al., Table 8) on the
AutoML-benchmark datasets. Offline (the default) it uses the datasets of ../shared/data,
importing them into the cache first, and names the ones it could not find; `--online` lets
openml download the rest. Writes <results>/reproduction/imn-table8.csv (table, row, column,
ours, paper, diff).

imn-table3: IMN's explanation quality on XAI-Bench (Kadra et al., Table 3 at rho = 0, and
Figure 11 over rho), experiment=paper_imn_xaibench. Runs the paper's definitions at every rho
and the original XAI-Bench code's quirks (compat=xaibench) at rho = 0, prints ours (mean +- std
over seeds) beside the paper in both modes, and writes <results>/reproduction/imn-table3.csv
(table, row, column, mode, ours, ours_std, paper, diff) and imn-figure11.png. No data is needed:
the synthetic sets are generated.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from bench.compose import compose, sweep_overrides
from bench.plan import build
from bench import xaibench_reproduction
from bench.io import atomic_path
from bench.reproduction import compare, mean_over_seeds, read_published
from bench.results import ResultStore

TABLES = {
    "imn-table8": {
        "experiment": "paper_imn_accuracy_cpu",
        "published": "baselines/imn_table8_default_test_auroc.csv",
        "metric": "roc_auc",
    },
}
FLAG = 0.02  # per-dataset differences larger than this are marked for a reason in the report


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.table == "imn-table3":
        return reproduce_imn_table3(args)
    spec = TABLES[args.table]
    experiment = args.experiment or spec["experiment"]
    data_options = [f"paths.results={args.results}", f"paths.openml_cache={args.cache}", "data.skip_missing=true",
                    f"data.offline={str(not args.online).lower()}"]
    if not args.online:
        import_shared_datasets(experiment, args.cache)
    runs = [[*overrides, *data_options] for overrides in sweep_overrides(experiment)]
    print(f"{args.table}: experiment={experiment}, {len(runs)} runs (model x seed); stored units are reused")
    unit_keys, skipped = set(), {}
    for keys, missing in run_all(runs, args.jobs):
        unit_keys |= keys
        skipped.update(missing)
    rows = ResultStore(args.results).read_all()
    ours = mean_over_seeds(rows[rows["unit"].isin(unit_keys)], spec["metric"])
    result = compare(ours, read_published(spec["published"]), table=args.table)
    print_comparison(result, ours)
    for reason in sorted(set(skipped.values())):
        names = sorted(name for name, why in skipped.items() if why == reason)
        print(f"\nmissing, {reason} ({len(names)} datasets, not run): " + ", ".join(names))
    write_result(result, args)
    return 0


def reproduce_imn_table3(args: argparse.Namespace) -> int:
    planned = xaibench_reproduction.runs(args.seeds, [float(r) for r in args.rhos.split(",")], args.figure_seeds)
    print(f"imn-table3: experiment=paper_imn_xaibench, {len(planned)} runs (mode x rho x seed); "
          "stored units are reused")
    tags = {}
    overrides = [[*o, f"paths.results={args.results}"] for _, _, o in planned]
    for (mode, rho, _), (keys, _) in zip(planned, run_all(overrides, args.jobs)):
        tags.update(dict.fromkeys(keys, (mode, rho)))
    summary = xaibench_reproduction.summarise(ResultStore(args.results).read_all(), tags)
    result = xaibench_reproduction.compare(summary, xaibench_reproduction.read_published())
    for mode, group in result.groupby("mode", sort=False):
        print(f"\n{mode} (rho = 0; ours = mean +- std over seeds)")
        print(group.assign(ours=[f"{o:.3f} +- {s:.3f}" for o, s in zip(group["ours"], group["ours_std"].fillna(0))])
              [["row", "column", "ours", "paper", "diff"]].to_string(index=False, float_format="%.3f"))
    figure = Path(args.results) / "reproduction" / "imn-figure11.png"
    xaibench_reproduction.plot_over_rho(summary, figure)
    print(f"\nwrote {figure}")
    write_result(result, args)
    return 0


def run_all(runs: list[list[str]], jobs: int):
    """Yields (unit keys, skipped datasets) of each run, in order, printing a line per run."""
    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for i, (keys, missing, line) in enumerate(pool.map(run_one, runs), start=1):
            print(f"[{i}/{len(runs)}] {line}", flush=True)
            yield keys, missing


def write_result(result: pd.DataFrame, args: argparse.Namespace) -> None:
    out = Path(args.results) / "reproduction" / f"{args.table}.csv"
    with atomic_path(out) as tmp:
        result.to_csv(tmp, index=False)
    print(f"\nwrote {out}")


def import_shared_datasets(experiment: str, cache: str) -> None:
    cfg = compose([f"experiment={experiment}", f"paths.openml_cache={cache}"])
    imported = build(cfg.data, "data", seed=cfg.seed).import_from_shared()
    if imported:
        print(f"imported {len(imported)} dataset(s) from the shared data folder into {cache}")


def run_one(overrides: list[str]) -> tuple[set[str], dict[str, str], str]:
    from bench.run import run  # in the worker process

    # Errors only: the skipped datasets are listed once at the end, not once per run.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(message)s")
    started = time.perf_counter()
    summary = run(compose(overrides))
    label = " ".join(o for o in overrides if o.startswith(("model=", "seed=", "compat=", "data.rho=")))
    line = (f"{label}: {summary.units_computed} computed, {summary.units_resumed} resumed "
            f"({time.perf_counter() - started:.0f} s)")
    return summary.unit_keys, {name: error.reason for name, error in summary.skipped}, line


def print_comparison(result: pd.DataFrame, ours: pd.DataFrame) -> None:
    seeds = ours.groupby("model")["n_seeds"].min().to_dict()
    per_dataset = result[~result["row"].str.startswith("mean ")]
    print("\nper dataset (test AUROC, ours = mean over seeds; ! marks |diff| > %.2f)" % FLAG)
    for dataset, group in per_dataset.groupby("row", sort=False):
        cells = "  ".join(f"{r.column} {r.ours:.3f}/{r.paper:.3f} ({r.diff:+.3f}){'!' if abs(r.diff) > FLAG else ''}"
                          for r in group.itertuples())
        print(f"  {dataset:<34} {cells}")
    print("\nsummary (ours / paper / diff; seeds per method: "
          + ", ".join(f"{m} {n}" for m, n in sorted(seeds.items())) + ")")
    summary = result[result["row"].str.startswith("mean ")].sort_values(["row", "column"])
    print(summary[["row", "column", "ours", "paper", "diff"]].to_string(index=False, float_format="%.3f"))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python scripts/reproduce.py", description=__doc__.split("\n")[0])
    p.add_argument("table", choices=sorted([*TABLES, "imn-table3"]))
    p.add_argument("--experiment", help="conf/experiment option (default: the table's CPU variant)")
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel (default 1)")
    p.add_argument("--online", action="store_true", help="let openml download what is not cached")
    p.add_argument("--cache", default="results/openml-cache", help="openml cache (default results/openml-cache)")
    p.add_argument("--results", default="results", help="results folder (default results)")
    p.add_argument("--seeds", type=int, default=5, help="imn-table3: seeds 0..N-1 (default 5)")
    p.add_argument("--rhos", default="0.0,0.25,0.5,0.75,0.99", help="imn-table3: feature correlations of Figure 11")
    p.add_argument("--figure-seeds", type=int, help="imn-table3: seeds at rho != 0 (default: --seeds)")
    return p


if __name__ == "__main__":
    sys.exit(main())
