"""What `python -m bench` (or `bench`) exits with when a unit of a finished run failed: 1, after
storing every other unit, naming the failed ones; the CLI runs in this process (`bench_cli`)."""

from __future__ import annotations

import pytest

from bench.explainers import RandomExplainer
from bench.models import CNN
from bench.results import ResultStore


def raises(error: Exception):
    def raising(*args, **kwargs):
        raise error
    return raising


def test_a_run_with_a_failed_unit_stores_everything_else_and_exits_1_naming_it(tmp_path, monkeypatch, bench_cli):
    monkeypatch.setattr(RandomExplainer, "_explain", raises(RuntimeError("broken on purpose")))
    result = bench_cli("model=logreg", "data.datasets=[wdbc]", "explainers=[native,random]", "explain.n_instances=3",
                       f"paths.results={tmp_path}")
    assert result.returncode == 1
    error = result.stderr
    assert "error: 1 unit(s) failed; the rest is stored (a failed fit's explanations wait for it), and a rerun " \
        "retries what is missing:" in error
    assert "/random-" in error and "RuntimeError: broken on purpose" in error
    rows = ResultStore(tmp_path).read_all()
    status = rows.groupby(rows["explainer"].fillna("(fit)"))["status"].agg(set).to_dict()
    assert status == {"(fit)": {"ok"}, "native": {"ok"}, "random": {"failed"}}  # stored beside the failure


def test_an_explainer_option_the_model_cannot_serve_exits_2_before_any_training(tmp_path, monkeypatch, bench_cli):
    monkeypatch.setattr(CNN, "fit", raises(AssertionError("the cnn trained")))
    result = bench_cli("data=mnist_embedded", "model=cnn", "explainers=[gradcam]", "explainers.gradcam.layer=nope",
                       f"paths.results={tmp_path}")
    assert result.returncode == 2
    assert ("error: explainers.gradcam with model=cnn: gradcam layer 'nope' is not a layer of the model's network; its "
            "layers: conv1, relu1, conv2,") in result.stderr
    assert not (tmp_path / "rows").exists()


@pytest.mark.parametrize("old, option, new", [("model.epochs=5", "epochs", "model.training.epochs=5"),
                                              ("model.base.lr=0.1", "lr", "model.base.training.lr=0.1")])
def test_a_loop_option_in_its_old_place_exits_2_naming_its_place_now(old, option, new, bench_cli):
    result = bench_cli("model=atex", old)
    assert result.returncode == 2
    assert result.stderr == f"error: {old}: {option} is an option of the model's training loop: {new}\n"
