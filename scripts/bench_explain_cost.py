"""Benchmark: what an explanation costs. On one fitted model and the same test points, in one
process: each explainer's seconds and model evaluations, as ratios to one forward pass of the
model over those points (`model_output`: probabilities, or the regression output).

    .venv/bin/python scripts/bench_explain_cost.py [OVERRIDES...] [--cache DIR] [--repeats 21]

OVERRIDES are the run's own (`model=mlp explainers=gradient explain.n_instances=100`); the
defaults are hyperlinear (20 epochs: training length does not change the cost of a forward
pass), every explainer and IMN's 100 test points. Uses credit-g (OpenML 31, the dataset of
IMN's Table 4) from ../shared/data when present, else the embedded breast-cancer set. IMN
reports 0.01 s (IMN) vs 17.69 s (SHAP on TabResNet) for credit-g's test set on a GPU; where
native and kernel_shap both run, their ratio is printed against the issue's bound.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from bench.pipeline.compose import compose
from bench.data import openml_cache
from bench.core.errors import NotApplicable
from bench.explainers.background import summarize
from bench.metrics.cost import measure
from bench.models.base import model_output
from bench.pipeline.plan import make_plan
from bench.pipeline.prepare import prepare_fold

CREDIT_G = 31
DEFAULTS = ["explainers=all", "explain.n_instances=100"]
DEFAULT_MODEL = ["model=hyperlinear", "model.training.epochs=20"]  # unless the overrides name a model


def data_overrides(cache: str) -> list[str]:
    """credit-g if the shared data has it, else the embedded wdbc."""
    openml_cache.import_missing_from_shared(cache, [CREDIT_G])
    if openml_cache.is_cached(cache, dataset_id=CREDIT_G):  # lists missing files: not cached
        return ["data=embedded", "data.datasets=[wdbc]"]
    return ["data=openml", f"data.dataset_id={CREDIT_G}", "data.offline=true", f"paths.openml_cache={cache}"]


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("overrides", nargs="*", help="run config overrides (model=..., explainers=..., explain.*)")
    parser.add_argument("--repeats", type=int, default=21, help="repeats of timings under 50 ms (median)")
    parser.add_argument("--cache", default="results/openml-cache", help="openml cache (default results/openml-cache)")
    args = parser.parse_args()
    model = [] if any(o.startswith("model=") for o in args.overrides) else DEFAULT_MODEL
    cfg = compose([*data_overrides(args.cache), *DEFAULTS, *model, *args.overrides])
    torch.set_num_threads(cfg.torch_threads)

    plan = make_plan(cfg)
    task = plan.source.load(plan.source.refs()[0])
    fold = prepare_fold(task, task.split(0), plan.source.preprocessor(task))
    model = plan.model_factory(task.task_type).fit(fold.X_train, fold.y_train)
    rng = np.random.default_rng(cfg.seed)
    X = fold.X_test[: cfg.explain.n_instances]
    background = summarize(fold.X_train, cfg.explain.background_size, cfg.explain.background_summary, rng)

    forward = median_seconds(lambda: model_output(model, X), args.repeats)
    print(f"{task.name}: {len(X)} test points, {X[0].size} features after preprocessing, "
          f"model={plan.model_name}, {cfg.torch_threads} torch thread(s)")
    print(f"one forward pass over them: {forward:.5f} s\n")
    print(f"{'explainer':22s} {'seconds':>10s} {'/ forward':>12s} {'evaluations':>12s} {'/ forward':>10s}")
    seconds = {}
    for name, explainer in plan.explainers.items():
        def explain(counted):
            return explainer.explain(counted, X, background=background, rng=np.random.default_rng(0))  # its class

        reason = explainer.not_applicable(model)
        try:
            _, cost = measure(explain, model) if reason is None else (None, None)
        except NotApplicable as e:
            reason = str(e)
        if reason is not None:
            print(f"{name:22s} n/a: {reason[:90]}")
            continue
        seconds[name] = cost.seconds
        if cost.seconds < 0.05:  # too short for one timing to mean much
            seconds[name] = median_seconds(lambda: explain(model), args.repeats)
        print(f"{name:22s} {seconds[name]:10.4f} {seconds[name] / forward:12.1f} "
              f"{cost.model_evaluations:12d} {cost.model_evaluations / len(X):10.1f}")
    if "native" in seconds and "kernel_shap" in seconds:
        print(f"\nnative / forward pass    {seconds['native'] / forward:10.2f}   (IMN issue's bound: <= 2)")
        print(f"kernel SHAP / native     {seconds['kernel_shap'] / seconds['native']:10.0f}   (IMN issue's bound: >= 100)")


if __name__ == "__main__":
    main()
