"""What a hostile or unlucky user does to a results folder: damages its files, drops foreign ones
in, makes it read-only, names it wrongly, interrupts a run, starts two at once. Each case either
works or fails on one line naming the problem; nothing already computed is lost or recomputed
for nothing. (The data layer's cases are in tests/data/, the sweeps' in tests/test_multirun.py.)"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import psutil
import pytest

import bench.cli.run as bench_run
import bench.pipeline.run as pipeline_run
from bench.core.errors import BenchError
from bench.pipeline.explanation_units import FoldExplanations, FoldWork, metric_units_of
from bench.core.paths import PROJECT_ROOT
from bench.pipeline.plan import make_plan
from bench.report.main import main as report_main
from bench.results import ResultStore
from bench.report.markdown import markdown_table
from bench.results.locks import locked
from bench.results.store import QUARANTINE, rows_frame
from bench.report.tables import build_tables, to_markdown, write_tables
from tests.conftest import FAST, compose_config

# One task, a fit, two explanations and their deletion scores: a second or two.
TINY = [*FAST, "model=logreg", "data.datasets=[wdbc]", "explainers=[native,random]"]
REPRODUCIBLE = ["unit", "metric", "value", "status"]


def stored(results: Path) -> pd.DataFrame:
    """The rows a rerun must reproduce, in a stable order."""
    rows = ResultStore(results, quarantine=False).read_all()
    rows = rows[rows["category"] != "cost"]  # timings differ from run to run
    return rows[REPRODUCIBLE].sort_values(["unit", "metric"]).reset_index(drop=True)


def files_of(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def finished(results) -> tuple[Path, pd.DataFrame]:
    """A results folder of one finished run, and its rows."""
    bench_run.run(compose_config(TINY, results))
    return results, stored(results)


def row_file(results: Path, pattern: str) -> Path:
    return next((results / "rows").rglob(pattern))


def artifact(results: Path, pattern: str) -> Path:
    return next((results / "artifacts").rglob(pattern))


def truncate(path: Path, keep: float = 0.5) -> None:
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])


def test_damaged_row_files_are_moved_aside_and_only_their_units_computed_again(finished, caplog):
    results, before = finished
    fit_rows, metric_rows = row_file(results, "_fit-*.parquet"), row_file(results, "deletion_auc-*.parquet")
    truncate(fit_rows)
    metric_rows.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="bench"):
        again = bench_run.run(compose_config(TINY, results))
    assert again.units_computed == 2
    quarantined = results / QUARANTINE / fit_rows.relative_to(results)
    assert quarantined.is_file() and (results / QUARANTINE / metric_rows.relative_to(results)).is_file()
    assert f"{fit_rows} cannot be read" in caplog.text and "moved to" in caplog.text
    pd.testing.assert_frame_equal(stored(results), before)


def test_a_damaged_model_is_trained_again_when_an_explanation_needs_it(finished, caplog):
    results, before = finished
    truncate(artifact(results, "_model.model.pkl"))
    next(p for p in (results / "rows").rglob("random-*.parquet")).unlink()
    with caplog.at_level(logging.WARNING, logger="bench"):
        again = bench_run.run(compose_config(TINY, results))
    assert "_model.model.pkl cannot be read (UnpicklingError" in caplog.text
    assert again.fits == 1 and list((results / QUARANTINE).rglob("_model.model.pkl"))
    # The fit (its rows rewritten) and the explanation and score that needed the model: computed,
    # not resumed; the native explanation and its score: resumed.
    assert (again.units_computed, again.units_resumed) == (3, 2)
    pd.testing.assert_frame_equal(stored(results), before)


def test_a_damaged_explanation_is_explained_and_scored_again(finished):
    results, before = finished
    truncate(artifact(results, "native-*.explanation.pkl"), keep=0.1)
    next(p for p in (results / "rows").rglob("deletion_auc-*.parquet") if "/native-" in str(p)).unlink()
    again = bench_run.run(compose_config(TINY, results))
    assert again.units_computed == 2  # the explanation (its rows rewritten) and its one metric
    pd.testing.assert_frame_equal(stored(results), before)


def test_the_report_skips_foreign_and_unreadable_files_and_writes_only_under_out(finished, tmp_path, caplog):
    results, _ = finished
    pd.DataFrame({"a": [1, 2]}).to_parquet(results / "rows" / "mine.parquet")
    (results / "rows" / "broken.parquet").write_bytes(b"PAR1 not really")
    untouched = files_of(results)
    out = tmp_path / "board"
    with caplog.at_level(logging.WARNING, logger="bench"):
        assert report_main(["--results", str(results), "--out", str(out)]) == 0
    assert "mine.parquet is not a file of result rows" in caplog.text
    assert "broken.parquet cannot be read" in caplog.text
    assert files_of(results) == untouched
    accuracy = pd.read_csv(out / "tables" / "accuracy.csv")
    assert accuracy["dataset"].notna().all() and set(accuracy["dataset"]) == {"wdbc"}
    assert (out / "tables" / "accuracy.md").is_file() and (out / "index.html").is_file()


def test_a_read_only_results_folder_gives_a_report_elsewhere_and_refuses_a_run(finished, tmp_path, make_read_only, capsys):
    results, _ = finished
    make_read_only(results)
    untouched = files_of(results)
    assert report_main(["--results", str(results), "--out", str(tmp_path / "board")]) == 0
    assert files_of(results) == untouched
    capsys.readouterr()
    assert report_main(["--results", str(results)]) == 2
    err = capsys.readouterr().err
    assert "error: cannot write the report" in err and "--out DIR" in err
    with pytest.raises(BenchError, match=f"cannot write the results to {results}.*paths.results=DIR"):
        make_plan(compose_config(TINY, results))


def test_a_run_into_a_read_only_folder_fails_at_once_on_one_line(tmp_path, make_read_only):
    folder = tmp_path / "ro"
    folder.mkdir()
    make_read_only(folder)
    result = cli("model=logreg", f"paths.results={folder}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: cannot write the results to {folder}" in result.stderr


def test_a_results_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(BenchError, match="file, not a folder"):
        make_plan(compose_config(TINY, tmp_path / "file"))


@pytest.mark.parametrize("override, message", [
    ("data.n_train=0", "data.n_train must be at least 2 rows, got 0"),
    ("data.n_test=0", "data.n_test must be at least 1 rows, got 0"),
    # 3 copies x 5 features x 8 bytes x 1e9 rows: 111.8 GiB, more than the 64 GiB said to be free.
    ("data.n_train=999999900", r"need about 111.8 GiB to draw, more than the 64.0 GiB of memory available"),
])
def test_impossible_synthetic_sizes_are_refused_before_any_work(results, override, message, monkeypatch):
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=64 * 2**30))
    with pytest.raises(BenchError, match=message):
        make_plan(compose_config([override], results))
    assert not results.exists()


def test_markdown_cells_are_escaped_and_names_stay_text():
    frame = pd.DataFrame({"dataset": ["x|y", "<script>alert(1)</script>", "inf", "1e5", "a\nb"],
                          "value": [1.0, 2.0, 3.0, 4.0, float("nan")]})
    lines = markdown_table(frame).splitlines()
    assert all(line.count("|") - line.count("\\|") == 3 for line in lines)  # two columns on every line
    assert "x\\|y" in lines[2] and "&lt;script&gt;alert(1)&lt;/script&gt;" in lines[3] and "<" not in "".join(lines)
    # Names are text: left-aligned and as written, never parsed into numbers.
    assert lines[1].startswith("|:--") and lines[4].startswith("| inf ") and lines[5].startswith("| 1e5 ")
    assert lines[6].startswith("| a b ")


def test_the_run_tables_escape_dataset_names():
    rows = rows_frame([{"unit": f"u{i}", "suite": "s", "dataset": name, "fold": 0, "seed": 0, "model": "m",
                        "metric": "accuracy", "category": "prediction", "value": 0.5, "status": "ok"}
                       for i, name in enumerate(["x|y", "inf"])])
    text = to_markdown("accuracy", build_tables(rows)["accuracy"])
    header, rule, *body = text.splitlines()
    assert [cell.strip() for cell in header.split("|")[1:-1]] == ["suite", "dataset", "fold", "seed", "model", "accuracy"]
    assert [line.count("|") - line.count("\\|") for line in body] == [7, 7]
    assert rule.split("|")[2].startswith(":")  # the dataset column is text, "inf" included


def cli(*args: str, **popen) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=300, env=env, **popen)


def test_two_runs_started_together_keep_their_own_hydra_folders(tmp_path):
    # Each stops at its plan (an unknown dataset), after Hydra has made its output folder.
    command = [sys.executable, "-m", "bench", "data.datasets=[nope]", f"paths.results={tmp_path}"]
    runs = [subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(2)]
    for run in runs:
        assert run.wait(timeout=300) == 2
    folders = [config.parent.parent.name for config in (tmp_path / "hydra").glob("*/.hydra/config.yaml")]
    assert len(folders) == 2
    # Named to the microsecond: distinct even when the two start in the same second.
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d-\d{6}", name) for name in folders), folders


SHARED = [*FAST, "model=logreg", "data.datasets=[wdbc]", "explainers=[native,kernel_shap,random]",
          "explainers.kernel_shap.nsamples=64"]
SUMMARY = re.compile(r"(\d+) unit\(s\) computed, (\d+) already stored \(resumed\)")


def test_two_runs_into_one_folder_compute_each_unit_once_and_both_finish(tmp_path):
    alone = tmp_path / "alone"
    bench_run.run(compose_config(SHARED, alone))
    expected = ResultStore(alone).read_all()
    # The fit's lock, held here until both runs wait for it: they overlap whatever their start-up times.
    fit_lock = next((alone / "locks").rglob("_model.lock")).relative_to(alone)
    results, logs = tmp_path / "shared", [tmp_path / "a.log", tmp_path / "b.log"]
    with locked(results / fit_lock), contextlib.ExitStack() as files:
        runs = [subprocess.Popen([sys.executable, "-m", "bench", *SHARED, f"paths.results={results}"], cwd=PROJECT_ROOT,
                                 stdout=files.enter_context(log.open("w")), stderr=subprocess.STDOUT) for log in logs]
        deadline = time.monotonic() + 240
        while not all("waiting for another run computing" in log.read_text() for log in logs):
            assert time.monotonic() < deadline and all(run.poll() is None for run in runs), \
                [log.read_text()[-2000:] for log in logs]
            time.sleep(0.2)
    assert [run.wait(timeout=300) for run in runs] == [0, 0], [log.read_text()[-2000:] for log in logs]
    rows = ResultStore(results).read_all()
    key = ["unit", "model", "explainer", "metric"]
    assert not rows.duplicated(key).any()
    assert set(map(tuple, rows[key].astype(str).to_numpy())) == set(map(tuple, expected[key].astype(str).to_numpy()))
    # Each unit computed by one of them; the other says it resumed it.
    n_units = expected["unit"].nunique()
    counts = [tuple(map(int, SUMMARY.search(log.read_text()).groups())) for log in logs]
    assert sum(computed for computed, _ in counts) == n_units
    assert all(computed + resumed == n_units for computed, resumed in counts)
    assert any("stored by another run" in log.read_text() for log in logs)


def test_units_another_run_stored_while_this_one_waited_are_resumed_not_computed(finished, monkeypatch, caplog):
    results, before = finished
    untouched = files_of(results / "rows") | files_of(results / "artifacts")

    def as_found_before_the_other_stored_them(cls, plan, fit, explain_units):
        return cls(fit_done=False, explain_pending=list(explain_units),
                   metrics_pending={name: metric_units_of(plan, unit) for name, unit in explain_units.items()})

    monkeypatch.setattr(FoldWork, "of", classmethod(as_found_before_the_other_stored_them))
    monkeypatch.setattr(pipeline_run, "_fit_unit", lambda *args: pytest.fail("trained a stored model"))
    monkeypatch.setattr(FoldExplanations, "_explain", lambda *args: pytest.fail("explained a stored explanation"))
    with caplog.at_level(logging.INFO, logger="bench"):
        again = bench_run.run(compose_config(TINY, results))
    assert (again.units_computed, again.units_resumed) == (0, 5)  # the fit, two explanations, their scores
    assert caplog.text.count("stored by another run") == 3  # the fit, each explanation with its score
    assert files_of(results / "rows") | files_of(results / "artifacts") == untouched
    pd.testing.assert_frame_equal(stored(results), before)


def test_ctrl_c_says_how_to_resume_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    run = subprocess.Popen([sys.executable, "-m", "bench", *TINY, f"paths.results={tmp_path}"], cwd=PROJECT_ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("hydra/*/.hydra/config.yaml")) and time.monotonic() < deadline:
        time.sleep(0.1)  # interrupted once the run has started: the case a user meets
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    # 130, or ended by the SIGINT itself (Python re-raises it at exit when an interrupt reached it
    # twice, e.g. once more during shutdown): a shell reports both as 130.
    assert run.returncode in (130, -signal.SIGINT), err
    assert "interrupted: every finished unit is stored; run the same command again to resume" in err
    assert "Traceback" not in err


def test_the_leaderboard_markdown_escapes_model_names():
    from bench.report.leaderboard import build_leaderboard
    from bench.report.publish import to_markdown as leaderboard_markdown
    from tests.results.conftest import KNOWN, grid

    names = dict(zip(KNOWN, ["x|y", "<img src=x onerror=alert(1)>", "inf"]))
    text = leaderboard_markdown(build_leaderboard(rows_frame(grid({names[m]: v for m, v in KNOWN.items()}))))
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text and "x\\|y" in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    widths = {line.count("|") - line.count("\\|") for line in table[:5]}  # the accuracy table
    assert len(widths) == 1


def test_tables_are_written_all_or_none(tmp_path, monkeypatch):
    rows = rows_frame([{"unit": "u", "suite": "s", "dataset": "d", "fold": 0, "seed": 0, "model": "m",
                        "metric": "accuracy", "category": "prediction", "value": 0.5, "status": "ok"}])
    write_tables(build_tables(rows), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    write_bytes, calls = Path.write_bytes, []

    def disk_full_at_the_fourth(path, content):
        calls.append(path)
        if len(calls) == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_bytes(path, content)

    monkeypatch.setattr(Path, "write_bytes", disk_full_at_the_fourth)
    with pytest.raises(OSError, match="No space left"):
        write_tables(build_tables(rows.assign(value=0.9)), tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # old tables, no temporary left


def test_a_read_only_rows_folder_inside_a_writable_one_is_refused(finished, make_read_only):
    results, _ = finished
    make_read_only(results / "rows")
    with pytest.raises(BenchError, match=f"cannot write the results to {results / 'rows'}"):
        make_plan(compose_config(TINY, results))


def test_a_file_the_file_system_refuses_is_skipped_not_quarantined(finished, monkeypatch, caplog):
    results, _ = finished

    def refused(path, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(pd, "read_parquet", refused)
    with caplog.at_level(logging.WARNING, logger="bench"):
        assert ResultStore(results).read_all().empty
    assert "left in place, skipped" in caplog.text and not (results / QUARANTINE).exists()
