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

from collections.abc import Callable

import numpy as np
from sklearn.base import clone

from bench.data.task import TASK_TYPES, Task


def store_params(estimator, arguments: dict) -> None:
    """scikit-learn's convention: every constructor argument stored unchanged, under its name.
    Call as `store_params(self, locals())` from `__init__`."""
    for name in estimator._get_param_names():
        setattr(estimator, name, arguments[name])


class Capabilities:
    """Mixed into every model: the task types and input kinds it accepts."""

    task_types: tuple[str, ...] = TASK_TYPES
    input_kinds: tuple[str, ...] = ("tabular",)


def input_kind_problem(model, model_name: str, task: Task,
                       variants: Callable[[], tuple[str, ...]] = tuple) -> str | None:
    """`variants()`: the conf options that are the same model set up for other data (atex_mlp for
    atex), which the message offers."""
    kinds = getattr(model, "input_kinds", ("tabular",))
    if task.input_kind in kinds:
        return None
    offers = [f"model={name}" for name in variants()]
    base_for = getattr(model, "default_base_option", None)
    if base_for is not None:  # built on another net: one for this data
        offers.append(f"model={model_name} model@model.base={base_for(task.input_kind)}")
    fix = f"{' or '.join(offers)}, another model for {task.input_kind} data" if offers \
        else f"pick a model for {task.input_kind} data"
    return (f"model={model_name} takes {' or '.join(kinds)} data, but {task.name} ({task.suite}) is {task.input_kind} data; "
            f"{fix}, or another data=... option")


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
        return twin(**clone(model).get_params(deep=False))  # a loop of its own, not the model's
    return model


def is_classifier(model) -> bool:
    return getattr(model, "classes_", None) is not None


def model_output(model, X: np.ndarray) -> np.ndarray:
    """What explainers explain: class probabilities (n, C), or the regression output as (n, 1)."""
    if is_classifier(model):
        return model.predict_proba(X)
    return np.asarray(model.predict(X), dtype=float).reshape(len(X), 1)


def predicted_class(model, X: np.ndarray) -> np.ndarray:
    """The output an explanation is of by default: the predicted class index (into `classes_`),
    or 0, the single output of a regressor."""
    if not is_classifier(model):
        return np.zeros(len(X), dtype=int)
    return np.asarray(model.predict_proba(X)).argmax(axis=1)


def class_indices(model, X: np.ndarray, target=None) -> np.ndarray:
    """(n,) the output each row of X is explained for, as an index into the model's outputs: an
    explainer's `target` as its public `explain` takes it (and an interpretable model's own
    `explain`), normalised there once.

    None: the predicted class (`predicted_class`). A classifier's target, one value per row or one
    value for every row, is read as
    - labels of `classes_`, as `model.predict` returns them (strings included): their indices;
    - where the labels are not numbers (strings), class indices 0..C-1.
    Numeric labels are never read as indices: scikit-learn's `predict` returns labels, so
    `target=model.predict(X)` must explain the predicted class whatever the labels are. With
    classes_ = [3, 7], 7 is index 1 and 1 is an error, not a guess; with classes_ = 0..C-1 a label
    is its own index (a caller that holds indices passes `class_labels` of them).
    A regressor has one output: its target is None or 0.
    Any other target (an unknown label, an index out of range, the wrong length, a 2-d array) is a
    ValueError that names the problem, the model's classes and the fix."""
    if target is None:
        return predicted_class(model, X)
    values = np.asarray(target)
    if values.ndim == 0:  # one target for every row
        values = values.reshape(1).repeat(len(X))
    if values.ndim != 1:
        problem = f"target has shape {values.shape}, not one value per row of X (a one-hot or probability matrix?)"
    elif len(values) != len(X):
        problem = f"target has {len(values)} values for {len(X)} rows of X"
    else:
        indices, problem = _read_target(model, values.tolist())
        if problem is None:
            return indices
    raise ValueError(f"{problem}. {_what_a_target_is(model)}")


def _read_target(model, values: list) -> tuple[np.ndarray | None, str | None]:
    """(indices, None) for a target `class_indices` accepts, else (None, what is wrong with it)."""
    if not is_classifier(model):
        wrong = [value for value in values if value != 0]
        if wrong:
            return None, f"target {_some(wrong)} asks for outputs the model does not have"
        return np.zeros(len(values), dtype=int), None
    classes = np.asarray(model.classes_)
    index_of = {label: i for i, label in enumerate(classes.tolist())}
    found = [index_of.get(value) for value in values]
    if None not in found:
        return np.asarray(found, dtype=int), None
    numeric = classes.dtype.kind in "biuf"
    is_index = [not numeric and _is_index(value, len(classes)) for value in values]
    if all(is_index):
        return np.asarray(values, dtype=int), None
    unknown = [value for value, i, index in zip(values, found, is_index, strict=True) if i is None and not index]
    if not unknown:
        return None, "target mixes labels and class indices"
    accepted = "labels" if numeric else f"labels or class indices 0..{len(classes) - 1}"
    return None, f"target values {_some(unknown)} are not {accepted} of the model"


def _what_a_target_is(model) -> str:
    if not is_classifier(model):
        return "The model is a regressor (no classes_), with one output: give target=None or 0"
    return (f"The model's classes (classes_) are {_some(np.asarray(model.classes_).tolist())}: give one label per "
            "row of X as model.predict returns them (e.g. target=model.predict(X)), one label for every row, or "
            "target=None for the predicted class")


def class_labels(model, indices: np.ndarray) -> np.ndarray:
    """The labels of output `indices` (a regressor's 0 unchanged): how a caller that holds indices,
    such as an explanation's `target`, asks an explainer for the same outputs."""
    return np.asarray(model.classes_)[indices] if is_classifier(model) else np.asarray(indices)


def _is_index(value, n_classes: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n_classes


def _some(values, shown: int = 10) -> str:
    """The distinct values, the first `shown` of them, for an error message."""
    distinct = list(dict.fromkeys(values))
    more = f" and {len(distinct) - shown} more" if len(distinct) > shown else ""
    return f"{distinct[:shown]}{more}"
