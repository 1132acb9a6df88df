"""One run from a composed config: the plan, the writer's loop (bench/pipeline/run.py), then the
readers' report of it (bench/report/run_report.py). What `python -m bench` calls."""

from __future__ import annotations

from omegaconf import DictConfig

from bench.pipeline import run as pipeline
from bench.pipeline.plan import make_plan
from bench.pipeline.recorder import RunSummary
from bench.report.run_report import report_run


def run(cfg: DictConfig) -> RunSummary:
    plan = make_plan(cfg)
    try:
        summary = pipeline.run(plan)
        summary.tables = report_run(plan.store, plan.results, summary.units.values(), plan.tracker)
    finally:
        plan.tracker.finish()
    return summary
