"""Write openml-python cache entries from plain ARFF files, for fully offline use.

openml-python 0.15 looks for a dataset in ``<cache>/datasets/<did>/`` and a task in
``<cache>/tasks/<tid>/`` (``<cache>`` is :func:`openml_cache_dir`) before it goes to the
network. With every file present, ``openml.datasets.get_dataset``, ``dataset.get_data``,
``openml.tasks.get_task(..., download_splits=True)`` and
``task.get_train_test_split_indices`` open no connection, so the benchmark runs on
machines that reach no OpenML server.

Splits made here are *local* (seeded, stratified sklearn folds), not OpenML's official
ones, and are marked so three times: task tags ``bench:local-split`` / ``bench:seed=<s>``,
a ``data_splits_url`` that is not OpenML's, and a ``bench_split.json`` sidecar, which
:func:`task_split_info` reads back.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import tempfile
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse
from xml.parsers.expat import ExpatError

import arff
import xmltodict

from bench.data.openml_files import (
    LOCAL_IMPORT_TAG,
    LOCAL_SPLIT_TAG,
    SIDECAR_NAME,
    SPLIT_CONTENT,
    dataset_files,
    local_task_files,
    parse_arff,
    resolve_target,
    to_json,
)
from bench.core.io import md5, write_bytes_atomic, write_problem
from bench.core.paths import find_shared_data

# openml's default server (openml.config._defaults["server"]); openml files its cache under
# the server's host name reversed, so this one maps to <root>/org/openml/www.
OPENML_SERVER = "https://www.openml.org/api/v1/xml"
TASK_FILES = ("task.xml", "datasplits.arff")
# Pickles openml derives from those files on first load and then prefers to them: a rewrite
# must delete them, or openml keeps serving the old data or split.
DERIVED_DATASET_FILES = ("dataset.pkl.py3", "dataset.feather", "dataset.feather.attributes.pkl.py3",
                         "features.xml.pkl", "qualities.xml.pkl")
DERIVED_TASK_FILES = ("datasplits.pkl.py3",)
DERIVED_SUFFIXES = (".pkl", ".pkl.py3", ".feather")
# Attributes OpenML ignores but the shared (Weka) ARFFs still carry: OpenML lists vowel (307)
# with 13 features including the class, without "Train or Test".
KNOWN_IGNORE_ATTRIBUTES = {307: ("Train or Test",)}

log = logging.getLogger(__name__)


def openml_cache_dir(cache_root: str | Path, server: str = OPENML_SERVER) -> Path:
    """The folder openml uses for ``server`` under ``cache_root``, derived as openml does."""
    return Path(cache_root).joinpath(*reversed(urlparse(server).netloc.split(".")))


def dataset_dir(cache_root: str | Path, dataset_id: int) -> Path:
    return openml_cache_dir(cache_root) / "datasets" / str(dataset_id)


def task_dir(cache_root: str | Path, task_id: int) -> Path:
    return openml_cache_dir(cache_root) / "tasks" / str(task_id)


def import_arff(arff_path: str | Path, *, dataset_id: int, cache_root: str | Path,
                task_id: int | None = None, n_folds: int = 10, seed: int = 0, name: str | None = None,
                target: str | None = None, ignore: tuple[str, ...] = ()) -> dict:
    """Write a dataset entry, and with ``task_id`` a classification task with a local split.

    ``target`` defaults to the last attribute; ``ignore`` names attributes ``get_data``
    should drop. All files are parsed, validated and rendered before the first write, so a
    bad ARFF leaves the cache untouched and raises ``ValueError`` naming the file.
    """
    parsed = parse_arff(Path(arff_path))
    target = resolve_target(parsed, target, ignore)
    name = name or parsed.path.stem
    entry_files = dataset_files(parsed, dataset_id, name, target, ignore)
    task_files = None
    if task_id is not None:
        task_files = local_task_files(parsed, dataset_id, task_id, target, n_folds, seed)

    paths = _write_entry(dataset_dir(cache_root, dataset_id), entry_files, DERIVED_DATASET_FILES)
    if task_files is not None:
        paths.update(_write_entry(task_dir(cache_root, task_id), task_files, DERIVED_TASK_FILES))
    return {"dataset_id": dataset_id, "name": name, "rows": len(parsed.columns[0]), "target": target,
            "task_id": task_id, "split_kind": None if task_id is None else "local", "paths": paths}


def import_official_task(task_folder: str | Path, *, dataset_id: int, cache_root: str | Path) -> dict:
    """Copy an official OpenML task folder (``task.xml`` + ``datasplits.arff``) as is."""
    folder = Path(task_folder)
    task_xml, splits = (folder / "task.xml").read_bytes(), (folder / "datasplits.arff").read_bytes()
    task_id, source_did = _task_ids(folder / "task.xml")
    if source_did != dataset_id:
        raise ValueError(f"{folder / 'task.xml'}: task is on dataset {source_did}, not {dataset_id}")
    # source is for people only: unit keys take the sidecar's content fields (SPLIT_CONTENT).
    sidecar = {"split_kind": "openml", "split_md5": md5(splits), "source": str(folder.resolve())}
    files = {"datasplits.arff": splits, SIDECAR_NAME: to_json(sidecar), "task.xml": task_xml}
    paths = _write_entry(task_dir(cache_root, task_id), files, DERIVED_TASK_FILES)
    return {"task_id": task_id, "split_kind": "openml", "paths": paths}


def task_split_info(cache_root: str | Path, task_id: int) -> dict:
    """How the cached task's split was made: ``{"split_kind": "local", "seed": ..., "n_folds": ...,
    "split_md5": ..., ...}`` for a split made here, ``{"split_kind": "openml", ...}`` for OpenML's own."""
    folder = task_dir(cache_root, task_id)
    if (folder / SIDECAR_NAME).is_file():
        return json.loads((folder / SIDECAR_NAME).read_text(encoding="utf8"))
    if not (folder / "task.xml").is_file():
        raise FileNotFoundError(f"task {task_id} is not cached under {folder}")
    task = xmltodict.parse((folder / "task.xml").read_bytes(), force_list=("oml:tag",))["oml:task"]
    return {"split_kind": "local" if LOCAL_SPLIT_TAG in task.get("oml:tag", []) else "openml"}


def content_identity(cache_root: str | Path, *, task_id: int | None = None,
                     dataset_id: int | None = None) -> dict:
    """What a cached task's split and data are, never where they came from: the split's kind,
    seed, folds and md5 and the data's md5, for the entries bench imported.

    An entry openml downloads, or will, is named by its OpenML id alone (already in a unit's
    key): OpenML never changes a published dataset or split, and the identity must read the same
    before the download as after, or a resumed run would redo every unit it had finished."""
    identity = {}
    if task_id is not None:
        try:
            info = task_split_info(cache_root, task_id)
            dataset_id = dataset_id or task_dataset_id(cache_root, task_id)
        except FileNotFoundError:  # not cached yet: openml will fetch OpenML's own split
            info = {"split_kind": "openml"}
        except (ValueError, KeyError):  # unreadable: loading reports the corrupt file
            info = {"split_kind": "unreadable"}
        identity = {key: info[key] for key in SPLIT_CONTENT if key in info}
    data_md5 = imported_data_md5(cache_root, dataset_id) if dataset_id is not None else None
    return identity | ({"data_md5": data_md5} if data_md5 else {})


def imported_data_md5(cache_root: str | Path, dataset_id: int) -> str | None:
    """The md5 of a dataset bench imported; None for one openml downloaded, or none cached."""
    description = _description(cache_root, dataset_id)
    return description.get("oml:md5_checksum") if LOCAL_IMPORT_TAG in description.get("oml:tag", []) else None


def _description(cache_root: str | Path, dataset_id: int) -> dict:
    """A cached description.xml as a dict; empty when it is missing or unreadable (loading
    reports a corrupt file, naming it)."""
    path = dataset_dir(cache_root, dataset_id) / "description.xml"
    try:
        return xmltodict.parse(path.read_bytes(), force_list=("oml:tag",))["oml:data_set_description"]
    except (OSError, ExpatError, KeyError, TypeError):
        return {}


def downloads(cache_root: str | Path, *, dataset_id: int | None = None, task_id: int | None = None) -> list[str]:
    """Those of the entries that the cache holds as openml downloaded them, rather than as bench
    imported them, by label ("dataset 3", "task 3")."""
    found = []
    if dataset_id is not None and (dataset_dir(cache_root, dataset_id) / "description.xml").is_file() \
            and LOCAL_IMPORT_TAG not in _description(cache_root, dataset_id).get("oml:tag", []):
        found.append(f"dataset {dataset_id}")
    if task_id is not None and (task_dir(cache_root, task_id) / "task.xml").is_file() \
            and not (task_dir(cache_root, task_id) / SIDECAR_NAME).is_file():
        found.append(f"task {task_id}")
    return found


def existing_entries(cache_root: str | Path, *, dataset_id: int, task_id: int | None = None) -> dict[str, Path]:
    """The folders of these entries that the cache already holds, by label ("dataset 3"); an
    entry is entered through its description.xml or task.xml."""
    entries = {f"dataset {dataset_id}": (dataset_dir(cache_root, dataset_id), "description.xml")}
    if task_id is not None:
        entries[f"task {task_id}"] = (task_dir(cache_root, task_id), "task.xml")
    return {label: folder for label, (folder, entry) in entries.items() if (folder / entry).is_file()}


def file_in_the_way(cache_root: str | Path, *, dataset_id: int | None = None,
                    task_id: int | None = None) -> Path | None:
    """The first of the cache root and the folders below it down to these entries that is a
    file: openml cannot use the cache then, and every file in it would look missing."""
    root = Path(cache_root)
    entries = [dataset_dir(root, dataset_id)] if dataset_id is not None else []
    entries += [task_dir(root, task_id)] if task_id is not None else []
    for entry in entries or [root]:
        for folder in [*reversed(entry.relative_to(root).parents), Path(entry.relative_to(root))]:
            if (root / folder).exists() and not (root / folder).is_dir():
                return root / folder
    return None


def task_dataset_id(cache_root: str | Path, task_id: int) -> int | None:
    """The dataset a cached task is on, or None when the task is not cached."""
    task_xml = task_dir(cache_root, task_id) / "task.xml"
    return _task_ids(task_xml)[1] if task_xml.is_file() else None


def is_cached(cache_root: str | Path, *, dataset_id: int | None = None,
              task_id: int | None = None) -> list[str]:
    """The cache files openml would have to download; empty when the entry is complete.

    A task's check covers the dataset its ``task.xml`` names. Check before calling openml:
    when a load fails, openml deletes the whole dataset or task folder.
    """
    missing = []
    if task_id is not None:
        folder = task_dir(cache_root, task_id)
        missing += [str(folder / f) for f in TASK_FILES if not (folder / f).is_file()]
        if dataset_id is None and (folder / "task.xml").is_file():
            dataset_id = _task_ids(folder / "task.xml")[1]
    if dataset_id is not None:
        folder = dataset_dir(cache_root, dataset_id)
        # What bench asks openml for: the description, the features (class labels) and the data,
        # as openml's own parquet download or as ARFF; not the qualities.
        missing += [str(folder / f) for f in ("description.xml", "features.xml") if not (folder / f).is_file()]
        if not (folder / "dataset.arff").is_file() and not parquet_file(cache_root, dataset_id).is_file():
            missing.append(str(folder / "dataset.arff"))
    return missing


def parquet_file(cache_root: str | Path, dataset_id: int) -> Path:
    """Where openml 0.15 keeps a dataset it downloaded as parquet."""
    return dataset_dir(cache_root, dataset_id) / f"dataset_{dataset_id}.pq"


def unreadable_files(cache_root: str | Path, *, dataset_id: int | None = None,
                     task_id: int | None = None) -> list[str]:
    """Cache files present but unreadable: XML that does not parse, a split file that is not
    ARFF, a dataset file without an ARFF header. Checked before openml sees them, because
    openml deletes the whole folder of an entry it fails to load."""
    candidates = []
    if task_id is not None:
        folder = task_dir(cache_root, task_id)
        candidates += [folder / "task.xml", folder / "datasplits.arff"]
    if dataset_id is not None:
        folder = dataset_dir(cache_root, dataset_id)
        candidates += [folder / "description.xml", folder / "features.xml", folder / "qualities.xml",
                       folder / "dataset.arff"]
    return [str(path) for path in candidates if path.is_file() and not _readable(path)]


def _readable(path: Path) -> bool:
    """Whether the file parses. A file that cannot be opened (permissions) raises OSError: that
    is no reason to delete it."""
    try:
        if path.suffix == ".xml":
            xmltodict.parse(path.read_bytes())
        elif path.name == "datasplits.arff":
            arff.loads(path.read_text(encoding="utf8"))
        else:  # a dataset can be large: its header is checked here, its body when openml reads it
            with path.open(encoding="utf8") as fh:
                first = next((line for line in fh if line.strip() and not line.startswith("%")), "")
            return first.lower().startswith("@relation")
    except OSError:
        raise
    except Exception:  # any parse error means unreadable; which one does not matter here
        return False
    return True


def import_shared(shared_data_dir: str | Path, cache_root: str | Path, *, only: set[int] | None = None,
                  seed: int = 0, n_folds: int = 10) -> list[dict]:
    """Import every ``<shared>/openml/<did>-<name>.arff``, with its task for CC18 datasets.

    Task ids come from ``<shared>/cc18.csv``. A task whose official split ships in
    ``<shared>/openml-tasks/<tid>/`` is copied as is; the others get a local seeded
    stratified split. ARFFs of dataset versions outside CC18 become datasets only. ``only``
    limits the import to those dataset ids. Re-running overwrites the entries bench wrote (by
    this or import_arff); a dataset whose entry, or whose task's, openml downloaded from OpenML
    is skipped, and logged.
    """
    shared = Path(shared_data_dir)
    if not (shared / "openml").is_dir() or not (shared / "cc18.csv").is_file():
        raise FileNotFoundError(f"{shared} is not the shared data folder (needs openml/ and cc18.csv)")
    with (shared / "cc18.csv").open(encoding="utf8", newline="") as fh:
        cc18 = {int(row["did"]): row for row in csv.DictReader(fh)}
    results = []
    for path in sorted((shared / "openml").glob("*.arff"), key=_leading_id):
        did = _leading_id(path)
        if only is not None and did not in only:
            continue
        row = cc18.get(did)
        tid = int(row["tid"]) if row else None
        downloaded = downloads(cache_root, dataset_id=did, task_id=tid)
        if downloaded:
            # A real download may hold OpenML's official split, which a local one must not replace;
            # the dataset and its task are imported together, so neither is.
            log.warning("skipped %s: the cache holds OpenML's own download of %s; `python -m bench.data "
                        "import-arff %s --dataset-id %s%s --cache %s --force` replaces it", path.name,
                        " and ".join(downloaded), path, did, f" --task-id {tid}" if tid else "", cache_root)
            continue
        official = shared / "openml-tasks" / str(tid)
        has_official = tid is not None and (official / "task.xml").is_file()
        result = import_arff(path, dataset_id=did, cache_root=cache_root,
                             task_id=None if has_official else tid, n_folds=n_folds, seed=seed,
                             name=row["name"] if row else path.stem.partition("-")[2],
                             ignore=KNOWN_IGNORE_ATTRIBUTES.get(did, ()))
        if has_official:
            task = import_official_task(official, dataset_id=did, cache_root=cache_root)
            result["paths"].update(task.pop("paths"))
            result.update(task)
        results.append(result)
    return results


def _task_ids(task_xml: Path) -> tuple[int, int]:
    """(task id, dataset id) of a task.xml; ValueError naming the file when it is not one."""
    try:
        task = xmltodict.parse(task_xml.read_bytes(), force_list=("oml:input",))["oml:task"]
        source = next(i for i in task["oml:input"] if i["@name"] == "source_data")
        return int(task["oml:task_id"]), int(source["oml:data_set"]["oml:data_set_id"])
    except (ExpatError, KeyError, StopIteration, TypeError, ValueError) as e:
        raise ValueError(f"{task_xml}: not an OpenML task description ({type(e).__name__}: {e})") from None


def _leading_id(path: Path) -> int:
    head = path.stem.partition("-")[0]
    if not head.isdigit():
        raise ValueError(f"{path}: shared ARFF names must start with the dataset id (<did>-<name>.arff)")
    return int(head)


# --- writing ------------------------------------------------------------------------------------


def _write_entry(folder: Path, files: dict[str, bytes], derived: tuple[str, ...]) -> dict[str, str]:
    """Drop openml's derived pickles, then write each file atomically, in the given order."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in derived:
        (folder / stale).unlink(missing_ok=True)
    for file_name, content in files.items():
        write_bytes_atomic(folder / file_name, content)
    return {file_name: str(folder / file_name) for file_name in files}


def import_missing_from_shared(cache_root: str | Path, dataset_ids: list[int]) -> list[dict]:
    """Offline runs: import into the cache those of `dataset_ids` that it lacks and that the
    shared data folder (../shared/data) holds; nothing when there is no shared folder."""
    shared = find_shared_data()
    missing = {int(d) for d in dataset_ids if is_cached(cache_root, dataset_id=int(d))}
    if shared is None or not missing:
        return []
    return import_shared(shared, cache_root, only=missing)


# --- reading a cache bench may not write -------------------------------------------------------


@contextlib.contextmanager
def writable_view(cache_root: str | Path, *, dataset_id: int | None = None,
                  task_id: int | None = None) -> Iterator[Path]:
    """A cache root holding these entries that openml may write into: ``cache_root`` itself when
    their folders are writable, else a temporary shadow of them, removed on exit.

    openml 0.15 writes what it derives on first load (data, feature, quality and split pickles)
    into the entry's folder, with no option to skip it, and deletes the folder when a load fails;
    in a cache mounted read-only, or someone else's, the load fails. The shadow re-creates the
    entry folders with a symbolic link to each source file (XML, ARFF, parquet): openml writes its
    pickles beside them and can delete nothing but links. The cache's own pickles are not linked,
    because openml rewrites one it finds stale through the link; it parses the source instead.
    """
    root = Path(cache_root).absolute()
    folders = [dataset_dir(root, dataset_id)] if dataset_id is not None else []
    folders += [task_dir(root, task_id)] if task_id is not None else []
    if all(write_problem(folder) is None for folder in folders or [root]):
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="bench-openml-shadow-") as shadow:
        for folder in (f for f in folders if f.is_dir()):
            twin = Path(shadow) / folder.relative_to(root)
            twin.mkdir(parents=True)
            for source in folder.iterdir():
                if source.is_file() and not source.name.endswith(DERIVED_SUFFIXES):
                    (twin / source.name).symlink_to(source)
        log.info("OpenML cache %s is read-only: what openml derives or downloads now goes to %s, and is not kept",
                 root, shadow)
        yield Path(shadow)
