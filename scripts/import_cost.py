"""`python scripts/import_cost.py [ARGS...]`: which heavy libraries a `python -m bench ARGS` process
imports (`--help` by default), what each costs, which bench modules import it, and whether it
would still be imported if bench.models imported nothing heavy (the front door, issue 29).

Nothing is stubbed: the command runs as it is, with `-X importtime` for the costs and a wrapper
around `__import__` and `importlib.import_module` that only records who imports what. The
wrapper sees every import statement that runs, a module already imported included, so that a
module imported first through bench.models still shows its own imports. A node is a bench
module, or the top-level package of anything else (`sklearn.datasets` -> `sklearn`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The libraries that cost (seconds on 2 cores), and the ones that pull them in.
HEAVY = ("torch", "torchvision", "shap", "captum", "lime", "skimage", "numba", "openml", "sklearn", "scipy",
         "pandas", "matplotlib", "PIL", "catboost", "interpret", "mlxtend", "pyarrow")
ROOT_MODULE = "bench.__main__"
MODELS = "bench.models"

# Runs first in the measured process: records (importer, imported) for every import that runs.
RECORDER = r"""
import atexit, builtins, importlib, importlib.util, json, os, runpy, sys
EDGES = set()
_import, _import_module = builtins.__import__, importlib.import_module

def _node(name):
    return name if name == "bench" or name.startswith("bench.") else name.split(".")[0]

def _record(frame, name, fromlist=(), level=0):
    importer_globals = frame.f_globals if frame is not None else {}
    spec = importer_globals.get("__spec__")
    importer = spec.name if spec is not None else importer_globals.get("__name__", "")
    if level:
        name = importlib.util.resolve_name("." * level + name, importer_globals.get("__package__"))
    targets = [name] + [f"{name}.{item}" for item in fromlist or () if f"{name}.{item}" in sys.modules]
    for target in targets:
        if _node(importer) != _node(target):
            EDGES.add((_node(importer), _node(target), frame.f_code.co_name == "<module>"))

def _recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    module = _import(name, globals, locals, fromlist, level)
    _record(sys._getframe(1), name, fromlist, level)
    return module

def _recording_import_module(name, package=None):
    module = _import_module(name, package)
    _record(sys._getframe(1), importlib.util.resolve_name(name, package) if name.startswith(".") else name)
    return module

@atexit.register
def _dump():
    with open(os.environ["BENCH_IMPORT_EDGES"], "w") as f:
        json.dump({"edges": sorted(EDGES), "modules": sorted(sys.modules)}, f)

builtins.__import__, importlib.import_module = _recording_import, _recording_import_module
sys.argv = ["bench", *sys.argv[1:]]
runpy.run_module("bench", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class Library:
    name: str
    seconds: float  # its own modules' loading, what they import from other packages aside
    importers: tuple[str, ...]  # the bench modules that import it directly
    path: tuple[str, ...] | None  # how bench.__main__ reaches it without bench.models; None: only through it


@dataclass(frozen=True)
class ImportCost:
    args: tuple[str, ...]
    wall_s: float
    returncode: int
    stderr: str  # what the command wrote there, -X importtime's lines aside
    libraries: tuple[Library, ...]  # the heavy libraries the process imported, costliest first

    def without_models(self) -> list[Library]:
        """The heavy libraries bench.__main__ reaches without passing through bench.models."""
        return [library for library in self.libraries if library.path is not None]


def shortest_path(edges: list[tuple[str, str]], start: str, goal: str, avoid: str) -> tuple[str, ...] | None:
    """The shortest chain of imports from `start` to `goal` through no node under `avoid`."""
    graph: dict[str, list[str]] = {}
    for importer, imported in edges:
        graph.setdefault(importer, []).append(imported)
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])
            return tuple(reversed(path))
        for following in graph.get(node, ()):
            if following not in previous and not (following == avoid or following.startswith(avoid + ".")):
                previous[following] = node
                queue.append(following)
    return None


def own_seconds(importtime: str) -> dict[str, float]:
    """The time each top-level package's own modules took to load, from `-X importtime`'s lines
    (what they import from other packages aside)."""
    seconds: dict[str, float] = {}
    for line in importtime.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            own, _, name = line.removeprefix("import time:").split("|")
            package = name.strip().split(".")[0]
            seconds[package] = seconds.get(package, 0.0) + int(own) / 1e6
    return seconds


def measure(args: list[str] | tuple[str, ...] = ("--help",)) -> ImportCost:
    """Runs `python -m bench ARGS` once, as it is, and says which heavy libraries it imports."""
    with tempfile.TemporaryDirectory() as folder:
        edges_file = Path(folder) / "edges.json"
        env = {**os.environ, "BENCH_IMPORT_EDGES": str(edges_file)}
        start = time.perf_counter()
        # From the project root, as `python -m bench` is run there: this checkout's bench is imported.
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", RECORDER, *args], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        wall_s = time.perf_counter() - start
        recorded = json.loads(edges_file.read_text())
    seconds = own_seconds(done.stderr)
    # Every import a bench module runs, in a function too (register_configs' own); a library's only
    # where it imports as it loads: one that runs in a library's function was called for by
    # someone else (numpy's imports of scipy). The import machinery and the standard library pass
    # imports on, they do not decide them.
    edges = [(a, b) for a, b, at_load in recorded["edges"] if a.startswith("bench") or at_load
             and a.isidentifier() and not a.startswith("_") and a not in sys.stdlib_module_names]
    imported = {name.split(".")[0] for name in recorded["modules"]}
    libraries = [Library(name, seconds.get(name, 0.0),
                         tuple(sorted({a for a, b in edges if b == name and a.startswith("bench")})),
                         shortest_path(edges, ROOT_MODULE, name, avoid=MODELS))
                 for name in HEAVY if name in imported]
    stderr = "".join(line for line in done.stderr.splitlines(keepends=True) if not line.startswith("import time:"))
    return ImportCost(tuple(args), wall_s, done.returncode, stderr,
                      tuple(sorted(libraries, key=lambda lib: -lib.seconds)))


def main() -> None:
    cost = measure(sys.argv[1:] or ["--help"])
    print(f"python -m bench {' '.join(cost.args)}: exit {cost.returncode}, {cost.wall_s:.1f} s "
          f"(with the recording's own overhead)")
    for library in cost.libraries:
        print(f"\n{library.name} ({library.seconds:.2f} s in its own modules)")
        print(f"  imported by: {', '.join(library.importers) or '-'}")
        print(f"  without {MODELS}: " + (" > ".join(library.path) if library.path else f"not imported ({MODELS} only)"))
    print(f"\nheavy libraries without {MODELS}: {', '.join(lib.name for lib in cost.without_models()) or 'none'}")


if __name__ == "__main__":
    main()
