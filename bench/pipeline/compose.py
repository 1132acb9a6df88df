"""The configuration as `python -m bench` composes it, for scripts and tests. Sweeps are Hydra's
own: `python -m bench -m ...` (bench.cli.multirun runs one from a script)."""

from __future__ import annotations

from hydra import compose as hydra_compose
from hydra import initialize_config_module
from omegaconf import DictConfig, OmegaConf

from bench.pipeline.config import register_configs
from bench.core.paths import CONF_DIR, CONF_PACKAGE


def compose(overrides: list[str], *, with_hydra: bool = False) -> DictConfig:
    """`with_hydra=True` keeps the `hydra` node (e.g. an experiment's sweep parameters)."""
    register_configs()
    with initialize_config_module(config_module=CONF_PACKAGE, version_base="1.3"):
        return hydra_compose(config_name="config", overrides=overrides, return_hydra_config=with_hydra)


def variants(group: str, option: str) -> tuple[str, ...]:
    """The other options of a conf group in `option`'s family: those whose defaults list starts
    from the same option (conf/model/atex_mlp.yaml extends atex: each is the other's variant)."""
    parents = {path.stem: _extends(path) for path in (CONF_DIR / group).glob("*.yaml")}

    def root(name: str) -> str:
        while parents.get(name) in parents:
            name = parents[name]
        return name

    return tuple(sorted(name for name in parents if name != option and root(name) == root(option)))


def _extends(path) -> str | None:
    """The option of its own group that a conf file extends first (`defaults: [atex, ...]`)."""
    defaults = OmegaConf.load(path).get("defaults") or []
    return defaults[0] if defaults and isinstance(defaults[0], str) else None
