"""The loop of one run: task -> split -> fit -> predict -> explain -> score -> record.

Every unit's rows are stored as soon as it finishes, so an error later loses nothing, and a
rerun skips the finished units (`force=true` recomputes them).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from tqdm.contrib.logging import logging_redirect_tqdm

from bench.pipeline.compose import variants
from bench.data.source import TaskRef
from bench.data.task import Task
from bench.core.errors import BenchError, DataUnavailable, IncompatibleModel, NotApplicable, UnusableFold, one_line
from bench.explainers.background import summarize
from bench.metrics.base import info_of
from bench.metrics.context import MetricContext
from bench.models.base import input_kind_problem, on_device, task_type_problem
from bench.models.budget import training_budget
from bench.models.interpreter import Interpreter, has_interpreter
from bench.models.on_a_base import predicts_with_base
from bench.pipeline.plan import Plan
from bench.pipeline.recorder import Recorder, RunSummary
from bench.pipeline.interpreters import interpreter_predictions, interpreter_scorers
from bench.pipeline.pictures import fold_pictures, gallery
from bench.pipeline.prepare import Fold, prepare_fold, scores
from bench.data.splits import sample_rows
from bench.pipeline.progress import progress
from bench.pipeline.explanation_units import FoldExplanations, FoldWork, is_done, stored_meanwhile, stream, unit_row
from bench.results import ExplainUnit, FitUnit, config_hash
from bench.results.entries import interpreter_entry
from bench.results.pictures import PICTURES
from bench.results.units import EXPLANATION, INTERPRETER, LoadUnit
from bench.core.versions import versions

log = logging.getLogger("bench")


def run(plan: Plan) -> RunSummary:
    """Every unit of the plan computed or resumed, its rows stored as it finishes. The tables and
    the tracker's report are the readers' (bench/report/run_report.py), once this returns."""
    torch.set_num_threads(plan.torch_threads)
    recorder = Recorder(plan.store, plan.tracker, RunSummary(plan.run_id, results=plan.results))
    refs = plan.source.refs()
    log.info("run %s: %d task(s) of %s, model=%s, explainers=%s", plan.run_id, len(refs), plan.source.suite,
             plan.model_name, list(plan.explainers) or "none")
    with logging_redirect_tqdm():  # log lines print above the progress bar, not through it
        for ref in progress(refs, desc="tasks"):
            _run_task(plan, ref, recorder)
    return recorder.summary


def _data_id(ref: TaskRef) -> str:
    if ref.task_id is not None:
        return f"task-{ref.task_id}"
    return f"dataset-{ref.dataset_id}" if ref.dataset_id is not None else ref.name


def _fit_unit_key(plan: Plan, ref: TaskRef, fold: int, split_identity: dict, model_name: str,
                 model_hash: str) -> FitUnit:
    model_hash = config_hash(model_hash, split_identity) if split_identity else model_hash
    return FitUnit(ref.suite, ref.name, _data_id(ref), fold, plan.seed, model_name, model_hash, plan.metrics_hash)


def _units(plan: Plan, ref: TaskRef, fold: int, split_identity: dict) -> tuple[FitUnit, dict[str, ExplainUnit]]:
    """The fold's fit unit and its explain units by name: each explainer's of the model, and for a
    model with an interpreter, each explainer's of g too (named `<explainer>:g`). A model that
    predicts with its base unchanged (FLINT post-hoc, CNN-INTE) explains g only: explanations of
    its predictor are the base's entry's, computed by a run of the base."""
    unit = _fit_unit_key(plan, ref, fold, split_identity, plan.model_name, plan.model_hash)
    units = {} if predicts_with_base(plan.model_probe) else {
        name: ExplainUnit(unit, name, plan.explainer_hashes[name]) for name in plan.explainers}
    if has_interpreter(plan.model_probe):
        units |= {interpreter_entry(name): ExplainUnit(unit, name, plan.explainer_hashes[name], entry=INTERPRETER)
                  for name in plan.explainers}
    return unit, units


def _finished_without_loading(plan: Plan, ref: TaskRef, split_identity: dict, recorder: Recorder) -> bool:
    """With the folds listed, a task whose units are all stored needs no loading at all."""
    if plan.folds is None:
        return False
    units = [_units(plan, ref, fold, split_identity) for fold in plan.folds]
    works = [FoldWork.of(plan, *fold_units) for fold_units in units]
    if not all(work.finished for work in works):
        return False
    for work in works:
        recorder.resumed(work.done)
    return True


def _run_task(plan: Plan, ref: TaskRef, recorder: Recorder) -> None:
    split_identity = plan.source.split_identity(ref)
    if _finished_without_loading(plan, ref, split_identity, recorder):
        return
    load_unit = LoadUnit(ref.suite, ref.name, _data_id(ref))
    try:
        task = plan.source.load(ref)
    except DataUnavailable as e:
        if not plan.skip_missing:
            raise
        log.warning("skipped %s (%s): %s", ref.label, ref.name, e.reason)
        recorder.summary.skipped.append((f"{ref.label} ({ref.name})", e))
        recorder.summary.units[load_unit.key] = load_unit
        plan.store.write(load_unit, [{"run_id": plan.run_id, "unit": load_unit.key, "suite": ref.suite,
                                      "task_id": ref.task_id, "dataset_id": ref.dataset_id, "dataset": ref.name,
                                      "category": "data", "status": "n/a", "error": str(e)}])
        return
    except ValueError as e:  # a data option the source could only check while loading
        raise BenchError(f"data: {e}") from e
    plan.store.remove(load_unit)
    problem = input_kind_problem(plan.model_probe, plan.model_name, task,
                                 lambda: variants("model", plan.model_name))
    if problem:
        raise IncompatibleModel(problem)
    _say_what_preprocessing_fills_in(plan, task)
    try:
        folds = plan.source.folds_of(task)
    except ValueError as e:
        raise BenchError(f"{task.name}: {e}") from e
    for fold in folds:
        built_on = {option: _fit_unit_key(plan, ref, fold, split_identity, *model)
                    for option, model in plan.built_on.items()}
        _run_fold(plan, task, fold, *_units(plan, ref, fold, split_identity), recorder, built_on=built_on)


def _say_what_preprocessing_fills_in(plan: Plan, task: Task) -> None:
    """One warning per task naming the missing cells that preprocessing imputes (or refuses)."""
    describe = getattr(plan.source.preprocessor(task), "describe_missing", None)
    message = describe(task.X) if describe is not None else None
    if message:
        log.warning("%s (%s): %s", task.name, task.suite, message)


def _run_fold(plan: Plan, task: Task, fold: int, unit: FitUnit, explain_units: dict[str, ExplainUnit],
              recorder: Recorder, built_on: dict[str, FitUnit]) -> None:
    work = FoldWork.of(plan, unit, explain_units)
    recorder.resumed(work.done)
    if work.finished:
        return
    split = task.split(fold)
    base = {"run_id": plan.run_id, "suite": unit.suite, "input_kind": task.input_kind, "task_id": task.task_id,
            "dataset_id": task.dataset_id, "dataset": task.name, "fold": fold, "split_kind": split.kind,
            "split_seed": split.seed, "n_train": len(split.train), "seed": plan.seed, "model": plan.model_name,
            "predictor": predictor_of(plan, task.input_kind), "model_config": plan.model_config,
            "versions": versions(), "device": plan.device_name}
    not_done = ([] if work.fit_done else [unit]) + [explain_units[name] for name in work.explain_pending]
    problem = task_type_problem(plan.model_probe, plan.model_name, task)
    if problem:
        _record_not_applicable(plan, task, fold, not_done, base, problem, recorder)
        return
    try:
        prepared = prepare_fold(task, split, plan.source.preprocessor(task))
    except UnusableFold as e:  # data no model can learn from: an answer, not a failure to retry
        _record_not_applicable(plan, task, fold, not_done, base, f"data: {e}", recorder)
        return
    model, fitted = _fitted_model(plan, unit, work, task, prepared, base, recorder, built_on)
    if model is None:
        return  # its fit failed: the explainers wait for a rerun
    # The sample depends on the task, fold and seed only: every model and explainer is scored
    # on the same test points.
    fold_key = f"{unit.data_id}/fold{fold}"
    sample = sample_rows(len(prepared.X_test), plan.n_instances, stream(plan, fold_key + "/sample"))
    background = summarize(prepared.X_train, plan.background_size, plan.background_summary,
                           stream(plan, fold_key + "/background"))
    # One context per fold: what the fold's metrics compute once (ground truth, a retrained
    # model) is shared by every explainer.
    context = MetricContext(background=background, task_type=task.task_type, X_train=prepared.X_train,
                            y_train=prepared.y_train, explain=None,
                            fit=fitted_once(lambda X_fit, y_fit: plan.model_factory(task.task_type).fit(X_fit, y_fit)),
                            seed=plan.seed, stream=fold_key, synthetic=task.metadata.get("truth"))
    explanations = {"": FoldExplanations(plan, task, model, prepared, sample, context, base, recorder)}
    if has_interpreter(model):
        explanations[INTERPRETER] = interpreter_explanations(explanations[""])
    for name in progress(work.to_explain_or_score, desc=f"{task.name} fold {fold}: explainers"):
        explain_unit = explain_units[name]
        explanations[explain_unit.entry].run(explain_unit, explain=name in work.explain_pending,
                                             metric_units=work.metrics_pending.get(name, []))
    if task.input_kind == "image":
        _store_pictures(plan, task, unit, explain_units, model, prepared.X_train, prepared.X_test, context,
                        model_changed=fitted)


def predictor_of(plan: Plan, input_kind: str) -> str:
    """The entry whose predictions the model's are (the rows' `predictor`): the model's own, or its
    base's for a model that predicts with its base unchanged (FLINT post-hoc, CNN-INTE), so that
    the leaderboard counts one predictor once."""
    if not predicts_with_base(plan.model_probe):
        return plan.model_name
    base = plan.built_on.get("base")
    return base[0] if base else plan.model_probe.default_base_option(input_kind)


def fitted_once(fit: Callable[[np.ndarray, np.ndarray], Any]) -> Callable[[np.ndarray, np.ndarray], Any]:
    """`fit`, that gives the last model again for the same training set: the metrics of the model
    and of its interpreter g retrain it on the same permuted labels (data randomisation), and g's
    is that model's g. The set is known by its contents (ROAR retrains on masked copies, which may
    reuse a freed copy's address), and only the last fit is kept (ROAR retrains many times)."""
    last: dict[bytes, Any] = {}

    def once(X: np.ndarray, y: np.ndarray):
        key = hashlib.blake2b(np.ascontiguousarray(X).tobytes() + np.ascontiguousarray(y).tobytes()).digest()
        if key not in last:
            last.clear()
            last[key] = fit(X, y)
        return last[key]
    return once


def interpreter_explanations(of_model: FoldExplanations) -> FoldExplanations:
    """The explanations of the model's interpreter g, the entry `<model>:g`: the same explained
    rows, background and metrics, with g as the predictor every explainer and metric reads (its
    class explained, its probabilities deleted from, its network randomised), and a retrained
    model's g for data randomisation. Its own cache: what the model's metrics computed of f is
    not g's."""
    entry = interpreter_entry(of_model.plan.model_name)
    fit = of_model.context.fit
    context = replace(of_model.context, cache={}, fit=lambda X, y: Interpreter(fit(X, y)))
    return replace(of_model, model=Interpreter(of_model.model), context=context,
                   base=of_model.base | {"model": entry, "predictor": entry})


def _fitted_model(plan: Plan, unit: FitUnit, work: FoldWork, task: Task, prepared: Fold, base: dict,
                  recorder: Recorder, built_on: dict[str, FitUnit]) -> tuple[object | None, bool]:
    """(the fold's model, whether this run trained it): the stored one, or one trained now; None
    when its fit failed, or when another run stored every unit meanwhile and the model is gone.
    One run at a time trains the model or scores its predictions; one that waited for it takes
    what the other stored."""
    with plan.store.claim(unit):
        if not work.fit_done and is_done(plan, unit):
            work.fit_done = True
            stored_meanwhile(unit, [unit], recorder)
        model = None if plan.force else plan.store.load_artifact(unit, "model.pkl")
        if model is None and work.finished:
            return None, False
        # The model is stored but these prediction metrics are new (or failed before): score the
        # stored predictions rather than train again, unless they are gone.
        predictions = None if model is None or work.fit_done else plan.store.load_artifact(unit, "predictions.pkl")
        if model is None or (predictions is None and not work.fit_done):
            return _fit_unit(plan, unit, task, prepared, base, recorder, built_on), True
        on_device(model, plan.device)  # this run's device, wherever the model was trained
        if predictions is not None:
            _score_unit(plan, unit, task, predictions, base, recorder, model, prepared)
        return model, False


def _store_pictures(plan: Plan, task: Task, unit: FitUnit, explain_units: dict[str, ExplainUnit], model,
                    X_train: np.ndarray, X_test: np.ndarray, context: MetricContext, *, model_changed: bool) -> None:
    """What the fold's pictures are drawn from (bench/pipeline/pictures.py), stored beside its model
    for the report to draw: the gallery of its stored explanations, and the model's own pictures
    when the model is new or they were never stored. A picture that cannot be computed is a
    warning: the rows it would show are stored."""
    deletion = plan.explanation_metrics.get("deletion_auc")
    explained = []
    predictors = {"": model, INTERPRETER: Interpreter(model) if has_interpreter(model) else None}
    try:
        for name, explain_unit in explain_units.items():
            stored = plan.store.load_artifact(explain_unit, EXPLANATION)
            if stored is not None and stored["explanation"].offers("attribution"):  # else n/a or failed: its row says why
                explained.append((name, predictors[explain_unit.entry], X_test[stored["test_rows"]],
                                  stored["explanation"]))
        fold_gallery = gallery(f"{task.name} fold {unit.fold}: {plan.model_name}", explained, context,
                               getattr(deletion, "keywords", {}),
                               lambda name: stream(plan, f"{explain_units[name].key}/gallery"))
        pictures = fold_pictures(unit, model, fold_gallery, X_train, X_test,
                                 plan.store.load_artifact(unit, PICTURES), model_changed=model_changed)
        plan.store.save_artifact(unit, PICTURES, pictures)
    except Exception as e:
        log.warning("%s fold %d: the pictures could not be computed: %s", task.name, unit.fold, one_line(e))


def _record_not_applicable(plan: Plan, task: Task, fold: int, units: list, base: dict, reason: str,
                           recorder: Recorder) -> None:
    log.warning("%s fold %d: %s", task.name, fold, reason)
    entry = interpreter_entry(plan.model_name)
    for unit in units:
        of = base | {"model": entry, "predictor": entry} if getattr(unit, "entry", "") else base
        recorder.record(unit, [unit_row(of, unit) | {"status": "n/a", "error": reason}])


def _fit_unit(plan: Plan, unit: FitUnit, task: Task, fold: Fold, base: dict, recorder: Recorder,
              built_on: dict[str, FitUnit]):
    model = plan.model_factory(task.task_type)
    for option, base_unit in built_on.items():
        _reuse_stored_fit(plan, model, option, base_unit)
    recorder.summary.fits += 1
    start = time.perf_counter()
    try:
        model.fit(fold.X_train, fold.y_train)
        fit_seconds = time.perf_counter() - start
        n_classes = None if fold.classes is None else len(fold.classes)
        y_score = scores(model, fold.X_test, n_classes)
    except Exception as e:  # a model that crashes is a failed row, not a failed run
        log.error("%s fold %d %s failed: %s", task.name, unit.fold, plan.model_name, one_line(e))
        recorder.summary.fits_failed.append(f"{task.name} fold {unit.fold}: {one_line(e)}")
        recorder.record(unit, [{**unit_row(base, unit), "status": "failed", "error": one_line(e),
                              "duration_s": time.perf_counter() - start}])
        return None
    predictions = {"y_test": fold.y_test, "y_score": y_score, "classes": fold.classes, "fit_seconds": fit_seconds,
                   "epochs": getattr(model, "history_", {}).get("epochs"),
                   **interpreter_predictions(model, fold.X_test, n_classes)}
    # Predictions before the model: a stored model is what a rerun takes as "fitted", so a kill
    # between the two writes must leave no model without its predictions.
    plan.store.save_artifact(unit, "predictions.pkl", predictions)
    plan.store.save_artifact(unit, "model.pkl", model)
    _score_unit(plan, unit, task, predictions, base, recorder, model, fold)
    return model


def _reuse_stored_fit(plan: Plan, model, option: str, base_unit: FitUnit) -> None:
    """A model built on another (FLINT post-hoc's base) takes the fit that a run of that model on
    the same fold and seed stored, rather than training it again; else it trains it itself. A run
    training that fit now (a job of the same sweep) is waited for."""
    if plan.force:
        stored = None
    else:
        with plan.store.claim(base_unit):
            stored = plan.store.load_artifact(base_unit, "model.pkl")
    if stored is None:
        log.info("%s: no stored %s of this fold and seed; %s trains its own", plan.model_name, base_unit.model, option)
        return
    model.set_params(**{option: on_device(stored, plan.device)})
    log.info("%s: %s is the stored %s (%s)", plan.model_name, option, base_unit.model, base_unit.folder)


def _score_unit(plan: Plan, unit: FitUnit, task: Task, predictions: dict, base: dict, recorder: Recorder, model,
                fold: Fold) -> None:
    y_test, y_score, g_score = predictions["y_test"], predictions["y_score"], predictions.get("interpreter_score")
    # (model name, metric name, how to score, the metric, what it compares): the model's prediction
    # metrics; for a model with an interpreter, the interpreter's entry "<model>:g": its prediction
    # metrics, its fidelity to f and its accuracy's change from f's (scores of g, so g's row carries
    # them). A metric that attacks the model (fgsm_accuracy) is also given it and the fold's rows.
    def scorer(fn):
        if not info_of(fn).needs_model:
            return fn
        return lambda reference, score: fn(reference, score, model, fold.X_test, fold.X_train)

    scored = [(plan.model_name, name, scorer(fn), fn, y_test, y_score) for name, fn in plan.prediction_metrics.items()]
    if g_score is not None:
        scored += interpreter_scorers(plan.model_name, plan.prediction_metrics, y_test, y_score, g_score)
    rows = []
    budget = training_budget(model)
    for model_name, name, score_with, fn, reference, score in scored:
        info = info_of(fn)
        if task.task_type not in info.task_types:
            continue
        predictor = base["predictor"] if model_name == plan.model_name else model_name
        row = {**unit_row(base, unit), "model": model_name, "predictor": predictor, "budget": budget,
               "metric": name, "category": info.category,
               "higher_is_better": info.higher_is_better, "n_instances": len(y_test),
               "duration_s": predictions["fit_seconds"]}
        try:
            rows.append({**row, "value": score_with(reference, score), "status": "ok"})
        except NotApplicable as e:
            rows.append({**row, "status": "n/a", "error": str(e)})
        except Exception as e:  # one metric that cannot be computed does not discard the model
            rows.append({**row, "status": "failed", "error": one_line(e)})
    # The fit of a model that predicts with its base trains its interpreter: g's cost, not the base's.
    trains = interpreter_entry(plan.model_name) if predicts_with_base(plan.model_probe) else base["predictor"]
    rows += _fit_cost_rows(unit, base | {"predictor": trains}, predictions)
    if "interpreter_error" in predictions:
        rows.append({**unit_row(base, unit), "model": interpreter_entry(plan.model_name),
                     "predictor": interpreter_entry(plan.model_name), "status": "failed",
                     "error": f"the interpreter gave no predictions: {predictions['interpreter_error']}"})
    log.info("%s fold %d %s: fitted in %.1fs, %s", task.name, unit.fold, plan.model_name, predictions["fit_seconds"],
             ", ".join(f"{'' if r['model'] == plan.model_name else r['model'] + ' '}{r['metric']}={r['value']:.4f}"
                       for r in rows if r["status"] == "ok" and r["category"] != "cost"))  # its time leads the line
    recorder.record(unit, rows)


def _fit_cost_rows(unit: FitUnit, base: dict, predictions: dict) -> list[dict]:
    """The training's cost, in the cost table beside the explainers': seconds, and seconds per
    epoch for a net (FLINT's overhead over its plain cnn is per epoch)."""
    seconds, epochs = predictions["fit_seconds"], predictions.get("epochs")
    costs = {"fit_seconds": seconds, **({"fit_seconds_per_epoch": seconds / epochs} if epochs else {})}
    return [{**unit_row(base, unit), "metric": name, "category": "cost", "value": value, "higher_is_better": False,
             "status": "ok", "duration_s": seconds} for name, value in costs.items()]
