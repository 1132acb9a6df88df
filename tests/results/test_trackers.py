"""The wandb tracker in offline mode (what it writes), and every way it can fail without failing
the run: no package, disabled, wandb.init or a later call raising. No test reaches a server."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra.utils import instantiate
from matplotlib.figure import Figure

import bench.cli.run as bench_run
from bench.pipeline.plan import make_plan
from bench.results.trackers import NullTracker, WandbTracker, wandb_tracker
from tests.conftest import FAST, FAST_MODEL, compose_config

ROWS = [
    {"run_id": "r1", "dataset": "wdbc", "fold": 0, "model": "mlp", "explainer": None, "metric": "accuracy",
     "category": "prediction", "value": 0.93, "status": "ok", "task_id": None, "error": None},
    {"run_id": "r1", "dataset": "wdbc", "fold": 0, "model": "mlp", "explainer": "lime", "metric": "deletion_auc",
     "category": "faithfulness", "value": None, "status": "failed", "task_id": None, "error": "ValueError: boom"},
]
# A table as bench.report.tables builds them: nullable Int64 and missing values.
ACCURACY = pd.DataFrame({"dataset": ["wdbc", "iris"], "task_id": pd.array([3, None], dtype="Int64"),
                         "value": [0.93, float("nan")], "error": [None, "no data"]})


@pytest.fixture(autouse=True)
def wandb_env(monkeypatch, tmp_path_factory):
    """Offline, quiet, and writing nothing in the home folder (wandb's cache, settings and
    staging folders are there by default)."""
    home = tmp_path_factory.getbasetemp() / "wandb-home"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    for variable in ("WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(variable, str(home / variable.lower()))


def png(path: Path) -> Path:
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().plot([0, 1], [0, 1])
    figure.savefig(path)
    return path


def offline_runs(folder: Path) -> set[Path]:
    """The offline runs under `folder`, complete: run.finish() returns before wandb's service has
    written the run's records, and only its teardown waits for them."""
    import wandb

    wandb.teardown()
    return set((folder / "wandb").glob("offline-run-*"))


def test_an_offline_run_writes_the_config_scalars_tables_and_images(tmp_path):
    tracker = wandb_tracker(mode="offline", dir=str(tmp_path), run_config={"model": {"name": "mlp-7f3a"}})
    assert isinstance(tracker, WandbTracker) and tracker.wants_images
    tracker.log_rows(ROWS)
    tracker.log_report({"accuracy": ACCURACY}, {"accuracy": png(tmp_path / "accuracy.png")})
    tracker.finish()

    (run,) = offline_runs(tmp_path)
    # Offline, the config and the scalars are records in the run's .wandb file, not files of their own.
    (records,) = run.glob("run-*.wandb")
    assert b"mlp-7f3a" in records.read_bytes() and b"wdbc/mlp/fit/accuracy" in records.read_bytes()
    assert b"wdbc/mlp/lime/deletion_auc" not in records.read_bytes()  # a failed row has no value
    media = run / "files" / "media"
    (accuracy,) = (media / "table" / "tables").glob("accuracy_*.table.json")
    assert json.loads(accuracy.read_text()) == {
        "columns": ["dataset", "task_id", "value", "error"],
        "data": [["wdbc", 3, 0.93, None], ["iris", None, None, "no data"]]}
    (rows,) = (media / "table" / "tables").glob("rows_*.table.json")
    assert "ValueError: boom" in rows.read_text()
    assert list((media / "images" / "leaderboard").glob("accuracy_*.png"))


def test_without_the_wandb_package_the_run_is_untracked_and_the_warning_names_the_fix(tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` raises ImportError
    with caplog.at_level(logging.WARNING, logger="bench"):
        tracker = wandb_tracker(mode="offline", dir=str(tmp_path))
    assert isinstance(tracker, NullTracker) and not tracker.wants_images
    assert "pip install -e '.[wandb]'" in caplog.text


def test_wandb_mode_disabled_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    tracker = instantiate(compose_config(["logger=wandb"], tmp_path).logger, run_config={})
    assert isinstance(tracker, NullTracker)
    tracker.log_rows(ROWS)
    tracker.log_report({"accuracy": ACCURACY}, {})
    tracker.finish()
    assert not list(tmp_path.iterdir())


def test_the_mode_on_the_command_line_wins_over_wandb_mode(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert compose_config(["logger=wandb", "logger.mode=offline"]).logger.mode == "offline"
    monkeypatch.delenv("WANDB_MODE")
    assert compose_config(["logger=wandb"]).logger.mode == "offline"


def test_an_unreachable_server_leaves_the_run_untracked_with_a_warning(tmp_path, monkeypatch, caplog):
    import wandb

    def unreachable(**kwargs):
        raise wandb.errors.CommError("Run initialization has timed out after 30.0 sec.")

    monkeypatch.setattr(wandb, "init", unreachable)
    with caplog.at_level(logging.WARNING, logger="bench"):
        tracker = wandb_tracker(mode="online", dir=str(tmp_path))
    assert isinstance(tracker, NullTracker)
    assert "timed out" in caplog.text and "WANDB_MODE=offline" in caplog.text


def test_a_failing_call_after_init_is_a_warning_and_the_rest_are_no_ops(tmp_path, monkeypatch, caplog):
    tracker = wandb_tracker(mode="offline", dir=str(tmp_path))
    run = tracker._run
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise OSError("disk full")

    monkeypatch.setattr(run, "log", broken)
    with caplog.at_level(logging.WARNING, logger="bench"):
        tracker.log_rows(ROWS)
        tracker.log_rows(ROWS)
        tracker.log_report({"accuracy": ACCURACY}, {})
        tracker.finish()
    assert len(calls) == 1
    (warning,) = [r.message for r in caplog.records if r.name == "bench"]
    assert "disk full" in warning
    run.finish()  # what wandb's own exit hook would do


def test_logger_wandb_tracks_a_whole_run_offline_under_the_results_folder(results, monkeypatch, caplog):
    monkeypatch.delenv("WANDB_MODE")  # offline is the default
    cfg = compose_config([*FAST, *FAST_MODEL, "explainers=[native,ig,random]", "explainers.ig.n_steps=8", "logger=wandb"], results)
    plan = make_plan(cfg)
    assert isinstance(plan.tracker, WandbTracker)
    plan.tracker.finish()
    planned = offline_runs(results)

    with caplog.at_level(logging.WARNING, logger="bench"):
        bench_run.run(cfg)
    assert "logger=wandb" not in caplog.text
    (run,) = offline_runs(results) - planned
    (records,) = run.glob("run-*.wandb")
    assert b"wdbc/hyperlinear/native/deletion_auc" in records.read_bytes()
    tables = run / "files" / "media" / "table" / "tables"
    for name in ("rows", "accuracy", "explanations", "cost"):
        assert list(tables.glob(f"{name}_*.table.json")), name
    # The run's leaderboard figures: its 4 embedded tasks give the heatmap, the scatter and the cost plot.
    images = {path.name.split("_")[0] for path in (run / "files" / "media" / "images" / "leaderboard").glob("*.png")}
    assert {"heatmap", "accuracy-vs-quality", "cost"} <= images
