"""The loop end to end on embedded data: tables, resume, force, crash-safety, determinism."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

import matplotlib.pyplot as plt

import bench.cli.run as bench_run
import bench.pipeline.run as pipeline_run
import bench.report.run_report as run_report
from bench.pipeline.explanation_units import FoldExplanations
from bench.core.device import describe_device, resolve_device
from bench.core.errors import BenchError, IncompatibleModel
from bench.report.gallery import gallery_files
from bench.results import ResultStore
from tests.conftest import FAST, FAST_ALL_EXPLAINERS, FAST_EXPLAINERS, FAST_MODEL, compose_config

SMALL = [*FAST, *FAST_EXPLAINERS, *FAST_MODEL, "data.datasets=[wdbc,gaussianLinear]"]


def tables(results) -> dict[str, pd.DataFrame]:
    # keep_default_na=False: pandas would read the status "n/a" as a missing value.
    return {name: pd.read_csv(results / "tables" / f"{name}.csv", keep_default_na=False, na_values=[""]) for name in ("accuracy", "explanations", "cost")}


def test_default_run_writes_accuracy_explanation_and_cost_tables(results):
    summary = bench_run.run(compose_config(SMALL, results))
    assert summary.units_computed == 2 * (1 + 5 + 5)  # two tasks: a fit, five explanations, five deletion scores
    t = tables(results)
    accuracy = t["accuracy"].set_index(["dataset", "metric"])["value"]
    assert accuracy["wdbc", "accuracy"] > 0.85 and accuracy["wdbc", "roc_auc"] > 0.9
    assert accuracy["gaussianLinear", "r2"] > 0.5
    assert set(t["accuracy"]["split_kind"]) == {"local", "generated"}
    explanations = t["explanations"]
    assert (explanations["status"] == "ok").all()
    assert set(explanations["explainer"]) == {"native", "kernel_shap", "lime", "ig", "random"}
    assert set(explanations["metric"]) == {"deletion_auc"}
    assert (explanations["n_instances"] == 4).all()
    cost = t["cost"].set_index(["dataset", "explainer", "metric"])["value"]
    assert cost["wdbc", "random", "model_evaluations_per_instance"] == 0
    # Integrated gradients: n_steps evaluations per instance (plus captum's convergence check: 2).
    assert cost["wdbc", "ig", "model_evaluations_per_instance"] == 8 + 2
    assert cost["wdbc", "kernel_shap", "model_evaluations_per_instance"] > 64
    for name in ("accuracy", "explanations", "cost", "skipped"):
        assert (results / "tables" / f"{name}.md").exists()
    assert "deletion_auc" in summary.tables["explanations"]
    rows = ResultStore(results).read_all()
    assert set(rows["device"]) == {describe_device(resolve_device("auto"))}  # the run's device=auto
    assert rows["versions"].str.contains("lime=").all() and rows["versions"].str.contains("catboost=").all()


def test_a_rerun_skips_every_finished_unit_and_force_recomputes(results):
    cfg = compose_config(SMALL, results)
    first = bench_run.run(cfg)
    values = tables(results)["explanations"]["value"].to_numpy()
    again = bench_run.run(cfg)
    assert again.units_computed == 0 and again.units_resumed == first.units_computed
    np.testing.assert_array_equal(tables(results)["explanations"]["value"].to_numpy(), values)
    forced = bench_run.run(compose_config([*SMALL, "force=true"], results))
    assert forced.units_computed == first.units_computed


def test_a_resumed_run_reads_only_its_own_rows_and_leaves_the_tables_of_every_row(results, monkeypatch):
    cfg = compose_config(SMALL, results)
    first = bench_run.run(cfg)
    other = bench_run.run(compose_config([*FAST, *FAST_EXPLAINERS, "data.datasets=[wdbc]", "model=logreg"],
                                         results))  # rows of another run beside
    stored = (results / "tables" / "accuracy.csv").read_bytes()

    def read_all(self):
        raise AssertionError("a run that stored nothing read every row")

    monkeypatch.setattr(ResultStore, "read_all", read_all)
    again = bench_run.run(cfg)
    assert (again.units_computed, again.units_resumed) == (0, first.units_computed)
    assert again.tables == first.tables  # its own units' tables, printed as the first run printed them
    assert (results / "tables" / "accuracy.csv").read_bytes() == stored  # every run's rows, logreg's too
    assert "logreg" in stored.decode() and other.units_computed


def test_tables_left_behind_by_a_run_killed_before_writing_them_are_rewritten_by_a_run_that_computes_nothing(
        results, monkeypatch):
    small = [*FAST, "data.datasets=[wdbc]", "model=logreg"]
    bench_run.run(compose_config([*small, "explainers=[random]"], results))
    with monkeypatch.context() as killed:  # its units stored, then killed before the tables
        killed.setattr(run_report, "refresh_tables", lambda store, folder: None)
        bench_run.run(compose_config([*small, "explainers=[random,native]"], results))
    assert "native" not in tables(results)["explanations"]["explainer"].tolist()
    again = bench_run.run(compose_config([*small, "explainers=[random,native]"], results))
    assert again.units_computed == 0
    assert {"random", "native"} <= set(tables(results)["explanations"]["explainer"])


def test_a_run_killed_midway_keeps_finished_units_and_computes_only_the_rest(results, monkeypatch):
    cfg = compose_config(SMALL, results)
    original = FoldExplanations._explain
    calls = []

    def dies_on_the_seventh(self, unit, X):
        calls.append(unit.key)
        if len(calls) == 7:
            raise KeyboardInterrupt  # as if the process were killed
        return original(self, unit, X)

    monkeypatch.setattr(FoldExplanations, "_explain", dies_on_the_seventh)
    with pytest.raises(KeyboardInterrupt):
        bench_run.run(cfg)
    stored = ResultStore(results).read_all()
    # The first task whole; the second: its fit, one explanation and its deletion score.
    assert stored["unit"].nunique() == (1 + 5 + 5) + (1 + 1 + 1)
    monkeypatch.setattr(FoldExplanations, "_explain", original)
    resumed = bench_run.run(cfg)
    assert resumed.units_computed == 4 + 4  # the other four explainers of the second task, and their scores
    assert resumed.units_resumed == 14


def test_same_config_and_seed_give_the_same_table(tmp_path):
    frames = []
    for name in ("a", "b"):
        bench_run.run(compose_config(SMALL, tmp_path / name))
        frames.append(tables(tmp_path / name))
    for name in ("accuracy", "explanations"):
        a, b = (f[name].drop(columns=["error"]) for f in frames)
        pd.testing.assert_frame_equal(a, b)
    other = compose_config([*SMALL, "seed=1"], tmp_path / "c")
    bench_run.run(other)
    assert not tables(tmp_path / "c")["explanations"]["value"].equals(frames[0]["explanations"]["value"])


def test_inapplicable_models_and_explainers_give_na_rows_and_the_run_continues(results):
    cfg = compose_config([*FAST, *FAST_EXPLAINERS, "data.datasets=[wdbc,gaussianLinear]", "model=logreg"], results)
    first = bench_run.run(cfg)
    t = tables(results)
    reason = "model=logreg handles binary, multiclass tasks, not regression"
    regression = t["accuracy"][t["accuracy"]["dataset"] == "gaussianLinear"]
    assert list(regression["status"]) == ["n/a"] and reason in regression["error"].iloc[0]
    unexplained = t["explanations"][t["explanations"]["dataset"] == "gaussianLinear"]
    assert sorted(unexplained["explainer"]) == ["ig", "kernel_shap", "lime", "native", "random"]
    assert set(unexplained["status"]) == {"n/a"} and all(reason in e for e in unexplained["error"])
    again = bench_run.run(cfg)  # an n/a unit is an answer: nothing is recomputed
    # wdbc: a fit, five explanations (ig's n/a) and four scores; gaussianLinear: six n/a units.
    assert again.units_computed == 0 and again.units_resumed == first.units_computed == 16
    ig = t["explanations"][(t["explanations"]["dataset"] == "wdbc") & (t["explanations"]["explainer"] == "ig")]
    assert list(ig["status"]) == ["n/a"] and "not a torch model" in ig["error"].iloc[0]
    shap_rows = t["explanations"][(t["explanations"]["dataset"] == "wdbc") & (t["explanations"]["explainer"] == "kernel_shap")]
    assert list(shap_rows["status"]) == ["ok"]
    native = t["explanations"][(t["explanations"]["dataset"] == "wdbc") & (t["explanations"]["explainer"] == "native")]
    assert set(native["status"]) == {"ok"}  # logistic regression is interpretable by design


@pytest.mark.parametrize("model", ["cnn", "flint_posthoc"])  # FLINT post-hoc reads what its base (a cnn) reads
def test_a_model_for_images_is_refused_on_tabular_data_before_training(results, model):
    with pytest.raises(IncompatibleModel, match=f"model={model} takes image data"):
        bench_run.run(compose_config([*FAST, "data.datasets=[wdbc]", f"model={model}"], results))
    assert ResultStore(results).read_all().empty


def test_the_image_path_on_digits(results):
    cfg = compose_config(["data=digits", "model=cnn", "model.training.epochs=5", "explainers=[ig,random]",
                          "explain.n_instances=4", "explainers.ig.n_steps=8"], results)
    bench_run.run(cfg)
    t = tables(results)
    assert t["accuracy"].set_index("metric")["value"]["accuracy"] > 0.5
    assert (t["explanations"]["status"] == "ok").all()
    # The training's cost is in the cost table, as a row without an explainer: 5 epochs.
    training = t["cost"][t["cost"]["explainer"].isna()].set_index("metric")["value"]
    assert training["fit_seconds_per_epoch"] == pytest.approx(training["fit_seconds"] / 5)
    assert "fit_seconds" not in set(t["accuracy"]["metric"])
    stored = ResultStore(results).read_all()
    ig_unit = stored[(stored["explainer"] == "ig") & (stored["category"] == "cost")]["unit"].iloc[0]
    explanation = pd.read_pickle(results / "artifacts" / f"{ig_unit}.explanation.pkl")["explanation"]
    assert explanation.values.shape == (4, 64) and explanation.input_shape == (1, 8, 8)  # flattened pixels
    # The fold's picture: 4 images, then each explainer's 4 heatmaps and its deletion curves.
    (picture,) = gallery_files(results)
    assert picture.name.startswith("digits-cnn-") and picture.name.endswith("-fold0-seed0.png")
    height, width, _ = plt.imread(picture).shape
    assert height > 200 and width > 400
    # A picture lost after its fold's units were stored (a crash in between) is drawn again by
    # the rerun, which computes nothing.
    picture.unlink()
    summary = bench_run.run(cfg)
    assert summary.units_computed == 0 and summary.fits == 0 and picture.exists()


@pytest.mark.parametrize(("override", "message"), [
    ("data.folds=[12]", "wdbc: data.folds asks for folds [12], but the task has folds [0, 1, 2, 3, 4]"),
    ("explain.n_instances=0", "explain.n_instances must be at least 1"),
    ("seed=-1", "seed must be a non-negative integer"),
    ("data.datasets=[wdbc,iris]", "unknown embedded dataset(s) ['iris']"),
    ("data.rho=1.5", "rho must lie in (-1/(d-1), 1)"),
    ("data.n_folds=1", "data.n_folds must be at least 2"),
    ("data.synthetic_mode=classification", "gaussianNonLinearAdditive has no classification mode"),
])
def test_bad_run_options_fail_with_a_message_naming_them(override, message, results):
    with pytest.raises(BenchError) as error:
        bench_run.run(compose_config([*SMALL, "data.datasets=[wdbc,gaussianLinear,gaussianNonLinearAdditive]",
                                      override], results))
    assert message in str(error.value)
    assert not results.exists()  # refused before any work


def test_every_model_explains_the_same_test_points(results):
    for model in ("mlp", "logreg"):
        bench_run.run(compose_config([*FAST, "data.datasets=[wdbc]", f"model={model}", "explainers=[random]"], results))
    stored = ResultStore(results).read_all()
    units = stored[(stored["explainer"] == "random") & (stored["category"] == "cost")]["unit"].unique()
    samples = [pd.read_pickle(results / "artifacts" / f"{unit}.explanation.pkl")["test_rows"] for unit in units]
    assert len(samples) == 2
    np.testing.assert_array_equal(*samples)


def test_a_new_prediction_metric_is_scored_from_stored_predictions(results, monkeypatch):
    small = [*FAST, *FAST_MODEL, "data.datasets=[wdbc,gaussianLinear]", "explainers=[random]"]
    bench_run.run(compose_config([*small, "~metrics.prediction.log_loss"], results))
    monkeypatch.setattr(pipeline_run, "_fit_unit", lambda *args: pytest.fail("refitted a stored model"))
    again = bench_run.run(compose_config(small, results))
    # Two fit units rescored; the explanations and their scores kept.
    assert again.units_computed == 2 and again.units_resumed == 4
    assert "log_loss" in set(tables(results)["accuracy"]["metric"])


def test_a_failed_fit_leaves_its_explainers_for_the_rerun(results, monkeypatch):
    monkeypatch.setattr("bench.models.LogisticRegression.fit", lambda *args: 1 / 0)
    cfg = compose_config([*FAST, "data.datasets=[wdbc]", "model=logreg", "explainers=[random]"], results)
    summary = bench_run.run(cfg)
    assert (summary.units_computed, summary.units_resumed) == (1, 0)
    assert list(tables(results)["accuracy"]["status"]) == ["failed"]
    monkeypatch.undo()
    retried = bench_run.run(cfg)
    assert (retried.units_computed, retried.units_resumed) == (3, 0)  # the fit, the explanation, its score


def test_a_kill_between_the_fit_artifacts_is_refitted_by_the_rerun(results, monkeypatch):
    cfg = compose_config([*FAST, "data.datasets=[wdbc]", "model=logreg", "explainers=[random]"], results)
    save = ResultStore.save_artifact
    written = []

    def killed_after_the_first(store, unit, what, obj):
        if written:
            raise KeyboardInterrupt  # the process dies between the fit unit's two writes
        written.append(what)
        save(store, unit, what, obj)

    monkeypatch.setattr(ResultStore, "save_artifact", killed_after_the_first)
    with pytest.raises(KeyboardInterrupt):
        bench_run.run(cfg)
    monkeypatch.undo()
    rerun = bench_run.run(cfg)
    assert (rerun.units_computed, rerun.units_resumed) == (3, 0)
    assert list(tables(results)["accuracy"]["status"].unique()) == ["ok"]


def test_a_report_that_fails_at_the_end_is_a_warning_not_a_failed_run(results, monkeypatch, caplog):
    monkeypatch.setattr(run_report, "build_leaderboard", lambda rows: 1 / 0)
    monkeypatch.setattr("bench.results.trackers.NullTracker.wants_images", True)
    summary = bench_run.run(compose_config([*FAST, "data.datasets=[wdbc]", "model=logreg", "explainers=[random]"],
                                           results))
    assert summary.units_computed == 3
    assert "not sent to the tracker: ZeroDivisionError" in caplog.text


def test_a_fold_no_model_can_learn_from_gives_na_rows_and_the_run_continues(results, monkeypatch):
    from bench.data.embedded import EmbeddedSource

    original = EmbeddedSource.load

    def one_training_class(self, ref):
        task = original(self, ref)
        if ref.name != "wdbc":
            return task
        y = np.full(len(task.y), "malignant", dtype=object)
        y[task.splits[0].test[0]] = "benign"  # the second class appears in the test part only
        return dataclasses.replace(task, y=y)

    monkeypatch.setattr(EmbeddedSource, "load", one_training_class)
    summary = bench_run.run(compose_config(SMALL, results))
    assert summary.units_computed == (1 + 5) + (1 + 5 + 5)  # wdbc's are n/a, with no scores
    t = tables(results)
    wdbc = pd.concat([t["accuracy"], t["explanations"]]).query("dataset == 'wdbc'")
    assert set(wdbc["status"]) == {"n/a"}
    assert all("training part of fold 0 has a single class ('malignant')" in e for e in wdbc["error"])
    assert set(t["accuracy"].query("dataset == 'gaussianLinear'")["status"]) == {"ok"}


def test_explainers_that_find_the_data_or_network_beyond_them_give_na_rows_and_attributions_map_to_columns(results):
    cfg = compose_config([*FAST, *FAST_MODEL, "data.datasets=[wdbc]", "explainers=[exact_shap,cd,saliency]",
                          "explain.background_summary=kmeans"], results)
    bench_run.run(cfg)
    explained = tables(results)["explanations"].set_index("explainer")
    assert explained.loc["exact_shap", "status"] == "n/a" and "2^30 coalitions" in explained.loc["exact_shap", "error"]
    assert explained.loc["cd", "status"] == "n/a" and "no rule for Ensemble" in explained.loc["cd", "error"]
    assert explained.loc["saliency", "status"] == "ok"
    artifact = pickle.loads(next((results / "artifacts").rglob("saliency-*.explanation.pkl")).read_bytes())
    by_column = artifact["by_source_column"]
    assert by_column.shape == (4, 30) and list(by_column.columns) == artifact["feature_names"]
    np.testing.assert_allclose(by_column.to_numpy(), artifact["explanation"].values)  # all numeric: one each


@pytest.mark.parametrize("model", ["mlp", "hyperlinear"])
def test_every_explainer_runs_or_is_na_with_its_cost_rows(results, model):
    size = ["model.training.epochs=3"] if model == "mlp" else FAST_MODEL
    cfg = compose_config([*FAST, *FAST_ALL_EXPLAINERS, *size, f"model={model}", "data.datasets=[wdbc,gaussianLinear]"],
                         results)
    bench_run.run(cfg)
    t = tables(results)
    assert set(t["explanations"]["status"]) == {"ok", "n/a"}, t["explanations"].query("status == 'failed'")["error"]
    ok = t["cost"].query("status == 'ok'")
    assert len(ok.groupby(["dataset", "explainer"])) >= 2 * 12
    per_explainer = ok.pivot_table(index=["dataset", "explainer"], columns="metric", values="value")
    assert (per_explainer["wall_seconds_per_instance"] > 0).all()
    assert (per_explainer.drop(index="random", level=1)["model_evaluations_per_instance"] >= 1).all()


def test_metrics_all_scores_every_explanation_with_every_metric(results):
    # 20 instances: a mean over FAST's 4 is too noisy to tell a random explanation from a good one.
    cfg = compose_config([*FAST, *FAST_MODEL, "explain.n_instances=20", "data.datasets=[wdbc,gaussianLinear]",
                          "explainers=[native,random]", "metrics=all", "metrics.explanation.shapley_corr.n_samples=50",
                          *[f"metrics.explanation.{name}.retrained_model={{_target_:sklearn.linear_model."
                            f"LinearRegression,_partial_:true}}" for name in ("roar_faithfulness", "roar_monotonicity")]],
                         results)
    bench_run.run(cfg)
    scores = tables(results)["explanations"].set_index(["dataset", "explainer", "metric"])
    every_metric = set(cfg.metrics.explanation)
    for dataset in ("wdbc", "gaussianLinear"):
        for explainer in ("native", "random"):
            assert set(scores.loc[(dataset, explainer)].index) == every_metric
    status = scores["status"]
    # Ground truth needs a synthetic task's distribution; interactions need an explainer that gives them.
    synthetic_only = {"faithfulness", "monotonicity", "roar_faithfulness", "roar_monotonicity", "shapley_mse",
                      "shapley_corr", "feature_agreement", "rank_agreement", "sign_agreement", "signed_rank_agreement",
                      "rank_correlation", "pairwise_rank_agreement", "interaction_recovery"}
    # The attack follows IMN's impacts, which are differentiable, not random noise; SSIM compares images.
    # Random noise reads no layer of the network: the parameter-randomisation cascade has no step.
    manipulation = {"manipulation_topk", "manipulation_spearman", "manipulation_reverted", "manipulation_surrogate"}
    not_for_random = {*manipulation, "model_parameter_randomisation"}
    for (dataset, explainer, metric), value in status.items():
        expected = "n/a" if metric in ("interaction_recovery", "smoothgrad_ssim") or (
            dataset == "wdbc" and metric in synthetic_only) or (explainer == "random" and metric in not_for_random) \
            else "ok"
        assert value == expected, (dataset, explainer, metric, scores.loc[(dataset, explainer, metric), "error"])
    # Counted model evaluations: deletion evaluates 31 curve points (0..30 of wdbc's features
    # removed) for each of the 20 rows; sparseness reads the explanation alone.
    assert scores.loc[("wdbc", "native", "deletion_auc"), "model_evaluations"] == 20 * 31
    assert scores.loc[("wdbc", "native", "sparseness"), "model_evaluations"] == 0
    # IMN's impacts track the model's response to removing features far better than noise does.
    for metric in ("faithfulness_correlation", "shapley_corr", "faithfulness"):
        dataset = "wdbc" if metric == "faithfulness_correlation" else "gaussianLinear"
        assert scores.loc[(dataset, "native", metric), "value"] > scores.loc[(dataset, "random", metric), "value"] + 0.2


def test_a_metric_added_to_a_finished_run_scores_the_stored_explanations_without_explaining(results, monkeypatch):
    from bench.explainers import KernelShap, RandomExplainer

    small = [*FAST, *FAST_MODEL, "data.datasets=[wdbc]", "explainers=[kernel_shap,random]",
             "explainers.kernel_shap.nsamples=64"]
    first = bench_run.run(compose_config(small, results))
    calls = []
    for explainer in (KernelShap, RandomExplainer):
        original = explainer.explain
        monkeypatch.setattr(explainer, "explain", lambda self, *a, original=original, **k: (
            calls.append(type(self).__name__), original(self, *a, **k))[1])
    # metrics=nightly: deletion (stored) plus insertion, faithfulness correlation and sparseness.
    more = bench_run.run(compose_config([*small, "metrics=nightly"], results))
    assert calls == []
    assert (more.units_computed, more.units_resumed) == (2 * 3, first.units_computed)
    scored = tables(results)["explanations"]
    assert set(scored["metric"]) == {"deletion_auc", "insertion_auc", "faithfulness_correlation", "sparseness"}
    assert (scored["status"] == "ok").all()
    # Another option of one explainer: it explains again, and its metrics score the new explanation.
    changed = bench_run.run(compose_config([*small, "metrics=nightly", "explainers.kernel_shap.nsamples=80"], results))
    assert calls == ["KernelShap"] and changed.units_computed == 1 + 4


def test_a_stored_model_computes_on_this_runs_device(results):
    """A model trained elsewhere (here: pickled with device="cuda", as on a GPU machine) is
    explained and scored on this run's device."""
    small = [*FAST, *FAST_MODEL, "data.datasets=[wdbc]", "explainers=[saliency]", "device=cpu"]
    bench_run.run(compose_config(small, results))
    stored = next((results / "artifacts").rglob("_model.model.pkl"))
    model = pickle.loads(stored.read_bytes())
    stored.write_bytes(pickle.dumps(model.set_params(device="cuda")))
    more = bench_run.run(compose_config([*small, "metrics=nightly"], results))
    assert more.units_computed == 3
    assert (tables(results)["explanations"]["status"] == "ok").all()


def test_a_forced_explanation_that_fails_takes_its_old_scores_with_it(results, monkeypatch):
    from bench.explainers import RandomExplainer

    small = [*FAST, "data.datasets=[wdbc]", "model=logreg", "explainers=[random]"]
    bench_run.run(compose_config([*small, "metrics=nightly"], results))
    monkeypatch.setattr(RandomExplainer, "explain", lambda *args, **kwargs: 1 / 0)
    bench_run.run(compose_config([*small, "force=true"], results))  # deletion only, and the explainer fails
    rows = ResultStore(results).read_all().query("explainer == 'random'")
    assert list(rows["status"]) == ["failed"] and rows["metric"].isna().all()
    assert not list((results / "artifacts").rglob("random-*.explanation.pkl"))
