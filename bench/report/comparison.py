"""Comparisons a referee would accept: like with like, and never without their uncertainty.

Within a predictor. An explanation score depends on the predictor as much as on the explainer:
deletion AUC integrates the model's probability as pixels go, so its level moves with the model's
confidence (in the nightly's MNIST rows of 2026-12-07, the random explainer scores 0.66 on the
cnn and 0.23 on ATEX, whose probabilities are flatter). Two explainers are compared on the same predictor
and the same explained instances: on the cells (task, fold, seed) both were scored on, by the
mean of their paired differences and its 95% interval (`versus_best`); a difference whose
interval holds 0 is "not distinguishable". With one cell there is no interval, and nothing is
called distinguishable or not.

Across predictors, only the normalised score (`normalised`): on each cell,

    (explainer - random) / (best - random)    (= (random - explainer) / (random - best))

where random is the random explainer's score of that predictor on that cell and best is the best
score, on that cell, of the reference explainers: the post-hoc explainers (random aside) that
every predictor of the comparison was explained with, so that every predictor is measured
against the same pool (a predictor with more explainers would otherwise set a higher bar). In
the metric's direction, 1 is the best reference, 0 random's level, above 1 better than every
reference (an own explanation may be), below 0 worse than random (without a bound: where the
best reference is barely above random, as ROAD's LeRF on MNIST, a poor explainer scores far
below 0). Why this and not the others:
- the random explainer is the floor that carries the predictor's confidence, the very thing
  that makes raw scores incomparable;
- the best *attainable* is the best reference explainer of the same predictor on the same
  instances, not the metric's theoretical bound: deletion AUC's bound 0 needs a model whose
  output vanishes at the first removed feature, so the gap to it measures the model again, and
  most metrics have no bound a given model can reach. The price: 1 means "the best reference
  this benchmark ran", and the pool shrinks to what every predictor has (on images, where
  CNN-INTE's g, a forest, has no gradient, LIME's);
- the rank among the predictor's explainers would be as comparable but loses how far apart
  they are (an explainer a hair behind the best and one at random's level would differ by one).
Where a cell has no random explainer or no reference explainer, or no reference beats random
(best equals random), the score is undefined (NaN) and the cell is left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.report.statistics import mean_ci

# A cell: what one run scored on the same explained instances.
CELL = ["task", "fold", "seed"]
RANDOM = "random"  # the baseline explainer (bench/explainers/random.py)
BEST, NOT_DISTINGUISHABLE, BETTER, WORSE = "best", "not distinguishable", "better", "worse"


def references(cells: pd.DataFrame, own: tuple[str, ...]) -> dict[str, list[str]]:
    """Per metric, the reference explainers (module docstring): those, neither random nor one of
    the `own` explanations, that scored every predictor ("entry") of `cells` on it."""
    post_hoc = cells[~cells["explainer"].isin([RANDOM, *own])]
    entries = post_hoc.groupby("metric")["entry"].nunique()
    per_explainer = post_hoc.groupby(["metric", "explainer"])["entry"].nunique()
    return {metric: sorted(explainer for (m, explainer), n in per_explainer.items() if m == metric and n == entries[m])
            for metric in entries.index}


def normalised(cells: pd.DataFrame, own: tuple[str, ...]) -> pd.DataFrame:
    """`cells` (columns CELL, "entry" (the predictor), "explainer", "metric", "value",
    "higher_is_better") with "value" replaced by the normalised score (module docstring), `own`
    naming the own explanations, which are no reference; the cells without one are dropped."""
    keys = [*CELL, "entry", "metric"]
    random = cells[cells["explainer"] == RANDOM].drop_duplicates(keys).set_index(keys)["value"]
    pool = references(cells, own)
    is_reference = pd.Series([explainer in pool.get(metric, ()) for explainer, metric
                              in zip(cells["explainer"], cells["metric"])], index=cells.index, dtype=bool)
    signed = cells["value"].where(cells["higher_is_better"].astype(bool), -cells["value"])
    best = signed.where(is_reference).groupby([cells[k] for k in keys]).transform("max")
    best = best.where(cells["higher_is_better"].astype(bool), -best)
    floor = pd.Series(random.reindex(pd.MultiIndex.from_frame(cells[keys])).to_numpy(), index=cells.index)
    span = best - floor
    score = (cells["value"] - floor) / span.where(span != 0)
    return cells.assign(value=score)[score.notna() & np.isfinite(score)]


def by_cell(cells: pd.DataFrame, by: str) -> pd.DataFrame:
    """cells x entries: each entry's (`by`) value on each cell (CELL)."""
    return cells.groupby([*CELL, by])["value"].mean().unstack(by)


def paired_difference(wide: pd.DataFrame, entry: str, other: str) -> tuple[float, float, int]:
    """Mean and 95% half-width of `entry` - `other` over the cells (rows of `wide`, by_cell's) both
    have, and how many those are."""
    difference = (wide[entry] - wide[other]).dropna()
    mean, ci = mean_ci(difference.to_numpy())
    return mean, ci, len(difference)


def verdict(mean: float, ci: float, n: int, higher_is_better: bool) -> str:
    """What a paired difference (this - the other) says: "better", "worse", "not
    distinguishable" (its interval holds 0), or that it cannot tell (fewer than two cells)."""
    if n < 2 or np.isnan(ci):
        return f"cannot tell: {n} cell{'' if n == 1 else 's'}"
    if abs(mean) <= ci:
        return NOT_DISTINGUISHABLE
    return BETTER if (mean > 0) == higher_is_better else WORSE


def versus_best(cells: pd.DataFrame, higher_is_better: bool, by: str = "label") -> pd.DataFrame:
    """Each entry (`by`) of `cells` (columns CELL, `by`, "value") against the best, the entry of
    the best mean: index the entries; columns "delta" and "ci95" (entry - best over the cells
    both have), "n_paired" and "verdict" ("best", "not distinguishable", "worse", or "cannot
    tell: n cells")."""
    means = cells.groupby(by)["value"].mean()
    if means.empty:
        return pd.DataFrame(columns=["delta", "ci95", "n_paired", "verdict"])
    best = means.idxmax() if higher_is_better else means.idxmin()
    wide = by_cell(cells, by)
    out = {}
    for entry in means.index:
        if entry == best:
            out[entry] = {"delta": 0.0, "ci95": np.nan, "n_paired": int(wide[best].notna().sum()), "verdict": BEST}
            continue
        mean, ci, n = paired_difference(wide, entry, best)
        out[entry] = {"delta": mean, "ci95": ci, "n_paired": n, "verdict": verdict(mean, ci, n, higher_is_better)}
    return pd.DataFrame.from_dict(out, orient="index")


def describe_versus_best(row) -> str:
    """A verdict as a table shows it: "best", or the verdict and the difference from the best."""
    if row["verdict"] == BEST:
        return BEST
    if row["verdict"] in (NOT_DISTINGUISHABLE, WORSE, BETTER):
        return f"{row['verdict']} (Δ {row['delta']:+.3g} ± {row['ci95']:.2g})"
    return f"{row['verdict']} (Δ {row['delta']:+.3g})"


OWN_COLUMNS = ["predictor", "metric", "higher_is_better", "own", "own_mean", "own_ci95", "post_hoc", "post_hoc_mean",
               "post_hoc_ci95", "delta", "delta_ci95", "n_paired", "verdict", "own_normalised", "own_normalised_ci95"]


def own_versus_post_hoc(cells: pd.DataFrame, scores: pd.DataFrame, own: tuple[str, ...]) -> pd.DataFrame:
    """Inherent against post-hoc, within each predictor: per predictor ("entry") with an own
    explanation (an explainer named in `own`) and per metric of `cells`, its own explanation
    against the best post-hoc explainer of the same predictor (the best mean; random is a
    baseline, not a contender), by their paired difference (own - post-hoc) over the cells
    both have; `scores` (the same cells normalised) gives the own explanation's normalised
    score, the number that compares it across predictors. OWN_COLUMNS."""
    out = []
    for (entry, metric), group in cells.groupby(["entry", "metric"]):
        higher = bool(group["higher_is_better"].iloc[0])
        means = group.groupby("explainer")["value"].mean()
        mine = [e for e in means.index if e in own]
        others = means.drop([*mine, RANDOM], errors="ignore")
        if not mine or others.empty:
            continue
        rival = others.idxmax() if higher else others.idxmin()
        wide = by_cell(group, "explainer")
        for name in mine:
            delta, delta_ci, n = paired_difference(wide, name, rival)
            normal = scores[(scores["entry"] == entry) & (scores["metric"] == metric) & (scores["explainer"] == name)]
            out.append([entry, metric, higher, name, *mean_ci(wide[name]), rival, *mean_ci(wide[rival]), delta,
                        delta_ci, n, verdict(delta, delta_ci, n, higher), *mean_ci(normal["value"])])
    return pd.DataFrame(out, columns=OWN_COLUMNS)
