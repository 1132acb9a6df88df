"""The comparison with a paper's table, on numbers small enough to check by hand, the
experiment configs that stand for the paper's protocol, and scripts/reproduce.py, whose runs
go through Hydra's launchers."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from bench.papers.imn import (TABLE3_COLUMNS, TABLE3_FLAG, TABLE3_PUBLISHED, compare_table3, compare_table8,
                              mean_over_seeds, plot_over_rho, read_table8_published, summarise_table3, table3_sweeps)
from bench.papers.reproduction import COLUMNS, read_published, read_run
from bench.pipeline.compose import compose
from scripts import reproduce
from tests.conftest import compose_config


def sweep_params(experiment: str) -> dict[str, str]:
    """What `python -m bench -m experiment=<experiment>` sweeps: one job per combination."""
    return dict(compose([f"experiment={experiment}"], with_hydra=True).hydra.sweeper.params)


def result_rows(values: dict[tuple[int, str, int], float]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset_id": d, "dataset": f"d{d}", "model": m, "seed": s, "metric": "roc_auc",
                          "status": "ok", "value": v} for (d, m, s), v in values.items()])


def test_ours_is_the_mean_over_seeds_of_ok_rows():
    rows = result_rows({(1, "a", 0): 0.8, (1, "a", 1): 0.9})
    failed = rows.iloc[:1].assign(seed=2, status="failed", value=0.0)
    ours = mean_over_seeds(pd.concat([rows, failed]), "roc_auc")
    assert ours.to_dict("records") == [{"dataset_id": 1, "dataset": "d1", "model": "a", "ours": pytest.approx(0.85),
                                        "ours_std": pytest.approx(0.05 * 2 ** 0.5), "n_seeds": 2}]


def test_comparison_rows_means_and_ranks():
    ours = mean_over_seeds(result_rows({(1, "a", 0): 0.9, (1, "b", 0): 0.8, (2, "a", 0): 0.6, (2, "b", 0): 0.7,
                                        (3, "a", 0): 0.5}), "roc_auc")
    paper = pd.DataFrame({"dataset_id": [1, 1, 2, 2, 4], "model": ["a", "b", "a", "b", "a"],
                          "test_auroc": [0.95, 0.85, 0.7, 0.6, 0.99]})
    compared = compare_table8(ours, paper)
    assert list(compared.columns) == COLUMNS and (compared["table"] == "imn-table8").all()
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


def test_a_datasets_difference_over_the_threshold_gets_its_reason():
    ours = mean_over_seeds(result_rows({(1489, "hyperlinear", 0): 0.88, (31, "logreg", 0): 0.70, (31, "logreg", 1): 0.80,
                                        (54, "tabresnet", 0): 0.90, (54, "logreg", 0): 0.90, (37, "rf", 0): 0.80}),
                           "roc_auc")
    paper = pd.DataFrame({"dataset_id": [1489, 31, 54, 54, 37], "model": ["hyperlinear", "logreg", "tabresnet",
                                                                         "logreg", "rf"],
                          "test_auroc": [0.95, 0.80, 0.95, 0.95, 0.81]})
    notes = compare_table8(ours, paper, shortened="trained shorter").set_index(["row", "column"])["note"]
    assert notes[("d1489", "hyperlinear")].startswith("phoneme: the paper's coupled weight decay")  # measured
    assert notes[("d31", "logreg")].startswith("within 2 standard deviations over our 2 seeds (std 0.071)")
    assert notes[("d54", "tabresnet")] == "trained shorter"  # a network, one seed
    assert notes[("d54", "logreg")] == ""  # no reason known: the page says "no reason recorded"
    assert notes[("d37", "rf")] == ""  # within the threshold


def test_the_published_table_names_its_source_and_our_models():
    published = read_table8_published()
    assert set(published["model"]) == {"hyperlinear", "tabresnet", "logreg", "dtree", "rf", "catboost"}
    assert published["table"].str.startswith("Table 8").all() and published["source"].str.contains("2305.13072").all()
    imn = published[published["model"] == "hyperlinear"].set_index("dataset_id")["test_auroc"]
    assert imn[31] == 0.751 and len(imn) == 36


def test_the_paper_experiment_is_the_paper_protocol():
    cfg = compose_config(["experiment=paper_imn_accuracy"])
    assert cfg.data.suite == "amlb" and list(cfg.data.folds) == [0] and cfg.data.n_folds == 5  # one 80/20 split
    assert cfg.data.preprocess.categorical_encoding == "one_hot" and len(cfg.explainers) == 0
    assert sweep_params("paper_imn_accuracy") == {"model": "hyperlinear,tabresnet,logreg,dtree,rf,catboost",
                                                  "seed": "range(10)"}  # 6 methods x seeds 0..9


def test_the_cpu_variant_trains_the_networks_less_on_fewer_seeds():
    assert sweep_params("paper_imn_accuracy_cpu") == {
        "model": "hyperlinear,tabresnet,logreg,dtree,rf,catboost", "seed": "range(3)"}  # seeds 0..2
    cfg = compose_config(["experiment=paper_imn_accuracy_cpu", "model=hyperlinear", "seed=0"])
    assert (cfg.model.name, cfg.model.training.epochs, cfg.seed) == ("hyperlinear", 100, 0)
    assert compose_config(["experiment=paper_imn_accuracy_cpu", "model=tabresnet"]).model.training.epochs == 100
    # the budget is the experiment's: the paper's protocol and a plain run keep the paper's 500
    assert compose_config(["experiment=paper_imn_accuracy", "model=hyperlinear"]).model.training.epochs == 500
    assert compose_config(["model=tabresnet", "data=openml_cc18"]).model.training.epochs == 500


def reproduce_table8(tmp_path, *overrides: str) -> int:
    return reproduce.main(["imn-table8", "--results", str(tmp_path / "results"), "--cache", str(tmp_path / "cache"),
                           *overrides])


def test_the_reproduce_script_runs_compares_and_writes_tidy_rows(shared_data, tmp_path, capsys):
    # A corner of the real sweep, one job through Hydra's (default) joblib launcher.
    assert reproduce_table8(tmp_path, "model=logreg", "seed=0", "data.tasks=[31,54]") == 0
    rows = pd.read_csv(tmp_path / "results" / "reproduction" / "imn-table8.csv")
    assert list(rows.columns) == COLUMNS
    per_dataset = rows.set_index(["row", "column"])
    assert per_dataset.loc[("credit-g", "logreg"), "paper"] == 0.775
    assert per_dataset.loc[("vehicle", "logreg"), "paper"] == 0.938
    assert (rows["diff"] == rows["ours"] - rows["paper"]).all()
    assert 0.7 < per_dataset.loc[("credit-g", "logreg"), "ours"] < 0.85  # the paper's number is 0.775
    out = capsys.readouterr().out
    assert "1 of 1 job(s) finished" in out and "mean over 2 datasets (paired)" in out
    run = read_run(tmp_path / "results" / "reproduction", "imn-table8")  # which budget the CSV shows
    assert run["command"] == (f"python scripts/reproduce.py imn-table8 --results {tmp_path / 'results'} --cache "
                              f"{tmp_path / 'cache'} model=logreg seed=0 'data.tasks=[31,54]'")
    assert run["seconds"] > 0 and run["finished"].startswith("20")


def test_a_failed_job_is_named_and_what_finished_is_still_compared(shared_data, tmp_path, capsys):
    assert reproduce_table8(tmp_path, "model=logreg", "seed=0,-1", "data.tasks=[31]") == 1  # no seed -1
    out, err = capsys.readouterr()
    error = "BenchError: seed must be a non-negative integer, got -1"
    assert "job 0 (seed=0): 1 computed, 0 resumed" in out and f"job 1 (seed=-1): failed: {error}" in out
    assert "mean over 1 datasets (paired)" in out
    assert f"failed (exit code 1); failed: job 1 (seed=-1) ({error})" in err


def test_the_reproduce_script_submits_its_sweep_through_slurm(tmp_path, fake_slurm, monkeypatch, capsys):
    monkeypatch.setenv("PATH", fake_slurm.path)  # the sweep's process finds the stand-ins
    assert reproduce_table8(tmp_path, "hydra/launcher=slurm", "hydra.launcher.partition=cpu") == 1
    batch = fake_slurm.batch.read_text()
    assert "#SBATCH --array=0-17%18\n" in batch  # 6 methods x 3 seeds, one array task each, all at once
    assert "#SBATCH --partition=cpu\n" in batch
    assert f"{sys.executable} -u -m submitit.core._submit {tmp_path}/results/hydra/imn-table8/" in batch
    assert "never started: the 18 planned" in capsys.readouterr().err


def test_the_help_says_the_runs_go_through_hydras_launchers(capsys):
    with pytest.raises(SystemExit) as done:
        reproduce.main(["imn-table8", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "The runs go through Hydra's launchers" in text and "joblib launcher by default" in text
    assert "hydra/launcher=slurm hydra.launcher.partition=cpu" in text


def test_a_missing_table_is_named_and_the_overrides_stay_optional(capsys):
    with pytest.raises(SystemExit) as done:
        reproduce.main([])
    assert done.value.code == 2
    error = capsys.readouterr().err
    assert "name the table to reproduce: one of atex-figure, cnn-inte, flint-table1, imn-table3, imn-table8" in error
    assert "OVERRIDE" not in error.splitlines()[-1]


def test_jobs_belong_to_the_default_launcher_only(capsys):
    with pytest.raises(SystemExit) as done:
        reproduce.main(["imn-table8", "--jobs", "4", "hydra/launcher=slurm"])
    assert done.value.code == 2
    assert "--jobs sets the workers of the default joblib launcher" in capsys.readouterr().err


def test_the_results_folder_is_an_option_not_an_override(capsys):
    with pytest.raises(SystemExit) as done:
        reproduce.main(["flint-table1", "paths.results=/tmp/elsewhere"])
    assert done.value.code == 2
    assert "set the folder with --results DIR, not paths.results=DIR" in capsys.readouterr().err


# --- imn-table3 (XAI-Bench) -------------------------------------------------------------------

def xaibench_rows() -> tuple[pd.DataFrame, dict]:
    """Two seeds of native and kernel_shap faithfulness on gaussianLinear, in both modes at rho 0
    and in the correct mode at rho 0.5."""
    rows, tags = [], {}
    for mode, rho, base in (("correct", 0.0, 0.9), ("xaibench", 0.0, 0.8), ("correct", 0.5, 0.7)):
        for seed, noise in ((0, -0.01), (1, 0.01)):
            for explainer, offset in (("native", 0.0), ("kernel_shap", 0.05)):
                unit = f"{mode}/{rho}/{seed}/{explainer}"
                tags[unit] = (mode, rho)
                rows.append({"unit": unit, "dataset": "gaussianLinear", "explainer": explainer, "seed": seed,
                             "metric": "faithfulness", "status": "ok", "value": base + offset + noise})
    rows.append({**rows[0], "unit": "other run", "value": -5.0})  # not one of the tagged runs
    return pd.DataFrame(rows), tags


def test_table3_summary_is_mean_and_std_over_seeds_per_mode_and_rho():
    rows, tags = xaibench_rows()
    summary = summarise_table3(rows, tags).set_index(["mode", "rho", "explainer"])
    native = summary.loc[("correct", 0.0, "native")]
    assert native["ours"] == pytest.approx(0.9) and native["ours_std"] == pytest.approx(0.01 * 2 ** 0.5)
    assert native["n_seeds"] == 2
    assert summary.loc[("xaibench", 0.0, "kernel_shap"), "ours"] == pytest.approx(0.85)


def test_table3_comparison_names_the_paper_cell_in_both_modes(tmp_path):
    rows, tags = xaibench_rows()
    summary = summarise_table3(rows, tags)
    result = compare_table3(summary, read_published(TABLE3_PUBLISHED))
    assert list(result.columns) == TABLE3_COLUMNS
    cell = result.set_index(["mode", "row", "column"])
    # Published: faithfulness on gaussianLinear, IMN 0.987, Kernel SHAP 0.981.
    assert cell.loc[("correct", "faithfulness / gaussianLinear", "imn"), ["ours", "paper"]].tolist() == \
        pytest.approx([0.9, 0.987])
    assert cell.loc[("xaibench", "faithfulness / gaussianLinear", "kernel_shap"), "diff"] == \
        pytest.approx(0.85 - 0.981)
    assert (result.loc[result["mode"] == "not run", "ours"].isna()).all()  # cells no run produced
    plot_over_rho(summary, tmp_path / "figure.png")
    assert (tmp_path / "figure.png").read_bytes()[:4] == b"\x89PNG"


def test_the_xaibench_experiment_is_the_papers_setting():
    cfg = compose_config(["experiment=paper_imn_xaibench"])
    assert (cfg.data.n_train, cfg.data.n_test, cfg.explain.n_instances) == (1000, 100, 100)
    assert (cfg.model.name, cfg.model.training.epochs, cfg.model.hidden_size, cfg.model.n_blocks) == \
        ("hyperlinear", 100, 128, 2)
    assert {"native", "kernel_shap", "random"} <= set(cfg.explainers)
    assert {"faithfulness", "roar_faithfulness", "infidelity_normalised", "roar_monotonicity",
            "shapley_corr"} <= set(cfg.metrics.explanation)
    quirky = compose_config(["experiment=paper_imn_xaibench", "compat=xaibench"])
    assert quirky.data.compat == "xaibench" and quirky.metrics.explanation.roar_faithfulness.compat == "xaibench"
    assert sweep_params("paper_imn_xaibench") == {"seed": "range(5)", "data.rho": "0.0,0.25,0.5,0.75,0.99"}


def test_table3_runs_both_modes_at_rho_zero_and_the_papers_definitions_over_rho():
    assert table3_sweeps(2, [0.0, 0.5, 0.75], figure_seeds=1) == {
        "table3": ["compat=correct,xaibench", "data.rho=0.0", "seed=range(2)"],
        "figure11": ["compat=correct", "data.rho=0.5,0.75", "seed=range(1)"]}
    assert table3_sweeps(3, [0.0]) == {"table3": ["compat=correct,xaibench", "data.rho=0.0", "seed=range(3)"]}


def test_table3_gives_a_reason_for_each_difference_over_its_threshold_where_one_is_known():
    def cell(mode, metric, dataset, explainer, ours, std):
        return {"mode": mode, "rho": 0.0, "dataset": dataset, "explainer": explainer, "metric": metric,
                "ours": ours, "ours_std": std, "n_seeds": 5}

    summary = pd.DataFrame([  # the paper: faithfulness, gaussianLinear: IMN 0.987; ROAR-F: IMN 0.639, 0.404
        cell("correct", "faithfulness", "gaussianLinear", "native", 0.95, 0.01),  # within FLAG
        cell("xaibench", "faithfulness", "gaussianLinear", "native", 0.80, 0.10),  # off by 0.187 = 1.9 std
        cell("xaibench", "shapley_corr", "gaussianLinear", "native", 0.80, 0.01),  # off, no reason known
        cell("correct", "roar_faithfulness", "gaussianLinear", "native", 0.95, 0.01),  # the original's quirk ...
        cell("xaibench", "roar_faithfulness", "gaussianLinear", "native", 0.60, 0.01),  # ... gives the paper's
        cell("correct", "faithfulness", "gaussianPiecewiseConstant", "native", 0.5, 0.01),  # the quirky data ...
        cell("xaibench", "faithfulness", "gaussianPiecewiseConstant", "native", 0.5, 0.01),  # ... does not explain it
    ])
    notes = compare_table3(summary, read_published(TABLE3_PUBLISHED)).set_index(["mode", "row", "column"])["note"]
    assert TABLE3_FLAG == 0.1 and notes[("correct", "faithfulness / gaussianLinear", "imn")] == ""
    assert notes[("xaibench", "faithfulness / gaussianLinear", "imn")].startswith(
        "within 2 standard deviations over our 5 seeds (std 0.100)")
    assert notes[("xaibench", "shapley_corr / gaussianLinear", "imn")] == ""  # the page: "no reason recorded"
    quirk = notes[("correct", "roar_faithfulness / gaussianLinear", "imn")]
    assert "training rows in feature order" in quirk and quirk.endswith("(compat=xaibench) ours is 0.600")
    assert notes[("correct", "faithfulness / gaussianPiecewiseConstant", "imn")] == ""
    assert notes[("not run", "faithfulness / gaussianLinear", "kernel_shap")] == "no stored rows for this cell"
