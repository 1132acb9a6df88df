"""CNN-INTE's claim on MNIST (Liu, Wang & Matwin, IJCNN 2018; METHODS.md §4) from stored rows:
the CNN's accuracy, the meta-learner's accuracy and fidelity, and the change of accuracy that the
paper claims is none (`python scripts/reproduce.py cnn-inte`); and the sweep over k1, k2 and the
layer: fidelity against the size of the diagram.

The paper's abstract gives no number, only the claim; the reproduction's "paper" column holds it
for the accuracy change (0: no loss) and is empty elsewhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["table", "row", "column", "ours", "ours_std", "n_seeds", "paper", "diff", "note"]
# row -> (model entry, metric); percent
QUANTITIES = {
    "accuracy_cnn": ("cnn", "accuracy"),
    "accuracy_cnn_inte": ("cnn_inte:g", "accuracy"),
    "fidelity_cnn_inte": ("cnn_inte:g", "fidelity"),
    "accuracy_change": ("cnn_inte:g", "accuracy_change"),
}
CLAIM = {"accuracy_change": 0.0}  # "no loss of accuracy relative to the CNN"
SWEEP_COLUMNS = ["layer", "k1", "k2", "prototypes", "fidelity", "accuracy_g", "accuracy_change", "fit_seconds"]


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
    both = summary.assign(paper=summary["row"].map(CLAIM))
    both["diff"] = both["ours"] - both["paper"]
    fidelity = both.set_index("row")["ours"].get("fidelity_cnn_inte", np.nan)
    both["note"] = [_note(row, fidelity) for row in both.itertuples()]
    return both.assign(table="cnn-inte", column="MNIST")[COLUMNS]


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
