"""The configuration as `python -m bench` composes it, for scripts and tests, and the runs an
experiment's sweep (`hydra.sweeper.params`) stands for."""

from __future__ import annotations

import itertools

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from bench.config import register_configs
from bench.paths import PROJECT_ROOT

CONF_DIR = PROJECT_ROOT / "conf"


def compose(overrides: list[str], *, with_hydra: bool = False) -> DictConfig:
    """`with_hydra=True` keeps the `hydra` node (e.g. an experiment's sweep parameters)."""
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides, return_hydra_config=with_hydra)


def sweep_overrides(experiment: str) -> list[list[str]]:
    """The override lists of every run of `python -m bench -m experiment=<experiment>`, in the
    order Hydra's basic sweeper runs them (the cartesian product of the sweep parameters)."""
    params = compose([f"experiment={experiment}"], with_hydra=True).hydra.sweeper.params or {}
    parser = OverridesParser.create()
    axes = []
    for key, value in params.items():
        override = parser.parse_overrides([f"{key}={value}"])[0]
        values = list(override.sweep_string_iterator()) if override.is_sweep_override() else [str(value)]
        axes.append([f"{key}={v}" for v in values])
    return [[f"experiment={experiment}", *combination] for combination in itertools.product(*axes)]
