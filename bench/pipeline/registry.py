"""The components conf/ can name, found in their packages rather than listed: every explainer (a
subclass of Explainer), data source (a Source) and metric (a function with `metric`'s metadata)
defined in a module of its package. Adding one is its module and its YAML; no list names it.

Every module of those packages is imported to look: they import torch, shap, captum and openml
inside the functions that compute (tests/test_front_door.py), and a helper module that cannot,
or that defines no component, is private (`_cd_rules.py`) and not searched. A package's `base`
module holds what its components share, not components.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from types import ModuleType

from bench import data as data_package
from bench import explainers as explainer_package
from bench import metrics as metric_package
from bench import models as model_package
from bench.data import source as data_source
from bench.explainers.base import Explainer

SKIPPED = {"base", "__main__"}


def searched_modules(package: ModuleType) -> list[ModuleType]:
    return [importlib.import_module(f"{package.__name__}.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)
            if not info.name.startswith("_") and info.name not in SKIPPED and not info.ispkg]


def defined(package: ModuleType, keep: Callable[[object], bool]) -> dict[str, object]:
    """name -> each public object its modules define (not import) that `keep` accepts, by name (a
    private one, `_GradientMethod`, is a part that components share)."""
    found = {name: value for module in searched_modules(package) for name, value in vars(module).items()
             if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__ and keep(value)}
    return dict(sorted(found.items()))


def explainers() -> dict[str, type]:
    return defined(explainer_package, lambda value: inspect.isclass(value) and issubclass(value, Explainer))


def sources() -> dict[str, type]:
    """`openml` for OpenMLSource, as conf/data names its schema (`schema_data_openml`)."""
    found = defined(data_package, lambda value: inspect.isclass(value) and issubclass(value, data_source.Source)
                    and not inspect.isabstract(value))
    return {name.removesuffix("Source").lower(): cls for name, cls in found.items()}


def metrics() -> dict[str, Callable]:
    return defined(metric_package, lambda value: inspect.isfunction(value) and getattr(value, "info", None) is not None)


def models() -> dict[str, type]:
    """The models bench.models exports (a model's module also defines its networks and parts)."""
    return {name: getattr(model_package, name) for name in model_package.__all__}
