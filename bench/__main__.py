"""`python -m bench [overrides]` (or the `bench` command): a thin Hydra wrapper around
bench.cli.run.run(cfg), a plan, its run and its report. Each job leaves a summary in its Hydra
output folder (bench.cli.multirun)."""

from __future__ import annotations

import os
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from bench.pipeline.config import register_configs
from bench.core.errors import BenchError
from bench.cli.multirun import forget_job_summary, report_sweep, write_job_failure, write_job_summary
from bench.core.paths import CONF_DIR, CONF_PACKAGE

register_configs()


def unknown_list_options(argv: list[str]) -> str | None:
    """Hydra names the available options of a group for `group=foo` but not for `group=[foo,bar]`
    (e.g. explainers=[kernel_shap,lime]); this says which are unknown and which exist."""
    parser = OverridesParser.create()
    for arg in argv:
        try:
            override = parser.parse_overrides([arg])[0]
        except Exception:  # not an override (e.g. --cfg job), or one Hydra will report itself
            continue
        group = override.key_or_group
        if override.is_sweep_override() or not (CONF_DIR / group).is_dir():
            continue
        value = override.value()
        if not isinstance(value, list):
            continue
        available = sorted(path.stem for path in (CONF_DIR / group).glob("*.yaml"))
        unknown = [str(name) for name in value if str(name) not in available]
        if unknown:
            return f"{arg}: unknown {group} option(s) {', '.join(unknown)}; available: {', '.join(available)}"
    return None


def moved_training_option(argv: list[str]) -> str | None:
    """`model.epochs=5`, spelt as before the training loop's options became a component of their
    own: where the option is now (model.training.epochs, model.base.training.epochs), where Hydra
    would only say that the model has no such key."""
    for arg in argv:
        key, equals, value = arg.partition("=")
        path = key.lstrip("+~").split(".")
        if not equals or path[0] != "model" or "training" in path:
            continue
        from bench.models.training import TrainingLoop  # the models' classes: only for a model option

        if path[-1] in TrainingLoop._get_param_names():
            moved = ".".join([*path[:-1], "training", path[-1]])
            return f"{arg}: {path[-1]} is an option of the model's training loop: {moved}={value}"
    return None


def print_summary(summary) -> None:
    for name in ("accuracy", "explanations", "cost"):
        print(f"\n## {name}\n\n{summary.tables[name]}")
    by_reason: dict[str, list] = {}
    for label, error in summary.skipped:
        by_reason.setdefault(error.reason, []).append((label, error))
    for reason, skipped in by_reason.items():
        print(f"## skipped {len(skipped)}: {reason}\n\n{', '.join(label for label, _ in skipped)}\n")
        print(f"e.g. {skipped[0][1]}\n")
    print(f"{summary.units_computed} unit(s) computed, {summary.units_resumed} already stored (resumed); "
          f"tables in {summary.results}/tables/; `python -m bench.report --results {summary.results}` "
          f"builds the leaderboard of every stored row")


@hydra.main(version_base="1.3", config_path=f"pkg://{CONF_PACKAGE}", config_name="config")
def main(cfg: DictConfig) -> None:
    job = HydraConfig.get()
    sweep = job.mode == RunMode.MULTIRUN
    if sweep:  # a job killed before it could write its summary must not pass for a finished one
        forget_job_summary(job.runtime.output_dir)
    from bench.models.budget import budget_conflict
    from bench.cli.run import run  # after Hydra has parsed the command line: --help skips the plotting libraries

    try:
        conflict = budget_conflict(cfg.budget.value, list(job.overrides.task), job.runtime.choices.get("experiment"))
        if conflict:
            raise BenchError(conflict)
        summary = run(cfg)
    except Exception as e:
        if sweep:  # for the sweep's report, which names the job with this error
            write_job_failure(e, job.runtime.output_dir, job.overrides.task)
        if not isinstance(e, BenchError) or os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise  # Hydra records it as the job's failure; a sweep's other jobs go on
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        if sweep:
            return  # SystemExit would make joblib kill the jobs running beside this one
        sys.exit(2)
    print_summary(summary)
    # Into the job's own output folder: the script that launched a sweep reads what each job did.
    write_job_summary(summary, job.runtime.output_dir, job.overrides.task)
    failure = run_failure(summary)
    if failure:  # the rows say why; a script must not take this for success
        print(f"error: {failure}", file=sys.stderr)
        # A job of a sweep says so in its summary instead: exiting would stop the other jobs.
        if not sweep:
            sys.exit(1)


def run_failure(summary, shown: int = 10) -> str | None:
    """What failed in a finished run, every other unit stored: each model fit, or the units that
    failed (their rows hold the error; a rerun retries them), one per line; None when none did."""
    if summary.every_fit_failed:
        return f"every model fit of this run failed ({len(summary.fits_failed)}), e.g. {summary.fits_failed[0]}"
    if not summary.failed:
        return None
    lines = [f"  {key}: {error}" for key, error in list(summary.failed.items())[:shown]]
    more = [f"  ... and {len(summary.failed) - shown} more (tables/ lists them)"] * (len(summary.failed) > shown)
    return "\n".join([f"{len(summary.failed)} unit(s) failed; the rest is stored (a failed fit's explanations "
                      "wait for it), and a rerun retries what is missing:", *lines, *more])


# The warning filter the resource tracker is started with (its -W option), read from warnoptions.
QUIET_TRACKER = "ignore:resource_tracker:UserWarning"


def cli() -> None:
    """`python -m bench` and the `bench` command (pyproject.toml's [project.scripts])."""
    # Interrupted, joblib's launcher tears its workers down before their queues free their
    # semaphores; the resource tracker it starts frees them at exit, and would call each "leaked".
    if QUIET_TRACKER not in sys.warnoptions:  # once, however often cli() runs in one process (tests)
        sys.warnoptions.append(QUIET_TRACKER)
    problem = unknown_list_options(sys.argv[1:]) or moved_training_option(sys.argv[1:])
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    try:
        main()
    except KeyboardInterrupt:  # every finished unit is stored already: no traceback to read
        print("\ninterrupted: every finished unit is stored; run the same command again to resume",
              file=sys.stderr)
        sys.exit(130)
    except SystemExit as e:  # Hydra's, once every job has ended, when one raised or a worker died
        report_sweep(exit_code=e.code if isinstance(e.code, int) else 1)
        raise
    if report_sweep(exit_code=0):  # a job failed, yet Hydra's sweep ended normally
        sys.exit(1)


if __name__ == "__main__":
    cli()
