"""Our numbers beside a paper's, as tidy rows: table, row, column, ours, paper, diff.

A published table ships in baselines/ as long rows (source, table, dataset_id, dataset, method,
model, test_auroc), `model` naming the conf/model option that reproduces the method (empty for
methods the harness does not implement).
"""

from __future__ import annotations

import pandas as pd

from bench.paths import project_path

COLUMNS = ["table", "row", "column", "ours", "paper", "diff"]


def read_published(path: str) -> pd.DataFrame:
    published = pd.read_csv(project_path(path), keep_default_na=False, na_values=[""])
    return published[published["model"].notna()]


def mean_over_seeds(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Result rows -> one (dataset_id, dataset, model, ours, n_seeds) row per dataset and model."""
    ok = rows[(rows["metric"] == metric) & (rows["status"] == "ok")]
    return (ok.groupby(["dataset_id", "dataset", "model"], as_index=False)
              .agg(ours=("value", "mean"), n_seeds=("seed", "nunique")))


def compare(ours: pd.DataFrame, published: pd.DataFrame, *, table: str) -> pd.DataFrame:
    """Per dataset and method, then per method: the mean over the datasets both have, and the
    mean rank (1 = best; ties share the mean rank) among the methods, over the datasets where
    every compared method has both numbers, ours ranked among ours and the paper's among the
    paper's."""
    both = ours.merge(published[["dataset_id", "model", "test_auroc"]].rename(columns={"test_auroc": "paper"}),
                      on=["dataset_id", "model"])
    per_dataset = pd.DataFrame({"table": table, "row": both["dataset"], "column": both["model"],
                                "ours": both["ours"], "paper": both["paper"]})
    means = both.groupby("model")[["ours", "paper"]].mean()
    counts = both.groupby("model")["dataset_id"].nunique()
    summary = [{"table": table, "row": f"mean over {counts[m]} datasets", "column": m, "ours": means.loc[m, "ours"],
                "paper": means.loc[m, "paper"]} for m in means.index]
    complete = both.pivot_table(index="dataset_id", columns="model", values=["ours", "paper"]).dropna()
    if len(complete):
        ranks = {side: complete[side].rank(axis=1, ascending=False).mean() for side in ("ours", "paper")}
        summary += [{"table": table, "row": f"mean rank over {len(complete)} datasets", "column": m,
                     "ours": ranks["ours"][m], "paper": ranks["paper"][m]} for m in ranks["ours"].index]
    result = pd.concat([per_dataset, pd.DataFrame(summary)], ignore_index=True)
    result["diff"] = result["ours"] - result["paper"]
    return result[COLUMNS]
