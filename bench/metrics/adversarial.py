"""Accuracy under an adversarial attack on the prediction: FGSM (Goodfellow, Shlens, Szegedy,
"Explaining and Harnessing Adversarial Examples", ICLR 2015). ATEX claims its fine-tuning also
makes a net harder to fool (METHODS.md §3: FGSM at epsilon 0.3 on MNIST).

x' = x + epsilon * sign(d CE(f(x), y) / dx), kept in the data's valid range (the training data's:
one range for every pixel of an image, each feature's own on a table), for each test row with its
true label y; the score is the accuracy on x'. One gradient per row, in chunks, on the network's
device. Averaged over rows (the authors' `fgsm_test` divides by the number of batches). The
default epsilon is the paper's on MNIST's [0, 1] pixels; on standardised table features it is 0.3
standard deviations. torch is imported where the attack runs: `--help` reads only the signature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import NotApplicable
from bench.explainers.base import eval_module
from bench.core.tensors import as_tensor, module_device, needs_torch
from bench.metrics.base import metric
from bench.metrics.manipulation import valid_range
from bench.metrics.prediction import CLASSIFICATION

if TYPE_CHECKING:
    import torch

ROWS_PER_CHUNK = 500


def fgsm_points(network: torch.nn.Module, X: np.ndarray, y: np.ndarray, epsilon: float, low: np.ndarray,
                high: np.ndarray) -> torch.Tensor:
    """The FGSM points of the rows of X, on the network's device."""
    import torch
    import torch.nn.functional as F

    device = module_device(network)
    low_t, high_t = as_tensor(low, device), as_tensor(high, device)
    points = []
    for start in range(0, len(X), ROWS_PER_CHUNK):
        x = as_tensor(X[start:start + ROWS_PER_CHUNK], device).requires_grad_()
        labels = torch.as_tensor(y[start:start + ROWS_PER_CHUNK], device=device).long()
        loss = F.cross_entropy(network(x), labels, reduction="sum")
        gradient = torch.autograd.grad(loss, x)[0]
        points.append(torch.maximum(torch.minimum(x.detach() + epsilon * gradient.sign(), high_t), low_t))
    return torch.cat(points)


def check_epsilon(*, epsilon: float) -> None:
    if not epsilon >= 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")


@metric(category="robustness", higher_is_better=True, task_types=CLASSIFICATION, needs_model=True,
        check=check_epsilon)
def fgsm_accuracy(y_true: np.ndarray, y_score: np.ndarray, model, X: np.ndarray, X_train: np.ndarray, *,
                  epsilon: float = 0.3) -> float:
    """Accuracy on the FGSM points of the test rows X (`y_true`: their class codes)."""
    reason = needs_torch(model, "fgsm_accuracy")
    if reason:
        raise NotApplicable(reason)
    check_epsilon(epsilon=epsilon)
    import torch

    network = eval_module(model)
    low, high = valid_range(X_train)
    points = fgsm_points(network, np.asarray(X), np.asarray(y_true), epsilon, low, high)
    with torch.no_grad():
        predicted = torch.cat([network(points[i:i + ROWS_PER_CHUNK]).argmax(dim=1)
                               for i in range(0, len(points), ROWS_PER_CHUNK)])
    return float((predicted.cpu().numpy() == np.asarray(y_true)).mean())
