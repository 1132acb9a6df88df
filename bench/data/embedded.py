"""Data that ships inside installed packages or is generated: it needs no network and no
../shared. wdbc is scikit-learn's breast-cancer set (OpenML dataset 1510, a CC18 task); digits
is scikit-learn's 8x8 digits as an image task; the XAI-Bench sets carry their ground truth."""

from __future__ import annotations

import zlib
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import psutil
from sklearn.datasets import load_breast_cancer, load_digits

from bench.data import synthetic
from bench.data.source import Source, TaskRef
from bench.data.splits import local_splits
from bench.data.gaussian import Gaussian
from bench.data.task import Split, Task

REAL = ("wdbc", "digits")
AVAILABLE = REAL + tuple(synthetic.GENERATORS)


class EmbeddedSource(Source):
    """`datasets` of AVAILABLE; `folds` (a list of fold indices, or "all") of `n_folds` seeded,
    stratified folds for the real sets. The synthetic sets draw `n_train` + `n_test` rows of
    x ~ N(0, I + rho(11^T - I)) with label noise of `noise_std`, as a regression or, for
    CLASSIFIABLE sets, a classification (`synthetic_mode`); `compat` is the run's switch."""

    def __init__(
        self,
        *,
        suite: str,
        datasets: Sequence[str],
        folds: Any = (0,),
        n_folds: int = 5,
        rho: float = 0.0,
        n_train: int = 1000,
        n_test: int = 100,
        noise_std: float = 0.01,
        synthetic_mode: synthetic.SyntheticMode = "regression",
        preprocess: Mapping[str, Any] | None = None,
        compat: synthetic.Compat = "correct",
        seed: int = 0,
    ):
        super().__init__(suite=suite, folds=folds, preprocess=preprocess, seed=seed)
        unknown = [d for d in datasets if d not in AVAILABLE]
        if unknown:
            raise ValueError(f"data.datasets: unknown embedded dataset(s) {unknown}; available: {list(AVAILABLE)}")
        if n_folds < 2:
            raise ValueError(f"data.n_folds must be at least 2, got {n_folds}")
        synthetic.covariance(rho)  # validates rho
        synthetic.check_compat(compat)
        for name in datasets:
            if name in synthetic.GENERATORS:
                synthetic.check_mode(name, synthetic_mode)
        if any(name in synthetic.GENERATORS for name in datasets):
            _check_sizes(n_train, n_test)
        self.datasets = list(datasets)
        self.n_folds = n_folds
        self.rho = rho
        self.n_train = n_train
        self.n_test = n_test
        self.noise_std = noise_std
        self.synthetic_mode = synthetic_mode
        self.compat = compat

    def refs(self) -> list[TaskRef]:
        return [TaskRef(self.suite, name, dataset_id=1510 if name == "wdbc" else None) for name in self.datasets]

    def load(self, ref: TaskRef) -> Task:
        if ref.name == "wdbc":
            return self._wdbc(ref)
        if ref.name == "digits":
            return self._digits(ref)
        return self._synthetic(ref)

    def _wdbc(self, ref: TaskRef) -> Task:
        bunch = load_breast_cancer(as_frame=True)
        y = bunch.target.map(dict(enumerate(bunch.target_names))).to_numpy()
        splits = local_splits(y, n_folds=self.n_folds, seed=self.seed, stratify=True)
        return Task(self.suite, "wdbc", "binary", "tabular", bunch.data, y, splits, dataset_id=1510,
                    metadata={"source": "sklearn.datasets.load_breast_cancer (OpenML 1510)"})

    def _digits(self, ref: TaskRef) -> Task:
        bunch = load_digits()
        X = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
        y = bunch.target
        splits = local_splits(y, n_folds=self.n_folds, seed=self.seed, stratify=True)
        return Task(self.suite, "digits", "multiclass", "image", X, y, splits,
                    metadata={"source": "sklearn.datasets.load_digits", "image_shape": X.shape[1:]})

    def _synthetic(self, ref: TaskRef) -> Task:
        # Each dataset gets its own stream, so adding one to the list changes no other.
        rng = np.random.default_rng([self.seed, zlib.crc32(ref.name.encode())])
        X, y = synthetic.generate(ref.name, rho=self.rho, n_train=self.n_train, n_test=self.n_test,
                                  noise_std=self.noise_std, mode=self.synthetic_mode, rng=rng,
                                  compat=self.compat)
        n = self.n_train
        split = Split(fold=0, train=np.arange(n), test=np.arange(n, n + self.n_test), kind="generated", seed=self.seed)
        frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        task_type = "binary" if self.synthetic_mode == "classification" else "regression"
        return Task(self.suite, ref.name, task_type, "tabular", frame, y, (split,), metadata={
            "source": "XAI-Bench generator", "generator": ref.name, "rho": self.rho, "noise_std": self.noise_std,
            "mode": self.synthetic_mode, "compat": self.compat,
            "truth": synthetic.SyntheticTruth(Gaussian(np.zeros(synthetic.N_FEATURES), synthetic.covariance(self.rho)), ref.name,
                                    synthetic.PLANTED_INTERACTIONS.get(ref.name, ())),
            "preprocess": False,  # already N(0, Sigma); the ground truth lives in this space
        })


def _check_sizes(n_train: int, n_test: int) -> None:
    """Sizes a synthetic set can be drawn with, before drawing: a typo such as n_train=0 or an
    extra zero must not surface as a failed fit, an allocation error deep in numpy, or the OOM killer."""
    for key, value, least in (("n_train", n_train, 2), ("n_test", n_test, 1)):
        if value < least:
            raise ValueError(f"data.{key} must be at least {least} rows, got {value}")
    # At its peak, drawing holds the normal draw, its labelled copy and the stacked result.
    needed = 3 * (n_train + n_test) * synthetic.N_FEATURES * np.dtype(np.float64).itemsize
    available = psutil.virtual_memory().available
    if needed > available:
        raise ValueError(f"data.n_train={n_train} and data.n_test={n_test} need about {needed / 2**30:.1f} GiB to "
                         f"draw, more than the {available / 2**30:.1f} GiB of memory available; draw fewer rows")
