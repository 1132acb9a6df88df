"""IMN's Table 3 and Figure 11 (XAI-Bench, ../shared/docs/XAIBENCH.md) from stored result rows:
our mean and standard deviation over seeds beside the published numbers, in the paper's
definitions ("correct") and with the original code's quirks ("xaibench"), and the plot of each
metric over the feature correlation rho.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.core.io import atomic_path
from bench.core.paths import project_path
from bench.papers.reproduction import spread_reason, within_spread

PUBLISHED = "baselines/imn_table3_xaibench_rho0.csv"
COLUMNS = ["table", "row", "column", "mode", "ours", "ours_std", "n_seeds", "paper", "diff", "note"]
FLAG = 0.1  # Table 3's scores are correlations and shares in [-1, 1]: larger differences get a reason
# Table 3's metric names -> ours ("infidelity" there is the beta-normalised form).
METRICS = {"faithfulness": "faithfulness", "roar_faithfulness": "roar_faithfulness",
           "infidelity": "infidelity_normalised", "roar_monotonicity": "roar_monotonicity",
           "shapley_corr": "shapley_corr"}
# Table 3's columns and method names -> our explainers.
EXPLAINERS = {"imn": "native", "kernel_shap": "kernel_shap", "shap": "kernel_shap", "lime": "lime",
              "random": "random"}
TABLE3_RHO = 0.0


def sweeps(seeds: int, rhos: list[float], figure_seeds: int | None = None) -> dict[str, list[str]]:
    """The Hydra multiruns of `experiment=paper_imn_xaibench`, name -> sweep overrides: Table 3's,
    the paper's definitions (when `rhos` holds Table 3's rho) and the original code's quirks at
    rho = 0 over `seeds` seeds; Figure 11's, the paper's definitions at the other rhos over
    `figure_seeds` (default: `seeds`) seeds."""
    figure_seeds = seeds if figure_seeds is None else figure_seeds
    modes = "correct,xaibench" if TABLE3_RHO in rhos else "xaibench"
    planned = {"table3": [f"compat={modes}", f"data.rho={TABLE3_RHO}", f"seed=range({seeds})"]}
    others = [rho for rho in rhos if rho != TABLE3_RHO]
    if others and figure_seeds:
        planned["figure11"] = ["compat=correct", f"data.rho={','.join(map(str, others))}",
                               f"seed=range({figure_seeds})"]
    return planned


def summarise(rows: pd.DataFrame, tags: dict[str, tuple[str, float]]) -> pd.DataFrame:
    """Rows of the runs' units -> (mode, rho, dataset, explainer, metric, ours, ours_std, n_seeds)."""
    ok = rows[rows["unit"].isin(tags) & (rows["status"] == "ok") & rows["explainer"].notna()
              & rows["metric"].isin(METRICS.values())]
    tagged = ok.assign(mode=ok["unit"].map(lambda u: tags[u][0]), rho=ok["unit"].map(lambda u: tags[u][1]))
    return (tagged.groupby(["mode", "rho", "dataset", "explainer", "metric"], as_index=False)
                  .agg(ours=("value", "mean"), ours_std=("value", "std"), n_seeds=("seed", "nunique")))


def read_published() -> pd.DataFrame:
    return pd.read_csv(project_path(PUBLISHED), keep_default_na=False, na_values=[""])


def compare(summary: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Table 3 cell by cell, in both modes: row "<metric> / <dataset>", column imn, kernel_shap
    or the best other method the paper names."""
    cells = []
    for p in published.itertuples():
        columns = [("imn", p.imn), ("kernel_shap", p.kernel_shap)]
        if isinstance(p.best_other_method, str):
            columns.append((p.best_other_method, p.best_other_value))
        for column, paper in columns:
            cells.append({"row": f"{p.metric} / {p.dataset}", "metric": METRICS[p.metric], "dataset": p.dataset,
                          "column": column, "explainer": EXPLAINERS[column], "paper": paper})
    table3 = summary[summary["rho"] == TABLE3_RHO]
    merged = pd.DataFrame(cells).merge(table3, on=["metric", "dataset", "explainer"], how="left")
    merged["mode"] = merged["mode"].fillna("not run")
    merged["table"] = "imn-table3"
    merged["diff"] = merged["ours"] - merged["paper"]
    # The original code's number for the same cell: where it matches the paper, its quirks are the
    # reason a cell of the paper's definitions differs.
    quirky = merged[merged["mode"] == "xaibench"].set_index(["row", "column"])["ours"]
    merged["note"] = [_note(row, quirky.get((row.row, row.column), np.nan)) for row in merged.itertuples()]
    return merged[COLUMNS].sort_values(["mode", "row", "column"], kind="stable").reset_index(drop=True)


# The original code's quirks (XAIBENCH.md) that a cell's difference can come from.
QUIRKS = {"roar_faithfulness": "its ROAR faithfulness correlates |phi| of training rows in feature order with test "
                               "deltas in rank order",
          "gaussianPiecewiseConstant": "its piecewise-constant g1 is 0 on [-0.5, 0), where the paper intends -1"}


def _note(row, quirky: float) -> str:
    """Why a cell differs from the paper by more than FLAG, where the rows show a reason: the
    spread over seeds, or (for the paper's definitions) the original code's quirks, when the
    cell computed with them (`quirky`) is within FLAG of the paper and closer to it."""
    if pd.isna(row.ours):
        return "no stored rows for this cell"
    if abs(row.diff) <= FLAG:
        return ""
    if within_spread(row.diff, row.ours_std):
        return spread_reason(row.ours_std, row.n_seeds, "the paper's runs set no seed and report one number "
                                                        "(XAIBENCH.md)")
    quirks = [text for key, text in QUIRKS.items() if key in (row.metric, row.dataset)]
    if row.mode == "correct" and quirks and abs(quirky - row.paper) <= min(FLAG, abs(row.diff)):
        return (f"the paper's number is the original code's, and {'; '.join(quirks)}: with those quirks "
                f"(compat=xaibench) ours is {quirky:.3f}")
    return ""


def plot_over_rho(summary: pd.DataFrame, path: Path) -> None:
    """Figure 11 of the paper: each metric (rows) on each dataset (columns) against rho, one line
    per explainer with a band of one standard deviation over seeds (the paper's definitions)."""
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on servers and CI
    import matplotlib.pyplot as plt

    correct = summary[summary["mode"] == "correct"]
    metrics = [m for m in METRICS.values() if m in set(correct["metric"])]
    datasets = sorted(correct["dataset"].unique())
    figure, axes = plt.subplots(len(metrics), len(datasets), figsize=(4 * len(datasets), 2.6 * len(metrics)),
                                squeeze=False, sharex=True)
    for (metric, dataset), ax in zip([(m, d) for m in metrics for d in datasets], axes.ravel()):
        cell = correct[(correct["metric"] == metric) & (correct["dataset"] == dataset)]
        for explainer, line in cell.groupby("explainer"):
            line = line.sort_values("rho")
            ax.plot(line["rho"], line["ours"], marker="o", label=explainer)
            ax.fill_between(line["rho"], line["ours"] - line["ours_std"].fillna(0),
                            line["ours"] + line["ours_std"].fillna(0), alpha=0.2)
        ax.set_title(f"{metric}\n{dataset}", fontsize=9)
        ax.set_xlabel("rho")
    axes.ravel()[0].legend(fontsize=8)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=120, format="png")
    plt.close(figure)
