"""The leaderboard: every stored row summarised per predictor and per (predictor, explainer), with
intervals, ranks and significance. Pure computation; `bench.report.publish` writes it out.

Entries are predictors (the rows' `predictor`): a model that predicts with another's network
unchanged (FLINT post-hoc and CNN-INTE over the cnn: predictor `cnn`) stores its base's rows
again, and they count once, under the base; such a model enters with its interpreter g
(`<model>:g`), the predictor its own explanation explains. A *cell* is one value of one metric for
one entry on one fold of one task with one seed; every mean carries the 95% interval over its
cells, and a difference from the best is called out only where its interval excludes 0
(bench/report/comparison.py). A task's value is the mean over its folds and seeds; ranks and
rank tests compare tasks, and are made only where there are MIN_TASKS of them. Explanation
scores compare within a predictor, and across predictors only normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.report.comparison import (
    CELL,
    RANDOM,
    describe_versus_best,
    normalised,
    own_versus_post_hoc,
    versus_best,
)
from bench.report.predictors import (
    OWN_EXPLANATIONS,
    VIEW,
    VIEW_NOTE,
    label_views,
    look_alike,
    stored_before_predictors,
    one_row_per_predictor,
)
from bench.report.statistics import MIN_TASKS, RankTest, mean_ci, rank_test
from bench.report.tables import shared_reasons

CELL_KEYS = ["suite", "dataset", "fold", "seed", "model", "model_config", "explainer", "metric"]
# A task's headline accuracy, per modality the first of these it has: on tables the AUROC of IMN's
# tables (R² for a regression task); on images the accuracy image papers report, since MNIST's
# AUROC is saturated (0.995 to 0.998 for every model): it stays in the table, not in the ranks.
HEADLINE_METRICS = {"tabular": ("roc_auc", "r2", "accuracy"), "image": ("accuracy",)}
# The quality metric set against accuracy in the scatter plot, the first of these present.
FAITHFULNESS_PREFERENCE = ("deletion_auc", "faithfulness_correlation", "faithfulness", "insertion_auc")
COST_METRICS = ("wall_seconds_per_instance", "model_evaluations_per_instance", "peak_memory_mb")
# A leaderboard per modality (bench.data.task.INPUT_KINDS) and its title, in this order: the
# models of one do not run on the other's tasks.
MODALITIES = {"tabular": "Tabular data", "image": "Images"}
# Rows stored before the input kind was recorded (2026-11-30): the image suites then, by name.
# Frozen: newer rows say their kind.
IMAGE_SUITES = ("mnist", "digits")
# A fit's budget as its rows state it (bench/models/budget.py): where they do not (rows stored
# before the budget was recorded), and where the model has no training loop ("").
NO_BUDGET, NO_LOOP = "—", "no training loop"
# n_tasks: tasks with a value of this metric; entry_tasks: with any value in the section. Sections:
# accuracy, explanations (raw scores), normalised (explanation scores normalised per predictor),
# cost. versus_best: within the section's metric (and, for explanations, the predictor).
SUMMARY_COLUMNS = ["section", "predictor", "explainer", "metric", "higher_is_better", "mean", "ci95", "n_cells",
                   "n_tasks", "entry_tasks", "n_tasks_total", "mean_rank", "versus_best", "budget"]
# The headline accuracy of each entry over its cells, and its difference from the best's.
HEADLINE_COLUMNS = ["mean", "ci95", "n_cells", "delta", "delta_ci95", "n_paired", "verdict"]


@dataclass
class Leaderboard:
    summary: pd.DataFrame  # SUMMARY_COLUMNS, one row per (section, predictor, explainer, metric)
    tests: dict[str, RankTest]  # "accuracy" and each quality metric (normalised); none under MIN_TASKS tasks
    primary: pd.DataFrame  # tasks x entries: each task's headline accuracy, mean over folds and seeds
    cost_cells: pd.DataFrame  # the cost cells, for the plot of their spread
    modality: str = "tabular"
    primary_ci: pd.DataFrame = field(default_factory=pd.DataFrame)  # like primary: the 95% half-widths
    headline: pd.DataFrame = field(default_factory=pd.DataFrame)  # entries x HEADLINE_COLUMNS
    own_versus_post_hoc: pd.DataFrame = field(default_factory=pd.DataFrame)  # comparison.OWN_COLUMNS
    notes: dict[str, list[str]] = field(default_factory=dict)  # per section, what a reader must know
    scatter_metric: str | None = None
    scope: str = ""  # what the intervals are over

    @property
    def empty(self) -> bool:
        return self.summary.empty

    @property
    def headline_metrics(self) -> tuple[str, ...]:
        return HEADLINE_METRICS[self.modality]


def ok_cells(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The ok rows with a finite value, one per cell: where a cell was stored by several runs (a
    rerun with another explainer set or metric set), the latest run's row. Returns the cells
    (with their `predictor`, and `predictor_named`: whether the row named it) and how many rows
    were superseded."""
    ok = rows[(rows["status"] == "ok") & rows["model"].notna() & rows["metric"].notna()
              & np.isfinite(rows["value"].astype(float))].copy()
    ok["explainer"] = ok["explainer"].fillna("")
    named = ok["predictor"].fillna("").astype(str) if "predictor" in ok else pd.Series("", index=ok.index)
    ok["predictor"], ok["predictor_named"] = named.where(named != "", ok["model"]), named != ""
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


def _summarise(section: str, cells: pd.DataFrame, ranks: dict[str, pd.Series], verdicts: dict | None = None,
               budgets: dict[str, str] | None = None) -> pd.DataFrame:
    tasks_total = cells["task"].nunique()
    entry_tasks = cells.groupby("label")["task"].nunique()
    cells = cells[["entry", "explainer", "label", "metric", "task", "value", "higher_is_better"]]  # the rest only slows
    out = []
    for (entry, explainer, label, metric), group in cells.groupby(["entry", "explainer", "label", "metric"]):
        mean, ci = mean_ci(group["value"])
        out.append({
            "section": section, "predictor": entry, "explainer": explainer, "metric": metric,
            "higher_is_better": bool(group["higher_is_better"].iloc[0]) if section != "cost" else False,
            "mean": mean, "ci95": ci, "n_cells": len(group), "n_tasks": group["task"].nunique(),
            "entry_tasks": entry_tasks[label], "n_tasks_total": tasks_total,
            "mean_rank": ranks[metric].get(label) if metric in ranks else None,
            "versus_best": (verdicts or {}).get((label, metric), ""), "budget": (budgets or {}).get(label, ""),
        })
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def _verdicts(cells: pd.DataFrame, by: list[str]) -> dict[tuple[str, str], str]:
    """(label, metric) -> how the entry compares with the best of its group (`by`, the metric
    among them): comparison.versus_best, as a table shows it."""
    out = {}
    cells = cells[list(dict.fromkeys([*CELL, "label", "value", "higher_is_better", *by]))]  # the rest only slows
    for _, group in cells.groupby(by):
        table = versus_best(group, bool(group["higher_is_better"].iloc[0]))
        out |= {(label, group["metric"].iloc[0]): describe_versus_best(row) for label, row in table.iterrows()}
    return out


def _headline_cells(prediction: pd.DataFrame, headline_metrics: tuple[str, ...]) -> pd.DataFrame:
    """The cells of each task's headline metric: the first of `headline_metrics` the task has."""
    chosen = prediction.groupby("task")["metric"].agg(set).map(
        lambda have: next((m for m in headline_metrics if m in have), None))
    return prediction[prediction["metric"] == prediction["task"].map(chosen)]


def _headline(cells: pd.DataFrame) -> pd.DataFrame:
    """Each entry's headline accuracy over its cells (HEADLINE_COLUMNS), against the best's."""
    if cells.empty:
        return pd.DataFrame(columns=HEADLINE_COLUMNS)
    spread = pd.DataFrame({label: {**dict(zip(["mean", "ci95"], mean_ci(group["value"]))), "n_cells": len(group)}
                           for label, group in cells.groupby("label")}).T
    best = versus_best(cells, higher_is_better=True).rename(columns={"ci95": "delta_ci95"})
    return spread.join(best)[HEADLINE_COLUMNS]


def _budgets(fits: pd.DataFrame) -> dict[str, str]:
    """Each entry's training budget as its prediction rows state it: NO_BUDGET where they do not,
    NO_LOOP where it is "" (a model without a training loop); where cells state several (early
    stopping ends each fit at its own epoch), the most common and how many others."""
    prediction = fits[fits["category"] == "prediction"]
    out = {}
    for label, group in prediction.groupby("label"):
        stated = (group["budget"].dropna() if "budget" in group else pd.Series(dtype=object)).astype(str)
        if stated.empty:
            out[label] = NO_BUDGET
            continue
        counts = stated.replace("", NO_LOOP).value_counts()
        more = len(counts) - 1
        out[label] = counts.index[0] + (f" (and {more} other{'s' if more > 1 else ''} across cells)" if more else "")
    return out


def _scope(cells: pd.DataFrame) -> str:
    """What every interval of the section is over."""
    tasks, seeds = cells["task"].nunique(), cells["seed"].nunique()
    folds = int(cells.groupby("task")["fold"].nunique().max())
    text = (f"Each mean is shown ± the half-width of its 95% Student-t interval over its cells (task, fold, seed): "
            f"here {tasks} task{'s' if tasks > 1 else ''}, at most {folds} fold{'s' if folds > 1 else ''} per task, "
            f"{seeds} seed{'s' if seeds > 1 else ''}")
    if tasks == 1:
        text += ", so the interval is over the one task's folds and seeds"
    if cells.groupby(["entry", "explainer", "metric"]).size().max() < 2:
        text += "; one cell per mean: no interval, and no difference is called distinguishable or not"
    return text + (". An explanation's cell is its mean over the explained instances: the rows hold no score per "
                   "instance, so no interval is over instances.")


def _too_few_tasks(n_tasks: int) -> str:
    return (f"{n_tasks} task{'s' if n_tasks > 1 else ''}: no ranks and no rank test (Friedman/Nemenyi, Wilcoxon). "
            f"A rank over fewer than {MIN_TASKS} tasks is an ordering, not evidence (Demšar 2006); the entries are "
            "compared by their intervals instead.")


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
    return {name: build_leaderboard(rows[modality == name], modality=name)
            for name in MODALITIES if (modality == name).any()}


def build_leaderboard(rows: pd.DataFrame, *, modality: str | None = None) -> Leaderboard:
    """The leaderboard of one modality's rows (`modality`: theirs when not given)."""
    modality = modality or ("image" if len(rows) and (modality_of(rows) == "image").all() else "tabular")
    cells, superseded = ok_cells(rows)
    cells, entry_notes = one_row_per_predictor(cells)
    cells = _labels(label_views(cells.assign(model_config=_known_configs(cells))))
    notes: dict[str, list[str]] = {"entries": entry_notes, "accuracy": [], "explanations": [], "cost": [], "data": []}
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
    if cells.empty:
        return Leaderboard(summary=pd.DataFrame(columns=SUMMARY_COLUMNS), tests={}, primary=pd.DataFrame(),
                           cost_cells=cells, modality=modality, notes=notes)

    # An entry's own scores: its predictions' metrics, its robustness as a model (accuracy under
    # FGSM) and, for an interpreter (`<model>:g`: FLINT's g, CNN-INTE's meta-learner), its fidelity
    # to its model and its accuracy_change, which are shown beside them but are not what the
    # accuracy rank ranks.
    fits = cells[(cells["explainer"] == "") & cells["category"].isin(["prediction", "robustness", "fidelity"])]
    fits = fits.assign(label=fits["entry"])
    explained = cells[cells["explainer"] != ""]
    explained = explained.assign(label=explained["entry"] + " · " + explained["explainer"])
    quality = explained[explained["category"] != "cost"]
    judged = quality[quality["category"] != "diagnostic"]
    cost = explained[explained["metric"].isin(COST_METRICS)]
    notes["entries"] += look_alike(fits) + stored_before_predictors(explained) \
        + ([VIEW_NOTE] if (explained["explainer"] == VIEW).any() else [])

    ranked = cells["task"].nunique() >= MIN_TASKS
    if not ranked:
        notes["accuracy"].append(_too_few_tasks(cells["task"].nunique()))
    prediction = fits[fits["category"] == "prediction"]
    primary_cells = _headline_cells(prediction, HEADLINE_METRICS[modality])
    primary = _per_task(primary_cells) if not primary_cells.empty else pd.DataFrame()
    primary_ci = primary_cells.groupby(["task", "label"])["value"].agg(lambda v: mean_ci(v)[1]).unstack("label") \
        if not primary_cells.empty else pd.DataFrame()
    tests: dict[str, RankTest] = {}
    if ranked and not primary.empty:
        used = ", ".join(sorted(set(primary_cells["metric"])))
        tests["accuracy"] = rank_test(f"accuracy ({used}, by task)", primary, higher_is_better=True)
    notes["accuracy"] += _missing_cells(fits, "accuracy")

    # Across predictors, explanation scores are ranked only normalised per predictor
    # (bench/report/comparison.py); random, 0 by construction, is the baseline and not an entry.
    scores = normalised(judged, OWN_EXPLANATIONS).assign(higher_is_better=True)
    if ranked:
        for metric, group in scores[scores["explainer"] != RANDOM].groupby("metric"):
            tests[metric] = rank_test(f"{metric} normalised per predictor", _per_task(group), higher_is_better=True)
    unscaled = sorted(set(judged["metric"]) - set(scores["metric"]))
    if unscaled:
        notes["explanations"].append(f"{', '.join(unscaled)}: no normalised score (no random explainer scored, no "
                                     "post-hoc explainer scored every predictor to serve as the reference, or none "
                                     "beats random), so compared within each predictor only.")
    notes["explanations"] += _missing_cells(quality, "explanation scores")

    # A model's rank is one number, shown beside each of its accuracy metrics.
    accuracy_ranks = dict.fromkeys(prediction["metric"].unique(), tests["accuracy"].mean_ranks) \
        if "accuracy" in tests else {}
    summary = pd.concat([
        _summarise("accuracy", fits, accuracy_ranks, _verdicts(prediction, ["metric"]), _budgets(fits)),
        _summarise("explanations", quality, {}, _verdicts(quality, ["entry", "metric"])),
        _summarise("normalised", scores, {m: t.mean_ranks for m, t in tests.items() if m != "accuracy"}),
        _summarise("cost", cost, {}),
    ], ignore_index=True)
    present = set(quality["metric"])
    scatter = next((m for m in FAITHFULNESS_PREFERENCE if m in present), None) or \
        next(iter(sorted(set(quality.loc[quality["category"] == "faithfulness", "metric"]))), None)
    return Leaderboard(summary=summary, tests=tests, primary=primary, cost_cells=cost, modality=modality,
                       headline=_headline(primary_cells), primary_ci=primary_ci,
                       own_versus_post_hoc=own_versus_post_hoc(judged[judged["category"] == "faithfulness"], scores,
                                                               OWN_EXPLANATIONS),
                       notes=notes, scatter_metric=scatter, scope=_scope(cells))
