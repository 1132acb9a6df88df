"""Parse an ARFF file and render the files of an OpenML cache entry for it (description,
features, qualities, and for a task its task.xml, local split and sidecar), as bytes in
write order: bench.data.openml_cache decides where they go."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import arff
import numpy as np
from sklearn.model_selection import StratifiedKFold

from bench.core.io import md5

OML_NS = "http://openml.org/openml"
LOCAL_SPLIT_TAG = "bench:local-split"
LOCAL_IMPORT_TAG = "bench:local-import"
SIDECAR_NAME = "bench_split.json"
# The sidecar fields that say what a split is, not where it came from: a unit's key holds these,
# so the same bytes imported from two paths, or a cache or results folder moved, resume.
SPLIT_CONTENT = ("split_kind", "seed", "n_folds", "split_md5")
ARFF_NUMERIC_TYPES = {"NUMERIC", "REAL", "INTEGER"}

ET.register_namespace("oml", OML_NS)


@dataclass(frozen=True)
class ArffData:
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
        return md5(self.raw)  # OpenML's checksum


# --- parsing and validation ---------------------------------------------------------------------


def parse_arff(path: Path) -> ArffData:
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
    return ArffData(path, raw, attributes, list(zip(*decoded["data"], strict=True)))


def resolve_target(parsed: ArffData, target: str | None, ignore: tuple[str, ...]) -> str:
    target = target or parsed.names[-1]
    for attr in (target, *ignore):
        if attr not in parsed.names:
            raise ValueError(f"{parsed.path}: no attribute {attr!r} (attributes: {parsed.names})")
    if target in ignore:
        raise ValueError(f"{parsed.path}: target {target!r} is also an ignored attribute")
    return target


def _class_codes(parsed: ArffData, target: str) -> np.ndarray:
    """The target's class indices, checked to be usable for a classification task."""
    kind = dict(parsed.attributes)[target]
    if not isinstance(kind, list):
        raise ValueError(f"{parsed.path}: a classification target must be nominal; {target!r} is {kind}")
    if None in parsed.column(target):
        raise ValueError(f"{parsed.path}: target {target!r} has missing values")
    return np.asarray(parsed.column(target), dtype=np.int64)


# --- rendering (file name -> content, in write order) -------------------------------------------


def dataset_files(parsed: ArffData, did: int, name: str, target: str, ignore: tuple[str, ...]) -> dict:
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
             ("tag", LOCAL_IMPORT_TAG), ("visibility", "public"), ("status", "active"),
             ("md5_checksum", parsed.md5))
    # description.xml goes last: openml enters an entry through it.
    return {"dataset.arff": parsed.raw, "features.xml": _features_xml(parsed, target, ignore),
            "qualities.xml": _qualities_xml(parsed, target, ignore), "description.xml": _xml(description)}


def _features_xml(parsed: ArffData, target: str, ignore: tuple[str, ...]) -> bytes:
    root = _oml("data_features")
    for index, ((attr, kind), column) in enumerate(zip(parsed.attributes, parsed.columns, strict=True)):
        nominal_values = kind if isinstance(kind, list) else []
        _add_all(_add(root, "feature"), ("index", index), ("name", attr), ("data_type", _feature_type(kind)),
                 *(("nominal_value", value) for value in nominal_values),
                 ("is_target", str(attr == target).lower()), ("is_ignore", str(attr in ignore).lower()),
                 ("is_row_identifier", "false"), ("number_of_missing_values", column.count(None)))
    return _xml(root)


def _qualities_xml(parsed: ArffData, target: str, ignore: tuple[str, ...]) -> bytes:
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


def local_task_files(parsed: ArffData, did: int, tid: int, target: str, n_folds: int, seed: int) -> dict:
    y = _class_codes(parsed, target)
    try:
        folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))
    except ValueError as e:
        raise ValueError(f"{parsed.path}: cannot make a stratified {n_folds}-fold split: {e}") from e
    # The layout of OpenML's own datasplits.arff, which openml's split reader expects. No dataset
    # name in it: that may come from the file's name, and the split's md5 is part of unit keys.
    relation = f"dataset_{did}_local_splits_seed_{seed}"
    lines = [f"@relation {relation}", "", "@attribute type {TRAIN,TEST}", "@attribute rowid numeric",
             "@attribute repeat numeric", "@attribute fold numeric", "", "@data"]
    for fold, (train, test) in enumerate(folds):
        lines += [f"TRAIN,{row},0,{fold}" for row in train] + [f"TEST,{row},0,{fold}" for row in test]
    splits = ("\n".join(lines) + "\n").encode("utf8")
    # source_arff is for people only: unit keys take the sidecar's content fields (SPLIT_CONTENT).
    sidecar = {"split_kind": "local", "seed": seed, "n_folds": n_folds, "split_md5": md5(splits),
               "data_md5": parsed.md5, "source_arff": str(parsed.path.resolve())}
    # task.xml goes last: openml enters an entry through it.
    return {"datasplits.arff": splits, SIDECAR_NAME: to_json(sidecar),
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
    # openml does not read task tags; they tell people and task_split_info the split is local.
    _add_all(task, ("tag", LOCAL_SPLIT_TAG), ("tag", f"bench:seed={seed}"))
    return _xml(task)


def _feature_type(kind: str | list[str]) -> str:
    """openml's feature data_type for an ARFF attribute type (validated in parse_arff)."""
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


def to_json(data: dict) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf8")
