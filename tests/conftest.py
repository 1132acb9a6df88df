"""Fixtures shared by the tests: the real configs composed as a run would, a results folder
of the test's own, the command line run in this process, sockets that refuse to connect, a folder
made read-only, ../shared/data when it exists, and stand-ins for SLURM's commands."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import openml
import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from bench.pipeline.compose import compose
from bench.data import openml_cache
from bench.core.paths import find_shared_data


# Small enough for seconds, large enough that every code path runs.
FAST = ["explain.n_instances=4", "explain.background_size=10", "data.n_train=200", "data.n_test=40"]
# The default model (hyperlinear) at a size that trains in a fraction of a second.
FAST_MODEL = ["model.training.epochs=8", "model.training.warmup_epochs=2", "model.hidden_size=32",
              "model.n_blocks=1"]
FAST_EXPLAINERS = ["explainers.kernel_shap.nsamples=64", "explainers.ig.n_steps=8",  # for explainers=default
                   "explainers.lime.num_samples=200"]
# explainers=all, each at a fraction of a second on small models. Kernel SHAP's least squares
# needs a few times more coalitions than features (36 on the tests' 6x6 images).
FAST_ALL_EXPLAINERS = [
    "explainers=all", "explainers.kernel_shap.nsamples=160", "explainers.permutation_shap.n_permutations=2",
    "explainers.gradient_shap.nsamples=8", "explainers.smoothgrad.n_samples=4", "explainers.gradient_shap_captum.n_samples=4",
    "explainers.shapley_sampling.n_samples=2", "explainers.lime.num_samples=200", "explainers.lime_image.num_samples=100",
    "explainers.ig.n_steps=8", "explainers.partition_shap.max_evals=100",
]


def compose_config(overrides: list[str], results: Path | None = None) -> DictConfig:
    return compose([*overrides, *([f"paths.results={results}"] if results is not None else [])])


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """As `torch_threads: 1` does for runs: these networks are tiny, and on two cores threads
    waiting for each other cost far more than they save."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def bench_cli(monkeypatch, capsys) -> Callable[..., CliResult]:
    """`bench ARGS` run in this process (bench.__main__.cli), as the command line runs it: what it
    exits with and prints. Seconds faster than a subprocess, which imports torch and the rest
    again; the few end-to-end tests that need a real process start one (tests/test_cli.py).
    Without HYDRA_FULL_ERROR unless a test sets it; Hydra's logging (handlers on the root logger,
    writing to the streams captured for this call) is undone after each call."""
    from bench.__main__ import cli

    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["bench", *args])
        capsys.readouterr()  # what was printed before is not this call's
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            cli()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else int(done.code is not None)
        finally:
            for handler in set(root.handlers) - set(handlers):
                handler.close()
            root.handlers[:] = handlers
            root.setLevel(level)
            GlobalHydra.instance().clear()  # Hydra clears it itself, except where it fails first
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def no_network(monkeypatch) -> None:
    """Refuse every connection. AssertionError, not OSError: openml would retry an OSError."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def cache_root(tmp_path: Path):
    """A fresh openml root cache; never the user's own (openml deletes folders it fails to load)."""
    saved_root, saved_server = openml.config.get_config_as_dict()["cachedir"], openml.config.server
    root = tmp_path / "openml-cache"
    openml.config.server = openml_cache.OPENML_SERVER
    openml.config.set_root_cache_directory(root)
    try:
        yield root
    finally:
        openml.config.set_root_cache_directory(saved_root)
        openml.config.server = saved_server


TOY_ROWS = 60


def toy_rows() -> list[tuple]:
    """(x, colour, note, label): '?' every few rows per column; 24 'pos' and 36 'neg'."""
    colours = ["red", "green", "dark blue"]
    return [(None if i % 11 == 3 else i * 0.5,
             None if i % 13 == 5 else colours[i % 3],
             None if i % 17 == 7 else f"note {i}",
             "pos" if i % 5 < 2 else "neg") for i in range(TOY_ROWS)]


@pytest.fixture
def toy_arff(tmp_path: Path) -> Path:
    """A small ARFF with numeric, nominal and string columns and '?' missing values."""
    def cell(value, quote=False):
        return "?" if value is None else (f"'{value}'" if quote else str(value))

    lines = ["% toy data for bench tests", "@relation toy", "@attribute x numeric",
             "@attribute colour {red,green,'dark blue'}", "@attribute note string",
             "@attribute class {neg,pos}", "@data"]
    lines += [",".join([cell(x), cell(c, quote=True), cell(n, quote=True), label]) for x, c, n, label in toy_rows()]
    path = tmp_path / "toy.arff"
    path.write_text("\n".join(lines) + "\n", encoding="utf8")
    return path


@pytest.fixture
def shared_data() -> Path:
    found = find_shared_data()
    if found is None:
        pytest.skip("../shared/data is absent (set BENCH_SHARED_DATA to its path to run the real-data tests)")
    return found


@dataclass
class FakeSlurm:
    path: str  # $PATH with the stand-ins first
    batch: Path  # the batch script sbatch was given


@pytest.fixture
def fake_slurm(tmp_path: Path) -> FakeSlurm:
    """No cluster here: stand-ins for srun (submitit only checks that it exists) and sbatch
    (which keeps the batch script it is given and refuses it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    batch = tmp_path / "batch.sh"
    scripts = {"srun": "exit 1\n",
               "sbatch": f'cp "$1" "{batch}"\necho "sbatch: error: no cluster here" >&2\nexit 1\n'}
    for name, body in scripts.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(stat.S_IRWXU)
    return FakeSlurm(f"{bin_dir}{os.pathsep}{os.environ['PATH']}", batch)


@pytest.fixture
def make_read_only() -> Callable[[Path], None]:
    """Makes a folder read-only for the rest of the test: a read-only bind mount as root (who
    ignores file modes), `chmod -R a-w` otherwise; skips, with the reason, where neither holds."""
    mounted, chmodded = [], []

    def make(folder: Path) -> None:
        if os.geteuid() == 0:
            _mount(["--bind", folder, folder], folder)
            mounted.append(folder)
            _mount(["-o", "remount,ro,bind", folder], folder)
        else:
            subprocess.run(["chmod", "-R", "a-w", folder], check=True)
            chmodded.append(folder)
        try:
            tempfile.TemporaryFile(dir=folder).close()
        except OSError:
            return
        pytest.skip(f"{folder} is still writable after being made read-only")

    yield make
    for folder in reversed(mounted):
        subprocess.run(["umount", folder], check=True)
    for folder in chmodded:  # so that pytest can remove tmp_path
        subprocess.run(["chmod", "-R", "u+w", folder], check=True)


def _mount(arguments: list, folder: Path) -> None:
    if shutil.which("mount") is None:
        pytest.skip(f"running as root, where only a read-only mount makes {folder} read-only, and there is no `mount`")
    done = subprocess.run(["mount", *map(str, arguments)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"running as root, and a read-only bind mount of {folder} is not permitted here "
                    f"(mount {' '.join(map(str, arguments))}: {done.stderr.strip()})")
