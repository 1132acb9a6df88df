"""What every model declares, the check that refuses a model before it trains on data it
cannot handle, and the estimator that fits a task of a given type.

Models are scikit-learn estimators (BaseEstimator and the classifier or regressor mixin):
`fit(X, y) -> self`, `predict`, `predict_proba`, fitted state in trailing-underscore attributes.
The run gives integer class codes for classification and floats for regression. A classifier
that also regresses names its regression twin (`regression_twin`, e.g. HyperLinear's
HyperLinearRegressor), which `for_task` builds with the same parameters. Torch models also
expose `torch_module()`, the network from preprocessed inputs to logits (or the regression
output; bench/models/torch_estimator.py).
"""

from __future__ import annotations

import numpy as np

from bench.data.task import TASK_TYPES, Task


class Capabilities:
    """Mixed into every model: the task types and input kinds it accepts."""

    task_types: tuple[str, ...] = TASK_TYPES
    input_kinds: tuple[str, ...] = ("tabular",)


def input_kind_problem(model, model_name: str, task: Task) -> str | None:
    kinds = getattr(model, "input_kinds", ("tabular",))
    if task.input_kind in kinds:
        return None
    return (f"model={model_name} takes {' or '.join(kinds)} data, but {task.name} ({task.suite}) is {task.input_kind} data; "
            f"pick a model for {task.input_kind} data or another data=... option")


def task_type_problem(model, model_name: str, task: Task) -> str | None:
    types = getattr(model, "task_types", TASK_TYPES)
    if task.task_type in types:
        return None
    return f"model={model_name} handles {', '.join(types)} tasks, not {task.task_type} ({task.name})"


def on_device(model, device: str):
    """`model` set to compute on `device`, where it has the option (torch models); unchanged else."""
    if "device" in model.get_params():
        model.set_params(device=device)
    return model


def for_task(model, task_type: str):
    """The estimator that fits a task of `task_type`: `model`, or for a regression its regression
    twin with the same parameters (`model` is not fitted)."""
    twin = getattr(model, "regression_twin", None)
    if task_type == "regression" and twin is not None:
        return twin(**model.get_params())
    return model


def is_classifier(model) -> bool:
    return getattr(model, "classes_", None) is not None


def model_output(model, X: np.ndarray) -> np.ndarray:
    """What explainers explain: class probabilities (n, C), or the regression output as (n, 1)."""
    if is_classifier(model):
        return model.predict_proba(X)
    return np.asarray(model.predict(X), dtype=float).reshape(len(X), 1)


def predicted_class(model, X: np.ndarray, target: np.ndarray | None = None) -> np.ndarray:
    """The output an explanation is of: `target` when given, else the predicted class index
    (into `classes_`), or 0, the single output of a regressor."""
    if target is not None:
        return np.asarray(target, dtype=int)
    if not is_classifier(model):
        return np.zeros(len(X), dtype=int)
    return np.asarray(model.predict_proba(X)).argmax(axis=1)
