"""Bad input around images: an explainer that answers for other inputs, and the image metrics on
a table. Each is a row that says what went wrong; the run goes on and keeps what it stored."""

from __future__ import annotations

import numpy as np

import bench.cli.run as bench_run
from bench.core.explanation import Explanation
from bench.results import ResultStore
from tests.conftest import FAST, compose_config


def test_an_explanation_of_the_wrong_shape_is_a_failed_row_and_the_others_are_scored(results, monkeypatch):
    def flattened_to_ten_features(self, model, X, *, target, background, rng):
        return Explanation(np.zeros((len(X), 10)), "attribution", target)

    monkeypatch.setattr("bench.explainers.Saliency.explain", flattened_to_ten_features)
    cfg = compose_config(["data=digits", "model=cnn", "model.training.epochs=1", "explainers=[saliency,random]",
                          "explain.n_instances=4"], results)
    bench_run.run(cfg)
    rows = ResultStore(results).read_all()
    saliency = rows[rows["explainer"] == "saliency"]
    assert set(saliency["status"]) == {"failed"}
    assert saliency["error"].iloc[0] == (
        "ValueError: saliency returned an explanation of 4 inputs of shape (10,) for 4 inputs of shape (1, 8, 8): "
        "an explainer must explain the inputs it is given, one value per input feature (pixel)")
    random = rows[(rows["explainer"] == "random") & (rows["category"] != "cost")]
    assert (random["status"] == "ok").all() and len(random) > 0


def test_the_image_metrics_on_a_table_are_na_with_the_reason(results):
    cfg = compose_config([*FAST, "model=logreg", "explainers=[random]", "metrics=image",
                          "metrics.explanation.data_randomisation.n_instances=2"], results)
    bench_run.run(cfg)
    rows = ResultStore(results).read_all()
    by_metric = rows[rows["explainer"] == "random"].set_index("metric")
    for metric in ("road_morf", "road_lerf"):
        assert by_metric.loc[metric, "status"] == "n/a"
        assert by_metric.loc[metric, "error"].startswith("ROAD applies to images (n, channels, height, width)")
    assert by_metric.loc["faithfulness_correlation", "status"] == "n/a"
    assert "removal by patches (patch=2) applies to images" in by_metric.loc["faithfulness_correlation", "error"]
    for metric in ("deletion_auc", "insertion_auc", "sparseness", "complexity", "max_sensitivity"):
        assert by_metric.loc[metric, "status"] == "ok", metric
