"""Sweeps through Hydra's launchers, as `python -m bench -m ... hydra/launcher=...` runs them:
joblib's worker processes side by side, a sweep killed midway and resumed from its stored rows,
workers that end when the sweep's process is killed alone, submitit's local executor, and the
batch script our SLURM config hands to sbatch."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from bench.core.paths import PROJECT_ROOT
from bench.results import ResultStore
from bench.cli.watchdog import survivors
from tests.conftest import FAST

JOBLIB = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
# 2 models x 4 embedded tasks x (fit + 3 explainers): 32 units, the mlp's over several seconds.
RESUMABLE_SWEEP = ["model=logreg,mlp", *JOBLIB, "explainers=[native,kernel_shap,random]",
                   "explainers.kernel_shap.nsamples=64"]
# The process id on every line of the jobs' logs: which process ran a job.
JOB_LOG_FORMAT = "hydra.job_logging.formatters.simple.format='pid %(process)d %(message)s'"
SUMMARY = re.compile(r"(\d+) unit\(s\) computed, (\d+) already stored")


def bench_command(results: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "bench", "-m", *overrides, *FAST, f"paths.results={results}"]


def bench_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}, **extra}


def bench(results: Path, *overrides: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(bench_command(results, *overrides), cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env=env or bench_env(), timeout=300)


def unit_files(results: Path) -> dict[str, int]:
    """Each stored unit's rows file (relative path) and when it was written."""
    return {str(path.relative_to(results)): path.stat().st_mtime_ns for path in results.glob("rows/**/*.parquet")}


def job_span(job: Path) -> tuple[int, int, int]:
    """(process id, start, end) of a job of the sweep, logged with JOB_LOG_FORMAT: it starts
    when Hydra writes its .hydra/config.yaml, before the job's own imports, and ends with its
    last log line."""
    pids = set(re.findall(r"^pid (\d+) ", (job / "__main__.log").read_text(), re.MULTILINE))
    assert len(pids) == 1, f"{job}: one job, one process"
    return int(pids.pop()), (job / ".hydra" / "config.yaml").stat().st_mtime_ns, (job / "__main__.log").stat().st_mtime_ns


def test_joblib_runs_the_jobs_side_by_side_and_the_report_aggregates_them(tmp_path):
    results = tmp_path / "results"
    # Two jobs of equal work (an MLP each): a job much shorter than a worker's start-up could end
    # before the other begins, side by side or not.
    done = bench(results, "model=mlp", "seed=0,1", *JOBLIB, "explainers=[native,random]", JOB_LOG_FORMAT)
    assert done.returncode == 0, done.stderr
    assert len(SUMMARY.findall(done.stdout)) == 2  # the workers' output reaches the command's

    (pid_a, start_a, end_a), (pid_b, start_b, end_b) = map(job_span, sorted(results.glob("hydra/multirun/*/[0-9]")))
    assert pid_a != pid_b, "both jobs ran in one process"
    assert max(start_a, start_b) < min(end_a, end_b), "the jobs ran one after the other"

    (results / "tables" / "accuracy.csv").unlink()  # written by the jobs themselves: the report's must be new
    report = subprocess.run([sys.executable, "-m", "bench.report", "--results", str(results)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    accuracy = pd.read_csv(results / "tables" / "accuracy.csv", keep_default_na=False)
    assert set(accuracy.loc[accuracy["status"] == "ok", "seed"]) == {0, 1}


def test_a_killed_multirun_recomputes_only_what_is_missing(tmp_path):
    killed = tmp_path / "killed"
    with open(tmp_path / "killed.log", "w") as log:
        # Its own session, so that one SIGKILL takes joblib's workers too: nothing gets to clean
        # up, as when a machine dies or the OOM killer strikes.
        sweep = subprocess.Popen(bench_command(killed, *RESUMABLE_SWEEP), cwd=PROJECT_ROOT, env=bench_env(),
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while not unit_files(killed):
                assert sweep.poll() is None, "the sweep ended before storing a unit"
                time.sleep(0.05)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait()
    deadline = time.monotonic() + 10
    while survivors(sweep.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not survivors(sweep.pid)
    at_kill = unit_files(killed)

    reference = tmp_path / "reference"
    clean = bench(reference, *RESUMABLE_SWEEP)
    assert clean.returncode == 0, clean.stderr
    expected = set(unit_files(reference))
    assert set(at_kill) < expected, "killed after it had finished"

    resumed = bench(killed, *RESUMABLE_SWEEP)
    assert resumed.returncode == 0, resumed.stderr
    final = unit_files(killed)
    assert set(final) == expected
    assert {path: final[path] for path in at_kill} == at_kill, "a unit stored before the kill was computed again"
    counts = [tuple(map(int, found)) for found in SUMMARY.findall(resumed.stdout)]
    assert len(counts) == 2
    assert sum(stored for _, stored in counts) == len(at_kill) > 0
    assert sum(computed for computed, _ in counts) == len(expected) - len(at_kill)


def a_worker_started(sweep: subprocess.Popen, results: Path) -> bool:
    """A worker half a second old: past reading its start-up data from the sweep's process (a
    worker that the sweep's death catches there ends by itself), not yet at its first job."""
    return any("LokyProcess" in " ".join(child.cmdline()) and time.time() - child.create_time() > 0.5
               for child in psutil.Process(sweep.pid).children())


def a_unit_stored(sweep: subprocess.Popen, results: Path) -> bool:
    return bool(unit_files(results))


@pytest.mark.parametrize("ready", [a_worker_started, a_unit_stored], ids=["before-the-first-job", "mid-job"])
def test_a_sweep_killed_alone_leaves_no_worker_behind(tmp_path, ready):
    """SIGKILL to the sweep's process only, as from the OOM killer: joblib's workers, re-parented,
    used to run on (and wait for jobs for 5 minutes), writing rows beside the rerun a user starts at
    once. They end within a second, whether the kill struck a job or a worker still starting."""
    results = tmp_path / "results"
    with open(tmp_path / "sweep.log", "w") as log:
        # Its own session: every process the sweep starts can be found by the session id.
        sweep = subprocess.Popen(bench_command(results, *RESUMABLE_SWEEP), cwd=PROJECT_ROOT, env=bench_env(),
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while not ready(sweep, results):
                assert sweep.poll() is None, "the sweep ended before the kill"
                time.sleep(0.05)
            assert len(survivors(sweep.pid)) > 1, "no worker to leave behind"
        finally:
            sweep.kill()
            sweep.wait()
    deadline = time.monotonic() + 3  # the watch polls every 0.5 s
    while survivors(sweep.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = survivors(sweep.pid)
    for pid in left:  # a failed test must not leave them running either
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} process(es) of the killed sweep still running"


def test_submitit_local_runs_a_sweep_to_completion(tmp_path):
    results = tmp_path / "results"
    done = bench(results, "model=logreg,dtree", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5",
                 "explainers=[native]")
    assert done.returncode == 0, done.stderr
    rows = ResultStore(results).read_all()
    assert set(rows.loc[rows["status"] == "ok", "model"]) == {"logreg", "dtree"}
    # Each job's output goes to its own log in the submitit folder, under the sweep's folder.
    job_logs = sorted(results.glob("hydra/multirun/*/.submitit/*/*_log.out"))
    assert len(job_logs) == 2 and all(SUMMARY.search(log.read_text()) for log in job_logs)


def test_the_slurm_config_reaches_sbatch(tmp_path, fake_slurm):
    results = tmp_path / "results"
    submitted = bench(results, "model=logreg,mlp", "hydra/launcher=slurm", "hydra.launcher.partition=cpu-short",
                      "hydra.launcher.account=xai", env=bench_env(PATH=fake_slurm.path))
    assert submitted.returncode != 0 and "no cluster here" in submitted.stderr
    batch = fake_slurm.batch.read_text()
    for line in ("--partition=cpu-short", "--account=xai", "--array=0-1%2", "--cpus-per-task=1", "--mem=16GB",
                 "--time=240", "--job-name=bench"):
        assert f"#SBATCH {line}\n" in batch
    assert "export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK" in batch
    assert f"{sys.executable} -u -m submitit.core._submit {results}/hydra/multirun/" in batch
