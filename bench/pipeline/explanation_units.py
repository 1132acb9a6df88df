"""A fold's explain units and metric units: what is stored and what is left to do, explaining the
sample once per explainer, and scoring each stored explanation with each metric.

An explain unit stores the explanation (an artifact) and its cost rows; each metric of it is a
unit of its own, keyed by the explanation and the metric's options. So a metric added to a
finished run scores the stored explanation without calling the explainer, and an explainer
whose options change explains again (its key changes, and with it every metric unit's).

An explain unit is explained and scored under its claim (`ResultStore.claim`): runs sharing the
results folder never explain it twice, nor remove an explanation that another is scoring.
"""

from __future__ import annotations

import functools
import logging
import time
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from bench.data.task import Task
from bench.core.errors import NotApplicable, one_line
from bench.core.explanation import Explanation
from bench.metrics.base import info_of
from bench.metrics.context import MetricContext
from bench.metrics.cost import measure
from bench.core.calls import CountingModel
from bench.models.base import class_labels, predicted_class
from bench.pipeline.prepare import Fold
from bench.pipeline.recorder import Recorder
from bench.results import ExplainUnit, FitUnit, MetricUnit
from bench.results.units import EXPLANATION, VALUES

log = logging.getLogger("bench")


def stream(plan, key: str) -> np.random.Generator:
    # One stream per purpose, from the run's seed and a key: results do not depend on the
    # order units run in, or on which of them were resumed.
    return np.random.default_rng([plan.seed, zlib.crc32(key.encode())])


def check_explains(explanation: Explanation, X: np.ndarray, explainer: str) -> None:
    """An explanation of other inputs than those asked for (a wrong shape, or too few rows) would
    be scored against the wrong pixels or features: a failed unit, not a number."""
    if explanation.input_shape != tuple(X.shape[1:]) or len(explanation.target) != len(X):
        raise ValueError(f"{explainer} returned an explanation of {len(explanation.target)} inputs of shape "
                         f"{explanation.input_shape} for {len(X)} inputs of shape {tuple(X.shape[1:])}: "
                         "an explainer must explain the inputs it is given, one value per input feature (pixel)")


def is_done(plan, unit) -> bool:
    """The one resume check: stored, no failed row, and not forced."""
    return not plan.force and plan.store.is_done(unit)


def metric_units_of(plan, unit: ExplainUnit) -> list[MetricUnit]:
    """Every metric unit of the run that scores `unit`'s explanation."""
    return [MetricUnit(unit, metric, plan.metric_hashes[metric]) for metric in plan.explanation_metrics]


def explain_work(plan, unit: ExplainUnit) -> tuple[bool, list[MetricUnit], list]:
    """What is left of one explain unit: whether to explain it, the metric units to run (none for
    an explanation that is n/a), and its units stored already."""
    metric_units = metric_units_of(plan, unit)
    if not is_done(plan, unit):
        return True, metric_units, []
    if not plan.store.has_artifact(unit, EXPLANATION):
        return False, [], [unit]  # n/a: no explanation to score
    todo = [m for m in metric_units if not is_done(plan, m)]
    return False, todo, [unit, *(m for m in metric_units if m not in todo)]


def stored_meanwhile(claimed: FitUnit | ExplainUnit, units: list, recorder: Recorder) -> None:
    """`units`, of `claimed`'s claim, were left to compute, and another run stored them while this
    one waited for the claim: resumed, not computed again."""
    if units:
        recorder.resumed(units)
        log.info("%s: stored by another run (%d unit(s)); resumed", claimed.key, len(units))


def unit_row(base: dict, unit: FitUnit | ExplainUnit | MetricUnit) -> dict:
    """The columns every row of `unit` shares."""
    if isinstance(unit, MetricUnit):
        return {**base, "unit": unit.key, "explainer": unit.explanation.explainer,
                "config_hash": f"{unit.explanation.explainer_hash}-{unit.metric_hash}"}
    if isinstance(unit, ExplainUnit):
        return {**base, "unit": unit.key, "explainer": unit.explainer, "config_hash": unit.explainer_hash}
    return {**base, "unit": unit.key, "config_hash": f"{unit.model_hash}-{unit.metrics_hash}"}


@dataclass
class FoldWork:
    """What one fold has stored and what is left: the fit, the explain units to run, and the
    metric units to run for each explanation (an explanation that is n/a has none)."""

    fit_done: bool
    explain_pending: list[str] = field(default_factory=list)  # explainer names
    metrics_pending: dict[str, list[MetricUnit]] = field(default_factory=dict)  # explainer name -> its units
    done: list = field(default_factory=list)  # units stored already

    @classmethod
    def of(cls, plan, fit: FitUnit, explain_units: dict[str, ExplainUnit]) -> "FoldWork":
        work = cls(fit_done=is_done(plan, fit))
        if work.fit_done:
            work.done.append(fit)
        for name, unit in explain_units.items():
            explain, todo, done = explain_work(plan, unit)
            work.done += done
            if explain:
                work.explain_pending.append(name)
            if todo:
                work.metrics_pending[name] = todo
        return work

    @property
    def finished(self) -> bool:
        return self.fit_done and not self.explain_pending and not self.metrics_pending

    @property
    def to_explain_or_score(self) -> list[str]:
        return list(dict.fromkeys([*self.explain_pending, *self.metrics_pending]))


@dataclass
class FoldExplanations:
    """Explains a fold's sample and scores the explanations, recording each unit's rows."""

    plan: object
    task: Task
    model: object
    fold: Fold
    sample: np.ndarray  # the explained test rows
    context: MetricContext  # the fold's; each explainer's metrics get a copy with its `explain`
    base: dict  # the columns of the fold's rows
    recorder: Recorder

    @functools.cached_property
    def explained(self) -> np.ndarray:
        """The sampled test rows every explainer explains."""
        return self.fold.X_test[self.sample]

    @functools.cached_property
    def target(self) -> np.ndarray:
        """What every explainer explains: the model's predicted class of each sampled row, as its
        label: an explainer reads integers as labels, and a fold's model may lack a class of the
        task (classes_ = [0, 1, 3]: class index 2 is label 3)."""
        return class_labels(self.model, predicted_class(self.model, self.explained))

    def run(self, unit: ExplainUnit, *, explain: bool, metric_units: list[MetricUnit]) -> None:
        """Under `unit`'s claim, what is left of it: `explain` and `metric_units` as found before the
        claim, less what another run stored while this one waited for it."""
        with self.plan.store.claim(unit):
            pending = ([unit] if explain else []) + metric_units
            explain, metric_units, done = explain_work(self.plan, unit)
            stored_meanwhile(unit, [u for u in pending if u in done], self.recorder)
            if explain or metric_units:
                self._explain_and_score(unit, explain=explain, metric_units=metric_units)

    def _explain_and_score(self, unit: ExplainUnit, *, explain: bool, metric_units: list[MetricUnit]) -> None:
        """Explains (or loads the stored explanation of) `unit`, then scores it with `metric_units`."""
        stored = None if explain else self.plan.store.load_artifact(unit, EXPLANATION)
        if stored is None:
            if not explain:  # stored but unreadable (moved aside): explained again, so scored again
                metric_units = metric_units_of(self.plan, unit)
            X = self.explained
            explanation = self._explain(unit, X)
        else:
            X, explanation = self.fold.X_test[stored["test_rows"]], stored["explanation"]
        if explanation is None:
            return
        explainer, background = self.plan.explainers[unit.explainer], self.context.background

        def explain_again(m, X_new: np.ndarray, target_new: np.ndarray, rng: np.random.Generator | None = None):
            """The explainer again, with the same options, for metrics that re-explain: with the
            explanation's own draws unless given others (MetricContext.reexplain)."""
            return explainer.explain(m, X_new, target=class_labels(m, target_new), background=background,
                                     rng=stream(self.plan, unit.key) if rng is None else rng)

        context = replace(self.context, explainer_cache={}, explain=explain_again,
                          differentiable=lambda m: explainer.differentiable(m, background=background,
                                                                            rng=stream(self.plan, unit.key)))
        for metric_unit in metric_units:
            self.recorder.record(metric_unit, [self._metric_row(metric_unit, X, explanation, context)])

    def _explain(self, unit: ExplainUnit, X: np.ndarray) -> Explanation | None:
        """The explanation, stored with its cost rows; None, with an n/a or failed row, when there is none."""
        explainer = self.plan.explainers[unit.explainer]
        self.plan.store.forget_explanation(unit)
        rows_base = {**unit_row(self.base, unit), "n_instances": len(X)}
        reason = explainer.not_applicable(self.model)
        if reason:
            self.recorder.record(unit, [{**rows_base, "status": "n/a", "error": reason}])
            return None
        rng = stream(self.plan, unit.key)
        try:
            explanation, cost = measure(lambda counted: explainer.explain(
                counted, X, target=self.target, background=self.context.background, rng=rng), self.model)
            check_explains(explanation, X, unit.explainer)
            artifact = {"test_rows": self.sample, "feature_names": self.fold.feature_names, "explanation": explanation}
            if self.fold.source_columns is not None and explanation.offers("attribution") \
                    and explanation.values.ndim == 2:  # tabular attributions, per original column
                artifact["by_source_column"] = explanation.by_source_column(self.fold.source_columns)
        except NotApplicable as e:
            self.recorder.record(unit, [{**rows_base, "status": "n/a", "error": str(e)}])
            return None
        except Exception as e:
            log.error("%s %s failed: %s", self.task.name, unit.explainer, one_line(e))
            self.recorder.record(unit, [{**rows_base, "status": "failed", "error": one_line(e)}])
            return None
        self.plan.store.save_artifact(unit, EXPLANATION, artifact)
        self.recorder.record(unit, [{**rows_base, "metric": name, "category": "cost", "value": value, "higher_is_better": False,
                            "status": "ok", "duration_s": cost.seconds}
                           for name, value in cost.per_instance(len(X)).items()])
        log.info("%s %s: %s explanation in %.2fs", self.task.name, unit.explainer, explanation.kind, cost.seconds)
        return explanation

    def _metric_row(self, unit: MetricUnit, X: np.ndarray, explanation: Explanation, context: MetricContext) -> dict:
        name, fn = unit.metric, self.plan.explanation_metrics[unit.metric]
        info = info_of(fn)
        row = {**unit_row(self.base, unit), "n_instances": len(X), "metric": name, "category": info.category,
               "higher_is_better": info.higher_is_better}
        reason = not_applicable(name, info, explanation, self.task.task_type)
        if reason:
            return {**row, "status": "n/a", "error": reason}
        counted = CountingModel(self.model)
        start = time.perf_counter()
        try:
            # Common random numbers: every explainer of the fold is scored with the same stream
            # (the same perturbations, conditional draws, retraining seeds), so that differences
            # between explainers are not differences between random draws.
            fit = unit.explanation.fit
            metric_rng = stream(self.plan, f"{fit.data_id}/fold{fit.fold}/metric/{name}")
            values = np.asarray(fn(counted, X, explanation, context=context, rng=metric_rng), dtype=float)
        except NotApplicable as e:
            return {**row, "status": "n/a", "error": str(e)}
        except Exception as e:
            return {**row, "status": "failed", "error": one_line(e)}
        # A metric returns NaN for an instance it is undefined on (a correlation with an output that
        # does not vary): the mean is over the others, n/a when none is left.
        defined = values[~np.isnan(values)]
        if not len(defined):
            return {**row, "status": "n/a", "error": f"{name} is undefined on every explained instance"}
        log.info("%s %s: %s=%.4g", self.task.name, unit.explanation.explainer, name, defined.mean())
        row = {**row, "value": float(defined.mean()), "status": "ok", "duration_s": time.perf_counter() - start,
               "model_evaluations": counted.rows}
        # Each instance's score beside the row's mean: a reader's confidence interval resamples them.
        self.plan.store.save_artifact(unit, VALUES, values)
        return row


def not_applicable(name: str, info, explanation: Explanation, task_type: str) -> str | None:
    """Why a metric cannot score this explanation on this task, or None when it can."""
    if not any(explanation.offers(kind) for kind in info.kinds):
        view = " without an attribution view" if explanation.kind != "attribution" else ""
        article = "an" if explanation.kind[0] in "aeiou" else "a"
        return (f"{name} scores {' or '.join(info.kinds)} explanations; this one is {article} {explanation.kind} "
                f"explanation{view}")
    if task_type not in info.task_types:
        return f"{name} applies to {', '.join(info.task_types)} tasks, not {task_type}"
    return None
