"""Our numbers beside a paper's, as tidy rows: table, row, column, ours, ours_std, n_seeds,
paper, diff, note (the reason for a difference over FLAG, where one is known).

A published table ships in baselines/ as long rows (source, table, dataset_id, dataset, method,
model, test_auroc), `model` naming the conf/model option that reproduces the method (empty for
methods the harness does not implement).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from bench.core.io import atomic_path
from bench.core.paths import project_path

COLUMNS = ["table", "row", "column", "ours", "ours_std", "n_seeds", "paper", "diff", "note"]
FLAG = 0.02  # AUROC: per-dataset differences larger than this are marked for a reason
# Reasons measured for one dataset's difference (README, "Reproducing IMN's Table 8"):
# (dataset_id, model) -> the reason.
PHONEME = "phoneme: the paper's coupled weight decay of 0.01 holds the net back; on seed 0 with 100 epochs, "
MEASURED = {
    (1489, "hyperlinear"): PHONEME + "model.weight_decay=0 or decoupled decay (model.optimizer=adamw) lifts IMN to "
                                     "0.946, close to the paper's 0.950",
    (1489, "tabresnet"): PHONEME + "decoupled decay (model.optimizer=adamw) lifts TabResNet to 0.945, close to the "
                                   "paper's 0.949",
}


def read_published(path: str) -> pd.DataFrame:
    published = pd.read_csv(project_path(path), keep_default_na=False, na_values=[""])
    return published[published["model"].notna()]


def mean_over_seeds(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Result rows -> one (dataset_id, dataset, model, ours, ours_std, n_seeds) row per dataset and
    model (ours_std: over seeds, NaN for one seed)."""
    ok = rows[(rows["metric"] == metric) & (rows["status"] == "ok")]
    return (ok.groupby(["dataset_id", "dataset", "model"], as_index=False)
              .agg(ours=("value", "mean"), ours_std=("value", "std"), n_seeds=("seed", "nunique")))


def compare(ours: pd.DataFrame, published: pd.DataFrame, *, table: str, shortened: str = "") -> pd.DataFrame:
    """Per dataset and method; then per method, the mean over the datasets where both have a
    number ("paired": what a method's own reproduction is judged by); then, over the datasets
    where every compared method has both numbers, the mean and the mean rank (1 = best, ties
    share the mean rank), ours ranked among ours and the paper's among the paper's numbers of
    the same methods (not the paper's published ranks, which include methods we lack).
    A dataset's difference over FLAG gets its reason in `note`: MEASURED's, else the spread over
    our seeds where it covers the difference, else `shortened` (how the networks' training
    differs from the paper's, for hyperlinear and tabresnet), else none."""
    both = ours.merge(published[["dataset_id", "model", "test_auroc"]].rename(columns={"test_auroc": "paper"}),
                      on=["dataset_id", "model"])
    rows = pd.DataFrame({"row": both["dataset"], "column": both["model"], "ours": both["ours"],
                         "ours_std": both["ours_std"], "n_seeds": both["n_seeds"], "paper": both["paper"]})
    rows["note"] = [_note(dataset_id, r, shortened) for dataset_id, r in zip(both["dataset_id"], rows.itertuples())]
    summary = []
    for model, group in both.groupby("model"):
        summary.append({"row": f"mean over {len(group)} datasets (paired)", "column": model,
                        "ours": group["ours"].mean(), "paper": group["paper"].mean()})
    complete = both.pivot_table(index="dataset_id", columns="model", values=["ours", "paper"]).dropna()
    if len(complete):
        common = f"over {len(complete)} datasets all methods have"
        ranks = pd.concat({side: complete[side].rank(axis=1, ascending=False).mean() for side in ("ours", "paper")})
        for name, stat in (("mean", complete.mean()), ("mean rank", ranks)):
            summary += [{"row": f"{name} {common}", "column": m, "ours": stat["ours"][m], "paper": stat["paper"][m]}
                        for m in complete["ours"].columns]
    result = pd.concat([rows, pd.DataFrame(summary)], ignore_index=True)
    result.insert(0, "table", table)
    result["diff"] = result["ours"] - result["paper"]
    return result[COLUMNS]


def _note(dataset_id: int, row, shortened: str) -> str:
    diff = row.ours - row.paper
    if not abs(diff) > FLAG:
        return ""
    if (dataset_id, row.column) in MEASURED:
        return MEASURED[(dataset_id, row.column)]
    if within_spread(diff, row.ours_std):
        return spread_reason(row.ours_std, row.n_seeds, "each seed draws its own 80/20 split, and the paper's splits "
                                                        "are other draws")
    if shortened and row.column in ("hyperlinear", "tabresnet"):
        return shortened
    return ""


def write_run(folder: str | Path, table: str, command: str, seconds: float) -> Path:
    """<folder>/<table>.run.json beside the table's CSV: the command that wrote it, when it
    finished and how long it took, so that a page of the CSV can say which budget it shows."""
    out = Path(folder) / f"{table}.run.json"
    run = {"command": command, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "seconds": round(seconds, 1)}
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(run, indent=1) + "\n")
    return out


def read_run(folder: str | Path, table: str) -> dict | None:
    """What write_run stored for `table`; None when nothing was, or it cannot be read."""
    try:
        run = json.loads((Path(folder) / f"{table}.run.json").read_text())
    except (OSError, ValueError):
        return None
    return run if isinstance(run, dict) and isinstance(run.get("command"), str) else None


def within_spread(diff: float, std: float) -> bool:
    """Whether a difference is within 2 standard deviations of ours over seeds (False for one seed)."""
    return bool(pd.notna(std) and abs(diff) <= 2 * std)


def spread_reason(std: float, n_seeds: float, why: str) -> str:
    """The note of a difference within_spread: the spread, and `why` the paper's number is another draw."""
    return f"within 2 standard deviations over our {n_seeds:.0f} seeds (std {std:.3f}): {why}"
