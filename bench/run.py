"""The loop of one run: task -> split -> fit -> predict -> explain -> score -> record.

Everything configurable is instantiated before any data is loaded, so a bad option fails
before work starts; every unit's rows are stored as soon as it finishes, so an error later
loses nothing, and a rerun skips the finished units.
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from tqdm.contrib.logging import logging_redirect_tqdm

from bench.data.source import Source, TaskRef
from bench.data.task import Task
from bench.errors import BenchError, DataUnavailable, IncompatibleModel
from bench.metrics.base import info_of
from bench.metrics.cost import measure
from bench.models.base import input_kind_problem, model_output, task_type_problem
from bench.prepare import Fold, prepare_fold, sample_rows, scores
from bench.progress import progress
from bench.results import ExplainUnit, FitUnit, ResultStore, build_tables, config_hash, write_tables
from bench.results.tables import to_markdown
from bench.results.units import LoadUnit
from bench.versions import versions

log = logging.getLogger("bench")

# Data options that choose which units run but do not change what a unit computes.
SELECTION_KEYS = {"suite", "tasks", "max_tasks", "skip_missing", "offline", "folds", "datasets", "task_id",
                  "dataset_id", "manifest", "cache_root"}


@dataclass
class Plan:
    """Everything a run needs, built (and validated) from the config before any work."""

    cfg: DictConfig
    source: Source
    model_name: str
    model_factory: Callable[[], Any]
    model_hash: str
    explainers: dict[str, Any]
    explainer_hashes: dict[str, str]
    prediction_metrics: dict[str, Callable]
    explanation_metrics: dict[str, Callable]
    store: ResultStore
    tracker: Any
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])


@dataclass
class RunSummary:
    run_id: str
    units_computed: int = 0
    units_resumed: int = 0
    results: str = "results"
    skipped: list[tuple[str, DataUnavailable]] = field(default_factory=list)  # (task label, why)
    unit_keys: set[str] = field(default_factory=set)
    tables: dict[str, str] = field(default_factory=dict)  # markdown of this run's units


def _build(node: Any, what: str, **kwargs) -> Any:
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__ or e
        raise BenchError(f"{what}: {' '.join(str(cause).split())}") from e


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def _check_run_options(cfg: DictConfig) -> None:
    if cfg.seed < 0:
        raise BenchError(f"seed must be a non-negative integer, got {cfg.seed}")
    for key in ("n_instances", "background_size"):
        if cfg.explain[key] < 1:
            raise BenchError(f"explain.{key} must be at least 1, got {cfg.explain[key]}")
    if cfg.torch_threads < 1:
        raise BenchError(f"torch_threads must be at least 1, got {cfg.torch_threads}")


def make_plan(cfg: DictConfig) -> Plan:
    _check_run_options(cfg)
    data_cfg = _plain(cfg.data)
    source = _build(cfg.data, "data", seed=cfg.seed)
    model_cfg = _plain(cfg.model)
    model_name = model_cfg.pop("name")
    model_factory = lambda: _build(model_cfg, f"model={model_name}", random_state=cfg.seed)  # noqa: E731
    model_factory()  # fail on a bad option now, not after the data has loaded
    data_identity = {k: v for k, v in data_cfg.items() if k not in SELECTION_KEYS}
    prediction_metrics = {name: _build(node, f"metrics.prediction.{name}") for name, node in cfg.metrics.prediction.items()}
    explanation_metrics = {name: _build(node, f"metrics.explanation.{name}") for name, node in cfg.metrics.explanation.items()}
    for fn in [*prediction_metrics.values(), *explanation_metrics.values()]:
        info_of(fn)
    explainers = {name: _build(node, f"explainers.{name}") for name, node in cfg.explainers.items()}
    shared = {"metrics": _plain(cfg.metrics.explanation), "explain": _plain(cfg.explain)}
    return Plan(
        cfg=cfg, source=source, model_name=model_name, model_factory=model_factory,
        model_hash=config_hash(model_cfg, data_identity),
        explainers=explainers,
        explainer_hashes={name: config_hash(_plain(node), shared) for name, node in cfg.explainers.items()},
        prediction_metrics=prediction_metrics, explanation_metrics=explanation_metrics,
        store=ResultStore(cfg.paths.results), tracker=_build(cfg.logger, "logger"),
    )


def run(cfg: DictConfig) -> RunSummary:
    plan = make_plan(cfg)
    torch.set_num_threads(cfg.torch_threads)
    summary = RunSummary(plan.run_id, results=cfg.paths.results)
    refs = plan.source.refs()
    log.info("run %s: %d task(s) of %s, model=%s, explainers=%s", plan.run_id, len(refs), plan.source.suite,
             plan.model_name, list(plan.explainers) or "none")
    try:
        with logging_redirect_tqdm():  # log lines print above the progress bar, not through it
            for ref in progress(refs, desc="tasks"):
                _run_task(plan, ref, summary)
    finally:
        plan.tracker.finish()
    summary.tables = report(plan.store, plan.cfg.paths.results, only=summary.unit_keys)
    return summary


def report(store: ResultStore, results_root: str, only: set[str] | None = None) -> dict[str, str]:
    """Writes the tables of every stored row; returns the markdown of `only` these units."""
    rows = store.read_all()
    write_tables(build_tables(rows), f"{results_root}/tables")
    shown = rows if only is None else rows[rows["unit"].isin(only)]
    return {name: to_markdown(name, table) for name, table in build_tables(shown).items()}


def _data_id(ref: TaskRef) -> str:
    if ref.task_id is not None:
        return f"task-{ref.task_id}"
    return f"dataset-{ref.dataset_id}" if ref.dataset_id is not None else ref.name


def _units(plan: Plan, ref: TaskRef, fold: int) -> tuple[FitUnit, dict[str, ExplainUnit]]:
    unit = FitUnit(ref.suite, ref.name, _data_id(ref), fold, plan.cfg.seed, plan.model_name, plan.model_hash)
    return unit, {name: ExplainUnit(unit, name, plan.explainer_hashes[name]) for name in plan.explainers}


def _finished_without_loading(plan: Plan, ref: TaskRef, summary: RunSummary) -> bool:
    """With the folds listed, a task whose units are all stored needs no loading at all."""
    folds = plan.cfg.data.folds
    if plan.cfg.force or not isinstance(folds, ListConfig):
        return False
    units = [u for fold in folds for fit, explain in [_units(plan, ref, fold)] for u in (fit, *explain.values())]
    if not all(plan.store.is_done(u) for u in units):
        return False
    summary.unit_keys.update(u.key for u in units)
    summary.units_resumed += len(units)
    return True


def _run_task(plan: Plan, ref: TaskRef, summary: RunSummary) -> None:
    if _finished_without_loading(plan, ref, summary):
        return
    load_unit = LoadUnit(ref.suite, ref.name, _data_id(ref))
    try:
        task = plan.source.load(ref)
    except DataUnavailable as e:
        if not plan.cfg.data.get("skip_missing", False):
            raise
        log.warning("skipped %s (%s): %s", ref.label, ref.name, e.reason)
        summary.skipped.append((f"{ref.label} ({ref.name})", e))
        summary.unit_keys.add(load_unit.key)
        plan.store.write(load_unit, [{"run_id": plan.run_id, "unit": load_unit.key, "suite": ref.suite,
                                      "task_id": ref.task_id, "dataset_id": ref.dataset_id, "dataset": ref.name,
                                      "category": "data", "status": "n/a", "error": str(e)}])
        return
    plan.store.remove(load_unit)
    model = plan.model_factory()
    problem = input_kind_problem(model, plan.model_name, task)
    if problem:
        raise IncompatibleModel(problem)
    try:
        folds = plan.source.folds_of(task)
    except ValueError as e:
        raise BenchError(f"{task.name}: {e}") from e
    for fold in folds:
        _run_fold(plan, ref, task, fold, summary)


def _rng(plan: Plan, key: str) -> np.random.Generator:
    # One stream per unit, from the run's seed and the unit's key: results do not depend on
    # the order units run in, or on which of them were resumed.
    return np.random.default_rng([plan.cfg.seed, zlib.crc32(key.encode())])


def _run_fold(plan: Plan, ref: TaskRef, task: Task, fold: int, summary: RunSummary) -> None:
    split = task.split(fold)
    unit, explain_units = _units(plan, ref, fold)
    summary.unit_keys.update([unit.key, *(u.key for u in explain_units.values())])
    force = plan.cfg.force
    pending = [name for name, u in explain_units.items() if force or not plan.store.is_done(u)]
    model = None if force else plan.store.load_artifact(unit, "model.pkl")
    if model is not None and plan.store.is_done(unit) and not pending:
        summary.units_resumed += 1 + len(explain_units)
        return
    base = {"run_id": plan.run_id, "suite": ref.suite, "task_id": task.task_id, "dataset_id": task.dataset_id,
            "dataset": task.name, "fold": fold, "split_kind": split.kind, "seed": plan.cfg.seed, "model": plan.model_name,
            "versions": versions()}
    problem = task_type_problem(plan.model_factory(), plan.model_name, task)
    if problem:
        log.warning("%s fold %d: %s", task.name, fold, problem)
        for pending_unit in [unit, *explain_units.values()]:
            _record(plan, pending_unit, [_unit_row(base, pending_unit) | {"status": "n/a", "error": problem}], summary)
        return
    prepared = prepare_fold(task, split, plan.source.preprocessor(task))
    if model is None or not plan.store.is_done(unit):
        model = _fit_unit(plan, unit, task, prepared, base, summary)
        if model is None:
            return
    else:
        summary.units_resumed += 1
    summary.units_resumed += len(explain_units) - len(pending)
    n_test = len(prepared.X_test)
    sample = sample_rows(n_test, plan.cfg.explain.n_instances, _rng(plan, unit.key + "/sample"))
    background = prepared.X_train[sample_rows(len(prepared.X_train), plan.cfg.explain.background_size,
                                              _rng(plan, unit.key + "/background"))]
    X = prepared.X_test[sample]
    target = model_output(model, X).argmax(axis=1) if task.is_classification else np.zeros(len(X), dtype=int)
    for name in progress(pending, desc=f"{task.name} fold {fold}: explainers"):
        _explain_unit(plan, explain_units[name], task, model, X, target, background, sample, base, summary)


def _unit_row(base: dict, unit: FitUnit | ExplainUnit) -> dict:
    """The columns every row of `unit` shares."""
    if isinstance(unit, ExplainUnit):
        return {**base, "unit": unit.key, "explainer": unit.explainer, "config_hash": unit.explainer_hash}
    return {**base, "unit": unit.key, "config_hash": unit.model_hash}


def _fit_unit(plan: Plan, unit: FitUnit, task: Task, fold: Fold, base: dict, summary: RunSummary):
    rows_base = _unit_row(base, unit)
    model = plan.model_factory()
    start = time.perf_counter()
    try:
        model.fit(fold.X_train, fold.y_train)
        fit_seconds = time.perf_counter() - start
        y_score = scores(model, fold.X_test, None if fold.classes is None else len(fold.classes))
        rows = []
        for name, fn in plan.prediction_metrics.items():
            info = info_of(fn)
            if task.task_type in info.task_types:
                rows.append({**rows_base, "metric": name, "category": info.category, "value": fn(fold.y_test, y_score),
                             "higher_is_better": info.higher_is_better, "n_instances": len(fold.y_test),
                             "status": "ok", "duration_s": fit_seconds})
        plan.store.save_artifact(unit, "model.pkl", model)
        plan.store.save_artifact(unit, "predictions.pkl", {"y_test": fold.y_test, "y_score": y_score, "classes": fold.classes})
        log.info("%s fold %d %s: fitted in %.1fs, %s", task.name, unit.fold, plan.model_name, fit_seconds,
                 ", ".join(f"{r['metric']}={r['value']:.4f}" for r in rows))
    except Exception as e:  # a model that crashes is a failed row, not a failed run
        rows, model = [{**rows_base, "status": "failed", "error": _one_line(e), "duration_s": time.perf_counter() - start}], None
        log.error("%s fold %d %s failed: %s", task.name, unit.fold, plan.model_name, _one_line(e))
    _record(plan, unit, rows, summary)
    return model


def _explain_unit(plan: Plan, unit: ExplainUnit, task: Task, model, X, target, background, sample, base, summary) -> None:
    explainer = plan.explainers[unit.explainer]
    rows_base = {**_unit_row(base, unit), "n_instances": len(X)}
    reason = explainer.not_applicable(model)
    if reason:
        _record(plan, unit, [{**rows_base, "status": "n/a", "error": reason}], summary)
        return
    rng = _rng(plan, unit.key)
    try:
        explanation, cost = measure(
            lambda counted: explainer.explain(counted, X, target=target, background=background, rng=rng), model)
    except Exception as e:
        log.error("%s %s failed: %s", task.name, unit.explainer, _one_line(e))
        _record(plan, unit, [{**rows_base, "status": "failed", "error": _one_line(e)}], summary)
        return
    rows = [{**rows_base, "metric": name, "category": "cost", "value": value, "higher_is_better": False,
             "status": "ok", "duration_s": cost.seconds} for name, value in cost.per_instance(len(X)).items()]
    for name, fn in plan.explanation_metrics.items():
        info = info_of(fn)
        if explanation.kind not in info.kinds or task.task_type not in info.task_types:
            continue
        start = time.perf_counter()
        metric_row = {**rows_base, "metric": name, "category": info.category, "higher_is_better": info.higher_is_better}
        try:
            values = fn(model, X, explanation, background=background, rng=_rng(plan, f"{unit.key}/{name}"))
            rows.append({**metric_row, "value": float(np.mean(values)), "status": "ok",
                         "duration_s": time.perf_counter() - start})
        except Exception as e:
            rows.append({**metric_row, "status": "failed", "error": _one_line(e)})
    plan.store.save_artifact(unit, "explanation.pkl", {"test_rows": sample, "explanation": explanation})
    log.info("%s %s: %s", task.name, unit.explainer,
             ", ".join(f"{r['metric']}={r['value']:.4g}" for r in rows if r["status"] == "ok"))
    _record(plan, unit, rows, summary)


def _record(plan: Plan, unit, rows: list[dict], summary: RunSummary) -> None:
    plan.store.write(unit, rows)
    plan.tracker.log_rows(rows)
    summary.units_computed += 1


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())[:500]}"
