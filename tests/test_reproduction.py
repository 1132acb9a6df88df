"""The comparison with a paper's table, on numbers small enough to check by hand, and the
experiment configs that stand for the paper's protocol."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

from bench.compose import sweep_overrides
from bench.paths import PROJECT_ROOT
from bench.reproduction import COLUMNS, compare, mean_over_seeds, read_published
from tests.conftest import compose_config


def result_rows(values: dict[tuple[int, str, int], float]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset_id": d, "dataset": f"d{d}", "model": m, "seed": s, "metric": "roc_auc",
                          "status": "ok", "value": v} for (d, m, s), v in values.items()])


def test_ours_is_the_mean_over_seeds_of_ok_rows():
    rows = result_rows({(1, "a", 0): 0.8, (1, "a", 1): 0.9})
    failed = rows.iloc[:1].assign(seed=2, status="failed", value=0.0)
    ours = mean_over_seeds(pd.concat([rows, failed]), "roc_auc")
    assert ours.to_dict("records") == [{"dataset_id": 1, "dataset": "d1", "model": "a", "ours": pytest.approx(0.85),
                                        "n_seeds": 2}]


def test_comparison_rows_means_and_ranks():
    ours = mean_over_seeds(result_rows({(1, "a", 0): 0.9, (1, "b", 0): 0.8, (2, "a", 0): 0.6, (2, "b", 0): 0.7,
                                        (3, "a", 0): 0.5}), "roc_auc")
    paper = pd.DataFrame({"dataset_id": [1, 1, 2, 2, 4], "model": ["a", "b", "a", "b", "a"],
                          "test_auroc": [0.95, 0.85, 0.7, 0.6, 0.99]})
    compared = compare(ours, paper, table="t")
    assert list(compared.columns) == COLUMNS and (compared["table"] == "t").all()
    result = compared.set_index(["row", "column"])
    assert result.loc[("d1", "a"), "diff"] == pytest.approx(-0.05)
    assert ("d3", "a") not in result.index and ("d4", "a") not in result.index  # one side only
    # paired mean over datasets 1 and 2: a ours 0.75, paper 0.825
    assert result.loc[("mean over 2 datasets (paired)", "a"), ["ours", "paper"]].tolist() == pytest.approx([0.75, 0.825])
    common = "over 2 datasets all methods have"
    assert result.loc[(f"mean {common}", "b"), ["ours", "paper"]].tolist() == pytest.approx([0.75, 0.725])
    # ours: a wins d1, b wins d2 -> both rank 1.5; paper: a wins both -> a 1, b 2
    assert result.loc[(f"mean rank {common}", "a"), ["ours", "paper", "diff"]].tolist() == [1.5, 1.0, 0.5]
    assert result.loc[(f"mean rank {common}", "b"), ["ours", "paper"]].tolist() == [1.5, 2.0]


def test_the_published_table_names_its_source_and_our_models():
    published = read_published("baselines/imn_table8_default_test_auroc.csv")
    assert set(published["model"]) == {"hyperlinear", "tabresnet", "logreg", "dtree", "rf", "catboost"}
    assert published["table"].str.startswith("Table 8").all() and published["source"].str.contains("2305.13072").all()
    imn = published[published["model"] == "hyperlinear"].set_index("dataset_id")["test_auroc"]
    assert imn[31] == 0.751 and len(imn) == 36


def test_the_paper_experiment_is_the_paper_protocol():
    cfg = compose_config(["experiment=paper_imn_accuracy"])
    assert cfg.data.suite == "amlb" and list(cfg.data.folds) == [0] and cfg.data.n_folds == 5  # one 80/20 split
    assert cfg.data.preprocess.categorical_encoding == "one_hot" and len(cfg.explainers) == 0
    runs = sweep_overrides("paper_imn_accuracy")
    assert len(runs) == 6 * 10
    assert ["experiment=paper_imn_accuracy", "model=hyperlinear", "seed=9"] in runs


def test_the_cpu_variant_trains_the_networks_less_on_fewer_seeds():
    runs = sweep_overrides("paper_imn_accuracy_cpu")
    assert len(runs) == 6 * 3
    cfg = compose_config(runs[0])
    assert (cfg.model.name, cfg.model.epochs, cfg.seed) == ("hyperlinear", 100, 0)
    assert compose_config(["experiment=paper_imn_accuracy_cpu", "model=cpu/tabresnet"]).model.epochs == 100


def test_the_reproduce_script_runs_compares_and_writes_tidy_rows(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "scripts"))  # the spawned worker imports the script too
    reproduce = importlib.import_module("reproduce")
    one_run = [["experiment=paper_imn_accuracy_cpu", "model=logreg", "seed=0", "data.tasks=[31,54]"]]
    monkeypatch.setattr(reproduce, "sweep_overrides", lambda experiment: one_run)
    results = tmp_path / "results"
    assert reproduce.main(["imn-table8", "--results", str(results), "--cache", str(tmp_path / "cache")]) == 0
    rows = pd.read_csv(results / "reproduction" / "imn-table8.csv")
    assert list(rows.columns) == COLUMNS
    per_dataset = rows.set_index(["row", "column"])
    assert per_dataset.loc[("credit-g", "logreg"), "paper"] == 0.775
    assert per_dataset.loc[("vehicle", "logreg"), "paper"] == 0.938
    assert (rows["diff"] == rows["ours"] - rows["paper"]).all()
    assert 0.7 < per_dataset.loc[("credit-g", "logreg"), "ours"] < 0.85  # the paper's number is 0.775
    assert "mean over 2 datasets (paired)" in capsys.readouterr().out
