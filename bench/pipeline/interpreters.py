"""Interpreters learnt with a model (FLINT's g, CNN-INTE's meta-learner), scored beside it.

A model that carries one offers it through one hook, `interpreter_proba(X)`: the interpreter's
class probabilities. The run scores it as the entry `<model>:g` (bench/results/entries.py): its
prediction metrics, its fidelity to the model and its accuracy's change from the model's. Nothing
here, nor in the run, knows which model carries it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.core.errors import one_line
from bench.metrics.base import info_of
from bench.metrics.fidelity import accuracy_change, fidelity, fidelity_top5
from bench.pipeline.prepare import scores
from bench.results.entries import interpreter_entry


def interpreter_predictions(model, X_test: np.ndarray, n_classes: int | None) -> dict:
    """The interpreter's scores of the test rows, or why it could not give any (a failed
    interpreter does not fail the model's fit); {} for a model without one, or a regression."""
    if n_classes is None or not callable(getattr(model, "interpreter_proba", None)):
        return {}
    try:
        return {"interpreter_score": scores(model, X_test, n_classes, "interpreter_proba")}
    except Exception as e:
        return {"interpreter_error": one_line(e)}


def interpreter_scorers(model_name: str, prediction_metrics: dict[str, Callable], y_test: np.ndarray,
                        y_score: np.ndarray, g_score: np.ndarray) -> list[tuple]:
    """(entry, metric name, how to score, the metric, what it compares, the interpreter's scores) of
    the interpreter's rows: the run's prediction metrics, its fidelity to the model and its
    accuracy's change from the model's (scores of g, so g's row carries them)."""
    entry = interpreter_entry(model_name)
    scored = [(entry, name, fn, fn, y_test, g_score) for name, fn in prediction_metrics.items()
              if not info_of(fn).needs_model]  # g has no network of its own to attack
    scored += [(entry, fn.__name__, fn, fn, y_score, g_score) for fn in (fidelity, fidelity_top5)]
    scored.append((entry, "accuracy_change", lambda labels, g: accuracy_change(labels, y_score, g),
                   accuracy_change, y_test, g_score))
    return scored
