"""The leaderboard's figures, each a PNG: critical-difference diagrams, accuracy against
faithfulness, explainer cost on a log scale, and a per-task heatmap."""

from __future__ import annotations

from pathlib import Path

from bench.core.figures import plt, save_png  # first: it sets matplotlib's file-only backend
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.report.leaderboard import model_of  # noqa: E402
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


# Models whose own ("native") explanation is an interpreter's, fitted after the model it explains
# and apart from it (FLINT post-hoc: g over a frozen, trained f): post-hoc, not by design.
POST_HOC_INTERPRETERS = frozenset({"flint_posthoc"})


def accuracy_vs_quality(summary: pd.DataFrame, primary: pd.DataFrame, metric: str, path: Path) -> Path | None:
    """Inherent against post-hoc at a glance: one point per (model, explainer), the model's mean
    headline accuracy over all its tasks against the pair's mean `metric`. A model's own (native)
    explanation is a star, a post-hoc explainer's a circle (so is the own explanation of a
    POST_HOC_INTERPRETERS model); the colour is the model's, and the
    area grows with the explanation's seconds per instance (log scale; a small dot where the
    cost was not measured). Each point is labelled with its explainer."""
    quality = summary[(summary["section"] == "explanations") & (summary["metric"] == metric)]
    if quality.empty or primary.empty:
        return None
    accuracy = primary.mean()
    seconds = summary[(summary["section"] == "cost") & (summary["metric"] == "wall_seconds_per_instance")
                      ].set_index(["model", "explainer"])["mean"]
    logs = np.log10(seconds[seconds > 0]) if len(seconds) else pd.Series(dtype=float)
    low, high = (logs.min(), logs.max()) if len(logs) else (0.0, 0.0)

    def area(model: str, explainer: str) -> float:
        cost = seconds.get((model, explainer), np.nan)
        if not cost > 0:
            return 12.0
        return 30 + 270 * ((np.log10(cost) - low) / (high - low) if high > low else 0.5)

    figure, ax = plt.subplots(figsize=(9.5, 4.8))
    palette = plt.get_cmap("tab10").colors
    colours = {model: palette[i % len(palette)] for i, model in enumerate(sorted(quality["model"].unique()))}
    for row in quality.itertuples():
        if row.model in accuracy.index:
            inherent = row.explainer == "native" and model_of(row.model) not in POST_HOC_INTERPRETERS
            ax.scatter(accuracy[row.model], row.mean, marker="*" if inherent else "o",
                       color=colours[row.model], s=area(row.model, row.explainer), alpha=0.75, edgecolors="black",
                       linewidths=0.4)
            ax.annotate(row.explainer, (accuracy[row.model], row.mean), fontsize=6, xytext=(4, 3),
                        textcoords="offset points")
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colour, label=model)
               for model, colour in colours.items()]
    handles += [plt.Line2D([], [], marker=marker, linestyle="", color="grey", markersize=9, label=label)
                for marker, label in (("*", "inherent: the model's own explanation"), ("o", "post-hoc explainer"))]
    ax.set_xlabel("mean headline accuracy of the model (AUROC or R²)")
    better = "higher" if quality["higher_is_better"].iloc[0] else "lower"
    ax.set_ylabel(f"mean {metric} ({better} is better)")
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
