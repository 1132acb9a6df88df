"""A run's training budget, `budget=smoke|default|paper`: every torch model's `epochs` (its
training loop's) and the options counted in epochs, set together so that they stay consistent.

- `smoke`: one epoch, for a first try; a warm-up gets no epoch (0) and a loss term switched on
  at a later epoch (FLINT's) is switched on at the first;
- `default`: what the configs say (the embedded default's 30 epochs, the nightly's 100, ...);
- `paper`: every model's own values (its signature's, its loop's `Model.loop()`), which are its
  paper's (IMN 500 epochs, FLINT 12 and its schedule, ATEX 2, ...). An experiment=paper_* states
  its paper's budget already.

It applies to the model's config, the bases it is built on included, before the run hashes it,
so that a budget's units are stored apart from another's.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from hydra.utils import get_class

from bench import models
from bench.models.training import TrainingLoop

Budget = Literal["smoke", "default", "paper"]
SMOKE_EPOCHS = 1
# What smoke makes of an option counted in epochs, by its kind: "epochs" itself; "before", an
# epoch count that must stay below epochs (a warm-up's); "at", an epoch from 1 to epochs at which
# something starts (a loss term's).
SMOKE = {"epochs": lambda value: SMOKE_EPOCHS, "before": lambda value: min(value, SMOKE_EPOCHS - 1),
         "at": lambda value: min(max(value, 1), SMOKE_EPOCHS)}


def budget_conflict(budget: Budget, overrides: list[str], experiment: str | None) -> str | None:
    """What a budget other than `default` would silently undo: an epoch option set on the command
    line (`budget=smoke model.training.epochs=6`), or a paper's own budget (experiment=paper_*,
    whose settings are its paper's) under budget=paper; None when nothing."""
    if budget == "default":
        return None
    counted = _counted_names()
    keys = [text.split("=", 1)[0].lstrip("+~") for text in overrides]
    given = [key for key in keys if key.split(".")[0] == "model" and key.rsplit(".", 1)[-1] in counted]
    if given:
        return (f"budget={budget} sets every net's epochs and schedule, and would undo {', '.join(given)}: drop one "
                "of them (budget=default trains as the options say)")
    if budget == "paper" and experiment and experiment.startswith("paper_"):
        return (f"experiment={experiment} holds its paper's setting, budget included; budget=paper would give every "
                "net its constructor's epochs instead: leave budget=default")
    return None


def _counted_names() -> set[str]:
    own = (name for model in models.__all__ for name in getattr(getattr(models, model), "EPOCH_OPTIONS", {}))
    return {"epochs", *TrainingLoop.EPOCH_OPTIONS, *own}


def with_budget(model_cfg: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """The model's config (a plain dict with `_target_`; its training loop and the bases it is
    built on nodes of their own) for `budget`."""
    if budget == "default":
        return model_cfg
    node = {key: with_budget(value, budget) if key != "training" and isinstance(value, dict) and "_target_" in value
            else value for key, value in model_cfg.items()}
    changes = epoch_options(get_class(node["_target_"]), node, budget)
    if changes:
        changes["training"] = node["training"] | changes["training"]
    return node | changes


def epoch_options(cls: type, options: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """`cls`'s options counted in epochs for `budget`, given the configured `options`: its training
    loop's `epochs` and TrainingLoop.EPOCH_OPTIONS (under "training"), and its own EPOCH_OPTIONS
    (FLINT's); {} for a model without a training loop."""
    parameters = inspect.signature(cls).parameters
    if "training" not in parameters:
        return {}
    loop = {"epochs": "epochs", **TrainingLoop.EPOCH_OPTIONS}
    return {"training": _for_budget(loop, options.get("training", {}), cls.loop().get_params(), budget),
            **_for_budget(cls.EPOCH_OPTIONS, options, {name: p.default for name, p in parameters.items()}, budget)}


def _for_budget(kinds: dict[str, str], configured: dict[str, Any], defaults: dict[str, Any],
                budget: Budget) -> dict[str, Any]:
    """The options `kinds` names (SMOKE's kinds) for `budget`: their defaults for paper, the
    configured values (or the defaults) made a smoke test's for smoke."""
    if budget == "paper":
        return {name: defaults[name] for name in kinds}
    return {name: SMOKE[kind](configured.get(name, defaults[name])) for name, kind in kinds.items()}


# The options that set how much a model without a training loop learns (trees, boosting rounds,
# solver iterations), by their scikit-learn, CatBoost or interpret names: what its budget states.
EFFORT_OPTIONS = ("n_estimators", "iterations", "max_rounds", "learning_rate", "depth", "max_depth", "max_iter", "C")


def training_budget(model) -> str:
    """What a fitted model trained with, as the leaderboard's page states it beside its entry: its
    training loop's epochs (those trained, where early stopping ended sooner), optimiser, rate and
    batch, or, without a loop, its EFFORT_OPTIONS; and for a model built on another its base's.
    No model is tuned (no HPO trials)."""
    parts = []
    loop = getattr(model, "_training", None)
    if callable(loop):
        parts.append(describe_loop(loop(), getattr(model, "history_", {}).get("epochs")))
    elif callable(getattr(model, "get_params", None)):
        options = model.get_params(deep=False)
        effort = ", ".join(f"{name} {options[name]}" for name in EFFORT_OPTIONS if name in options)
        parts += [effort] if effort else []
    base = getattr(model, "base_", None)
    if base is not None and training_budget(base):
        parts.append(f"base: {training_budget(base)}")
    return "; ".join(parts)


def describe_loop(loop: TrainingLoop, trained_epochs: int | None) -> str:
    epochs = f"{loop.epochs} epoch{'' if loop.epochs == 1 else 's'}"
    if loop.patience is not None:
        stopped = f", {trained_epochs} trained" if trained_epochs is not None else ""
        epochs = f"up to {epochs} (early stopping, patience {loop.patience}{stopped})"
    decay = f" weight decay {loop.weight_decay:g}" if loop.weight_decay else ""
    schedule = f", {loop.lr_schedule.replace('_', ' ')}" if loop.lr_schedule != "constant" else ""
    return f"{epochs}, {loop.optimizer} lr {loop.lr:g}{decay}{schedule}, batch {loop.batch_size}"
