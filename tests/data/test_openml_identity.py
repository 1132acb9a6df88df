"""Unit keys come from the content of the cached data and split, never from paths: the same bytes
imported from another folder, or a results folder moved, resume without recomputing."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import bench.cli.run as bench_run
from bench.data import openml_cache
from bench.data.openml import OpenMLSource
from bench.data.openml_files import SIDECAR_NAME
from bench.data.source import TaskRef
from tests.conftest import compose_config

DID, TID = 990001, 990002
TASK, DATASET = TaskRef("openml", "toy", task_id=TID), TaskRef("openml", "toy", dataset_id=DID)


def identity(cache_root, ref: TaskRef) -> dict:
    return OpenMLSource(suite="openml", task_id=TID, cache_root=str(cache_root), preprocess={}).split_identity(ref)


def test_the_same_arff_from_two_paths_has_one_identity(toy_arff, tmp_path, cache_root):
    copy = tmp_path / "elsewhere" / "renamed.arff"
    copy.parent.mkdir()
    shutil.copy(toy_arff, copy)
    other_cache = tmp_path / "other-cache"
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID, seed=3, n_folds=5)
    openml_cache.import_arff(copy, dataset_id=DID, cache_root=other_cache, task_id=TID, seed=3, n_folds=5)

    split_md5 = hashlib.md5((openml_cache.task_dir(cache_root, TID) / "datasplits.arff").read_bytes()).hexdigest()
    expected = {"split_kind": "local", "seed": 3, "n_folds": 5, "split_md5": split_md5,
                "data_md5": hashlib.md5(toy_arff.read_bytes()).hexdigest()}
    assert identity(cache_root, TASK) == identity(other_cache, TASK) == expected
    assert identity(cache_root, DATASET) == identity(other_cache, DATASET) == {"data_md5": expected["data_md5"]}
    # Where the data came from stays in the sidecar, for people.
    sidecar = json.loads((openml_cache.task_dir(other_cache, TID) / SIDECAR_NAME).read_text())
    assert sidecar["source_arff"] == str(copy.resolve())


def test_an_official_split_from_two_folders_has_one_identity(toy_arff, tmp_path, cache_root):
    # The files of a task folder, copied to two places, stand in for OpenML's own task.xml and split.
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=tmp_path / "made", task_id=TID)
    for name in ("a", "b"):
        shutil.copytree(openml_cache.task_dir(tmp_path / "made", TID), tmp_path / name / str(TID))
    identities = []
    for name in ("a", "b"):
        cache = tmp_path / f"cache-{name}"
        openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache)
        openml_cache.import_official_task(tmp_path / name / str(TID), dataset_id=DID, cache_root=cache)
        identities.append(identity(cache, TASK))
    assert identities[0] == identities[1]
    assert set(identities[0]) == {"split_kind", "split_md5", "data_md5"} and identities[0]["split_kind"] == "openml"


def test_a_task_openml_downloads_has_the_same_identity_before_and_after(toy_arff, tmp_path, cache_root):
    # Keyed before the download and again after it: the two must agree, or a resumed run redoes it all.
    before = identity(cache_root, TASK)
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    task, dataset = openml_cache.task_dir(cache_root, TID), openml_cache.dataset_dir(cache_root, DID)
    (task / SIDECAR_NAME).unlink()  # as openml leaves a download: no sidecar, no bench tags
    for xml in (task / "task.xml", dataset / "description.xml"):
        xml.write_text(re.sub(r"\s*<oml:tag>bench:[^<]*</oml:tag>", "", xml.read_text()))
    assert before == identity(cache_root, TASK) == {"split_kind": "openml"}
    assert identity(cache_root, DATASET) == {}


def test_a_run_resumes_on_the_same_bytes_imported_from_elsewhere_and_in_a_moved_results_folder(
        toy_arff, tmp_path, cache_root, results, no_network):
    def run(cache, results_folder):
        overrides = ["data=openml", f"data.task_id={TID}", "data.offline=true", f"paths.openml_cache={cache}",
                     "model=logreg", "explainers=[random]", "explain.n_instances=3"]
        return bench_run.run(compose_config(overrides, results_folder))

    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    assert run(cache_root, results).units_computed == 3  # fit, explanation, its deletion metric
    copy = tmp_path / "b" / toy_arff.name
    copy.parent.mkdir()
    shutil.copy(toy_arff, copy)

    openml_cache.import_arff(copy, dataset_id=DID, cache_root=cache_root, task_id=TID)  # the same cache
    again = run(cache_root, results)
    assert (again.units_computed, again.units_resumed) == (0, 3)

    moved = tmp_path / "moved-results"
    shutil.copytree(results, moved)
    in_the_copy = run(cache_root, moved)
    assert (in_the_copy.units_computed, in_the_copy.units_resumed) == (0, 3)

    other_cache = tmp_path / "other-cache"
    openml_cache.import_arff(copy, dataset_id=DID, cache_root=other_cache, task_id=TID)
    elsewhere = run(other_cache, moved)
    assert (elsewhere.units_computed, elsewhere.units_resumed) == (0, 3)
