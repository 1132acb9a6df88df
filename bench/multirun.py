"""An experiment run from a script (scripts/reproduce.py, scripts/nightly.py) as a Hydra
multirun, `python -m bench -m experiment=<name> ...`, through whichever launcher the overrides
choose (joblib by default, SLURM, ...), and what each of its jobs did.

Every `python -m bench` job writes a summary into its own Hydra output folder
(`<sweep dir>/<job num>/bench_summary.json`). A script gives its sweep a fresh sweep dir, so it
reads back exactly its own jobs' summaries, on any launcher whose jobs write to a file system the
script shares (SLURM's compute nodes included).
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

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, OmegaConf

from bench.errors import BenchError
from bench.io import atomic_path

SUMMARY_FILE = "bench_summary.json"


def write_job_summary(summary, output_dir: str | Path, overrides: list[str]) -> Path:
    """A finished job's bench.run.RunSummary (units, skipped datasets, counts) and its overrides."""
    content = {
        "overrides": list(overrides),
        "run_id": summary.run_id,
        "units_computed": summary.units_computed,
        "units_resumed": summary.units_resumed,
        "unit_keys": sorted(summary.unit_keys),
        "skipped": [{"dataset": label, "reason": error.reason} for label, error in summary.skipped],
        "fits_failed": list(summary.fits_failed) if summary.every_fit_failed else [],  # the job's own failure
    }
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
    summary: dict | None  # None: the job started but never finished (failed, killed, out of time)

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
        return [job for job in self.jobs if job.summary is not None]

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
        """A line per job: what it computed and resumed, or that it did not finish."""
        return [f"{self.label(job)}: {job.summary['units_computed']} computed, {job.summary['units_resumed']} resumed"
                if job.summary else f"{self.label(job)}: did not finish" for job in self.jobs]

    def failure(self) -> str | None:
        """One line on what failed, None when the sweep and every job of it finished with a model."""
        unfinished = [self.label(job) for job in self.jobs if job.summary is None]
        unfitted = [f"{self.label(job)} ({job.summary['fits_failed'][0]})" for job in self.finished
                    if job.summary.get("fits_failed")]
        if self.exit_code == 0 and not unfinished and not unfitted:
            return None
        details = [f"unfinished: {', '.join(unfinished)}"] * bool(unfinished) + \
            [f"every fit failed in {', '.join(unfitted)}"] * bool(unfitted)
        if not details:
            details = ["no job started" if not self.jobs else "every job that started finished; see the output above"]
        return f"the sweep in {self.folder} failed (exit code {self.exit_code}); {'; '.join(details)}"


def read_jobs(sweep_dir: Path) -> list[Job]:
    """Every job that started in `sweep_dir`, in job order, with its summary if it finished."""
    jobs = []
    for overrides in sorted(sweep_dir.glob("*/.hydra/overrides.yaml"), key=lambda p: p.parent.parent.name.zfill(9)):
        folder = overrides.parent.parent
        summary = folder / SUMMARY_FILE
        jobs.append(Job(folder, list(OmegaConf.load(overrides)),
                        json.loads(summary.read_text(encoding="utf8")) if summary.is_file() else None))
    return jobs


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
