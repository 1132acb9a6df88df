"""From a composed config to everything a run needs, validated before any data is loaded:
a bad option fails here, not after hours of work."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from bench.data.source import Source
from bench.errors import BenchError
from bench.metrics.base import info_of
from bench.results import ResultStore, config_hash

# Data options that choose which units run but do not change what a unit computes.
SELECTION_KEYS = {"suite", "tasks", "max_tasks", "skip_missing", "offline", "folds", "datasets", "task_id",
                  "dataset_id", "manifest", "cache_root"}


@dataclass
class Plan:
    cfg: DictConfig
    source: Source
    model_name: str
    model_factory: Callable[[], Any]
    model_probe: Any  # an unfitted instance: what the model declares it can handle
    model_hash: str  # model config and the data options that change the training data
    model_config: str  # the model config alone: tells two configurations of one model apart across tasks
    metrics_hash: str  # prediction metrics
    explainers: dict[str, Any]
    explainer_hashes: dict[str, str]  # explainer config, explanation metrics, sample sizes
    prediction_metrics: dict[str, Callable]
    explanation_metrics: dict[str, Callable]
    store: ResultStore
    tracker: Any
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])


def plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True, enum_to_str=True) if isinstance(node, DictConfig) else node


def build(node: Any, what: str, **kwargs) -> Any:
    """hydra.utils.instantiate, with a constructor's complaint as a one-line BenchError."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__ or e
        raise BenchError(f"{what}: {' '.join(str(cause).split())}") from e


def check_run_options(cfg: DictConfig) -> None:
    if cfg.seed < 0:
        raise BenchError(f"seed must be a non-negative integer, got {cfg.seed}")
    for key in ("n_instances", "background_size"):
        if cfg.explain[key] < 1:
            raise BenchError(f"explain.{key} must be at least 1, got {cfg.explain[key]}")
    if cfg.torch_threads < 1:
        raise BenchError(f"torch_threads must be at least 1, got {cfg.torch_threads}")


def make_plan(cfg: DictConfig) -> Plan:
    check_run_options(cfg)
    source = build(cfg.data, "data", seed=cfg.seed)
    model_cfg = plain(cfg.model)
    model_name = model_cfg.pop("name")

    def model_factory():
        return build(model_cfg, f"model={model_name}", random_state=cfg.seed)

    model_probe = model_factory()  # fails on a bad option now, not after the data has loaded
    prediction_metrics = {name: build(node, f"metrics.prediction.{name}") for name, node in cfg.metrics.prediction.items()}
    explanation_metrics = {name: build(node, f"metrics.explanation.{name}") for name, node in cfg.metrics.explanation.items()}
    for fn in [*prediction_metrics.values(), *explanation_metrics.values()]:
        info_of(fn)
    explainers = {name: build(node, f"explainers.{name}") for name, node in cfg.explainers.items()}
    data_identity = {k: v for k, v in plain(cfg.data).items() if k not in SELECTION_KEYS}
    shared = {"metrics": plain(cfg.metrics.explanation), "explain": plain(cfg.explain)}
    return Plan(
        cfg=cfg, source=source, model_name=model_name, model_factory=model_factory, model_probe=model_probe,
        model_hash=config_hash(model_cfg, data_identity),
        model_config=config_hash(model_cfg),
        metrics_hash=config_hash(plain(cfg.metrics.prediction)),
        explainers=explainers,
        explainer_hashes={name: config_hash(plain(node), shared) for name, node in cfg.explainers.items()},
        prediction_metrics=prediction_metrics, explanation_metrics=explanation_metrics,
        store=ResultStore(cfg.paths.results),
        # _recursive_=False: the run's config is data for the tracker, not objects to build.
        tracker=build(cfg.logger, "logger", _recursive_=False, _convert_="all",
                      run_config=OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)),
    )
