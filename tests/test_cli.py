"""`python -m bench` as a user runs it: help, printed config, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.core.paths import PROJECT_ROOT


def bench(*args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "bench", *args, f"paths.results={tmp_path}/results"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, env=env, timeout=300)


def test_help_lists_the_config_groups(tmp_path):
    result = bench("--help", tmp_path=tmp_path)
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


def test_cfg_job_prints_the_composed_config(tmp_path):
    result = bench("--cfg", "job", "model=logreg", tmp_path=tmp_path)
    assert result.returncode == 0
    assert "_target_: bench.models.LogisticRegression" in result.stdout
    assert "kernel_shap:" in result.stdout


def test_uncached_openml_id_offline_fails_on_one_line(tmp_path):
    result = bench("data=openml", "data.task_id=999999", "data.offline=true", f"paths.openml_cache={tmp_path}/oc",
                   tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "999999" in error_lines[0] and "import-arff" in error_lines[0]


def test_cnn_on_tabular_data_is_refused_before_training(tmp_path):
    result = bench("model=cnn", "data.datasets=[wdbc]", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "model=cnn takes image data" in result.stderr
    assert not (tmp_path / "results" / "rows").exists()


def test_unknown_option_names_the_alternatives(tmp_path):
    result = bench("model=nonexistent", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "mlp" in result.stderr and "logreg" in result.stderr


def test_hydra_full_error_shows_the_traceback(tmp_path):
    env = {**os.environ, "HYDRA_FULL_ERROR": "1"}
    result = subprocess.run([sys.executable, "-m", "bench", "data=openml", "data.task_id=999999", "data.offline=true",
                             f"paths.openml_cache={tmp_path}/oc", f"paths.results={tmp_path}/results"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "DataUnavailable" in result.stderr


def test_an_unknown_explainer_in_a_list_names_the_available_ones(tmp_path):
    result = bench("explainers=[kernel_shap,shap]", tmp_path=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown explainers option(s) shap; available: all, cd, deep_shap, deeplift, default, exact_shap, feature_ablation, gradcam, gradient, gradient_shap, gradient_shap_captum, ig, image, input_x_gradient, kernel_shap, lime, lime_image, native, none, occlusion, partition_shap, permutation_shap, perturbation, random, saliency, shapley_sampling, smoothgrad, xaibench" in result.stderr


@pytest.mark.slow
def test_the_default_run_prints_the_tables_and_a_rerun_computes_nothing(tmp_path):
    first = bench(tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    for table in ("## accuracy", "## explanations", "## cost"):
        assert table in first.stdout
    assert "| wdbc" in first.stdout and "deletion_auc" in first.stdout
    # 4 tasks x (a fit, 5 explanations and their 5 deletion scores)
    assert "44 unit(s) computed, 0 already stored" in first.stdout
    again = bench(tmp_path=tmp_path)
    assert "0 unit(s) computed, 44 already stored" in again.stdout


def test_list_option_check_leaves_sweeps_quotes_and_plain_options_to_hydra():
    from bench.__main__ import unknown_list_options

    assert unknown_list_options(["explainers=[ig],[random]", "explainers=['ig']", "model=mlp", "--cfg", "job"]) is None
    assert "unknown explainers option(s) shap" in unknown_list_options(["explainers=[shap,ig]"])


@pytest.mark.parametrize("args, message", [
    (["model=logreg", "+explain.n_instanses=5"], "unknown option explain.n_instanses"),
    (["model=logreg", "model.C=-1"], "The 'C' parameter of LogisticRegression must be"),
])
def test_an_unread_key_or_a_bad_model_option_exits_non_zero_naming_it(args, message, tmp_path):
    result = bench(*args, tmp_path=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert message in result.stderr
    assert not (tmp_path / "results" / "rows").exists()


def test_an_empty_results_folder_is_refused_before_hydra_makes_a_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bench", "paths.results="], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"})
    assert result.returncode == 2 and "paths.results is empty" in result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA: device=cuda is valid")
def test_device_cuda_on_a_machine_without_one_is_a_clear_error(tmp_path):
    result = bench("device=cuda", tmp_path=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "device='cuda', but torch sees no CUDA device here" in result.stderr and "device=cpu" in result.stderr


def test_a_run_whose_every_fit_failed_exits_non_zero(tmp_path):
    result = bench("data.datasets=[wdbc]", "model.lr=1e30", "model.epochs=3", "model.warmup_epochs=0",
                   "explainers=[random]", tmp_path=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "every model fit of this run failed (1), e.g. wdbc fold 0: TrainingDiverged" in result.stderr
