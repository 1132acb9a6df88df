"""The one perturbation engine of the metrics: the perturbed inputs of many instances go through
the model together, in as few calls as memory allows.

A metric describes its perturbations as `build(rows) -> (k, m, *input_shape)`: the m perturbed
inputs of each instance in `rows` (a slice of the explained instances). The engine asks for
chunks of instances sized so that one model call holds at most MAX_ELEMENTS_PER_CALL numbers,
evaluates each chunk in one call, and returns each perturbed input's output for its
instance's explained target. The model it is given may be a `CountingModel`
(bench/metrics/cost.py), which is how run.py counts every metric's model evaluations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.models.base import model_output

MAX_ELEMENTS_PER_CALL = 4_000_000  # bounds memory: perturbed rows x features per model call


def perturbed_outputs(model, build: Callable[[slice], np.ndarray], *, n_instances: int, n_perturbations: int,
                      n_features: int) -> np.ndarray:
    """(n_instances, n_perturbations, n_outputs) every output of the model (class probabilities,
    or the regression output) for each perturbed input."""
    chunk = max(1, MAX_ELEMENTS_PER_CALL // max(1, n_perturbations * n_features))
    outputs = None
    for start in range(0, n_instances, chunk):
        rows = slice(start, min(start + chunk, n_instances))
        inputs = build(rows)
        k = rows.stop - rows.start
        if inputs.shape[:2] != (k, n_perturbations):
            raise ValueError(f"a perturbation builder returned {inputs.shape[:2]} for {k} instances x "
                             f"{n_perturbations} perturbations")
        predicted = model_output(model, inputs.reshape(k * n_perturbations, *inputs.shape[2:])).reshape(
            k, n_perturbations, -1)
        if outputs is None:
            outputs = np.empty((n_instances, n_perturbations, predicted.shape[2]))
        outputs[rows] = predicted
    return np.empty((0, n_perturbations, 1)) if outputs is None else outputs


def explained_outputs(model, build: Callable[[slice], np.ndarray], *, n_instances: int, n_perturbations: int,
                      n_features: int, target: np.ndarray) -> np.ndarray:
    """(n_instances, n_perturbations) outputs for the explained target of each instance."""
    outputs = perturbed_outputs(model, build, n_instances=n_instances, n_perturbations=n_perturbations,
                                n_features=n_features)
    return np.take_along_axis(outputs, np.asarray(target)[:, None, None], axis=2)[..., 0]


def outputs_at(model, X: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(n,) the explained output of each row of X itself (one call)."""
    X = np.asarray(X)
    return explained_outputs(model, lambda rows: X[rows, None], n_instances=len(X), n_perturbations=1,
                             n_features=int(np.prod(X.shape[1:])), target=target)[:, 0]
