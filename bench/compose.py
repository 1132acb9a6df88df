"""The configuration as `python -m bench` composes it, for scripts and tests. Sweeps are Hydra's
own: `python -m bench -m ...` (bench.multirun runs one from a script)."""

from __future__ import annotations

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from omegaconf import DictConfig

from bench.config import register_configs
from bench.paths import PROJECT_ROOT

CONF_DIR = PROJECT_ROOT / "conf"


def compose(overrides: list[str], *, with_hydra: bool = False) -> DictConfig:
    """`with_hydra=True` keeps the `hydra` node (e.g. an experiment's sweep parameters)."""
    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides, return_hydra_config=with_hydra)
