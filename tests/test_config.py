"""Every config in conf/ composes; a wrong key, type or option fails at composition."""

from __future__ import annotations

import logging
import sys

import pytest
import torch
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf.errors import ValidationError

from bench.core.errors import BenchError
from bench.core.paths import CONF_DIR
from bench.pipeline.plan import make_plan
from bench.results.trackers import NullTracker
from tests.conftest import compose_config

GROUPS = ["data", "model", "explainers", "metrics", "logger", "paths", "experiment"]
OPTIONS = [(group, path.relative_to(CONF_DIR / group).with_suffix("").as_posix())
           for group in GROUPS for path in sorted((CONF_DIR / group).rglob("*.yaml"))]


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_builds(group, option, results):
    # logger=wandb disabled: never online from a test; its offline runs are tests/results/test_trackers.py's.
    needs = {("data", "openml"): ["data.task_id=3"], ("model", "cnn"): ["data=digits"],
             ("logger", "wandb"): ["logger.mode=disabled"]}
    plan = make_plan(compose_config([f"{group}={option}", *needs.get((group, option), [])], results))
    assert plan.model_factory("binary") is not None and plan.source.refs()
    plan.tracker.finish()


def test_data_and_model_options_carry_a_target():
    for group in ("data", "model"):
        for path in (CONF_DIR / group).glob("*.yaml"):
            cfg = compose_config([f"{group}={path.stem}"])
            assert cfg[group]["_target_"].startswith("bench."), path


def test_explainers_compose_as_a_list_or_a_named_set():
    assert list(compose_config(["explainers=[kernel_shap,ig]"]).explainers) == ["kernel_shap", "ig"]
    assert list(compose_config(["explainers=default"]).explainers) == ["native", "kernel_shap", "lime", "ig", "random"]
    every = list(compose_config(["explainers=all"]).explainers)
    assert len(every) == len(set(every)) == 21 and every[0] == "native"
    assert set(compose_config(["explainers=gradient"]).explainers) | set(compose_config(["explainers=perturbation"]).explainers) \
        == set(every) - {"native"}
    assert list(compose_config(["explainers=none"]).explainers) == []


def test_a_misspelt_key_fails_at_composition():
    with pytest.raises(ConfigCompositionException) as error:
        compose_config(["data=openml", "data.taskid=3"])
    assert "Key 'taskid' not in 'OpenMLSourceSchema'" in str(error.value.__cause__)


def test_an_unknown_option_of_an_untyped_node_fails_before_any_work(results):
    # Explainer options are checked by the explainer's constructor, and `+key=` (which Hydra
    # lets past a schema on purpose) by the constructor of what it configures.
    for override in ("+explainers.ig.nsteps=3", "+data.taskid=3"):
        with pytest.raises(BenchError) as error:
            make_plan(compose_config([override], results))
        assert ("nsteps" if "ig" in override else "taskid") in str(error.value)
    assert not results.exists()


def test_a_metric_listed_in_the_wrong_section_names_the_right_one(results):
    cases = {"+metrics.explanation.fgsm_accuracy={_target_:bench.metrics.fgsm_accuracy,_partial_:true}":
             "fgsm_accuracy scores a model; list it under metrics.prediction",
             "+metrics.prediction.sparseness={_target_:bench.metrics.sparseness,_partial_:true}":
             "sparseness scores an explanation; list it under metrics.explanation"}
    for override, message in cases.items():
        with pytest.raises(BenchError, match=message):
            make_plan(compose_config([override], results))


def test_a_metric_option_it_cannot_use_stops_the_run_before_any_work(results):
    cases = {"metrics.explanation.manipulation_topk.epsilon=-1": "manipulation_topk: epsilon must be positive",
             "metrics.explanation.manipulation_topk.iterations=0": "iterations must be at least 1, got 0",
             "metrics.prediction.fgsm_accuracy.epsilon=-0.1": "fgsm_accuracy: epsilon must be >= 0",
             "metrics.explanation.smoothgrad_topk.top_k=0": "smoothgrad_topk: top_k must be at least 1, got 0"}
    for override, message in cases.items():
        with pytest.raises(BenchError, match=message):
            make_plan(compose_config(["metrics=manipulation", override], results))


def test_a_wrong_type_fails_at_composition():
    with pytest.raises(ConfigCompositionException) as error:
        compose_config(["data=openml", "data.task_id=three"])
    assert isinstance(error.value.__cause__, ValidationError)
    assert "task_id" in str(error.value.__cause__)
    with pytest.raises(ConfigCompositionException):
        compose_config(["model.training.epochs=many"])


def test_an_unknown_option_lists_the_available_ones():
    with pytest.raises(MissingConfigException) as error:
        compose_config(["model=nonexistent"])
    message = str(error.value)
    assert "nonexistent" in message
    for option in ("logreg", "mlp", "cnn"):
        assert option in message
    assert "\tschema" not in message  # schemas live in their own group, not among the options


def test_openml_cache_follows_paths():
    cfg = compose_config(["data=openml_cc18", "paths.openml_cache=/tmp/somewhere"])
    assert cfg.data.cache_root == "/tmp/somewhere"


def test_the_wandb_logger_without_wandb_plans_an_untracked_run_and_names_the_extra(results, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` raises ImportError
    monkeypatch.setenv("WANDB_MODE", "offline")
    with caplog.at_level(logging.WARNING, logger="bench"):
        plan = make_plan(compose_config(["logger=wandb"], results))
    assert isinstance(plan.tracker, NullTracker)
    assert "pip install -e '.[wandb]'" in caplog.text


@pytest.mark.parametrize("override, message", [
    ("+explain.n_instanses=5", "unknown option explain.n_instanses: no schema or constructor reads it (did you mean "
                               "explain.n_instances?)"),
    ("+sed=3", "unknown option sed: no schema or constructor reads it (did you mean seed?)"),
    ("+metrics.explanation.deletion_auc.stepz=2", "metrics.explanation.deletion_auc: got an unexpected keyword "
                                                  "argument 'stepz'"),
    ("+model.device=cpu", "model.device and model.random_state are the run's"),
    ("device=gpu", "device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
])
def test_an_option_nothing_reads_or_a_bad_run_option_fails_before_any_work(override, message, results):
    with pytest.raises(BenchError) as error:
        make_plan(compose_config([override], results))
    assert message in str(error.value)
    assert not results.exists()


def test_an_empty_results_folder_is_refused():
    with pytest.raises(BenchError, match="paths.results is empty"):
        make_plan(compose_config(["paths.results=''"]))


@pytest.mark.parametrize("overrides, message", [
    (["model=logreg", "model.C=-1"], "model=logreg: The 'C' parameter of LogisticRegression must be a float in the "
                                     "range (0.0, inf]. Got -1 instead."),
    (["model=mlp", "model.training.batch_size=0"], "The 'batch_size' parameter of MLP.training must be an int in the "
                                                   "range [1, inf)"),
    (["model=mlp", "model.training.epochs=0"], "The 'epochs' parameter of MLP.training must be an int in the range "
                                               "[1, inf)"),
    (["model=mlp", "model.hidden_sizes=[16,0]"], "hidden_sizes must be positive integers, got [16, 0]"),
    (["model=catboost", "model.depth=40"], "The 'depth' parameter of CatBoost must be an int in the range [1, 16]"),
    (["model=hyperlinear", "model.training.patience=5"], "early stopping (patience=5) would cut the cosine restarts"),
    (["model=hyperlinear", "model.training.batch_size=1"], "The 'batch_size' parameter of HyperLinear.training must be "
                                                           "an int in the range [2, inf)"),
])
def test_a_bad_model_option_is_named_when_the_plan_is_made(overrides, message, results):
    with pytest.raises(BenchError) as error:
        make_plan(compose_config(overrides, results))
    assert message in str(error.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: device=cuda is valid here")
def test_device_cuda_without_a_gpu_says_so_before_any_work(results):
    with pytest.raises(BenchError, match="device='cuda', but torch sees no CUDA device here"):
        make_plan(compose_config(["device=cuda"], results))


def test_rows_record_the_device_and_the_versions_that_decide_them(results):
    plan = make_plan(compose_config(["model=logreg"], results))
    assert plan.device_name.startswith("cpu (")  # a scikit-learn model computes on the CPU whatever `device` says
    torch_plan = make_plan(compose_config(["device=cpu"], results))
    assert torch_plan.model_probe.device == "cpu" and torch_plan.device_name.startswith("cpu (")


@pytest.mark.parametrize("data", ["embedded", "xai_synthetic"])
def test_a_misspelt_preprocessing_option_fails_even_where_nothing_is_preprocessed(data, results):
    with pytest.raises(BenchError, match="unexpected keyword argument 'max_categoriez'"):
        make_plan(compose_config([f"data={data}", "+data.preprocess.max_categoriez=3"], results))
