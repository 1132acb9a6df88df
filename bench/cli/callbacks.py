"""Hydra callbacks of `python -m bench` (configured under `hydra.callbacks` in conf/config.yaml)."""

from __future__ import annotations

import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from bench.core.paths import results_folder_problem


class CheckResultsFolder(Callback):
    """Refuses, on one line, a results folder the run cannot write: Hydra makes its own output
    folder inside it before the run starts, and would fail there with a raw traceback (or, for
    an empty `paths.results=`, make a folder at the filesystem root)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check(config)

    @staticmethod
    def _check(config: DictConfig) -> None:
        problem = results_folder_problem(config.paths.results)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            sys.exit(2)
