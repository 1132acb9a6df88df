"""The leaderboard: every stored row summarised per model and per (model, explainer), with ranks
and significance. Pure computation; `bench.report.publish` writes it out.

A *cell* is one value of one metric for one entry on one fold of one task with one seed. A
task's value is the mean over its folds and seeds; ranks and tests compare tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.report.statistics import RankTest, mean_ci, rank_test
from bench.report.tables import shared_reasons

CELL_KEYS = ["suite", "dataset", "fold", "seed", "model", "model_config", "explainer", "metric"]
# A task's headline accuracy, the first of these it has: the AUROC of IMN's tables, then R².
PRIMARY_METRICS = ("roc_auc", "r2", "accuracy")
# The quality metric set against accuracy in the scatter plot, the first of these present.
FAITHFULNESS_PREFERENCE = ("deletion_auc", "faithfulness_correlation", "faithfulness", "insertion_auc")
COST_METRICS = ("wall_seconds_per_instance", "model_evaluations_per_instance", "peak_memory_mb")
# A leaderboard per modality (bench.data.task.INPUT_KINDS) and its title, in this order: the
# models of one do not run on the other's tasks.
MODALITIES = {"tabular": "Tabular data", "image": "Images"}
# Rows stored before the input kind was recorded (2026-11-30): the image suites then, by name.
# Frozen: newer rows say their kind.
IMAGE_SUITES = ("mnist", "digits")
# n_tasks: tasks with a value of this metric; entry_tasks: with any value in the section.
SUMMARY_COLUMNS = ["section", "model", "explainer", "metric", "higher_is_better", "mean", "ci95", "n_cells",
                   "n_tasks", "entry_tasks", "n_tasks_total", "mean_rank"]


@dataclass
class Leaderboard:
    summary: pd.DataFrame  # SUMMARY_COLUMNS, one row per (section, model, explainer, metric)
    tests: dict[str, RankTest]  # "accuracy" and each quality metric
    primary: pd.DataFrame  # tasks x models: each task's headline accuracy
    cost_cells: pd.DataFrame  # the cost cells, for the plot of their spread
    notes: dict[str, list[str]] = field(default_factory=dict)  # per section, what a reader must know
    scatter_metric: str | None = None

    @property
    def empty(self) -> bool:
        return self.summary.empty


def ok_cells(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The ok rows with a finite value, one per cell: where a cell was stored by several runs (a
    rerun with another explainer set or metric set), the latest run's row. Returns the cells and
    how many rows were superseded."""
    ok = rows[(rows["status"] == "ok") & rows["model"].notna() & rows["metric"].notna()
              & np.isfinite(rows["value"].astype(float))].copy()
    ok["explainer"] = ok["explainer"].fillna("")
    ok["model_config"] = _known_configs(ok)
    ok = ok.sort_values("run_id", kind="stable")
    cells = ok.drop_duplicates(CELL_KEYS, keep="last")
    return cells, len(ok) - len(cells)


def _known_configs(rows: pd.DataFrame) -> pd.Series:
    """Rows stored before model configs were recorded belong to the model's one recorded config
    when it has one; they stay apart ("") only beside several."""
    configs = rows["model_config"].fillna("")
    recorded = rows.assign(model_config=configs).loc[configs != ""].groupby("model")["model_config"].unique()
    only = {model: found[0] for model, found in recorded.items() if len(found) == 1}
    return configs.where(configs != "", rows["model"].map(only).fillna(""))


def model_of(entry: str) -> str:
    """The model (conf name) of an entry label of _labels: "flint [3fa2c1]" -> "flint"."""
    return entry.split(" [", 1)[0]


def _labels(cells: pd.DataFrame) -> pd.DataFrame:
    """Entry and task names a reader can tell apart: a model stored with several configurations
    gets a short config hash, a dataset name found in several suites gets its suite."""
    configs = cells.groupby("model")["model_config"].nunique()
    several = cells["model"].map(configs) > 1
    short = cells["model_config"].str[:6].where(cells["model_config"] != "", "unrecorded")
    cells = cells.assign(entry=cells["model"].where(~several, cells["model"] + " [" + short + "]"))
    suites = cells.groupby("dataset")["suite"].nunique()
    return cells.assign(task=cells["dataset"].where(cells["dataset"].map(suites) == 1,
                                                    cells["suite"] + "/" + cells["dataset"]))


def _per_task(cells: pd.DataFrame) -> pd.DataFrame:
    """tasks x entries (`label`): each task's mean over folds and seeds."""
    return cells.groupby(["task", "label"])["value"].mean().unstack("label")


def _summarise(section: str, cells: pd.DataFrame, ranks: dict[str, pd.Series]) -> pd.DataFrame:
    tasks_total = cells["task"].nunique()
    entry_tasks = cells.groupby("label")["task"].nunique()
    out = []
    for (model, explainer, label, metric), group in cells.groupby(["entry", "explainer", "label", "metric"]):
        mean, ci = mean_ci(group["value"])
        out.append({
            "section": section, "model": model, "explainer": explainer, "metric": metric,
            "higher_is_better": bool(group["higher_is_better"].iloc[0]) if section != "cost" else False,
            "mean": mean, "ci95": ci, "n_cells": len(group), "n_tasks": group["task"].nunique(),
            "entry_tasks": entry_tasks[label], "n_tasks_total": tasks_total, "mean_rank": ranks[metric].get(label) if metric in ranks else None,
        })
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def _missing_cells(cells: pd.DataFrame, what: str) -> list[str]:
    """One line per entry that lacks, for some metrics, tasks on which other entries have them:
    an incomplete grid is reported, and those means are over fewer tasks."""
    gaps: dict[tuple[str, tuple[str, ...], int], list[str]] = {}
    for metric, by_metric in cells.groupby("metric"):
        tasks = sorted(by_metric["task"].unique())
        for label, group in by_metric.groupby("label"):
            missing = tuple(t for t in tasks if t not in set(group["task"]))
            if missing:
                gaps.setdefault((label, missing, len(tasks)), []).append(metric)
    return [f"{label}: no {what} ({', '.join(metrics)}) on {len(missing)} of {n} tasks ({', '.join(missing)}); "
            f"those means are over the other {n - len(missing)}."
            for (label, missing, n), metrics in sorted(gaps.items())]


def _not_applicable(rows: pd.DataFrame) -> list[str]:
    """What could not be scored, and why: n/a is an answer, not a missing cell."""
    na = rows[(rows["status"] == "n/a") & rows["model"].notna()]
    if na.empty:
        return []
    reasons = shared_reasons(na.assign(explainer=na["explainer"].fillna("(fit)")), ["explainer"])
    listed = "; ".join(f"{r.explainer}: {r.reason} ({r.rows} rows)" for r in reasons.head(5).itertuples())
    more = f"; and {len(reasons) - 5} other reasons" if len(reasons) > 5 else ""
    return [f"{len(na)} row(s) are n/a (the method cannot apply), so not on the leaderboard: {listed}{more}."]


def modality_of(rows: pd.DataFrame) -> pd.Series:
    """Each row's input kind ("tabular" or "image")."""
    inferred = rows["suite"].isin(IMAGE_SUITES).map({True: "image", False: "tabular"})
    return rows["input_kind"].where(rows["input_kind"].notna(), inferred) if "input_kind" in rows else inferred


def build_leaderboards(rows: pd.DataFrame) -> dict[str, Leaderboard]:
    """modality -> its leaderboard, for each modality the rows hold (MODALITIES' order)."""
    modality = modality_of(rows)
    return {name: build_leaderboard(rows[modality == name]) for name in MODALITIES if (modality == name).any()}


def build_leaderboard(rows: pd.DataFrame) -> Leaderboard:
    cells, superseded = ok_cells(rows)
    cells = _labels(cells)
    notes: dict[str, list[str]] = {"accuracy": [], "explanations": [], "cost": [], "data": []}
    if superseded:
        notes["data"].append(f"{superseded} row(s) stored by an earlier run for the same cell were superseded by "
                             f"the latest run's.")
    for model, group in cells.groupby("model"):
        if group["entry"].nunique() > 1:
            notes["data"].append(f"{model} was stored with {group['entry'].nunique()} configurations "
                                 f"({', '.join(sorted(group['entry'].unique()))}); each is its own entry.")
    failed = rows[rows["status"] == "failed"]
    if not failed.empty:
        notes["data"].append(f"{len(failed)} failed row(s) are missing cells here (see tables/).")
    notes["data"] += _not_applicable(rows)

    # An entry's own scores: its predictions' metrics, its robustness as a model (accuracy under
    # FGSM) and, for an interpreter (`<model>:g`: FLINT's g, CNN-INTE's meta-learner), its fidelity
    # to its model and its accuracy_change, which are shown beside them but are not what the
    # accuracy rank ranks.
    fits = cells[(cells["explainer"] == "") & cells["category"].isin(["prediction", "robustness", "fidelity"])]
    fits = fits.assign(label=fits["entry"])
    explained = cells[cells["explainer"] != ""]
    explained = explained.assign(label=explained["entry"] + " · " + explained["explainer"])
    quality = explained[explained["category"] != "cost"]
    cost = explained[explained["metric"].isin(COST_METRICS)]

    tests: dict[str, RankTest] = {}
    primary = pd.DataFrame()
    accuracy_ranks: dict[str, pd.Series] = {}
    if not fits.empty:
        by_task = fits[fits["category"] == "prediction"].groupby("task")["metric"].agg(set)
        primary_metric = by_task.map(lambda have: next((m for m in PRIMARY_METRICS if m in have), None))
        primary = _per_task(fits[fits["metric"] == fits["task"].map(primary_metric)])
        used = ", ".join(sorted(set(primary_metric.dropna())))
        tests["accuracy"] = rank_test(f"accuracy ({used}, by task)", primary, higher_is_better=True)
        # A model's rank is one number, shown beside each of its accuracy metrics.
        accuracy_ranks = dict.fromkeys(fits.loc[fits["category"] == "prediction", "metric"].unique(),
                                       tests["accuracy"].mean_ranks)
        notes["accuracy"] += _missing_cells(fits, "accuracy")
    for metric, group in quality[quality["category"] != "diagnostic"].groupby("metric"):
        tests[metric] = rank_test(metric, _per_task(group), bool(group["higher_is_better"].iloc[0]))
    notes["explanations"] += _missing_cells(quality, "explanation scores")

    summary = pd.concat([
        _summarise("accuracy", fits, accuracy_ranks),
        _summarise("explanations", quality, {m: t.mean_ranks for m, t in tests.items() if m != "accuracy"}),
        _summarise("cost", cost, {}),
    ], ignore_index=True)
    present = set(quality["metric"])
    scatter = next((m for m in FAITHFULNESS_PREFERENCE if m in present), None) or \
        next(iter(sorted(set(quality.loc[quality["category"] == "faithfulness", "metric"]))), None)
    return Leaderboard(summary=summary, tests=tests, primary=primary, cost_cells=cost, notes=notes, scatter_metric=scatter)
