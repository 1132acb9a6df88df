"""OpenML tasks and suites through OpenMLSource: offline loading, clear failures, skipping."""

from __future__ import annotations

import pandas as pd
import pytest

import bench.cli.run as bench_run
from bench.data import openml_cache
from bench.data.openml import OpenMLSource
from bench.data.source import TaskRef
from bench.core.errors import BenchError, DataUnavailable
from tests.conftest import TOY_ROWS, compose_config

DID, TID = 990001, 990002


def source(cache_root, **options) -> OpenMLSource:
    return OpenMLSource(suite="openml", offline=True, cache_root=str(cache_root), preprocess={}, **options)


def test_an_uncached_id_offline_fails_at_once_naming_the_id_and_the_import_command(cache_root, no_network):
    with pytest.raises(DataUnavailable) as error:
        source(cache_root, task_id=999999).load(TaskRef("openml", "task 999999", task_id=999999))
    message = str(error.value)
    assert "999999" in message and "python -m bench.data import-arff" in message and "--task-id 999999" in message


def test_an_imported_task_loads_offline_with_its_local_split(toy_arff, cache_root, no_network):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID, seed=3)
    src = source(cache_root, task_id=TID)
    task = src.load(src.refs()[0])
    assert (task.task_id, task.dataset_id, task.task_type, task.input_kind) == (TID, DID, "binary", "tabular")
    assert len(task.splits) == 10 and {s.kind for s in task.splits} == {"local"}
    assert list(task.X.columns) == ["x", "colour", "note"] and len(task.y) == TOY_ROWS
    assert src.folds_of(task) == [0]


def test_a_dataset_without_a_task_gets_seeded_local_folds(toy_arff, cache_root, no_network):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root)
    src = source(cache_root, dataset_id=DID, n_folds=4, folds="all", seed=5)
    task = src.load(src.refs()[0])
    assert task.task_id is None and len(task.splits) == 4 and src.folds_of(task) == [0, 1, 2, 3]
    again = source(cache_root, dataset_id=DID, n_folds=4, seed=5).load(src.refs()[0])
    assert all((a.test == b.test).all() for a, b in zip(task.splits, again.splits, strict=True))


def test_a_corrupt_cache_file_is_named_and_the_cache_is_left_alone(toy_arff, cache_root, no_network):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    features = openml_cache.dataset_dir(cache_root, DID) / "features.xml"
    features.write_text("<oml:data_features><unclosed>")
    with pytest.raises(DataUnavailable, match="corrupt OpenML cache file .*features.xml"):
        source(cache_root, task_id=TID).load(TaskRef("openml", "toy", task_id=TID, dataset_id=DID))
    assert (openml_cache.dataset_dir(cache_root, DID) / "dataset.arff").exists()  # openml would have deleted it


def test_suite_subset_and_unknown_ids(cache_root):
    src = OpenMLSource(suite="openml_cc18", manifest="datasets/openml_cc18.csv", tasks=[3, 31, 9946], max_tasks=2,
                       preprocess={})
    assert [(r.task_id, r.dataset_id, r.name) for r in src.refs()] == [(3, 3, "kr-vs-kp"), (31, 31, "credit-g")]
    assert len(OpenMLSource(suite="openml_cc18", manifest="datasets/openml_cc18.csv", preprocess={}).refs()) == 72
    with pytest.raises(BenchError, match="123456"):
        OpenMLSource(suite="openml_cc18", manifest="datasets/openml_cc18.csv", tasks=[123456], preprocess={}).refs()
    with pytest.raises(BenchError, match="exactly one of"):
        OpenMLSource(suite="openml", preprocess={})


def test_skip_missing_runs_what_is_cached_and_records_the_rest(toy_arff, cache_root, results, tmp_path, no_network):
    manifest = tmp_path / "suite.csv"
    pd.DataFrame({"did": [DID, 990003], "tid": [TID, 990004], "name": ["toy", "absent"]}).to_csv(manifest, index=False)
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    cfg = compose_config(["data=openml_cc18", f"data.manifest={manifest}", "data.offline=true", "data.skip_missing=true",
                          f"paths.openml_cache={cache_root}", "model=logreg", "explainers=[random]",
                          "explain.n_instances=3"], results)
    summary = bench_run.run(cfg)
    assert [label for label, _ in summary.skipped] == ["task 990004 (absent)"]
    assert summary.skipped[0][1].reason == f"not in the OpenML cache {cache_root} (offline)"
    skipped = pd.read_csv(results / "tables" / "skipped.csv")
    assert list(skipped["task_id"]) == [990004] and "import-arff" in skipped["error"].iloc[0]
    accuracy = pd.read_csv(results / "tables" / "accuracy.csv")
    assert set(accuracy["split_kind"]) == {"local"} and set(accuracy["task_id"]) == {TID}
    without_skip = compose_config(["data=openml_cc18", f"data.manifest={manifest}", "data.offline=true",
                                   f"paths.openml_cache={cache_root}", "model=logreg"], results)
    with pytest.raises(DataUnavailable, match="990004"):
        bench_run.run(without_skip)  # after resuming the cached task: nothing finished is lost


def test_offline_a_cached_arff_is_used_where_the_description_names_a_parquet_file(toy_arff, cache_root):
    # Real OpenML descriptions name a parquet file, which openml fetches unless it is cached;
    # a failure there makes openml delete the dataset's folder. No test fixture blocks the
    # network here: bench's own guard and precheck must keep openml off it.
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID)
    description = openml_cache.dataset_dir(cache_root, DID) / "description.xml"
    text = description.read_text()
    description.write_text(text.replace("</oml:data_set_description>",
                                        "<oml:parquet_url>http://openml1.win.tue.nl/dataset990001/dataset_990001.pq"
                                        "</oml:parquet_url></oml:data_set_description>"))
    task = source(cache_root, task_id=TID).load(TaskRef("openml", "toy", task_id=TID, dataset_id=DID))
    assert len(task.y) == TOY_ROWS
    assert description.exists()


def test_the_offline_guard_refuses_connections_and_name_lookups():
    import socket

    from bench.data.openml_network import OfflineViolation, no_network

    with no_network("offline"):
        for attempt in (lambda: socket.create_connection(("example.org", 80)),
                        lambda: socket.getaddrinfo("example.org", 80)):
            with pytest.raises(OfflineViolation):
                attempt()
    assert issubclass(OfflineViolation, DataUnavailable)  # so data.skip_missing skips it


def test_a_reimported_split_changes_the_unit_keys(toy_arff, cache_root, results, no_network):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID, seed=0)
    overrides = ["data=openml", f"data.task_id={TID}", "data.offline=true", f"paths.openml_cache={cache_root}",
                 "model=logreg", "explainers=[random]", "explain.n_instances=3"]
    first = bench_run.run(compose_config(overrides, results))
    assert bench_run.run(compose_config(overrides, results)).units_computed == 0
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root, task_id=TID, seed=1)
    again = bench_run.run(compose_config(overrides, results))
    assert again.units_computed == first.units_computed == 3  # fit, explanation, its deletion metric
    split_seeds = pd.read_csv(results / "tables" / "accuracy.csv")["split_seed"]
    assert sorted(set(split_seeds)) == [0, 1]


@pytest.mark.parametrize("offline", [True, False])
def test_a_cache_root_that_is_a_file_is_named_as_one_not_as_a_missing_task(tmp_path, offline, no_network):
    not_a_folder = tmp_path / "hostname"
    not_a_folder.write_text("a file\n")
    with pytest.raises(BenchError) as error:
        OpenMLSource(suite="openml", task_id=TID, offline=offline, cache_root=str(not_a_folder), preprocess={}).load(
            TaskRef("openml", "toy", task_id=TID))
    assert str(error.value) == (f"cache_root {not_a_folder} is a file, not a folder; "
                                "point paths.openml_cache (or data.cache_root) at a folder")
    assert not isinstance(error.value, DataUnavailable)  # a configuration error: data.skip_missing must not hide it


def test_a_file_where_the_cache_keeps_a_folder_is_named(toy_arff, cache_root, no_network):
    openml_cache.import_arff(toy_arff, dataset_id=DID, cache_root=cache_root)
    tasks = openml_cache.task_dir(cache_root, TID).parent
    tasks.write_text("not a folder\n")
    with pytest.raises(DataUnavailable, match=f"{tasks} is a file where openml keeps a folder; move it away"):
        source(cache_root, task_id=TID).load(TaskRef("openml", "toy", task_id=TID, dataset_id=DID))
