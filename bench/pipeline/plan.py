"""From a composed config to everything a run needs, validated before any data is loaded:
a bad option fails here, not after hours of work."""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from bench.pipeline.config import Config
from bench.data.source import Source
from bench.core.device import describe_device, resolve_device
from bench.core.errors import BenchError
from bench.metrics.base import info_of
from bench.models.base import for_task, on_device
from bench.models.budget import with_budget
from bench.core.paths import results_folder_problem
from bench.results import ResultStore, config_hash
from bench.pipeline.schema import options

# Data options that choose which units run but do not change what a unit computes.
SELECTION_KEYS = {"suite", "tasks", "max_tasks", "skip_missing", "offline", "folds", "datasets", "task_id",
                  "dataset_id", "manifest", "cache_root"}


# Data options added after units were stored, with the value those units were computed with: at
# that value an option is left out of the units' keys, so that every stored unit stays valid.
ADDED_DATA_OPTIONS = {("preprocess", "missing"): "impute"}


def unit_identity(options: dict[str, Any], added: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """`options` (nested dicts) less each added option that holds its value of before."""
    kept = copy.deepcopy(options)
    for path, before in added.items():
        *parents, key = path
        node = functools.reduce(lambda node, part: node.get(part) or {}, parents, kept)
        if key in node and node[key] == before:
            del node[key]
    return kept


@dataclass(frozen=True)
class Plan:
    """Everything a run needs, resolved and checked: the raw config stays in this module."""

    # The run's own options (conf/config.yaml)
    seed: int
    force: bool
    device: str  # the device option (auto, cpu, cuda, cuda:N) models are moved to
    torch_threads: int
    results: str  # the results folder
    n_instances: int
    background_size: int
    background_summary: str
    folds: tuple[int, ...] | None  # the folds the data lists (each once), None when it lists none
    skip_missing: bool  # a dataset that cannot be loaded is a row saying so, not a failed run
    source: Source
    model_name: str
    model_factory: Callable[[str], Any]  # task type -> an unfitted estimator for it
    model_probe: Any  # an unfitted instance: what the model declares it can handle
    model_hash: str  # model config and the data options that change the training data
    model_config: str  # the model config alone: tells two configurations of one model apart across tasks
    # A model built on another (FLINT post-hoc's `base`): option -> (that model's name, its
    # model_hash as a run of it alone would have), so that a stored fit of it is reused.
    built_on: dict[str, tuple[str, str]]
    metrics_hash: str  # prediction metrics
    explainers: dict[str, Any]
    explainer_hashes: dict[str, str]  # explainer config and the explained sample's options
    prediction_metrics: dict[str, Callable]
    explanation_metrics: dict[str, Callable]
    metric_hashes: dict[str, str]  # each explanation metric's options
    store: ResultStore
    tracker: Any
    device_name: str  # where the model computes, as rows record it
    run_id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])


def plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True, enum_to_str=True) if isinstance(node, DictConfig) else node


def build(node: Any, what: str, **kwargs) -> Any:
    """hydra.utils.instantiate of the plain node (options that are Enums in the schema arrive as
    the strings the code compares with), a constructor's complaint as a one-line BenchError."""
    try:
        return instantiate(plain(node), **kwargs)
    except InstantiationException as e:
        cause = e.__cause__ or e
        unknown = re.match(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'", str(cause))
        target = get_class(plain(node)["_target_"]) if isinstance(cause, TypeError) and unknown else None
        # A key added with `+`, as Hydra's hint suggests, that the component itself does not take
        # (one its own parts refuse, a nested option, is named by their message).
        if target is not None and unknown[1] in {c.__name__ for c in target.__mro__}:
            raise BenchError(f"{what}: no option {unknown[2]}; a key added with + is one nothing reads, whatever "
                             f"Hydra's hint says; the options: {', '.join(p.name for p in options(target))}") from e
        raise BenchError(f"{what}: {' '.join(str(cause).split())}") from e


def check_run_options(cfg: DictConfig) -> None:
    if cfg.seed < 0:
        raise BenchError(f"seed must be a non-negative integer, got {cfg.seed}")
    for key in ("n_instances", "background_size"):
        if cfg.explain[key] < 1:
            raise BenchError(f"explain.{key} must be at least 1, got {cfg.explain[key]}")
    if cfg.torch_threads < 1:
        raise BenchError(f"torch_threads must be at least 1, got {cfg.torch_threads}")
    problem = results_folder_problem(cfg.paths.results)
    if problem:
        raise BenchError(problem)
    try:
        resolve_device(cfg.device)
    except ValueError as e:
        raise BenchError(str(e)) from e


def check_known_keys(cfg: DictConfig) -> None:
    """Hydra lets `+key=value` past a schema on purpose (it adds keys); a key that neither the
    run's schema nor a constructor reads would be ignored, so it fails here, named. (Model, data,
    explainer and logger options are checked by their constructors, metric options by `build`'s
    binding to the metric's signature.)"""
    schema = OmegaConf.structured(Config)
    for path, node, known in [("", cfg, schema), ("explain.", cfg.explain, schema.explain),
                              ("paths.", cfg.paths, schema.paths), ("metrics.", cfg.metrics, schema.metrics)]:
        known = [str(key) for key in known.keys()]  # keys whose value is MISSING are not `in` a schema
        for key in node:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {path}{close[0]}?" if close else f"{path or 'the run'} has {', '.join(known)}"
                raise BenchError(f"unknown option {path}{key}: no schema or constructor reads it ({hint})")


def build_metric(node: Any, what: str, *, prediction: bool) -> Callable:
    """A metric as a partial function of its options, each option checked against its signature;
    `prediction`: it is listed under metrics.prediction, which takes the metrics of a model's
    predictions (y_true, y_score[, model, X, X_train]), not those of an explanation."""
    fn = build(node, what)
    info = info_of(fn)
    scores_predictions = info.category == "prediction" or info.needs_model
    if scores_predictions != prediction:
        right = "metrics.prediction" if scores_predictions else "metrics.explanation"
        raise BenchError(f"{what}: {info.name} scores {'a model' if scores_predictions else 'an explanation'}; "
                         f"list it under {right}")
    if isinstance(fn, functools.partial):
        try:
            inspect.signature(fn.func).bind_partial(**fn.keywords)
        except TypeError as e:
            raise BenchError(f"{what}: {e}; its options: {', '.join(p.name for p in options(fn.func))}")
    if info.check is not None:
        try:
            info.check(**metric_options(fn))
        except ValueError as e:
            raise BenchError(f"{what}: {e}") from None
    return fn


def metric_options(fn: Callable) -> dict[str, Any]:
    """Every option of a metric (a function, or a partial of it with some options given), the
    defaults of its signature included."""
    function, given = (fn.func, fn.keywords) if isinstance(fn, functools.partial) else (fn, {})
    bound = inspect.signature(function).bind_partial(**given)
    bound.apply_defaults()
    return {p.name: bound.arguments[p.name] for p in options(function) if p.name in bound.arguments}


def check_shared_options(metrics: dict[str, Callable]) -> None:
    """Metrics entered under their own names that share one computation (the manipulation rows,
    one attack) must agree on its options: their rows are named without them, so an override of
    one of them alone would put two attacks side by side in one table as if they were one. Every
    option counts, batch_size too: SmoothGrad's and GradientSHAP's draws are made per batch."""
    first: dict[str, tuple[str, dict]] = {}
    for entry, fn in metrics.items():
        info = info_of(fn)
        if info.shares is None or entry != info.name:
            continue
        given = metric_options(fn)
        leader, expected = first.setdefault(info.shares, (entry, given))
        differ = [key for key in expected if given[key] != expected[key]]
        if differ:
            sharing = [name for name, other in metrics.items() if info_of(other).shares == info.shares
                       and name == info_of(other).name]
            key = differ[0]
            raise BenchError(
                f"metrics.explanation.{entry}.{key}={given[key]} differs from {leader}'s {key}={expected[key]}: "
                f"{', '.join(sharing)} share one {info.shares} and the tables name their rows without its options; "
                f"set metrics.explanation.{leader}.{key}={given[key]} (in metrics=manipulation the others follow it)")


def model_builder(cfg: DictConfig, model_cfg: dict, model_name: str) -> tuple[Callable[[], Any], Any]:
    """A builder of the model with the run's seed and device, and one model it built, whose options
    are checked as scikit-learn does (parameter constraints): a bad value fails before any data loads."""
    def make():
        return on_device(build(model_cfg, f"model={model_name}", random_state=cfg.seed), cfg.device)

    probe = make()
    if getattr(probe, "_parameter_constraints", None) is not None:  # interpret's EBM checks its own, at fit
        try:
            probe._validate_params()
        except (ValueError, TypeError) as e:
            raise BenchError(f"model={model_name}: {' '.join(str(e).split())}") from e
    return make, probe


def without_names(node: dict[str, Any]) -> dict[str, Any]:
    """A model's config without the `name` labels of the models it is built on (conf/model's
    names, which no constructor takes), however deep (ATEX on ATEX on cnn_tanh)."""
    return {key: without_names(value) if isinstance(value, dict) and "_target_" in value else value
            for key, value in node.items() if key != "name"}


def model_identity(node: dict[str, Any]) -> dict[str, Any]:
    """A model's config as its unit keys read it: the training loop's options (`training`, a
    component of its own since 2026-12-07) among the model's own options, where they were before,
    however deep (a base's too). A key follows the values that decide a fit, not where the config
    spells them, so every fit stored before keeps its key."""
    identity = {}
    for key, value in node.items():
        if key == "training" and isinstance(value, dict):
            identity |= {option: setting for option, setting in value.items() if option != "_target_"}
        elif isinstance(value, dict) and "_target_" in value:
            identity[key] = model_identity(value)
        else:
            identity[key] = value
    return identity


def check_explainers(explainers: dict[str, Any], model, model_name: str) -> None:
    """An explainer option that cannot work with the model (a layer its network lacks) stops the
    run now, before any training, rather than failing every explanation after it."""
    for name, explainer in explainers.items():
        try:
            explainer.check_model(model)
        except ValueError as e:
            raise BenchError(f"explainers.{name} with model={model_name}: {e}") from None


def make_plan(cfg: DictConfig) -> Plan:
    check_known_keys(cfg)
    check_run_options(cfg)
    source = build(cfg.data, "data", seed=cfg.seed)
    model_cfg = with_budget(plain(cfg.model), cfg.budget)
    model_name = model_cfg.pop("name")
    data_identity = unit_identity({k: v for k, v in plain(cfg.data).items() if k not in SELECTION_KEYS},
                                  ADDED_DATA_OPTIONS)
    # A model built on another (FLINT post-hoc's base): its config as conf/model/ holds it, less the names.
    built_on = {option: (value["name"], config_hash(model_identity(without_names(value)), data_identity))
                for option, value in model_cfg.items() if isinstance(value, dict) and {"_target_", "name"} <= set(value)}
    model_cfg = without_names(model_cfg)
    if "device" in model_cfg or "random_state" in model_cfg:
        raise BenchError(f"model.device and model.random_state are the run's: set device=... and seed=... "
                         f"(model={model_name})")
    make_model, model_probe = model_builder(cfg, model_cfg, model_name)
    explainers = {name: build(node, f"explainers.{name}") for name, node in cfg.explainers.items()}
    check_explainers(explainers, model_probe, model_name)
    explanation_metrics = {name: build_metric(node, f"metrics.explanation.{name}", prediction=False)
                           for name, node in cfg.metrics.explanation.items()}
    check_shared_options(explanation_metrics)
    folds = cfg.data.get("folds")
    return Plan(
        seed=cfg.seed, force=cfg.force, device=cfg.device, torch_threads=cfg.torch_threads, results=cfg.paths.results,
        n_instances=cfg.explain.n_instances, background_size=cfg.explain.background_size,
        background_summary=plain(cfg.explain)["background_summary"],
        folds=tuple(dict.fromkeys(folds)) if isinstance(folds, ListConfig) else None,
        skip_missing=bool(cfg.data.get("skip_missing", False)),
        source=source, model_name=model_name,
        model_factory=lambda task_type: for_task(make_model(), task_type), model_probe=model_probe,
        model_hash=config_hash(model_identity(model_cfg), data_identity),
        model_config=config_hash(model_identity(model_cfg)), built_on=built_on,
        metrics_hash=config_hash(plain(cfg.metrics.prediction)),
        explainers=explainers,
        explainer_hashes={name: config_hash(plain(node), {"explain": plain(cfg.explain)})
                          for name, node in cfg.explainers.items()},
        prediction_metrics={name: build_metric(node, f"metrics.prediction.{name}", prediction=True)
                            for name, node in cfg.metrics.prediction.items()},
        explanation_metrics=explanation_metrics,
        metric_hashes={name: config_hash(plain(node)) for name, node in cfg.metrics.explanation.items()},
        store=ResultStore(cfg.paths.results),
        device_name=describe_device(resolve_device(model_probe.device) if "device" in model_probe.get_params() else "cpu"),
        # _recursive_=False: the run's config is data for the tracker, not objects to build.
        tracker=build(cfg.logger, "logger", _recursive_=False, _convert_="all",
                      run_config=OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)),
    )
