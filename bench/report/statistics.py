"""Ranks with significance, as Demšar (JMLR 2006) recommends for comparing methods over many
datasets: a Friedman test over the tasks, then Nemenyi's critical difference between mean ranks.

autorank computes the critical difference and draws the diagram; the omnibus statistic comes
from scipy directly, because autorank reports only its p-value.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

# autorank refuses fewer; Demšar's chi-square approximation is poor below that anyway.
MIN_TASKS = 5
ALPHA = 0.05


def mean_ci(values) -> tuple[float, float]:
    """Mean and the half-width of its 95% Student-t interval (NaN from fewer than two values)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return np.nan, np.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan
    return mean, float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))


def complete_block(matrix: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The Friedman test needs every entry (column) on every task (row). Drops, one step at a
    time, the least covered entry or the tasks it misses: whichever loses fewer cells, unless
    dropping the tasks would leave too few for a test while dropping the entry would not.
    Returns the complete matrix, the dropped tasks and the dropped entries."""
    dropped_tasks: list[str] = []
    dropped_entries: list[str] = []
    while matrix.isna().any().any() and not matrix.empty:
        coverage = matrix.notna().sum()
        worst = coverage.idxmin()
        missing_tasks = matrix.index[matrix[worst].isna()]
        fewer_cells_lost = coverage[worst] <= matrix.loc[missing_tasks].notna().sum().sum()
        keeps_a_test = len(matrix) - len(missing_tasks) < MIN_TASKS <= len(matrix) and matrix.shape[1] > 2
        if fewer_cells_lost or keeps_a_test:
            dropped_entries.append(str(worst))
            matrix = matrix.drop(columns=worst)
        else:
            dropped_tasks.extend(str(t) for t in missing_tasks)
            matrix = matrix.drop(index=missing_tasks)
    return matrix, dropped_tasks, dropped_entries


@dataclass
class RankTest:
    """Entries (columns of `matrix`) ranked on each task (row); 1 is the best."""

    name: str  # what is compared, e.g. "accuracy" or a metric
    matrix: pd.DataFrame  # the complete block the test ran on
    higher_is_better: bool
    mean_ranks: pd.Series  # best first
    dropped_tasks: list[str] = field(default_factory=list)
    dropped_entries: list[str] = field(default_factory=list)
    test: str | None = None
    statistic: float = np.nan
    pvalue: float = np.nan
    critical_difference: float = np.nan
    problem: str | None = None  # why there is no test
    autorank_result: object = None  # for the diagram

    @property
    def n_tasks(self) -> int:
        return len(self.matrix)

    @property
    def significant(self) -> bool:
        return bool(self.pvalue < ALPHA)  # False for NaN: no test

    def describe(self) -> str:
        direction = "higher" if self.higher_is_better else "lower"
        parts = [f"Ranks of {self.name} ({direction} is better) on each of {self.n_tasks} task(s), ties sharing "
                 f"their average rank; a task's value is its mean over folds and seeds."]
        if self.test == "Friedman":
            parts.append(f"Friedman test over {self.n_tasks} tasks × {self.matrix.shape[1]} entries: "
                         f"χ² = {self.statistic:.3f}, p = {self.pvalue:.3g} (alpha {ALPHA}).")
            if self.significant:
                parts.append(f"Nemenyi post-hoc: mean ranks closer than CD = {self.critical_difference:.3f} "
                             f"are not significantly different.")
            else:
                parts.append("Not significant, so no post-hoc test (Demšar 2006): the ranks may differ by chance.")
        elif self.test == "Wilcoxon signed-rank":
            parts.append(f"Two entries: Wilcoxon signed-rank test over {self.n_tasks} tasks: "
                         f"W = {self.statistic:.3f}, p = {self.pvalue:.3g} (alpha {ALPHA}).")
        else:
            parts.append(f"No significance test: {self.problem}.")
        if self.dropped_tasks:
            parts.append(f"Left out for missing cells (the test needs every entry on every task): "
                         f"tasks {', '.join(self.dropped_tasks)}.")
        if self.dropped_entries:
            parts.append(f"Left out for missing tasks: entries {', '.join(self.dropped_entries)}.")
        return " ".join(parts)


def rank_test(name: str, matrix: pd.DataFrame, higher_is_better: bool) -> RankTest:
    """`matrix`: tasks × entries, NaN where an entry has no value on a task."""
    full, dropped_tasks, dropped_entries = complete_block(matrix)
    ranks = full.rank(axis=1, ascending=not higher_is_better, method="average")
    result = RankTest(name, full, higher_is_better, ranks.mean().sort_values(), dropped_tasks, dropped_entries)
    k, n = full.shape[1], full.shape[0]
    if k < 2:
        result.problem = f"{k} entry with values on every task; at least 2 are needed"
    elif n < MIN_TASKS:
        result.problem = f"{n} task(s) with every entry; at least {MIN_TASKS} are needed"
    elif (full.nunique(axis=1) == 1).all():
        result.problem = "every entry ties on every task"
    elif k == 2:
        result.test = "Wilcoxon signed-rank"
        test = stats.wilcoxon(full.iloc[:, 0], full.iloc[:, 1])
        result.statistic, result.pvalue = float(test.statistic), float(test.pvalue)
    else:
        from autorank import autorank  # imported here: it pulls in statsmodels

        result.test = "Friedman"
        test = stats.friedmanchisquare(*full.to_numpy().T)
        result.statistic, result.pvalue = float(test.statistic), float(test.pvalue)
        # autorank prints its choices even when not verbose (describe() says them), and warns
        # from the normality tests that force_mode makes irrelevant.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result.autorank_result = autorank(full, alpha=ALPHA, verbose=False,
                                              order="descending" if higher_is_better else "ascending",
                                              force_mode="nonparametric")
        result.critical_difference = float(result.autorank_result.cd)
    return result
