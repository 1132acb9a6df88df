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
:func:`task_split_kind` reads back.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import arff
import numpy as np
import xmltodict
from sklearn.model_selection import StratifiedKFold

# openml's default server (openml.config._defaults["server"]); openml files its cache under
# the server's host name reversed, so this one maps to <root>/org/openml/www.
OPENML_SERVER = "https://www.openml.org/api/v1/xml"
OML_NS = "http://openml.org/openml"
LOCAL_SPLIT_TAG = "bench:local-split"
SIDECAR_NAME = "bench_split.json"
DATASET_FILES = ("description.xml", "features.xml", "qualities.xml", "dataset.arff")
TASK_FILES = ("task.xml", "datasplits.arff")
# Pickles openml derives from those files on first load and then prefers to them: a rewrite
# must delete them, or openml keeps serving the old data or split.
DERIVED_DATASET_FILES = ("dataset.pkl.py3", "dataset.feather", "dataset.feather.attributes.pkl.py3",
                         "features.xml.pkl", "qualities.xml.pkl")
DERIVED_TASK_FILES = ("datasplits.pkl.py3",)
# Attributes OpenML ignores but the shared (Weka) ARFFs still carry: OpenML lists vowel (307)
# with 13 features including the class, without "Train or Test".
KNOWN_IGNORE_ATTRIBUTES = {307: ("Train or Test",)}
ARFF_NUMERIC_TYPES = {"NUMERIC", "REAL", "INTEGER"}

ET.register_namespace("oml", OML_NS)


@dataclass(frozen=True)
class _Arff:
    """A parsed ARFF file, by column: nominal values as indices, missing values as None."""

    path: Path
    raw: bytes
    attributes: list[tuple[str, str | list[str]]]
    columns: list[tuple]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.attributes]

    def column(self, name: str) -> tuple:
        return self.columns[self.names.index(name)]

    @property
    def md5(self) -> str:
        return hashlib.md5(self.raw, usedforsecurity=False).hexdigest()  # OpenML's checksum


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
    parsed = _parse_arff(Path(arff_path))
    target = _resolve_target(parsed, target, ignore)
    name = name or parsed.path.stem
    dataset_files = _dataset_files(parsed, dataset_id, name, target, ignore)
    task_files = None
    if task_id is not None:
        task_files = _local_task_files(parsed, dataset_id, task_id, name, target, n_folds, seed)

    paths = _write_entry(dataset_dir(cache_root, dataset_id), dataset_files, DERIVED_DATASET_FILES)
    if task_files is not None:
        paths.update(_write_entry(task_dir(cache_root, task_id), task_files, DERIVED_TASK_FILES))
    return {"dataset_id": dataset_id, "name": name, "rows": len(parsed.columns[0]), "target": target,
            "task_id": task_id, "split_kind": None if task_id is None else "local", "paths": paths}


def import_official_task(task_folder: str | Path, *, dataset_id: int, cache_root: str | Path) -> dict:
    """Copy an official OpenML task folder (``task.xml`` + ``datasplits.arff``) as is."""
    folder = Path(task_folder)
    task_xml, splits = (folder / "task.xml").read_bytes(), (folder / "datasplits.arff").read_bytes()
    task_id, source_did = _task_ids(task_xml)
    if source_did != dataset_id:
        raise ValueError(f"{folder / 'task.xml'}: task is on dataset {source_did}, not {dataset_id}")
    sidecar = {"split_kind": "openml", "source": str(folder.resolve()),
               "md5": hashlib.md5(splits, usedforsecurity=False).hexdigest()}
    files = {"datasplits.arff": splits, SIDECAR_NAME: _json(sidecar), "task.xml": task_xml}
    paths = _write_entry(task_dir(cache_root, task_id), files, DERIVED_TASK_FILES)
    return {"task_id": task_id, "split_kind": "openml", "paths": paths}


def task_split_kind(cache_root: str | Path, task_id: int) -> str:
    """``"local"`` when the cached task's split was made here, else ``"openml"``."""
    folder = task_dir(cache_root, task_id)
    if (folder / SIDECAR_NAME).is_file():
        return json.loads((folder / SIDECAR_NAME).read_text(encoding="utf8"))["split_kind"]
    if not (folder / "task.xml").is_file():
        raise FileNotFoundError(f"task {task_id} is not cached under {folder}")
    task = xmltodict.parse((folder / "task.xml").read_bytes(), force_list=("oml:tag",))["oml:task"]
    return "local" if LOCAL_SPLIT_TAG in task.get("oml:tag", []) else "openml"


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
            dataset_id = _task_ids((folder / "task.xml").read_bytes())[1]
    if dataset_id is not None:
        folder = dataset_dir(cache_root, dataset_id)
        missing += [str(folder / f) for f in DATASET_FILES if not (folder / f).is_file()]
    return missing


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
    try:
        if path.suffix == ".xml":
            xmltodict.parse(path.read_bytes())
        elif path.name == "datasplits.arff":
            arff.loads(path.read_text(encoding="utf8"))
        else:  # a dataset can be large: its header is checked here, its body when openml reads it
            with path.open(encoding="utf8") as fh:
                first = next((line for line in fh if line.strip() and not line.startswith("%")), "")
            return first.lower().startswith("@relation")
    except Exception:  # any parse error means unreadable; which one does not matter here
        return False
    return True


def import_shared(shared_data_dir: str | Path, cache_root: str | Path, *, only: set[int] | None = None,
                  seed: int = 0, n_folds: int = 10) -> list[dict]:
    """Import every ``<shared>/openml/<did>-<name>.arff``, with its task for CC18 datasets.

    Task ids come from ``<shared>/cc18.csv``. A task whose official split ships in
    ``<shared>/openml-tasks/<tid>/`` is copied as is; the others get a local seeded
    stratified split. ARFFs of dataset versions outside CC18 become datasets only. ``only``
    limits the import to those dataset ids. Re-running overwrites every entry it writes.
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


# --- parsing and validation ---------------------------------------------------------------------


def _parse_arff(path: Path) -> _Arff:
    raw = path.read_bytes()  # a missing file raises FileNotFoundError naming it
    try:
        text = raw.decode("utf8")  # openml reads dataset.arff as UTF-8: anything else fails there
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (bad byte at offset {e.start})") from e
    try:
        # The decoder and options openml uses, so what passes here loads there.
        decoded = arff.loads(text, encode_nominal=True)
    except arff.ArffException as e:
        raise ValueError(f"{path}: not a valid ARFF file: {e}") from e
    if not decoded["attributes"] or not decoded["data"]:
        raise ValueError(f"{path}: ARFF file has no attributes or no data rows")
    attributes = [(n, t if isinstance(t, list) else t.upper()) for n, t in decoded["attributes"]]
    for attr, kind in attributes:
        if isinstance(kind, str) and kind not in ARFF_NUMERIC_TYPES | {"STRING"}:
            raise ValueError(f"{path}: attribute {attr!r} is of type {kind}, which openml cannot "
                             "load (use numeric, nominal or string)")
    return _Arff(path, raw, attributes, list(zip(*decoded["data"], strict=True)))


def _resolve_target(parsed: _Arff, target: str | None, ignore: tuple[str, ...]) -> str:
    target = target or parsed.names[-1]
    for attr in (target, *ignore):
        if attr not in parsed.names:
            raise ValueError(f"{parsed.path}: no attribute {attr!r} (attributes: {parsed.names})")
    if target in ignore:
        raise ValueError(f"{parsed.path}: target {target!r} is also an ignored attribute")
    return target


def _class_codes(parsed: _Arff, target: str) -> np.ndarray:
    """The target's class indices, checked to be usable for a classification task."""
    kind = dict(parsed.attributes)[target]
    if not isinstance(kind, list):
        raise ValueError(f"{parsed.path}: a classification target must be nominal; {target!r} is {kind}")
    if None in parsed.column(target):
        raise ValueError(f"{parsed.path}: target {target!r} has missing values")
    return np.asarray(parsed.column(target), dtype=np.int64)


# --- rendering (file name -> content, in write order) -------------------------------------------


def _dataset_files(parsed: _Arff, did: int, name: str, target: str, ignore: tuple[str, ...]) -> dict:
    description = _oml("data_set_description")
    _add_all(description, ("id", did), ("name", name), ("version", 1), ("format", "ARFF"),
             ("description", f"Local import of {parsed.path.name} by bench.data (md5 {parsed.md5}); "
                             "not downloaded from OpenML."),
             # Fetched only when dataset.arff is missing: requests rejects file:// at once, so a
             # broken entry fails fast instead of retrying a download.
             ("url", parsed.path.resolve().as_uri()),
             # No parquet_url on purpose: with one, get_dataset(download_data=True) first
             # downloads a parquet file from OpenML's MinIO store.
             ("default_target_attribute", target), *(("ignore_attribute", attr) for attr in ignore),
             ("tag", "bench:local-import"), ("visibility", "public"), ("status", "active"),
             ("md5_checksum", parsed.md5))
    # description.xml goes last: openml enters an entry through it.
    return {"dataset.arff": parsed.raw, "features.xml": _features_xml(parsed, target, ignore),
            "qualities.xml": _qualities_xml(parsed, target, ignore), "description.xml": _xml(description)}


def _features_xml(parsed: _Arff, target: str, ignore: tuple[str, ...]) -> bytes:
    root = _oml("data_features")
    for index, ((attr, kind), column) in enumerate(zip(parsed.attributes, parsed.columns, strict=True)):
        nominal_values = kind if isinstance(kind, list) else []
        _add_all(_add(root, "feature"), ("index", index), ("name", attr), ("data_type", _feature_type(kind)),
                 *(("nominal_value", value) for value in nominal_values),
                 ("is_target", str(attr == target).lower()), ("is_ignore", str(attr in ignore).lower()),
                 ("is_row_identifier", "false"), ("number_of_missing_values", column.count(None)))
    return _xml(root)


def _qualities_xml(parsed: _Arff, target: str, ignore: tuple[str, ...]) -> bytes:
    # Counted, as OpenML does, over the attributes get_data returns (ignored ones left out).
    kept = [(kind, column) for (attr, kind), column in zip(parsed.attributes, parsed.columns, strict=True)
            if attr not in ignore]
    types = [_feature_type(kind) for kind, _ in kept]
    target_kind = dict(parsed.attributes)[target]
    qualities = {
        "NumberOfInstances": len(parsed.columns[0]),
        "NumberOfFeatures": len(kept),
        "NumberOfClasses": len(target_kind) if isinstance(target_kind, list) else 0,
        "NumberOfMissingValues": sum(column.count(None) for _, column in kept),
        "NumberOfInstancesWithMissingValues":
            sum(None in row for row in zip(*(column for _, column in kept), strict=True)),
        "NumberOfNumericFeatures": types.count("numeric"),
        "NumberOfSymbolicFeatures": types.count("nominal"),
    }
    if isinstance(target_kind, list):
        class_sizes = Counter(v for v in parsed.column(target) if v is not None).values()
        qualities.update(MajorityClassSize=max(class_sizes, default=0),
                         MinorityClassSize=min(class_sizes, default=0))
    root = _oml("data_qualities")
    for quality, value in qualities.items():
        _add_all(_add(root, "quality"), ("name", quality), ("value", float(value)))
    return _xml(root)


def _local_task_files(parsed: _Arff, did: int, tid: int, name: str, target: str,
                      n_folds: int, seed: int) -> dict:
    y = _class_codes(parsed, target)
    try:
        folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    except ValueError as e:
        raise ValueError(f"{parsed.path}: cannot make a stratified {n_folds}-fold split: {e}") from e
    # The layout of OpenML's own datasplits.arff, which openml's split reader expects.
    relation = re.sub(r"[^A-Za-z0-9_.-]", "_", f"dataset_{did}_{name}_local_splits_seed_{seed}")
    lines = [f"@relation {relation}", "", "@attribute type {TRAIN,TEST}", "@attribute rowid numeric",
             "@attribute repeat numeric", "@attribute fold numeric", "", "@data"]
    for fold, (train, test) in enumerate(folds):
        lines += [f"TRAIN,{row},0,{fold}" for row in train] + [f"TEST,{row},0,{fold}" for row in test]
    sidecar = {"split_kind": "local", "seed": seed, "n_folds": n_folds,
               "source_arff": str(parsed.path.resolve()), "md5": parsed.md5}
    # task.xml goes last: openml enters an entry through it.
    return {"datasplits.arff": ("\n".join(lines) + "\n").encode("utf8"), SIDECAR_NAME: _json(sidecar),
            "task.xml": _task_xml(did, tid, target, n_folds, seed)}


def _task_xml(did: int, tid: int, target: str, n_folds: int, seed: int) -> bytes:
    task = _oml("task")
    _add_all(task, ("task_id", tid), ("task_type_id", 1), ("task_type", "Supervised Classification"))
    _add_all(_add(_add(task, "input", name="source_data"), "data_set"),
             ("data_set_id", did), ("target_feature", target))
    procedure = _add(_add(task, "input", name="estimation_procedure"), "estimation_procedure")
    # The URL is fetched only when datasplits.arff is missing: requests refuses file:// without
    # opening a connection, and the URL says plainly that this is not OpenML's split.
    _add_all(procedure, ("id", 1), ("type", "crossvalidation"),
             ("data_splits_url", f"file://local/bench-split/seed={seed}"))
    for parameter, value in (("number_repeats", 1), ("number_folds", n_folds), ("percentage", None),
                             ("stratified_sampling", "true")):
        _add(procedure, "parameter", value, name=parameter)
    _add(_add(_add(task, "input", name="evaluation_measures"), "evaluation_measures"),
         "evaluation_measure", "predictive_accuracy")
    # openml does not read task tags; they tell people and task_split_kind the split is local.
    _add_all(task, ("tag", LOCAL_SPLIT_TAG), ("tag", f"bench:seed={seed}"))
    return _xml(task)


def _feature_type(kind: str | list[str]) -> str:
    """openml's feature data_type for an ARFF attribute type (validated in _parse_arff)."""
    return "nominal" if isinstance(kind, list) else "numeric" if kind in ARFF_NUMERIC_TYPES else "string"


def _oml(tag: str) -> ET.Element:
    return ET.Element(f"{{{OML_NS}}}{tag}")


def _add(parent: ET.Element, tag: str, text: object = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{OML_NS}}}{tag}", attrib)
    if text is not None:
        element.text = str(text)
    return element


def _add_all(parent: ET.Element, *children: tuple[str, object]) -> None:
    for tag, text in children:
        _add(parent, tag, text)


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _json(data: dict) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf8")


def _task_ids(task_xml: bytes) -> tuple[int, int]:
    """(task id, dataset id) of a task.xml."""
    task = xmltodict.parse(task_xml, force_list=("oml:input",))["oml:task"]
    source = next(i for i in task["oml:input"] if i["@name"] == "source_data")
    return int(task["oml:task_id"]), int(source["oml:data_set"]["oml:data_set_id"])


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
        _atomic_write(folder / file_name, content)
    return {file_name: str(folder / file_name) for file_name in files}


def _atomic_write(path: Path, content: bytes) -> None:
    """Write through a temporary file in the same folder: readers never see a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; cache files are as readable as openml's own
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
