"""A cache bench may only read (a read-only mount) loads as a writable one does and is left as it
was; a file that is fine is never called corrupt."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openml
import pandas as pd
import pytest

from bench.data import openml_cache
from bench.data.openml import OpenMLSource
from bench.core.errors import DataUnavailable

DID, TID = 990001, 990002
OPENML_PICKLES = {"dataset.pkl.py3", "features.xml.pkl", "datasplits.pkl.py3"}


def load(cache_root: Path, **ids):
    src = OpenMLSource(suite="openml", offline=True, cache_root=str(cache_root), preprocess={}, folds="all", **ids)
    return src.load(src.refs()[0])


def snapshot(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.lstat().st_mtime_ns for path in folder.rglob("*")}


@pytest.mark.parametrize("pickled", [False, True], ids=["fresh-import", "openml-pickles-present"])
@pytest.mark.parametrize("ids", [{"task_id": TID}, {"dataset_id": DID}], ids=["task", "dataset"])
def test_a_read_only_cache_loads_offline_as_a_writable_one_and_is_left_unchanged(
        toy_arff, cache_root, tmp_path, make_read_only, no_network, ids, pickled):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    writable = tmp_path / "writable-copy"
    shutil.copytree(cache_root, writable)
    expected = load(writable, **ids)
    if pickled:
        load(cache_root, **ids)  # a first load, writable, leaves openml's pickles behind
        assert OPENML_PICKLES & {path.name for path in cache_root.rglob("*.pkl*")}
    before = snapshot(cache_root)
    make_read_only(cache_root)

    task = load(cache_root, **ids)
    assert snapshot(cache_root) == before
    pd.testing.assert_frame_equal(task.X, expected.X)
    np.testing.assert_array_equal(task.y, expected.y)
    assert [(s.fold, s.kind, s.seed) for s in task.splits] == [(s.fold, s.kind, s.seed) for s in expected.splits]
    for got, want in zip(task.splits, expected.splits, strict=True):
        np.testing.assert_array_equal(got.train, want.train)
        np.testing.assert_array_equal(got.test, want.test)
    assert Path(openml.config._root_cache_directory) == cache_root  # not the shadow, which is gone


def test_a_writable_cache_is_its_own_view_and_a_read_only_one_gets_a_passing_shadow(
        toy_arff, cache_root, make_read_only):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    with openml_cache.writable_view(cache_root, dataset_id=DID, task_id=TID) as view:
        assert view == cache_root.absolute()
    make_read_only(cache_root)
    with openml_cache.writable_view(cache_root, dataset_id=DID, task_id=TID) as view:
        linked = view / openml_cache.task_dir(cache_root, TID).relative_to(cache_root) / "task.xml"
        assert linked.is_symlink() and linked.resolve() == openml_cache.task_dir(cache_root, TID) / "task.xml"
    assert not view.exists()


def test_a_file_system_failure_does_not_ask_to_delete_a_valid_file(toy_arff, cache_root, monkeypatch, no_network):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openml.datasets.OpenMLDataset, "_cache_compressed_file_from_file", disk_full)
    with pytest.raises(DataUnavailable) as error:
        load(cache_root, dataset_id=DID)
    message = str(error.value)
    assert "No space left on device" in message and "check the permissions and free space" in message
    assert "delete" not in message


def test_a_data_file_that_fails_to_parse_is_named_with_delete_it(toy_arff, cache_root, no_network):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root)
    data = openml_cache.dataset_dir(cache_root, DID) / "dataset.arff"
    data.write_text(data.read_text().replace("@data\n", "@data\nnot,a,row,at all,{\n"))  # a header that passes
    with pytest.raises(DataUnavailable, match=f"data file {data} could not be read .*; delete it and import"):
        load(cache_root, dataset_id=DID)
