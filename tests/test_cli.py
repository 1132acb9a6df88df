"""`python -m bench` as a user runs it: help, printed config, and one-line errors. The command
runs in this process (the `bench_cli` fixture) except in the end-to-end tests, which start it as
a user does: `--help`, a config error and the default run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.core.errors import DataUnavailable
from bench.core.paths import PROJECT_ROOT


def bench_process(*args: str, tmp_path) -> subprocess.CompletedProcess:
    """`python -m bench ARGS` in a process of its own, from the project's root."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "bench", *args, f"paths.results={tmp_path}/results"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def bench(bench_cli, tmp_path):
    """`bench ARGS` in this process, its results in the test's own folder."""
    return lambda *args: bench_cli(*args, f"paths.results={tmp_path}/results")


def test_help_lists_the_config_groups(tmp_path):
    result = bench_process("--help", tmp_path=tmp_path)
    assert result.returncode == 0
    groups = result.stdout.split("== Configuration groups ==")[1].split("== Config ==")[0]
    assert "data: amlb, digits, embedded, mnist, mnist_embedded, openml, openml_cc18, xai_synthetic" in groups
    assert ("model: atex, atex_mlp, catboost, cnn, cnn_inte, cnn_tanh, dtree, ebm, flint, flint_posthoc, hyperlinear, logreg, mlp, "
            "mlp_inte, rf, tabresnet") in groups
    assert "explainers: all, cd, deep_shap, deeplift, default, exact_shap, feature_ablation, gradcam, gradient, gradient_shap, gradient_shap_captum, ig, image, input_x_gradient, kernel_shap, lime, lime_image, native, none, occlusion, partition_shap, permutation_shap, perturbation, random, saliency, shapley_sampling, smoothgrad, xaibench" in groups
    assert ("experiment: nightly, nightly_images, paper_atex_figure, paper_cnn_inte, paper_flint_table1, "
            "paper_imn_accuracy, paper_imn_accuracy_cpu, paper_imn_xaibench") in groups
    assert "metrics: all, atex_figure, default, flint, image, manipulation, nightly, xaibench" in groups
    for group in ("metrics:", "logger:", "paths:"):
        assert group in groups
    assert "schema" not in groups


def test_cfg_job_prints_the_composed_config(bench):
    result = bench("--cfg", "job", "model=logreg")
    assert result.returncode == 0
    assert "_target_: bench.models.LogisticRegression" in result.stdout
    assert "kernel_shap:" in result.stdout


def test_uncached_openml_id_offline_fails_on_one_line(bench, cache_root):
    result = bench("data=openml", "data.task_id=999999", "data.offline=true", f"paths.openml_cache={cache_root}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "999999" in error_lines[0] and "import-arff" in error_lines[0]


def test_cnn_on_tabular_data_is_refused_before_training(bench, tmp_path):
    result = bench("model=cnn", "data.datasets=[wdbc]")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "model=cnn takes image data" in result.stderr
    assert not (tmp_path / "results" / "rows").exists()


def test_unknown_option_names_the_alternatives(tmp_path):
    result = bench_process("model=nonexistent", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "mlp" in result.stderr and "logreg" in result.stderr


def test_hydra_full_error_shows_the_traceback(bench, cache_root, monkeypatch):
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(DataUnavailable):  # out of the command, for the interpreter to print with its traceback
        bench("data=openml", "data.task_id=999999", "data.offline=true", f"paths.openml_cache={cache_root}")


def test_an_unknown_explainer_in_a_list_names_the_available_ones(bench):
    result = bench("explainers=[kernel_shap,shap]")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown explainers option(s) shap; available: all, cd, deep_shap, deeplift, default, exact_shap, feature_ablation, gradcam, gradient, gradient_shap, gradient_shap_captum, ig, image, input_x_gradient, kernel_shap, lime, lime_image, native, none, occlusion, partition_shap, permutation_shap, perturbation, random, saliency, shapley_sampling, smoothgrad, xaibench" in result.stderr


@pytest.mark.slow
def test_the_default_run_prints_the_tables_and_a_rerun_computes_nothing(tmp_path):
    first = bench_process(tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    for table in ("## accuracy", "## explanations", "## cost"):
        assert table in first.stdout
    assert "| wdbc" in first.stdout and "deletion_auc" in first.stdout
    # 4 tasks x (a fit, 5 explanations and their 5 deletion scores)
    assert "44 unit(s) computed, 0 already stored" in first.stdout
    again = bench_process(tmp_path=tmp_path)
    assert "0 unit(s) computed, 44 already stored" in again.stdout


def test_list_option_check_leaves_sweeps_quotes_and_plain_options_to_hydra():
    from bench.__main__ import unknown_list_options

    assert unknown_list_options(["explainers=[ig],[random]", "explainers=['ig']", "model=mlp", "--cfg", "job"]) is None
    assert "unknown explainers option(s) shap" in unknown_list_options(["explainers=[shap,ig]"])


@pytest.mark.parametrize("args, message", [
    (["model=logreg", "+explain.n_instanses=5"], "unknown option explain.n_instanses"),
    (["model=logreg", "model.C=-1"], "The 'C' parameter of LogisticRegression must be"),
])
def test_an_unread_key_or_a_bad_model_option_exits_non_zero_naming_it(args, message, bench, tmp_path):
    result = bench(*args)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert message in result.stderr
    assert not (tmp_path / "results" / "rows").exists()


def test_an_empty_results_folder_is_refused_before_hydra_makes_a_folder(bench_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = bench_cli("paths.results=")
    assert result.returncode == 2 and "paths.results is empty" in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA: device=cuda is valid")
def test_device_cuda_on_a_machine_without_one_is_a_clear_error(bench):
    result = bench("device=cuda")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "device='cuda', but torch sees no CUDA device here" in result.stderr and "device=cpu" in result.stderr


def test_a_run_whose_every_fit_failed_exits_non_zero(bench):
    result = bench("data.datasets=[wdbc]", "model.training.lr=1e30", "model.training.epochs=3",
                   "model.training.warmup_epochs=0", "explainers=[random]")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "every model fit of this run failed (1), e.g. wdbc fold 0: TrainingDiverged" in result.stderr
