"""Benchmark: deletion-curve AUC with every perturbed input batched into one model call,
against a reference that calls the model once per perturbed input, in the same process.

    .venv/bin/python scripts/bench_deletion_batching.py [--instances 20] [--features 30]

Prints both timings and their ratio, and checks that both give the same areas.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.explanation import Explanation
from bench.metrics import deletion_auc
from bench.metrics.deletion import deletion_steps
from bench.models import MLP


def per_input_reference(model, X, explanation, background) -> np.ndarray:
    """The same curve, one predict_proba call per perturbed input."""
    reference = background.mean(axis=0)
    steps = deletion_steps(X.shape[1], 1)
    areas = []
    for x, values, target in zip(X, explanation.values, explanation.target, strict=True):
        order = np.argsort(-values, kind="stable")
        curve = []
        for k in steps:
            perturbed = x.copy()
            perturbed[order[:k]] = reference[order[:k]]
            curve.append(model.predict_proba(perturbed[None, :])[0, target])
        areas.append(np.trapezoid(curve, x=steps / X.shape[1]))
    return np.array(areas)


def timed(fn, repeats: int = 3) -> tuple[float, np.ndarray]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--features", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, args.features)).astype(np.float32)
    y = (X[:, : args.features // 2].sum(axis=1) > 0).astype(np.int64)
    model = MLP(max_epochs=5).fit(X, y)
    sample = X[: args.instances]
    explanation = Explanation(rng.normal(size=sample.shape), "attribution", model.predict_proba(sample).argmax(axis=1))

    batched_s, batched = timed(lambda: deletion_auc(model, sample, explanation, background=X, rng=rng))
    reference_s, reference = timed(lambda: per_input_reference(model, sample, explanation, X))
    np.testing.assert_allclose(batched, reference, rtol=1e-5, atol=1e-6)
    print(f"deletion_auc, {args.instances} instances x {args.features + 1} curve points")
    print(f"  batched (one call):     {batched_s * 1e3:8.1f} ms")
    print(f"  reference (per input):  {reference_s * 1e3:8.1f} ms")
    print(f"  speed-up: {reference_s / batched_s:.1f}x (same areas)")


if __name__ == "__main__":
    main()
