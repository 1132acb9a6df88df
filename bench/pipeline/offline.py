"""An experiment's offline runs: the datasets it needs, imported from ../shared/data into the
openml cache before its jobs start (scripts/reproduce.py, scripts/nightly.py)."""

from __future__ import annotations

from hydra.core.override_parser.overrides_parser import OverridesParser

from bench.pipeline.compose import compose
from bench.pipeline.plan import build


def import_for_experiment(experiment: str, overrides: list[str]) -> list[dict]:
    """Imports into the cache of `overrides` (paths.openml_cache=...) the datasets of
    `experiment=<experiment>` that it lacks and that ../shared/data holds; returns them.

    Hydra's settings (hydra/launcher=slurm) and swept values (model=logreg,dtree) are left out
    of the composition: neither chooses the data, and a composed config takes one value per key.
    """
    parsed = OverridesParser.create().parse_overrides(overrides)
    plain = [text for text, o in zip(overrides, parsed) if not (o.is_sweep_override() or o.is_hydra_override())]
    cfg = compose([f"experiment={experiment}", *plain])
    return build(cfg.data, "data", seed=cfg.seed).import_from_shared()
