"""Typed Hydra schemas generated from signatures: a constructor's (or a metric function's)
signature is the one home of its defaults, and its annotations decide what composition accepts.

`schema_of(target)` is a dataclass with `_target_` and one field per keyword option, typed for
OmegaConf: int, float, bool, str and Optional of them as they are; a `Literal` of strings
becomes an Enum, so that a value outside the one list of allowed values fails at composition
with the list; tuples and sequences of ints become List[int]; anything else is Any (checked by
the constructor when the plan builds it). Ours rather than hydra-zen's `builds(...,
populate_full_signature=True)`, which types a Literal and a Sequence as Any, so that a
misspelt option value would pass composition.

Options the run sets for every model (`random_state` from `seed`, `device`) are left out of
model schemas; an option named `compat` follows the run's `${compat}` switch. A nested component
(an estimator option whose None stands for one the class builds: a torch model's `training`, its
`nested_defaults()`) is a schema of its own, the component's, with the defaults of the one built:
so `model.training.epochs=30` is typed, a misspelt `model.training.epoch` fails, and the run's
config shows the values a model trains with.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, List, Literal, Optional, Union

from omegaconf import MISSING

PRIMITIVES = (int, float, bool, str)
# Options that follow a run-level setting, whatever their own default.
RUN_INTERPOLATIONS = {"compat": "${compat}", "cache_root": "${paths.openml_cache}"}


def dotted_path(target: Callable) -> str:
    """The import path `_target_` names, through the package that re-exports it."""
    package = target.__module__.rsplit(".", 1)[0]
    exported = getattr(importlib.import_module(package), target.__name__, None) is target
    return f"{package if exported else target.__module__}.{target.__name__}"


def options(target: Callable, exclude: Sequence[str] = ()) -> list[inspect.Parameter]:
    """The keyword options of a class's constructor or a function: parameters with a default, or
    keyword-only ones (a metric's data arguments, positional and without one, are not options)."""
    function = target.__init__ if inspect.isclass(target) else target
    return [p for name, p in inspect.signature(function).parameters.items()
            if name not in ("self", *exclude) and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            and (p.default is not p.empty or p.kind is p.KEYWORD_ONLY) and p.name not in ("context", "rng")]


def type_hints(target: Callable) -> dict[str, Any]:
    return typing.get_type_hints(target.__init__ if inspect.isclass(target) else target)


@functools.cache
def literal_enum(values: tuple[str, ...]) -> type[enum.Enum]:
    """One Enum per list of allowed values (its members are named and valued by the strings)."""
    return enum.Enum("Options_" + "_".join(values), {value: value for value in values}, type=str)


def omegaconf_type(annotation: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation in PRIMITIVES:
        return annotation
    if origin is Literal and all(isinstance(a, str) for a in args):
        return literal_enum(tuple(args))
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            inner = omegaconf_type(rest[0])
            return Any if inner is Any else Optional[inner]
        return Any
    if origin in (tuple, list, Sequence) and args and args[0] in (int, str) \
            and (len(args) == 1 or args[1:] == (Ellipsis,)):
        return List[args[0]]
    return Any


def schema_default(value: Any, field_type: Any) -> dataclasses.Field:
    if dataclasses.is_dataclass(value) and isinstance(value, type):  # a nested schema
        return dataclasses.field(default_factory=value)
    if isinstance(value, (tuple, list)):
        return dataclasses.field(default_factory=lambda: list(value))
    if isinstance(field_type, type) and issubclass(field_type, enum.Enum) and value is not None:
        return dataclasses.field(default=field_type(value))
    if typing.get_origin(field_type) is Union and isinstance(value, str):
        inner = typing.get_args(field_type)[0]
        if isinstance(inner, type) and issubclass(inner, enum.Enum):
            return dataclasses.field(default=inner(value))
    return dataclasses.field(default=value)


def nested_defaults(target: Callable) -> dict[str, Any]:
    """{option: the component a class builds when the option is None} (see the module docstring)."""
    return target.nested_defaults() if inspect.isclass(target) and hasattr(target, "nested_defaults") else {}


def schema_of(target: Callable, *, exclude: Sequence[str] = (), partial: bool = False,
              extra: dict[str, tuple[Any, Any]] | None = None, with_target: bool = True,
              defaults: dict[str, Any] | None = None) -> type:
    """The dataclass schema of `target`'s options (see the module docstring). `partial`: Hydra
    builds a functools.partial (metrics are called with their data later). `extra`: fields that
    are not options of `target` ({name: (type, default)}), e.g. a model's label. Without
    `with_target`, the node holds the options only (what a data source builds its preprocessor
    from). `defaults`: values in place of the signature's (a nested component's, as its owner
    builds it)."""
    hints, nested = type_hints(target), nested_defaults(target)
    fields: list[tuple] = [("_target_", str, dataclasses.field(default=dotted_path(target)))] if with_target else []
    if partial:
        fields.append(("_partial_", bool, dataclasses.field(default=True)))
    for name, (field_type, default) in (extra or {}).items():
        fields.append((name, field_type, schema_default(default, field_type)))
    for parameter in options(target, [*exclude, *(extra or {})]):
        field_type = omegaconf_type(hints.get(parameter.name, Any))
        if parameter.name in nested:
            component = nested[parameter.name]
            node = schema_of(type(component), defaults=component.get_params(deep=False))
            fields.append((parameter.name, node, schema_default(node, node)))
        elif parameter.name in RUN_INTERPOLATIONS:
            fields.append((parameter.name, Any, dataclasses.field(default=RUN_INTERPOLATIONS[parameter.name])))
        elif parameter.default is parameter.empty:
            fields.append((parameter.name, field_type, dataclasses.field(default=MISSING)))
        else:
            default = (defaults or {}).get(parameter.name, parameter.default)
            fields.append((parameter.name, field_type, schema_default(default, field_type)))
    return dataclasses.make_dataclass(f"{target.__name__}Schema", fields)
