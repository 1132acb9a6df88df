"""A run's training budget, `budget=smoke|default|paper`: every torch model's `epochs` and the
options counted in epochs, set together so that they stay consistent.

- `smoke`: one epoch, for a first try; a warm-up gets no epoch (0) and a loss term switched on
  at a later epoch (FLINT's) is switched on at the first;
- `default`: what the configs say (the embedded default's 30 epochs, the nightly's 100, ...);
- `paper`: every model's constructor values, which are its paper's (IMN 500 epochs, FLINT 12
  and its schedule, ATEX 2, ...). An experiment=paper_* states its paper's budget already.

It applies to the model's config, the bases it is built on included, before the run hashes it,
so that a budget's units are stored apart from another's.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from hydra.utils import get_class

Budget = Literal["smoke", "default", "paper"]
SMOKE_EPOCHS = 1


def budget_conflict(budget: Budget, overrides: list[str], experiment: str | None) -> str | None:
    """What a budget other than `default` would silently undo: an epoch option set on the command
    line (`budget=smoke model.epochs=6`), or a paper's own budget (experiment=paper_*, whose
    settings are its paper's) under budget=paper; None when nothing."""
    if budget == "default":
        return None
    counted = {"epochs", *(name for cls in _torch_models() for name in getattr(cls, "EPOCH_OPTIONS", {}))}
    keys = [text.split("=", 1)[0].lstrip("+~") for text in overrides]
    given = [key for key in keys if key.split(".")[0] == "model" and key.rsplit(".", 1)[-1] in counted]
    if given:
        return (f"budget={budget} sets every net's epochs and schedule, and would undo {', '.join(given)}: drop one "
                "of them (budget=default trains as the options say)")
    if budget == "paper" and experiment and experiment.startswith("paper_"):
        return (f"experiment={experiment} holds its paper's setting, budget included; budget=paper would give every "
                "net its constructor's epochs instead: leave budget=default")
    return None


def _torch_models() -> list[type]:
    from bench import models  # heavy (torch): only when a budget is set

    return [getattr(models, name) for name in models.__all__]


def with_budget(model_cfg: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """The model's config (a plain dict with `_target_`, its base a node of its own) for `budget`."""
    if budget == "default":
        return model_cfg
    node = {key: with_budget(value, budget) if isinstance(value, dict) and "_target_" in value else value
            for key, value in model_cfg.items()}
    return node | epoch_options(get_class(node["_target_"]), node, budget)


def epoch_options(cls: type, options: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """`cls`'s epochs and epoch-counted options (its EPOCH_OPTIONS: "before", an epoch count that
    must stay below `epochs`, a warm-up's; "at", an epoch from 1 to `epochs` at which something
    starts) for `budget`, given the configured `options`; {} for a model that trains no epochs."""
    parameters = inspect.signature(cls).parameters
    if "epochs" not in parameters:
        return {}
    scheduled = getattr(cls, "EPOCH_OPTIONS", {})
    if budget == "paper":
        return {name: parameters[name].default for name in ("epochs", *scheduled)}
    configured = {name: options.get(name, parameters[name].default) for name in scheduled}
    return {"epochs": SMOKE_EPOCHS} | {
        name: min(value, SMOKE_EPOCHS - 1) if scheduled[name] == "before" else min(max(value, 1), SMOKE_EPOCHS)
        for name, value in configured.items()}
