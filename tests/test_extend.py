"""Extending bench as the README's "Adding an explainer" and "Adding an image dataset" say: a copy
of the package, laid out as installed (bench.conf inside it), gets a toy explainer (its module and
its YAML) and a toy image dataset (its source and its YAML), and nothing else; a run uses both."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.core.paths import SHIPPED_ROOT
from bench.pipeline import registry

TOY_EXPLAINER = '''
"""Each pixel's own value: a stand-in for a new method."""

from bench.core.explanation import Explanation
from bench.explainers.base import Explainer, flatten


class PixelValue(Explainer):
    needs_background = False

    def __init__(self, *, scale: float = 1.0):
        self.scale = scale

    def _explain(self, model, X, *, target, background, rng) -> Explanation:
        return Explanation(self.scale * flatten(X), "attribution", target, input_shape=X.shape[1:])
'''

TOY_SOURCE = '''
"""Stripes: 8x8 images whose class is the orientation of a bright stripe."""

import numpy as np

from bench.data.source import Source, TaskRef
from bench.data.task import Split, Task


class StripesSource(Source):
    def __init__(self, *, suite: str, n_images: int = 120, folds=(0,), preprocess=None, seed: int = 0):
        super().__init__(suite=suite, folds=folds, preprocess=preprocess, seed=seed)
        self.n_images = n_images

    def refs(self) -> list[TaskRef]:
        return [TaskRef(self.suite, "stripes")]

    def load(self, ref: TaskRef) -> Task:
        rng = np.random.default_rng(self.seed)
        y = rng.integers(0, 2, self.n_images)
        X = rng.uniform(0, 0.3, (self.n_images, 1, 8, 8)).astype(np.float32)
        for i, (label, where) in enumerate(zip(y, rng.integers(0, 8, self.n_images))):
            X[i, 0, where, :] += label  # a row for one class,
            X[i, 0, :, where] += 1 - label  # a column for the other
        train, test = np.arange(self.n_images // 2), np.arange(self.n_images // 2, self.n_images)
        return Task(self.suite, ref.name, "binary", "image", X, y, (Split(0, train, test, "generated", self.seed),))
'''


@pytest.fixture(scope="module")
def installed_copy(tmp_path_factory) -> Path:
    """bench/ with conf/, datasets/ and baselines/ inside it, as a wheel installs them."""
    root = tmp_path_factory.mktemp("extended")
    shutil.copytree(Path(__file__).parents[1] / "bench", root / "bench", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("conf", "datasets", "baselines"):
        shutil.copytree(SHIPPED_ROOT / folder, root / "bench" / folder)
    return root


def test_a_toy_explainer_and_a_toy_image_dataset_take_their_files_and_nothing_else(installed_copy, tmp_path):
    package = installed_copy / "bench"
    added = {
        package / "explainers" / "pixel_value.py": TOY_EXPLAINER,
        package / "conf" / "explainers" / "pixel_value.yaml": "defaults:\n  - /schema_explainer_PixelValue@pixel_value\n",
        package / "data" / "stripes.py": TOY_SOURCE,
        package / "conf" / "data" / "stripes.yaml": "defaults:\n  - /schema_data_stripes@_here_\nsuite: stripes\n",
    }
    for path, text in added.items():
        path.write_text(text)
    results = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "data=stripes", "data.n_images=80", "model=cnn", "budget=smoke",
         "explainers=[pixel_value,random]", "explainers.pixel_value.scale=2", "explain.n_instances=4",
         f"paths.results={results}"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed_copy)}, capture_output=True, text=True,
        timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = pd.concat(pd.read_parquet(path) for path in (results / "rows").rglob("*.parquet"))
    assert set(rows["dataset"]) == {"stripes"} and set(rows["input_kind"].dropna()) == {"image"}
    toy = rows[(rows["explainer"] == "pixel_value") & (rows["metric"] == "deletion_auc")]
    assert list(toy["status"]) == ["ok"]
    assert (results / "figures" / "explanations").is_dir()  # the image path: its pictures drawn


@pytest.mark.parametrize("group, kind, found", [("explainers", "explainer", registry.explainers),
                                                 ("data", "data", registry.sources)])
def test_every_component_the_registry_finds_has_a_config_and_every_config_a_component(group, kind, found):
    texts = {path.name: path.read_text() for path in (SHIPPED_ROOT / "conf" / group).glob("*.yaml")}
    named = {match for text in texts.values() for match in re.findall(rf"/schema_{kind}_(\w+)@", text)}
    assert named == set(found())
