"""What each job of a sweep leaves for the script that launched it, the report that names the jobs
that failed or did not finish, and the launcher a script's sweep goes through."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.core.errors import BenchError, DataUnavailable
from bench.cli.multirun import (SUMMARY_FILE, Sweep, launcher_overrides, read_jobs, write_job_failure,
                            write_job_summary)
from bench.core.paths import PROJECT_ROOT
from bench.results import ResultStore
from bench.pipeline.recorder import RunSummary
from tests.conftest import FAST


def test_every_job_of_a_sweep_writes_its_summary_into_its_output_dir(tmp_path):
    results, sweep = tmp_path / "results", tmp_path / "sweep"
    done = subprocess.run([sys.executable, "-m", "bench", "-m", "model=logreg,dtree", "explainers=[native]",
                           "data.datasets=[wdbc]", *FAST, f"paths.results={results}", f"hydra.sweep.dir={sweep}"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(path.relative_to(sweep).as_posix() for path in sweep.glob(f"*/{SUMMARY_FILE}")) == \
        [f"0/{SUMMARY_FILE}", f"1/{SUMMARY_FILE}"]
    rows = ResultStore(results).read_all()
    jobs = read_jobs(sweep)
    for job, model in zip(jobs, ["logreg", "dtree"]):
        assert f"model={model}" in job.overrides and job.summary["overrides"] == job.overrides
        assert set(job.summary["unit_keys"]) == set(rows.loc[rows["model"] == model, "unit"])
        # A fit, an explanation and its deletion score.
        assert (job.summary["units_computed"], job.summary["units_resumed"], job.summary["skipped"]) == (3, 0, [])
        assert job.config().model.name == model


def test_the_summary_names_each_skipped_dataset_with_its_reason(tmp_path):
    missing = DataUnavailable("OpenML task 31 is not in the cache; run `python -m bench.data import-shared`",
                              reason="not in the offline cache")
    summary = RunSummary("run-1", results=str(tmp_path), units_computed=1, resumed_keys={"a", "b"},
                         skipped=[("task 31 (credit-g)", missing)], units={"b": "unit b", "a": "unit a"})
    written = write_job_summary(summary, tmp_path / "sweep" / "3", ["model=logreg", "seed=0"])
    assert written == tmp_path / "sweep" / "3" / SUMMARY_FILE
    assert json.loads(written.read_text()) == {
        "overrides": ["model=logreg", "seed=0"], "run_id": "run-1", "units_computed": 1, "units_resumed": 2,
        "unit_keys": ["a", "b"], "skipped": [{"dataset": "task 31 (credit-g)", "reason": "not in the offline cache"}],
        "fits_failed": [], "units_failed": {}, "error": None}


def test_a_job_with_failed_units_is_named_by_the_sweeps_failure(tmp_path):
    sweep = tmp_path / "sweep"
    failed = {"embedded/wdbc/fold0-seed0/logreg-1/lime-2": "ValueError: bad"}
    for num, units_failed in enumerate([{}, failed]):
        (sweep / str(num) / ".hydra").mkdir(parents=True)
        (sweep / str(num) / ".hydra" / "overrides.yaml").write_text(f"- model=logreg\n- seed={num}\n")
        write_job_summary(RunSummary(f"run-{num}", results=str(tmp_path), failed=units_failed), sweep / str(num),
                          ["model=logreg", f"seed={num}"])
    failure = Sweep(sweep, ["model=logreg", "seed=0,1"], 0, read_jobs(sweep)).failure()
    assert failure == (f"the sweep in {sweep} failed; units failed in job 1 (seed=1) (1 unit(s), e.g. "
                       "embedded/wdbc/fold0-seed0/logreg-1/lime-2: ValueError: bad)")


def test_a_sweep_goes_through_joblib_unless_the_overrides_pick_a_launcher():
    assert launcher_overrides(["model=logreg"], None, default_jobs=2) == ["hydra/launcher=joblib",
                                                                           "hydra.launcher.n_jobs=2"]
    assert launcher_overrides([], 4, default_jobs=2)[1] == "hydra.launcher.n_jobs=4"
    assert launcher_overrides(["hydra/launcher=slurm", "hydra.launcher.partition=cpu"], None, default_jobs=2) == []
    with pytest.raises(BenchError, match="--jobs sets the workers of the default joblib launcher"):
        launcher_overrides(["hydra/launcher=slurm"], 4, default_jobs=2)
    with pytest.raises(BenchError, match=r"^model=\[a: "):  # the override Hydra cannot read, named
        launcher_overrides(["seed=0", "model=[a"], None, default_jobs=2)


def test_a_job_whose_every_fit_failed_lets_the_sweep_go_on_and_says_so(tmp_path):
    """l1_ratio=1 is a lasso, which scikit-learn's default solver refuses at fit: job 0 fails
    every fit, job 1 must still run, and the sweep's failure line names job 0."""
    sweep = tmp_path / "sweep"
    done = subprocess.run([sys.executable, "-m", "bench", "-m", "model=logreg", "model.l1_ratio=1.0,0.0",
                           "explainers=none", "data.datasets=[wdbc]", *FAST, f"paths.results={tmp_path / 'results'}",
                           f"hydra.sweep.dir={sweep}"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert "every model fit of this run failed" in done.stderr
    failed, fitted = read_jobs(sweep)
    assert failed.summary["fits_failed"] and not fitted.summary["fits_failed"]
    fixed = [o for o in failed.overrides if not o.startswith("model.l1_ratio=")]
    failure = Sweep(sweep, fixed, done.returncode, [failed, fitted]).failure()
    assert failure.endswith("every fit failed in job 0 (model.l1_ratio=1.0) (wdbc fold 0: ValueError: Solver lbfgs "
                            "supports only 'l2' or None penalties, got l1 penalty.)")


def test_a_failed_job_lets_the_others_finish_and_the_sweep_names_it(tmp_path):
    """model=cnn refuses tabular data as soon as it sees the first task: job 1 fails within a
    second, while jobs 0 and 2 take seconds. joblib used to kill the jobs beside one that exited."""
    results, sweep = tmp_path / "results", tmp_path / "sweep"
    done = subprocess.run([sys.executable, "-m", "bench", "-m", "model=logreg,cnn,mlp", "explainers=[native]", *FAST,
                           "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"paths.results={results}",
                           f"hydra.sweep.dir={sweep}"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    finished, failed, other = read_jobs(sweep)
    assert failed.error.startswith("IncompatibleModel: model=cnn takes image data, but wdbc (embedded) is tabular")
    assert not finished.error and not other.error
    rows = ResultStore(results).read_all()
    for job, model in ((finished, "logreg"), (other, "mlp")):
        assert set(job.summary["unit_keys"]) == set(rows.loc[rows["model"] == model, "unit"])
        assert (rows.loc[rows["model"] == model, "status"] == "ok").any()
    # The command's last line names the failed job with its error, and no other job.
    last_line = done.stderr.splitlines()[-1]
    assert last_line == f"error: the sweep in {sweep} failed; failed: job 1 (model=cnn) ({failed.error})"
    assert f"job 1 (model=cnn): failed: {failed.error}" in done.stdout.splitlines()


def test_the_report_names_the_jobs_that_failed_stopped_or_never_started(tmp_path):
    """A sweep of 4 jobs (seed from the sweeper's params, model from the command line) after a
    worker died: job 0 finished, job 1 failed, job 2 was stopped with the dead worker, and job 3
    never started, which only Hydra's multirun.yaml can tell."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "multirun.yaml").write_text(
        "hydra:\n  sweeper:\n    params:\n      seed: 0,1\n"
        "  overrides:\n    task: ['model=logreg,mlp', 'data.n_train=200']\n")
    planned = [[f"seed={seed}", f"model={model}", "data.n_train=200"] for seed in (0, 1) for model in ("logreg", "mlp")]
    for num, overrides in enumerate(planned[:3]):
        (sweep / str(num) / ".hydra").mkdir(parents=True)
        (sweep / str(num) / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    write_job_summary(RunSummary("run-0", results=str(tmp_path), units_computed=3, units={"a": "unit a"}), sweep / "0",
                      planned[0])
    write_job_failure(BenchError("data: no task"), sweep / "1", planned[1])

    result = Sweep(sweep, ["model=logreg,mlp", "data.n_train=200"], 1, read_jobs(sweep))
    assert result.lines() == ["job 0 (seed=0 model=logreg): 3 computed, 0 resumed",
                              "job 1 (seed=0 model=mlp): failed: BenchError: data: no task",
                              "job 2 (seed=1 model=logreg): did not finish",
                              "job 3 (seed=1 model=mlp): never started"]
    assert result.failure() == (f"the sweep in {sweep} failed (exit code 1); failed: job 1 (seed=0 model=mlp) "
                                "(BenchError: data: no task); did not finish: job 2 (seed=1 model=logreg); "
                                "never started: job 3 (seed=1 model=mlp)")
    assert [job.summary["unit_keys"] for job in result.finished] == [["a"]]
