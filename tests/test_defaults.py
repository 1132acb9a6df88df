"""One home for each default: a constructor's (or metric's) signature. The schemas conf/ extends
are generated from the signatures; a YAML file states only what differs, each with a comment;
an allowed-values list is one Literal, which composition enforces."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hydra.core.config_store import ConfigStore
from hydra.errors import ConfigCompositionException
from hydra.utils import get_object
from omegaconf import OmegaConf

from bench.core.paths import CONF_DIR
from bench.pipeline.config import register_configs
from bench.data.preprocess import TabularPreprocessor
from bench.models import CNN, CNNTanh
from bench.pipeline.plan import make_plan
from bench.pipeline.schema import RUN_INTERPOLATIONS, dotted_path, nested_defaults, options
from tests.conftest import compose_config

COMPONENT_GROUPS = ("model", "explainers", "metrics", "experiment", "data_model", "experiment_model", "data")
# Where components' defaults could be written a second time; an experiment or a data x model
# setting may pin a value on purpose (a paper's protocol), but says why when it differs.
DEFAULT_GROUPS = ("model", "explainers", "metrics", "data")
# the data's choices need none
COMMENTED_GROUPS = ("model", "explainers", "metrics", "experiment", "data_model", "experiment_model")
OUTSIDE_COMPONENTS = {"name", "defaults", "hydra"}  # a model's label; Hydra's own keys


def conf_files() -> list[Path]:
    return sorted(p for group in COMPONENT_GROUPS for p in (CONF_DIR / group).rglob("*.yaml"))


def composition_of(path: Path) -> list[str]:
    """Overrides that compose `path` into a run's config."""
    group, option = path.relative_to(CONF_DIR).parts[0], path.relative_to(CONF_DIR / path.relative_to(CONF_DIR).parts[0])
    option = option.with_suffix("").as_posix()
    if group == "data_model":
        data, model = option.split("_", 1)
        return [f"data={data}", f"model={model}"]
    if group == "experiment_model":  # <experiment>_<model>, the experiment's name the longest that fits
        experiment = max((p.stem for p in (CONF_DIR / "experiment").glob("*.yaml") if option.startswith(f"{p.stem}_")),
                         key=len)
        return [f"experiment={experiment}", f"model={option[len(experiment) + 1:]}"]
    needs = {"model=cnn": ["data=digits"]}
    return [f"{group}={option}", *needs.get(f"{group}={option}", [])]


def package_of(path: Path) -> list[str]:
    """Where a file's keys land in the composed config (Hydra's default package: the group)."""
    if path.read_text().startswith("# @package _global_"):
        return []
    return list(path.relative_to(CONF_DIR).parts[:1])


def leaves(data: Any, prefix: tuple = ()) -> list[tuple[tuple, Any]]:
    if isinstance(data, dict) and data:
        return [leaf for key, value in data.items() for leaf in leaves(value, (*prefix, str(key)))]
    return [(prefix, data)]


def has_comment(lines: list[str], path: tuple) -> bool:
    """A comment on the line that sets `path` (found segment by segment), or right above it."""
    line = 0
    for segment in path:  # a flow mapping ({a: 1}) holds its keys on its parent's line
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(segment)}\s*:")
        line = next(i for i in range(line, len(lines)) if pattern.search(lines[i].split("#")[0]))
    return "#" in lines[line] or (line > 0 and lines[line - 1].strip().startswith("#"))


def owner(cfg, path: tuple) -> tuple[str, dict[str, Any], str] | None:
    """The component that reads the leaf `path` (a node with a `_target_`; a model's training loop
    and the base it is built on are components of their own), its defaults and the option. A
    nested component's defaults are those its holder builds it with (hyperlinear's loop trains
    500 epochs where TrainingLoop's signature says 200)."""
    node, rest, defaults = cfg, list(path), None
    while rest and OmegaConf.is_dict(node) and ("_target_" not in node or OmegaConf.is_dict(node.get(rest[0]))):
        if rest[0] not in node:
            return None
        holder = nested_defaults(get_object(node["_target_"])) if "_target_" in node else {}
        component = holder.get(rest[0])
        defaults = component.get_params() if component is not None else None
        node = node[rest.pop(0)]
    if not OmegaConf.is_dict(node) or "_target_" not in node or len(rest) != 1:
        return None
    target = node["_target_"]
    return target, defaults or {p.name: p.default for p in options(get_object(target))}, rest[0]


def normalised(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# An interpolation (${..manipulation_topk.epsilon}) states no value: it ties an option to one
# stated, and checked, elsewhere.
STATED = [(path, leaf, value) for path in conf_files()
          for leaf, value in leaves({k: v for k, v in (yaml.safe_load(path.read_text()) or {}).items()
                                     if k not in OUTSIDE_COMPONENTS})
          if leaf and not (isinstance(value, str) and value.startswith("${"))]


@pytest.mark.parametrize("path, leaf, value", STATED,
                         ids=[f"{p.relative_to(CONF_DIR)}:{'.'.join(leaf)}" for p, leaf, _ in STATED])
def test_a_stated_option_differs_from_its_constructors_default_and_says_why(path, leaf, value):
    cfg = compose_config(composition_of(path))
    found = owner(cfg, (*package_of(path), *leaf))
    if found is None:  # only a run-level option (explain.*, paths.*), whose one home is conf/config.yaml
        assert (*package_of(path), *leaf)[0] in ("explain", "paths"), f"{path}: no component reads {leaf}"
        return
    target, defaults, option = found
    if option.startswith("_"):  # Hydra's _target_ and _partial_
        return
    assert option in defaults, f"{path}: {option} is not an option of {target}"
    group = path.relative_to(CONF_DIR).parts[0]
    restated = normalised(defaults[option]) == value
    assert not (restated and group in DEFAULT_GROUPS), \
        f"{path}: {'.'.join(leaf)}={value!r} restates {target}'s default: leave it to the signature"
    if not restated and group in COMMENTED_GROUPS:
        assert has_comment(path.read_text().splitlines(), leaf), \
            f"{path}: {'.'.join(leaf)} differs from {target}'s default; say why in a comment"


def test_every_schema_default_is_its_signatures():
    register_configs()
    for name, entry in ConfigStore.instance().repo.items():
        if not name.startswith("schema_") or not hasattr(entry, "node"):
            continue
        node = OmegaConf.to_container(entry.node, enum_to_str=True)
        if "_target_" not in node:
            continue
        target = get_object(node["_target_"])
        for parameter in options(target):
            if parameter.name not in node:  # left to the run: random_state, device
                continue
            if parameter.name in nested_defaults(target):  # a torch model's loop: the one it builds for None
                component = nested_defaults(target)[parameter.name]
                assert node[parameter.name] == {"_target_": dotted_path(type(component)), **component.get_params()}
                continue
            if parameter.name == "preprocess":  # a data source's: TabularPreprocessor's own options
                assert node["preprocess"] == {p.name: p.default for p in options(TabularPreprocessor)}
                continue
            expected = RUN_INTERPOLATIONS.get(parameter.name, normalised(parameter.default))
            if parameter.default is not parameter.empty or parameter.name in RUN_INTERPOLATIONS:
                assert node[parameter.name] == expected, (name, parameter.name)


@pytest.mark.parametrize("option, estimator", [("cnn", CNN), ("cnn_tanh", CNNTanh)])
def test_a_model_option_builds_the_constructors_defaults(option, estimator):
    """`model=cnn` is `CNN()`, with the run's seed and device: its loop states CNN's own."""
    plan = make_plan(compose_config([f"model={option}", "data=digits"]))
    given, constructed = plan.model_probe.get_params(), estimator(device="auto").get_params()
    assert given.pop("training") is plan.model_probe.training and constructed.pop("training") is None
    assert given == constructed  # the loop's options (training__*) included
    assert plan.model_probe.training.get_params() == estimator.loop().get_params()
    plan.tracker.finish()


def test_the_loop_is_a_typed_node_and_its_old_place_fails_at_composition():
    assert compose_config(["model=cnn"]).model.training.epochs == 12  # CNN's loop, shown in the config
    for misspelt in ("model.training.epoch=3", "model.epochs=3", "model.base.epochs=3"):
        with pytest.raises(ConfigCompositionException):
            compose_config(["model=atex", misspelt])


def test_a_value_outside_a_literal_fails_at_composition_with_the_allowed_values():
    with pytest.raises(ConfigCompositionException) as error:
        compose_config(["model.training.optimizer=sgd"])
    assert "adam" in str(error.value.__cause__) and "adamw" in str(error.value.__cause__)
    with pytest.raises(ConfigCompositionException):
        compose_config(["explainers.ig.baseline=median"])


def test_a_generated_schema_types_its_options():
    register_configs()
    schema = ConfigStore.instance().repo["schema_model_MLP.yaml"].node
    fields = {f.name: f for f in dataclasses.fields(OmegaConf.get_type(schema))}
    assert "random_state" not in fields and "device" not in fields  # the run's: seed, device
    assert schema.hidden_sizes == [128, 128] and schema.training.patience == 10
