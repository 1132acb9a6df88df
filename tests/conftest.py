"""Fixtures shared by the tests: the real configs composed as a run would, a results folder
of the test's own, sockets that refuse to connect, and ../shared/data when it exists."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import openml
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from bench.config import register_configs
from bench.paths import PROJECT_ROOT

CONF_DIR = PROJECT_ROOT / "conf"
register_configs()

# Small enough for seconds, large enough that every code path runs.
FAST = [
    "explain.n_instances=4",
    "explain.background_size=10",
    "explainers.kernel_shap.nsamples=64",
    "explainers.ig.n_steps=8",
    "data.n_train=200",
    "data.n_test=40",
]


def compose_config(overrides: list[str], results: Path | None = None) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        extra = [f"paths.results={results}"] if results is not None else []
        return compose(config_name="config", overrides=[*overrides, *extra])


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def no_sockets(monkeypatch) -> list:
    """Every connection attempt is recorded and refused."""
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args[1:] if len(args) > 1 else args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.fixture
def openml_root(tmp_path: Path):
    """A fresh OpenML cache root for the test; openml's own setting is restored afterwards
    (tests must never load from the user's cache: openml deletes folders it fails to load)."""
    previous = openml.config._root_cache_directory
    root = tmp_path / "openml-cache"
    root.mkdir()
    openml.config.set_root_cache_directory(root)
    yield root
    openml.config.set_root_cache_directory(previous)


def shared_data_dir() -> Path | None:
    candidate = Path(os.environ.get("BENCH_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))
    return candidate if (candidate / "openml").is_dir() else None


@pytest.fixture
def shared_data() -> Path:
    found = shared_data_dir()
    if found is None:
        pytest.skip("../shared/data is absent (set BENCH_SHARED_DATA to its path to run the real-data tests)")
    return found
