"""Real OpenML-CC18 data from ../shared/data, imported offline and run through the harness."""

from __future__ import annotations

import pandas as pd

import bench.cli.run as bench_run
from bench.data import openml_cache
from tests.conftest import compose_config


def test_cc18_tasks_run_offline_with_official_and_local_splits(shared_data, cache_root, results, no_network):
    openml_cache.import_shared(shared_data, cache_root, only={3, 37})  # kr-vs-kp (official split), diabetes
    cfg = compose_config(["model=logreg", "data=openml_cc18", "data.offline=true", "data.skip_missing=true",
                          "data.tasks=[3,37,6]", f"paths.openml_cache={cache_root}", "explainers=[random]",
                          "explain.n_instances=5"], results)
    summary = bench_run.run(cfg)
    assert [label for label, _ in summary.skipped] == ["task 6 (letter)"]  # letter: not imported above
    accuracy = pd.read_csv(results / "tables" / "accuracy.csv", keep_default_na=False)
    kinds = accuracy.groupby("dataset")["split_kind"].first().to_dict()
    assert kinds == {"kr-vs-kp": "openml", "diabetes": "local"}
    auc = accuracy[accuracy["metric"] == "roc_auc"].set_index("dataset")["value"]
    # Logistic regression on these two is well known: AUROC about .99 and .83.
    assert auc["kr-vs-kp"] > 0.95 and auc["diabetes"] > 0.75
