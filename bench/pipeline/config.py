"""Typed schemas of the Hydra configuration: the run's own options here; data sources, models,
explainers and metrics get theirs from their signatures (bench/pipeline/schema.py).

Each option of the `data`, `model` and `explainers` groups, and each explanation metric,
extends a schema (through `defaults: [/schema_<kind>_<name>@<package>]`), so a misspelt key or a
value of the wrong type fails at composition, before any data is loaded. The schemas are
stored outside every group, so that `--help` and `data=foo` list only real options.

Importing this module imports every data source, model, explainer and metric module, for their
signatures; those import torch, shap, captum and openml where they compute, so that `--help` and
config errors load none of them (tests/test_front_door.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, get_args

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from bench.data.preprocess import TabularPreprocessor
from bench.data.synthetic import Compat
from bench.explainers.background import BackgroundSummary
from bench.models.budget import Budget
from bench.pipeline import registry
from bench.pipeline.schema import literal_enum, nested_defaults, schema_of

# The preprocessing options a data source passes to TabularPreprocessor.
PreprocessConfig = schema_of(TabularPreprocessor, with_target=False)
CompatOption = literal_enum(get_args(Compat))
BackgroundSummaryOption = literal_enum(get_args(BackgroundSummary))
BudgetOption = literal_enum(get_args(Budget))


@dataclass
class MetricsConfig:
    prediction: Dict[str, Any] = field(default_factory=dict)
    explanation: Dict[str, Any] = field(default_factory=dict)


# The run's own options: their types here, their defaults (with comments) in conf/config.yaml
# and conf/paths/default.yaml, the one home of each.
@dataclass
class ExplainConfig:
    n_instances: int = MISSING
    background_size: int = MISSING
    background_summary: BackgroundSummaryOption = MISSING  # bench/explainers/background.py


@dataclass
class PathsConfig:
    results: str = MISSING
    openml_cache: Optional[str] = MISSING


@dataclass
class Config:
    data: Any = MISSING
    model: Any = MISSING
    explainers: Dict[str, Any] = field(default_factory=dict)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    logger: Any = MISSING
    paths: PathsConfig = field(default_factory=PathsConfig)
    explain: ExplainConfig = field(default_factory=ExplainConfig)
    seed: int = MISSING
    force: bool = MISSING
    torch_threads: int = MISSING
    device: str = MISSING  # bench/core/device.py
    compat: CompatOption = MISSING  # bench.data.synthetic.Compat
    budget: BudgetOption = MISSING  # bench.models.budget.Budget


RUN_OPTIONS = ("random_state", "device")  # set by the run for every model: `seed`, `device`


@functools.cache  # once per process: the store is a singleton, and compose() calls it every time
def register_configs() -> None:
    """The run's schema, and one schema per data source, model, explainer and explanation metric
    (bench/pipeline/registry.py finds them), generated from its signature (bench/pipeline/schema.py):
    `schema_data_<source>`, `schema_model_<Class>`, `schema_explainer_<Class>`,
    `schema_metric_<function>`, which conf/ extends; and each model's nested components on their
    own, `training_of_<Class>` (its training loop's values), so that a config can give one model the
    loop of another (FLINT on tables the mlp's: conf/data_model/*_flint.yaml)."""
    share_the_store_in_copies()
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    for name, source in registry.sources().items():  # the run gives every source its seed
        cs.store(name=f"schema_data_{name}", node=schema_of(source, exclude=("seed",),
                                                             extra={"preprocess": (PreprocessConfig, PreprocessConfig)}))
    for name, model in registry.models().items():
        cs.store(name=f"schema_model_{name}", node=schema_of(model, exclude=RUN_OPTIONS, extra={"name": (str, MISSING)}))
        for option, component in nested_defaults(model).items():  # a torch model's training loop
            # Its values, untyped: merged into another model's node, that node's schema types them.
            values = OmegaConf.structured(schema_of(type(component), defaults=component.get_params(deep=False)))
            cs.store(name=f"{option}_of_{name}", node=OmegaConf.to_container(values, enum_to_str=True))
    for name, explainer in registry.explainers().items():
        cs.store(name=f"schema_explainer_{name}", node=schema_of(explainer))
    for name, fn in registry.metrics().items():
        if fn.info.category != "prediction" or fn.info.needs_model:  # the others take no options
            cs.store(name=f"schema_metric_{name}", node=schema_of(fn, partial=True))


def share_the_store_in_copies() -> None:
    """Hydra 1.3 deep-copies its config repository each time it builds one (CachingConfigRepository),
    and with it the whole ConfigStore its structured source holds: these ~80 schemas, 0.04 s a copy
    on 2 cores, made once per config group that `--help` lists (about 95 copies, 3.7 s) and once
    per composition. The store is a process-wide singleton that Hydra reads through (its `load`
    copies the node it returns), so a copy may be the store itself: what Hydra's main branch does
    since facebookresearch/hydra#2928, whose structured source reads ConfigStore.instance() each
    time. Set on the store's class: Hydra's plugin scan re-executes the source's module, which
    would drop anything set on the source's class. Pickling (a sweep's workers) still copies it."""
    ConfigStore.__deepcopy__ = lambda self, memo: self
