"""Checks the plan makes before any training: an explainer option the model's network cannot
serve, metrics that share one attack set apart, and the training budget set for every net."""

from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException

from bench.core.errors import BenchError
from bench.models.budget import SMOKE_EPOCHS, budget_conflict, epoch_options
from bench.models import Flint, HyperLinear, LogisticRegression
from bench.pipeline.plan import make_plan
from tests.conftest import compose_config


@pytest.mark.parametrize("model, layers", [
    ("cnn", "conv1, relu1, conv2, pool, dropout1, relu2, flatten, fc1, relu3, dropout2, fc2"),
    ("flint", "conv1, relu1, conv2, pool, dropout1, relu2, flatten, fc1, relu3, dropout2, fc2"),  # f's, not g's
    ("atex", "conv1, relu1, pool1, conv2, relu2, pool2, flatten, fc1, tanh, fc2"),  # its base's, cnn_tanh
])
def test_a_gradcam_layer_the_network_lacks_stops_the_plan_naming_the_layers(model, layers, results):
    with pytest.raises(BenchError) as error:
        make_plan(compose_config(["data=mnist_embedded", f"model={model}", "explainers=[gradcam]",
                                  "explainers.gradcam.layer=nope"], results))
    assert str(error.value) == (f"explainers.gradcam with model={model}: gradcam layer 'nope' is not a layer of the "
                                f"model's network; its layers: {layers}; name one with explainers.gradcam.layer=...")
    make_plan(compose_config(["data=mnist_embedded", f"model={model}", "explainers=[gradcam]",
                              f"explainers.gradcam.layer={layers.split(', ')[0]}"], results))  # a real one passes


def test_the_manipulation_rows_refuse_options_that_would_split_their_one_attack(results):
    with pytest.raises(BenchError) as error:
        make_plan(compose_config(["metrics=manipulation", "metrics.explanation.manipulation_spearman.epsilon=0.5"],
                                 results))
    assert str(error.value).startswith(
        "metrics.explanation.manipulation_spearman.epsilon=0.5 differs from manipulation_topk's epsilon=0.08: "
        "manipulation_topk, manipulation_spearman, manipulation_reverted, manipulation_surrogate share one attack")
    assert "set metrics.explanation.manipulation_topk.epsilon=0.5" in str(error.value)
    plan = make_plan(compose_config(["metrics=manipulation", "metrics.explanation.manipulation_topk.epsilon=0.5"],
                                    results))  # the others follow the leader
    assert {fn.keywords["epsilon"] for name, fn in plan.explanation_metrics.items() if "manipulation" in name} == {0.5}
    # Entries of their own names are separate attacks (ATEX's figure: one per epsilon).
    make_plan(compose_config(["metrics=atex_figure"], results))


def test_the_budget_sets_every_nets_epochs_and_schedule_together(results):
    smoke = make_plan(compose_config(["budget=smoke", "model=flint"], results)).model_probe
    assert (smoke.training.epochs, smoke.gamma_from, smoke.beta_from, smoke.l1_from, smoke.entropy_from) == \
        (1, 1, 1, 1, 1)
    atex = make_plan(compose_config(["budget=smoke", "model=atex", "data=mnist_embedded"], results)).model_probe
    assert (atex.training.epochs, atex.base.training.epochs) == (1, 1)  # the base it is built on too
    embedded = make_plan(compose_config(["budget=smoke"], results)).model_probe  # 30 epochs by default here
    assert (embedded.training.epochs, embedded.training.warmup_epochs) == (SMOKE_EPOCHS, 0)
    assert embedded.training.lr == HyperLinear.loop().lr  # what is not counted in epochs stays
    paper = make_plan(compose_config(["budget=paper"], results))
    assert paper.model_probe.training.epochs == HyperLinear.loop().epochs == 500
    default = make_plan(compose_config([], results))
    assert default.model_probe.training.epochs == 30
    assert len({paper.model_hash, default.model_hash, make_plan(compose_config(["budget=smoke"], results)).model_hash}) \
        == 3  # each budget's fits are stored apart


def test_a_budget_refuses_to_undo_epochs_given_on_the_command_line_or_a_papers_own_budget():
    assert "would undo model.training.epochs" in budget_conflict("smoke", ["model=mlp", "model.training.epochs=6"],
                                                                  None)
    assert "would undo model.base.beta_from" in budget_conflict("paper", ["model.base.beta_from=2"], None)
    assert "would undo model.base.training.warmup_epochs" in budget_conflict(
        "smoke", ["model.base.training.warmup_epochs=2"], None)
    assert "experiment=paper_imn_xaibench holds its paper's setting" in budget_conflict(
        "paper", ["experiment=paper_imn_xaibench"], "paper_imn_xaibench")
    assert budget_conflict("smoke", ["experiment=paper_imn_xaibench", "model.training.lr=0.1"],
                           "paper_imn_xaibench") is None
    assert budget_conflict("default", ["model.training.epochs=6"], None) is None


def test_a_budget_leaves_what_is_not_counted_in_epochs():
    assert epoch_options(LogisticRegression, {}, "smoke") == {}
    assert epoch_options(Flint, {"beta_from": 3, "training": {"lr": 0.1, "warmup_epochs": 2}}, "smoke") == {
        "training": {"epochs": 1, "warmup_epochs": 0}, "gamma_from": 1, "beta_from": 1, "l1_from": 1, "entropy_from": 1}
    paper = epoch_options(Flint, {"training": {"epochs": 3}, "beta_from": 2}, "paper")
    assert paper["beta_from"] == 3 and paper["training"]["epochs"] == 12  # the constructor's, its loop's


def test_a_bad_budget_lists_the_allowed_ones():
    with pytest.raises(ConfigCompositionException) as error:
        compose_config(["budget=tiny"])
    assert "expected one of [smoke, default, paper]" in str(error.value.__cause__)


def test_a_key_added_as_hydras_hint_suggests_is_named_with_the_options_there_are(results):
    # Hydra answers data.max_tasks=1 on data=embedded with "To append to your config use +data.max_tasks=1".
    with pytest.raises(BenchError) as error:
        make_plan(compose_config(["+data.max_tasks=1"], results))
    assert str(error.value).startswith("data: no option max_tasks; a key added with + is one nothing reads, "
                                       "whatever Hydra's hint says; the options: suite, datasets, folds,")
