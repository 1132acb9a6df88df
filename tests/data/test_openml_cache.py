"""Cache entries written by bench.data.openml_cache load through openml's own API offline."""

from __future__ import annotations

import csv
import shutil
import socket
from pathlib import Path

import numpy as np
import openml
import pandas as pd
import pytest

from bench.data import openml_cache as oc
from bench.data.__main__ import main as cli_main
from tests.conftest import TOY_ROWS as N_ROWS
from tests.conftest import toy_rows

DID, TID = 990001, 990002


def _folds(task) -> list[tuple[np.ndarray, np.ndarray]]:
    repeats, n_folds, samples = task.get_split_dimensions()
    assert (repeats, samples) == (1, 1)
    return [task.get_train_test_split_indices(fold=k) for k in range(n_folds)]


def test_cache_dir_matches_openml(cache_root):
    assert str(oc.openml_cache_dir(cache_root)) == openml.config.get_cache_directory()


def test_network_is_blocked(no_network):
    with pytest.raises(AssertionError, match="network access"):
        socket.create_connection(("www.openml.org", 443))


def test_dataset_round_trip(toy_arff, cache_root, no_network):
    result = oc.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    assert (result["rows"], result["target"], result["split_kind"]) == (N_ROWS, "class", "local")
    assert oc.is_cached(cache_root, task_id=TID) == []

    dataset = openml.datasets.get_dataset(DID, download_data=True, download_qualities=True,
                                          download_features_meta_data=True)
    assert dataset.default_target_attribute == "class"
    X, y, categorical, names = dataset.get_data(target="class", dataset_format="dataframe")
    xs, colours, notes, labels = zip(*toy_rows(), strict=True)
    assert names == ["x", "colour", "note"] and categorical == [False, True, False]
    np.testing.assert_array_equal(X["x"].to_numpy(), np.array(xs, dtype=float))
    assert isinstance(X["colour"].dtype, pd.CategoricalDtype)
    assert list(X["colour"].cat.categories) == ["red", "green", "dark blue"]
    assert [None if pd.isna(v) else v for v in X["colour"]] == list(colours)
    assert [None if pd.isna(v) else v for v in X["note"]] == list(notes)
    assert isinstance(y.dtype, pd.CategoricalDtype) and list(y) == list(labels)
    assert dataset.features[1].nominal_values == ["red", "green", "dark blue"]
    assert [f.number_missing_values for f in dataset.features.values()] == [
        sum(v is None for v in column) for column in (xs, colours, notes, labels)]
    assert dataset.qualities["NumberOfInstances"] == N_ROWS
    assert dataset.qualities["NumberOfMissingValues"] == X.isna().sum().sum()
    assert dataset.qualities["NumberOfClasses"] == 2


def test_task_round_trip_has_local_stratified_split(toy_arff, cache_root, no_network):
    oc.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID, seed=7)
    task = openml.tasks.get_task(TID, download_splits=True)
    assert (task.dataset_id, task.target_name, task.class_labels) == (DID, "class", ["neg", "pos"])
    assert task.estimation_procedure["data_splits_url"] == "file://local/bench-split/seed=7"
    X, y = task.get_X_and_y(dataset_format="dataframe")
    assert len(X) == N_ROWS

    folds = _folds(task)
    assert len(folds) == 10
    test_counts = np.zeros(N_ROWS, dtype=int)
    for train, test in folds:
        assert sorted([*train, *test]) == list(range(N_ROWS))
        test_counts[test] += 1
        assert (y.iloc[test] == "pos").sum() in (2, 3)  # 24 'pos' over 10 folds
    assert (test_counts == 1).all()
    assert oc.task_split_info(cache_root, TID)["split_kind"] == "local"


def test_same_seed_same_split_other_seed_differs(toy_arff, cache_root, tmp_path, no_network):
    oc.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID, seed=0)
    oc.import_arff(toy_arff, dataset_id=DID, cache_root=tmp_path / "again", task_id=TID, seed=0)
    split_file = Path("tasks", str(TID), "datasplits.arff")
    first = (oc.openml_cache_dir(cache_root) / split_file).read_bytes()
    assert first == (oc.openml_cache_dir(tmp_path / "again") / split_file).read_bytes()

    before = _folds(openml.tasks.get_task(TID, download_splits=True))  # openml pickles the split
    oc.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID, seed=1)
    after = _folds(openml.tasks.get_task(TID, download_splits=True))   # the pickle must be dropped
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(before, after, strict=True))


def test_is_cached_names_missing_files(toy_arff, cache_root):
    assert len(oc.is_cached(cache_root, dataset_id=DID, task_id=TID)) == 5  # qualities are not needed
    oc.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    features = oc.dataset_dir(cache_root, DID) / "features.xml"
    features.unlink()
    assert oc.is_cached(cache_root, task_id=TID) == [str(features)]


@pytest.mark.parametrize("body", ["@relation r\n@attribute a numeric\n@data\nnot-a-number\n",
                                  "this is not an ARFF file\n", ""])
def test_corrupt_arff_raises_and_leaves_cache_alone(tmp_path, cache_root, toy_arff, body):
    oc.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root)
    description = (oc.dataset_dir(cache_root, DID) / "description.xml").read_bytes()
    bad = tmp_path / "broken.arff"
    bad.write_text(body, encoding="utf8")
    with pytest.raises(ValueError, match=r"broken\.arff"):
        oc.import_arff(bad, dataset_id=DID, cache_root=cache_root, task_id=TID)
    assert (oc.dataset_dir(cache_root, DID) / "description.xml").read_bytes() == description
    assert not oc.task_dir(cache_root, TID).exists()


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    bad = tmp_path / "broken.arff"
    bad.write_text("garbage\n", encoding="utf8")
    cache = str(tmp_path / "c")
    for argv in (["import-arff", str(bad), "--dataset-id", "1", "--cache", cache],
                 ["import-arff", str(tmp_path / "nope.arff"), "--dataset-id", "1", "--cache", cache],
                 ["import-shared", "--cache", cache, "--shared", str(tmp_path)]):
        assert cli_main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "c").exists()


def test_import_shared_names_each_folder_it_tried_once_and_the_variable(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)  # run from the project root: its parent's shared/data is tried once
    monkeypatch.setattr("bench.core.paths.PROJECT_ROOT", project)
    monkeypatch.setenv("BENCH_SHARED_DATA", str(tmp_path / "elsewhere"))
    assert cli_main(["import-shared", "--cache", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert f"(tried {tmp_path / 'elsewhere'}, {tmp_path / 'shared' / 'data'}); pass --shared PATH or set " \
        "BENCH_SHARED_DATA=PATH" in err


def test_import_shared_keeps_official_split_of_task_3(shared_data, cache_root, no_network):
    shared = shared_data
    with (shared / "cc18.csv").open(encoding="utf8", newline="") as fh:
        tid_of = {int(row["did"]): int(row["tid"]) for row in csv.DictReader(fh)}

    results = {r["dataset_id"]: r for r in oc.import_shared(shared, cache_root, only={3, 1510, 31})}
    assert sorted(results) == [3, 31, 1510]
    assert {did: r["split_kind"] for did, r in results.items()} == {
        3: "openml", 31: "local", 1510: "local"}
    assert oc.task_split_info(cache_root, 3)["split_kind"] == "openml"
    assert oc.task_split_info(cache_root, tid_of[1510])["split_kind"] == "local"

    task = openml.tasks.get_task(3, download_splits=True)
    shipped = (shared / "openml-tasks" / "3" / "datasplits.arff").read_text(encoding="utf8")
    shipped_test = [int(line.split(",")[1]) for line in shipped.splitlines()
                    if line.startswith("TEST,") and line.endswith(",0,0")]
    np.testing.assert_array_equal(task.get_train_test_split_indices(fold=0)[1], shipped_test)

    local = openml.tasks.get_task(tid_of[1510], download_splits=True)
    X, _ = local.get_X_and_y(dataset_format="dataframe")
    assert (len(X), local.target_name) == (569, "Class")
    assert sum(len(test) for _, test in _folds(local)) == 569


def test_import_arff_refuses_to_overwrite_an_entry_without_force(toy_arff, cache_root, capsys):
    cache = str(cache_root)
    argv = ["import-arff", str(toy_arff), "--dataset-id", str(DID), "--task-id", str(TID), "--cache", cache]
    assert cli_main(argv) == 0
    description = oc.dataset_dir(cache_root, DID) / "description.xml"
    written = description.stat().st_mtime_ns
    capsys.readouterr()

    assert cli_main([*argv[:2], "--dataset-id", str(DID), "--cache", cache]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: the cache already holds dataset {DID} ({oc.dataset_dir(cache_root, DID)}); "
                   "pass --force to overwrite, or choose another id\n")
    assert cli_main(argv) == 2 and f"task {TID} ({oc.task_dir(cache_root, TID)})" in capsys.readouterr().err
    assert description.stat().st_mtime_ns == written

    assert cli_main([*argv, "--seed", "1", "--force"]) == 0
    assert oc.task_split_info(cache_root, TID)["seed"] == 1


def test_cli_names_a_cache_that_is_a_file(toy_arff, tmp_path, capsys):
    not_a_folder = tmp_path / "hostname"
    not_a_folder.write_text("a file\n")
    assert cli_main(["import-arff", str(toy_arff), "--dataset-id", "1", "--cache", str(not_a_folder)]) == 2
    assert capsys.readouterr().err == f"error: --cache {not_a_folder} is a file, not a folder; pass a folder\n"


def test_import_shared_overwrites_its_own_entries_and_keeps_openmls_downloads(toy_arff, tmp_path, cache_root, caplog):
    shared = tmp_path / "shared"
    (shared / "openml").mkdir(parents=True)
    shutil.copy(toy_arff, shared / "openml" / f"{DID}-toy.arff")
    (shared / "cc18.csv").write_text(f"did,tid,name\n{DID},{TID},toy\n")
    assert [r["task_id"] for r in oc.import_shared(shared, cache_root)] == [TID]
    assert [r["task_id"] for r in oc.import_shared(shared, cache_root, seed=1)] == [TID]  # its own: overwritten
    assert oc.task_split_info(cache_root, TID)["seed"] == 1

    (oc.task_dir(cache_root, TID) / "bench_split.json").unlink()  # as a task openml downloaded
    task_xml = (oc.task_dir(cache_root, TID) / "task.xml").read_bytes()
    assert oc.import_shared(shared, cache_root, seed=2) == []
    assert (oc.task_dir(cache_root, TID) / "task.xml").read_bytes() == task_xml
    assert f"skipped {DID}-toy.arff: the cache holds OpenML's own download of task {TID};" in caplog.text
