"""OpenML tasks, datasets and suites through openml-python, cache first.

With `offline=True` the network is never touched. Before openml is called, every file it
would otherwise download must be in the cache: a missing or unreadable one fails at once,
naming the id and the command that imports it. This matters beyond speed: openml deletes a
dataset's or task's whole cache folder when loading it fails. A socket guard backs this up,
refusing any connection or DNS look-up with an error openml does not retry on. Online, a
server that cannot be reached fails as fast, with the way to run offline.

A cache bench cannot write (a read-only mount) is read through a temporary shadow, so that
openml's derived files and deletions never reach it (openml_cache.writable_view).

openml is imported by the methods that load: it takes about 2 s to import, and `--help` and
config errors read only OpenMLSource's signature.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from bench.data import openml_cache
from bench.data.openml_network import (
    causes,
    fail_fast_when_unreachable,
    no_network,
    unreachable,
    unreachable_cause,
)
from bench.data.source import Source, TaskRef
from bench.data.splits import local_splits
from bench.data.task import Split, Task, infer_task_type
from bench.core.errors import BenchError, DataUnavailable, one_line
from bench.core.paths import project_path

def _unreachable_or(ref: TaskRef, error: BaseException, message: str) -> DataUnavailable:
    cause = unreachable_cause(error)
    return unreachable(ref.label, cause) if cause is not None else DataUnavailable(message)


def _data_error(ref: TaskRef, error: Exception, data_file: str | None, root: Path) -> DataUnavailable:
    """Why a dataset's data could not be read. Only a file that fails to parse is to be deleted;
    not one the file system failed on (permissions, a full disk)."""
    cause = unreachable_cause(error)
    if cause is not None:
        return unreachable(ref.label, cause)
    if data_file is None:  # never downloaded: the server failed, not the cache
        return DataUnavailable(f"OpenML {ref.label}: its data could not be downloaded ({one_line(error)})")
    path = Path(data_file).resolve()  # through a shadow of a read-only cache, a link: name the file itself
    # errno set: the OS refused (permissions, a full disk); pyarrow raises OSError without one for bad bytes
    if any(isinstance(c, OSError) and c.errno is not None for c in causes(error)):
        return DataUnavailable(f"OpenML {ref.label}: data file {path} could not be read, or openml's derived files "
                               f"written ({one_line(error)}); check the permissions and free space of {root}",
                               reason="OpenML cache not usable")
    return DataUnavailable(f"OpenML {ref.label}: data file {path} could not be read ({one_line(error)}); "
                           "delete it and import the dataset again", reason="corrupt cache file")


@contextlib.contextmanager
def _openml_root(view: Path, root: Path) -> Iterator[None]:
    """openml's cache root is `view` for the block, then `root` again."""
    import openml

    openml.config.set_root_cache_directory(view)
    try:
        yield
    finally:
        openml.config.set_root_cache_directory(root)


@contextlib.contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    """Sets (or, with None, leaves alone) one environment variable for the block."""
    if value is None:
        yield
        return
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def read_manifest(path: str | Path) -> pd.DataFrame:
    resolved = project_path(path)
    if not resolved.is_file():
        raise BenchError(f"suite manifest {path} not found (looked at {resolved})")
    return pd.read_csv(resolved)


class OpenMLSource(Source):
    """One OpenML task (`task_id`) or dataset (`dataset_id`), or a suite's `manifest` (a CSV,
    relative to the project root) with an optional subset of its ids (`tasks`) or the first
    `max_tasks`. `folds`: a list of fold indices, or "all"; a dataset without an OpenML task is
    split locally into `n_folds` seeded, stratified folds. `target` overrides the dataset's
    default target column. `offline`: never touch the network; `skip_missing`: run the tasks
    that load and list the rest. `cache_root`: openml's cache (None: its usual user cache)."""

    def __init__(
        self,
        *,
        suite: str,
        task_id: int | None = None,
        dataset_id: int | None = None,
        manifest: str | None = None,
        tasks: Sequence[int] | None = None,
        max_tasks: int | None = None,
        skip_missing: bool = False,
        offline: bool = False,
        folds: Any = (0,),
        n_folds: int = 5,
        target: str | None = None,
        preprocess: Mapping[str, Any] | None = None,
        cache_root: str | None = None,
        seed: int = 0,
    ):
        super().__init__(suite=suite, folds=folds, preprocess=preprocess, seed=seed)
        given = [name for name, v in (("task_id", task_id), ("dataset_id", dataset_id), ("manifest", manifest)) if v is not None]
        if len(given) != 1:
            raise BenchError(
                f"data={suite} needs exactly one of data.task_id=<int>, data.dataset_id=<int> or a suite "
                f"(data=openml_cc18, data=amlb); got {given or 'none'}"
            )
        self.task_id = task_id
        self.dataset_id = dataset_id
        self.manifest = manifest
        self.tasks = list(tasks) if tasks is not None else None
        self.max_tasks = max_tasks
        self.skip_missing = skip_missing
        self.offline = offline
        self.n_folds = n_folds
        self.target = target
        self.cache_root = Path(cache_root).expanduser() if cache_root else None

    def import_from_shared(self) -> list[dict]:
        """For offline runs: imports into the cache the selected datasets (and their CC18 tasks)
        that it lacks and that ../shared/data holds; nothing without a shared folder."""
        ids = [ref.dataset_id for ref in self.refs() if ref.dataset_id is not None]
        return openml_cache.import_missing_from_shared(self.cache_root, ids)

    # -- suite resolution ---------------------------------------------------------------
    def refs(self) -> list[TaskRef]:
        if self.task_id is not None:
            return [TaskRef(self.suite, f"task {self.task_id}", task_id=self.task_id)]
        if self.dataset_id is not None:
            return [TaskRef(self.suite, f"dataset {self.dataset_id}", dataset_id=self.dataset_id)]
        table = read_manifest(self.manifest)
        by_task = "tid" in table.columns
        id_column = "tid" if by_task else "dataset_id"
        ids = table[id_column].astype(int).tolist()
        if self.tasks is not None:
            unknown = sorted(set(self.tasks) - set(ids))
            if unknown:
                raise BenchError(f"data.tasks: ids {unknown} are not in suite {self.suite} ({self.manifest}, column {id_column})")
            table = table[table[id_column].isin(self.tasks)]
        if self.max_tasks is not None:
            table = table.head(self.max_tasks)
        did_column = "did" if by_task else "dataset_id"
        return [
            TaskRef(self.suite, str(row["name"]), task_id=int(row["tid"]) if by_task else None, dataset_id=int(row[did_column]))
            for _, row in table.iterrows()
        ]

    # -- loading ------------------------------------------------------------------------
    def load(self, ref: TaskRef) -> Task:
        import openml

        if self.cache_root is not None:
            openml.config.set_root_cache_directory(self.cache_root)
        # openml has no public getter for its root; `get_cache_directory` is the per-server folder below it.
        root = Path(openml.config._root_cache_directory)
        self._check_folders(ref, root)
        dataset_id = _dataset_id(ref, root)
        guard, skip_parquet = fail_fast_when_unreachable(ref.label), None
        if self.offline:
            self._check_cached(ref, root)
            guard = no_network(f"OpenML {ref.label} needs the OpenML server, and data.offline=true")
            # Real descriptions name a parquet file that openml fetches unless it is cached;
            # offline, the cached ARFF must do.
            if not openml_cache.parquet_file(root, dataset_id).is_file():
                skip_parquet = "true"
        with (guard, _environment(openml.config.OPENML_SKIP_PARQUET_ENV_VAR, skip_parquet),
              openml_cache.writable_view(root, dataset_id=dataset_id, task_id=ref.task_id) as view,
              _openml_root(view, root)):
            if ref.task_id is not None:
                return self._load_task(ref, root)
            return self._load_dataset(ref, root)

    @staticmethod
    def _check_folders(ref: TaskRef, root: Path) -> None:
        blocked = openml_cache.file_in_the_way(root, dataset_id=ref.dataset_id, task_id=ref.task_id)
        if blocked == root:  # every task would fail alike: a configuration error, not a skipped task
            raise BenchError(f"cache_root {root} is a file, not a folder; point paths.openml_cache "
                             "(or data.cache_root) at a folder")
        if blocked is not None:
            raise DataUnavailable(f"OpenML cache {root}: {blocked} is a file where openml keeps a folder; "
                                  f"move it away and import {ref.label} again", reason="a file in the OpenML cache's way")

    def _check_cached(self, ref: TaskRef, root: Path) -> None:
        try:
            missing = openml_cache.is_cached(root, dataset_id=ref.dataset_id, task_id=ref.task_id)
            bad = openml_cache.unreadable_files(root, dataset_id=ref.dataset_id, task_id=ref.task_id)
        except ValueError as e:  # a task.xml that does not parse
            raise DataUnavailable(f"corrupt OpenML cache file: {e}; delete it and import {ref.label} again",
                                  reason="corrupt cache file") from e
        except OSError as e:  # a file there that cannot be opened: its permissions, not its content
            raise DataUnavailable(f"OpenML {ref.label}: cannot read the cache {root} ({one_line(e)}); "
                                  "check its permissions", reason="unreadable OpenML cache") from e
        if missing:
            raise DataUnavailable(
                f"OpenML {ref.label} ({ref.name}) is not in the cache {root} and data.offline=true "
                f"(missing {', '.join(Path(m).name for m in missing)}). Import it with `python -m bench.data import-arff FILE "
                f"--dataset-id {ref.dataset_id or 'N'}{f' --task-id {ref.task_id}' if ref.task_id else ''} "
                f"--cache {root}` (or `python -m bench.data import-shared --cache DIR`), "
                "or run with data.offline=false on a machine with a network",
                reason=f"not in the OpenML cache {root} (offline)",
            )
        if bad:
            # Checked before openml sees them: openml deletes a cache folder it fails to load.
            raise DataUnavailable(f"corrupt OpenML cache file {bad[0]}; delete it and import {ref.label} again",
                                  reason="corrupt cache file")

    def _load_task(self, ref: TaskRef, root: Path) -> Task:
        import openml

        try:
            oml_task = openml.tasks.get_task(ref.task_id, download_splits=True, download_data=True,
                                             download_qualities=False, download_features_meta_data=True)
        except DataUnavailable:
            raise
        except Exception as e:  # openml's errors are varied (server, XML, ARFF); report the id
            raise _unreachable_or(ref, e, f"OpenML task {ref.task_id} could not be loaded: {one_line(e)}") from e
        if oml_task.task_type_id not in (openml.tasks.TaskType.SUPERVISED_CLASSIFICATION,
                                         openml.tasks.TaskType.SUPERVISED_REGRESSION):
            raise DataUnavailable(f"OpenML task {ref.task_id} is a {oml_task.task_type}; only classification and regression are supported")
        dataset = oml_task.get_dataset()
        X, y = self._frame(dataset, oml_task.target_name, ref, root)
        repeats, n_folds, samples = oml_task.get_split_dimensions()
        info = openml_cache.content_identity(root, task_id=ref.task_id)
        splits = tuple(
            Split(fold=k, train=np.asarray(train), test=np.asarray(test), kind=info["split_kind"], seed=info.get("seed"))
            for k in range(n_folds)
            for train, test in [oml_task.get_train_test_split_indices(fold=k, repeat=0, sample=0)]
        )
        return self._task(ref, dataset, X, y, infer_task_type(y, is_nominal=_is_nominal(y)), splits)

    def split_identity(self, ref: TaskRef) -> dict:
        """The content of the cached split and data (md5s, split kind, seed, folds), never their
        paths: the same bytes imported from another folder, or a moved cache, keep their unit keys.
        A dataset's local folds come from data.n_folds and the seed, both already in the key."""
        import openml

        root = self.cache_root or Path(openml.config._root_cache_directory)
        return openml_cache.content_identity(root, task_id=ref.task_id, dataset_id=ref.dataset_id)

    def _load_dataset(self, ref: TaskRef, root: Path) -> Task:
        import openml

        try:
            dataset = openml.datasets.get_dataset(ref.dataset_id, download_data=True, download_qualities=False,
                                                  download_features_meta_data=True)
        except DataUnavailable:
            raise
        except Exception as e:
            raise _unreachable_or(ref, e, f"OpenML dataset {ref.dataset_id} could not be loaded: {one_line(e)}") from e
        target = self.target or dataset.default_target_attribute
        if not target:
            raise DataUnavailable(f"OpenML dataset {ref.dataset_id} has no default target; set data.target=<column>")
        X, y = self._frame(dataset, target, ref, root)
        labelled = y.notna().to_numpy()  # rows without a label cannot be scored
        X, y = X[labelled].reset_index(drop=True), y[labelled].reset_index(drop=True)
        task_type = infer_task_type(y, is_nominal=_is_nominal(y))
        splits = local_splits(np.asarray(y), n_folds=self.n_folds, seed=self.seed, stratify=task_type != "regression")
        return self._task(ref, dataset, X, y, task_type, splits)

    def _frame(self, dataset, target: str, ref: TaskRef, root: Path) -> tuple[pd.DataFrame, pd.Series]:
        try:
            X, y, _, _ = dataset.get_data(target=target, dataset_format="dataframe")
        except DataUnavailable:
            raise
        except Exception as e:
            raise _data_error(ref, e, dataset.data_file, root) from e
        return X, y

    def _task(self, ref: TaskRef, dataset, X: pd.DataFrame, y: pd.Series, task_type: str, splits) -> Task:
        return Task(
            suite=self.suite, name=dataset.name, task_type=task_type, input_kind="tabular",
            X=X, y=y.astype(float if task_type == "regression" else object).to_numpy(), splits=splits,
            task_id=ref.task_id, dataset_id=int(dataset.dataset_id),
            metadata={"source": "openml", "version": dataset.version},
        )


def _dataset_id(ref: TaskRef, root: Path) -> int | None:
    """The dataset of `ref`, from its cached task.xml if need be; None when that is not cached or
    not readable (offline, _check_cached has said so; online, openml fetches it again)."""
    if ref.dataset_id is not None or ref.task_id is None:
        return ref.dataset_id
    try:
        return openml_cache.task_dataset_id(root, ref.task_id)
    except (OSError, ValueError):
        return None


def _is_nominal(y: pd.Series) -> bool:
    return isinstance(y.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(y)
