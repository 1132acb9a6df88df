"""The leaderboard's figures, each a PNG: critical-difference diagrams, accuracy against
faithfulness normalised per predictor, explainer cost on a log scale, and a per-task heatmap."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.core.figures import plt, save_png  # first: it sets matplotlib's file-only backend
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.report.comparison import RANDOM
from bench.report.predictors import NATIVE, VIEW  # noqa: E402
from bench.report.statistics import RankTest  # noqa: E402


def cd_diagram(test: RankTest, path: Path) -> Path | None:
    """Demšar's diagram: mean ranks on an axis, entries within the critical difference joined by a
    bar. Drawn by autorank; None where there was no Friedman test or it found no difference
    (a post-hoc comparison only follows a significant omnibus test)."""
    if test.autorank_result is None or not test.significant:
        return None
    from autorank import plot_stats

    k = test.matrix.shape[1]
    figure, ax = plt.subplots(figsize=(max(7.0, 0.35 * k + 3), 1.2 + 0.3 * k))  # room for k rank ticks
    plot_stats(test.autorank_result, allow_insignificant=True, ax=ax)
    ax.set_title(f"{test.name}: CD = {test.critical_difference:.2f}, Friedman p = {test.pvalue:.2g}, "
                 f"{test.n_tasks} tasks", fontsize=9)
    return save_png(figure, path)


# The scatter's marker per explainer: the model's own explanation, our attribution view, else post-hoc.
MARKERS = {NATIVE: "*", VIEW: "D"}


def accuracy_vs_quality(summary: pd.DataFrame, headline: pd.DataFrame, metric: str, headline_metrics: Sequence[str],
                        path: Path) -> Path | None:
    """Inherent against post-hoc across predictors: one point per (predictor, explainer), the
    predictor's mean headline accuracy (`headline`, leaderboard.HEADLINE_COLUMNS) against the
    pair's mean `metric` normalised per predictor (bench/report/comparison.py: raw scores of
    different predictors are not on one scale), each with its 95% interval as a bar. 1 is the
    best explainer of each predictor, 0 (dashed) random's level; random itself is not drawn. A
    model's own explanation is a star, our attribution view of FLINT's or CNN-INTE's a diamond, a
    post-hoc explainer a circle; the colour is the predictor's, and the area grows with the
    explanation's seconds per instance (log scale; a small dot where the cost was not measured).
    Each point is labelled with its explainer."""
    normal = summary[summary["section"] == "normalised"]
    quality = normal[(normal["metric"] == metric) & (normal["explainer"] != RANDOM)]
    quality = quality[quality["predictor"].isin(headline.index)]
    if quality.empty:
        return None
    seconds = summary[(summary["section"] == "cost") & (summary["metric"] == "wall_seconds_per_instance")
                      ].set_index(["predictor", "explainer"])["mean"]
    logs = np.log10(seconds[seconds > 0]) if len(seconds) else pd.Series(dtype=float)
    low, high = (logs.min(), logs.max()) if len(logs) else (0.0, 0.0)

    def area(predictor: str, explainer: str) -> float:
        cost = seconds.get((predictor, explainer), np.nan)
        if not cost > 0:
            return 12.0
        return 30 + 270 * ((np.log10(cost) - low) / (high - low) if high > low else 0.5)

    figure, ax = plt.subplots(figsize=(9.5, 4.8))
    palette = plt.get_cmap("tab10").colors
    colours = {p: palette[i % len(palette)] for i, p in enumerate(sorted(quality["predictor"].unique()))}
    for row in quality.itertuples():
        x, x_ci = headline.loc[row.predictor, "mean"], headline.loc[row.predictor, "ci95"]
        colour = colours[row.predictor]
        if not (np.isnan(float(x_ci)) and np.isnan(row.ci95)):
            ax.errorbar(x, row.mean, xerr=np.nan_to_num(float(x_ci)), yerr=np.nan_to_num(row.ci95), fmt="none",
                        ecolor=colour, alpha=0.4, linewidth=0.8)
        ax.scatter(x, row.mean, marker=MARKERS.get(row.explainer, "o"), color=colour,
                   s=area(row.predictor, row.explainer), alpha=0.75, edgecolors="black", linewidths=0.4)
        ax.annotate("our view" if row.explainer == VIEW else row.explainer, (x, row.mean), fontsize=6, xytext=(4, 3),
                    textcoords="offset points")
    ax.axhline(0.0, color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=0.8)
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour, label=predictor)
               for predictor, colour in colours.items()]
    handles += [plt.Line2D([], [], marker=marker, linestyle="", color="grey", markersize=9, label=label)
                for marker, label in (("*", "inherent: the model's own explanation"),
                                      ("D", "our attribution view of FLINT's / CNN-INTE's explanation"),
                                      ("o", "post-hoc explainer"))]
    first = headline_metrics[0] if len(headline_metrics) == 1 else f"the first of {', '.join(headline_metrics)}"
    ax.set_xlabel(f"mean headline accuracy of the predictor ({first}) ± 95% interval")
    ax.set_ylabel(f"{metric} normalised per predictor\n(1: its best explainer, 0: random)")
    span = f"{10 ** low:.2g} to {10 ** high:.2g} s" if len(logs) else "not measured"
    ax.set_title(f"inherent vs post-hoc; area: seconds per explained instance ({span}, log scale)", fontsize=9)
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), ncol=1 + len(handles) // 18)
    ax.grid(alpha=0.3)
    return save_png(figure, path)


def cost_per_explainer(cells: pd.DataFrame, path: Path) -> Path | None:
    """Seconds per explained instance, one box per explainer over its (model, task, fold) cells,
    on a log scale: explainers differ by orders of magnitude."""
    seconds = cells[cells["metric"] == "wall_seconds_per_instance"]
    seconds = seconds[seconds["value"] > 0]
    if seconds.empty:
        return None
    order = seconds.groupby("explainer")["value"].median().sort_values().index
    figure, ax = plt.subplots(figsize=(6.5, 0.8 + 0.45 * len(order)))
    ax.boxplot([seconds.loc[seconds["explainer"] == e, "value"] for e in order], orientation="horizontal",
               tick_labels=list(order))
    ax.set_xscale("log")
    ax.set_xlabel("wall seconds per explained instance (log scale)")
    ax.grid(alpha=0.3, axis="x")
    return save_png(figure, path)


def task_heatmap(primary: pd.DataFrame, path: Path) -> Path | None:
    """Tasks x models: the headline accuracy written in each cell, coloured by its rank on the
    task (darker is better), so that tasks of different difficulty share one scale."""
    if primary.empty:
        return None
    ranks = primary.rank(axis=1, ascending=False)
    shade = 1 - (ranks - 1).div((primary.notna().sum(axis=1) - 1).clip(lower=1), axis=0)
    figure, ax = plt.subplots(figsize=(1.2 + 1.1 * primary.shape[1], 0.9 + 0.35 * primary.shape[0]))
    ax.imshow(shade.to_numpy(dtype=float), cmap="Greens", vmin=-0.2, vmax=1.2, aspect="auto")
    for (i, j), value in np.ndenumerate(primary.to_numpy(dtype=float)):
        ax.text(j, i, "–" if np.isnan(value) else f"{value:.3f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(primary.shape[1]), [str(c) for c in primary.columns], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(primary.shape[0]), [str(t) for t in primary.index], fontsize=8)
    ax.set_title("headline accuracy per task (colour: rank on the task)", fontsize=9)
    return save_png(figure, path)
