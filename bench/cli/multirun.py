"""An experiment run from a script (scripts/reproduce.py, scripts/nightly.py) as a Hydra
multirun, `python -m bench -m experiment=<name> ...`, through whichever launcher the overrides
choose (joblib by default, SLURM, ...), and what each of its jobs did.

Every `python -m bench` job writes a summary into its own Hydra output folder
(`<sweep dir>/<job num>/bench_summary.json`), the job's error in it when it failed. A script gives
its sweep a fresh sweep dir, so it reads back exactly its own jobs' summaries, on any launcher whose
jobs write to a file system the script shares (SLURM's compute nodes included); `python -m bench -m`
itself ends with the same report (SweepReport).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException, OverrideParseException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from bench.core.errors import BenchError, one_line
from bench.core.io import atomic_path

SUMMARY_FILE = "bench_summary.json"


def write_job_summary(summary, output_dir: str | Path, overrides: list[str]) -> Path:
    """A finished job's bench.pipeline.recorder.RunSummary (units, skipped datasets, counts) and its overrides."""
    content = {
        "overrides": list(overrides),
        "run_id": summary.run_id,
        "units_computed": summary.units_computed,
        "units_resumed": summary.units_resumed,
        "unit_keys": sorted(summary.unit_keys),
        "skipped": [{"dataset": label, "reason": error.reason} for label, error in summary.skipped],
        "fits_failed": list(summary.fits_failed) if summary.every_fit_failed else [],  # the job's own failure
        "units_failed": summary.failed,  # unit key -> error: stored as failed, retried by a rerun
        "error": None,
    }
    return _write_summary(content, output_dir)


def write_job_failure(error: Exception, output_dir: str | Path, overrides: list[str]) -> Path:
    """A job that stopped on an error: what it did before is in the rows, not here."""
    return _write_summary({"overrides": list(overrides), "error": one_line(error)}, output_dir)


def forget_job_summary(output_dir: str | Path) -> None:
    """At a job's start: a sweep folder reused to resume holds the summary of the job's last try."""
    (Path(output_dir) / SUMMARY_FILE).unlink(missing_ok=True)


def _write_summary(content: dict, output_dir: str | Path) -> Path:
    path = Path(output_dir) / SUMMARY_FILE
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(content, indent=1) + "\n", encoding="utf8")
    return path


def parse(overrides: list[str]) -> list[Override]:
    """Hydra's reading of each override; one that it cannot read is named on one line (this is a
    script's first look at its user's overrides)."""
    parser, parsed = OverridesParser.create(), []
    for text in overrides:
        try:
            parsed += parser.parse_overrides([text])
        except OverrideParseException as e:
            raise BenchError(f"{text}: {' '.join(str(e).split())}") from e
    return parsed


@dataclass
class Job:
    folder: Path
    overrides: list[str]
    summary: dict | None  # None: the job never finished (killed, out of time, stopped with the sweep)
    started: bool = True

    @property
    def error(self) -> str | None:
        """Why the job stopped, when it stopped on an error."""
        return self.summary.get("error") if self.summary else None

    def config(self) -> DictConfig:
        """The job's composed config, as Hydra saved it when the job started."""
        return OmegaConf.load(self.folder / ".hydra" / "config.yaml")


@dataclass
class Sweep:
    folder: Path
    given: list[str]  # the overrides on the command line; the jobs' others are swept values
    exit_code: int
    jobs: list[Job]

    @property
    def finished(self) -> list[Job]:
        return [job for job in self.jobs if job.summary is not None and not job.error]

    def unit_keys(self) -> set[str]:
        return {key for job in self.finished for key in job.summary["unit_keys"]}

    def skipped(self) -> dict[str, str]:
        """Dataset -> why it was skipped, over every finished job."""
        return {s["dataset"]: s["reason"] for job in self.finished for s in job.summary["skipped"]}

    def label(self, job: Job) -> str:
        """The job's number and its values of the keys that the command line does not fix."""
        fixed = {o.get_key_element() for o in parse(self.given) if not o.is_sweep_override()}
        swept = [text for text, o in zip(job.overrides, parse(job.overrides)) if o.get_key_element() not in fixed]
        return f"job {job.folder.name}" + (f" ({' '.join(swept)})" if swept else "")

    def lines(self) -> list[str]:
        """A line per job: what it computed and resumed, its error, or that it did not finish."""
        return [f"{self.label(job)}: {self._outcome(job)}" for job in self.jobs]

    @staticmethod
    def _outcome(job: Job) -> str:
        if job.error:
            return f"failed: {job.error}"
        if job.summary:
            return f"{job.summary['units_computed']} computed, {job.summary['units_resumed']} resumed"
        return "did not finish" if job.started else "never started"

    def failure(self) -> str | None:
        """One line on what failed, None when the sweep and every job of it finished with a model."""
        failed = [f"{self.label(job)} ({job.error})" for job in self.jobs if job.error]
        unfinished = [self.label(job) for job in self.jobs if job.started and job.summary is None]
        unstarted = [self.label(job) for job in self.jobs if not job.started]
        unfitted = [f"{self.label(job)} ({job.summary['fits_failed'][0]})" for job in self.finished
                    if job.summary.get("fits_failed")]
        units = [f"{self.label(job)} ({_first_of(job.summary['units_failed'])})" for job in self.finished
                 if job.summary.get("units_failed") and not job.summary.get("fits_failed")]
        if self.exit_code == 0 and not failed and not unfinished and not unstarted and not unfitted and not units:
            return None
        if self.jobs and len(unstarted) == len(self.jobs):
            unstarted = [f"the {len(self.jobs)} planned"]
        details = [f"failed: {', '.join(failed)}"] * bool(failed) + \
            [f"did not finish: {', '.join(unfinished)}"] * bool(unfinished) + \
            [f"never started: {', '.join(unstarted)}"] * bool(unstarted) + \
            [f"every fit failed in {', '.join(unfitted)}"] * bool(unfitted) + \
            [f"units failed in {', '.join(units)}"] * bool(units)
        if not details:
            details = ["no job started" if not self.jobs else "every job that started finished; see the output above"]
        code = f" (exit code {self.exit_code})" if self.exit_code else ""
        return f"the sweep in {self.folder} failed{code}; {'; '.join(details)}"


def _first_of(units_failed: dict[str, str]) -> str:
    key, error = next(iter(units_failed.items()))
    return f"{len(units_failed)} unit(s), e.g. {key}: {error}"


def read_jobs(sweep_dir: Path) -> list[Job]:
    """Every job of the sweep in `sweep_dir`, in job order, with its summary if it finished; the
    jobs that never started too (when a worker dies, joblib stops the sweep), as Hydra planned them."""
    jobs = []
    for overrides in sorted(sweep_dir.glob("*/.hydra/overrides.yaml"), key=lambda p: p.parent.parent.name.zfill(9)):
        folder = overrides.parent.parent
        summary = folder / SUMMARY_FILE
        jobs.append(Job(folder, list(OmegaConf.load(overrides)),
                        json.loads(summary.read_text(encoding="utf8")) if summary.is_file() else None))
    started = [job.overrides for job in jobs]
    for num, overrides in enumerate(planned_jobs(sweep_dir)):
        if overrides in started:
            started.remove(overrides)
        else:
            jobs.append(Job(sweep_dir / str(num), overrides, None, started=False))
    return sorted(jobs, key=lambda job: job.folder.name.zfill(9))


def planned_jobs(sweep_dir: Path) -> list[list[str]]:
    """Each job's overrides as Hydra's sweeper splits the sweep (its params, then the command
    line's), read from the multirun.yaml it saves before any job starts; [] without one."""
    saved = sweep_dir / "multirun.yaml"
    if not saved.is_file():
        return []
    hydra = OmegaConf.load(saved).hydra
    arguments = [f"{key}={value}" for key, value in (hydra.sweeper.get("params") or {}).items()]
    try:
        batches = BasicSweeper.split_arguments(parse([*arguments, *hydra.overrides.task]), max_batch_size=None)
    except HydraException:  # glob(...) lists a config group, which only Hydra's config loader can
        return []
    return [list(job) for batch in batches for job in batch]


class SweepReport(Callback):
    """In the process that runs `python -m bench -m`: notes the sweep's folder as the sweep
    starts, so that report_sweep() can say at the end what each of its jobs did."""

    folder: Path | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        SweepReport.folder = Path(config.hydra.sweep.dir)


def report_sweep(exit_code: int) -> bool:
    """A line per job of the sweep this process ran, then, on stderr, the one line naming the jobs
    that failed or did not finish. True when there is such a line."""
    folder = SweepReport.folder
    if folder is None or not (folder / "multirun.yaml").is_file():  # not a sweep, or one Hydra refused
        return False
    given = list(OmegaConf.load(folder / "multirun.yaml").hydra.overrides.task)
    sweep = Sweep(folder, given, exit_code, read_jobs(folder))
    if not any(job.started for job in sweep.jobs):  # Hydra refused the sweep, and said why
        return False
    print("\n" + "\n".join(sweep.lines()), flush=True)
    failure = sweep.failure()
    if failure:
        print(f"error: {failure}", file=sys.stderr, flush=True)
    return failure is not None


def sweep_dir(results: str | Path, name: str) -> Path:
    """A new folder of this invocation's own, <results>/hydra/<name>/<time>-<random>."""
    parent = Path(results).resolve() / "hydra" / name
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=time.strftime("%Y-%m-%d_%H-%M-%S-"), dir=parent))
    os.chmod(folder, 0o755)  # mkdtemp makes 0700; results are meant to be shared
    return folder


def launcher_overrides(overrides: list[str], jobs: int | None, default_jobs: int) -> list[str]:
    """joblib with `jobs` workers, unless the overrides pick a launcher (hydra/launcher=slurm)."""
    if not any(o.key_or_group == "hydra/launcher" for o in parse(overrides)):
        return ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={default_jobs if jobs is None else jobs}"]
    if jobs is not None:
        raise BenchError("--jobs sets the workers of the default joblib launcher; with hydra/launcher=... "
                         "set that launcher's own options (e.g. hydra.launcher.array_parallelism=4)")
    return []


def run_sweep(experiment: str, overrides: list[str], folder: Path, launcher: list[str]) -> Sweep:
    """`python -m bench -m experiment=<experiment> <overrides>`, its jobs' output in `folder`. The
    overrides come last, so that a user's (hydra.launcher.n_jobs=4) win over the launcher's. It
    runs in the current directory, so that relative paths mean to the jobs what they mean here
    (SLURM's jobs, too, run in the directory they were submitted from)."""
    given = [f"experiment={experiment}", *overrides]
    command = [sys.executable, "-m", "bench", "-m", given[0], *launcher, f"hydra.sweep.dir={folder}", *given[1:]]
    print("$", shlex.join(command), flush=True)
    code = subprocess.run(command).returncode
    return Sweep(folder, given, code, read_jobs(folder))
