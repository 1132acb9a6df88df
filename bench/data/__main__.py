"""Fill an offline openml cache from ARFF files.

    python -m bench.data import-arff FILE --dataset-id N --cache DIR [--task-id T --folds K
                                      --seed S --target NAME --name NAME --force]
    python -m bench.data import-shared --cache DIR [--shared PATH]

import-arff refuses to replace an entry the cache already holds unless given --force: an id
may be a real OpenML dataset or task. import-shared re-imports on purpose and overwrites what
bench wrote, but keeps what openml downloaded from OpenML.

Bad input (missing file, corrupt ARFF, no shared folder) ends with one ``error: ...`` line
on stderr and exit code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.data import openml_cache
from bench.core.paths import SHARED_DATA_ENV_VAR, shared_data_candidates



class InputError(Exception):
    """A problem with what the user passed; reported as one line with the fix."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        results = args.run(args)
    except InputError as e:
        return _fail(str(e))
    except ValueError as e:  # a corrupt ARFF, an unusable target: the message names the file
        return _fail(f"{str(e).rstrip('.')}; fix the ARFF file or the options and run again")
    except OSError as e:  # a missing shared file, an unwritable cache folder
        return _fail(f"{e}; check the path and its permissions")
    for result in results:
        print(_describe(result))
    tasks = [r for r in results if r["task_id"] is not None]
    local = sum(r["split_kind"] == "local" for r in tasks)
    print(f"imported {len(results)} dataset(s) and {len(tasks)} task(s) ({local} with a local split, "
          f"{len(tasks) - local} with OpenML's official split) into "
          f"{openml_cache.openml_cache_dir(args.cache)} in {time.perf_counter() - started:.1f} s")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    one = commands.add_parser("import-arff", help="import one ARFF file as a dataset (and task)")
    one.add_argument("file", type=Path, metavar="FILE")
    one.add_argument("--dataset-id", type=int, required=True, help="id to file the dataset under")
    one.add_argument("--task-id", type=int, help="also write a classification task with this id")
    one.add_argument("--folds", type=int, default=10, help="cross-validation folds (default 10)")
    one.add_argument("--seed", type=int, default=0, help="seed of the local split (default 0)")
    one.add_argument("--target", help="target attribute (default: the last one)")
    one.add_argument("--name", help="dataset name (default: the file name)")
    one.add_argument("--force", action="store_true", help="replace the dataset (and task) if the cache holds them")
    one.set_defaults(run=_import_arff)

    shared = commands.add_parser("import-shared", help="import the project's shared ARFFs and CC18 tasks; "
                                 "re-running overwrites the entries bench wrote, never openml's own downloads")
    shared.add_argument("--shared", type=Path, help=f"shared data folder (default: ${SHARED_DATA_ENV_VAR}, "
                        "else ../shared/data from the current directory, else from the repository)")
    shared.set_defaults(run=_import_shared)

    for command in (one, shared):
        command.add_argument("--cache", type=Path, required=True,
                             help="openml root cache directory (openml.config.set_root_cache_directory)")
    return parser


def _import_arff(args: argparse.Namespace) -> list[dict]:
    if not args.file.is_file():
        raise InputError(f"{args.file}: no such ARFF file; check the path")
    _check_cache_folder(args.cache)
    existing = openml_cache.existing_entries(args.cache, dataset_id=args.dataset_id, task_id=args.task_id)
    if existing and not args.force:
        named = " and ".join(f"{label} ({folder})" for label, folder in existing.items())
        raise InputError(f"the cache already holds {named}; pass --force to overwrite, or choose another id")
    return [openml_cache.import_arff(
        args.file, dataset_id=args.dataset_id, cache_root=args.cache, task_id=args.task_id,
        n_folds=args.folds, seed=args.seed, name=args.name, target=args.target)]


def _import_shared(args: argparse.Namespace) -> list[dict]:
    _check_cache_folder(args.cache)
    return openml_cache.import_shared(_shared_folder(args.shared), args.cache)


def _check_cache_folder(cache: Path) -> None:
    if cache.exists() and not cache.is_dir():
        raise InputError(f"--cache {cache} is a file, not a folder; pass a folder")


def _shared_folder(given: Path | None) -> Path:
    candidates = [given] if given is not None else shared_data_candidates()
    for candidate in candidates:
        if (candidate / "openml").is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise InputError(f"no shared data folder with an openml/ subfolder (tried {tried}); "
                     f"pass --shared PATH or set {SHARED_DATA_ENV_VAR}=PATH")


def _describe(result: dict) -> str:
    line = f"dataset {result['dataset_id']} {result['name']}: {result['rows']} rows"
    if result["task_id"] is not None:
        line += f", task {result['task_id']} ({result['split_kind']} split)"
    return line


def _fail(message: str) -> int:
    print(f"error: {' '.join(message.splitlines())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
