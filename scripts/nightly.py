"""The nightly leaderboard (`make nightly`, and .github/workflows/nightly.yml):

    python scripts/nightly.py [--jobs 2] [--results results/nightly] [--out results/leaderboard]
                              [--cache results/openml-cache] [--online] [OVERRIDE ...]

1. the sweep `python -m bench -m experiment=nightly` with the joblib launcher (`--jobs` workers),
   resuming every unit already stored under --results;
2. `python -m bench.report`: the leaderboard of every row under --results, into --out;
3. a screenshot of the page, --out/screenshot.png, where Chromium is installed.

Offline (the default) the tasks come from ../shared/data, imported into --cache first; a task
that is not there is listed and skipped. `--online` lets openml download them instead (CI).
Extra Hydra overrides go to the sweep, e.g. `data.tasks=[31,37]`.
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
from bench.compose import compose
from bench.paths import PROJECT_ROOT
from bench.plan import build

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="parallel jobs of the joblib launcher (default: 2)")
    parser.add_argument("--results", default="results/nightly", help="where the sweep stores its rows")
    parser.add_argument("--out", default="results/leaderboard", help="where the leaderboard is written")
    parser.add_argument("--cache", default="results/openml-cache", help="openml cache folder")
    parser.add_argument("--online", action="store_true", help="let openml download what the cache lacks")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the sweep")
    return parser


def sweep(args: argparse.Namespace) -> int:
    options = [f"paths.results={args.results}", f"paths.openml_cache={args.cache}", "data.skip_missing=true",
               f"data.offline={str(not args.online).lower()}", *args.overrides]
    if not args.online:
        cfg = compose(["experiment=nightly", *options])
        imported = build(cfg.data, "data", seed=cfg.seed).import_from_shared()
        print(f"imported {len(imported)} dataset(s) from the shared data folder into {args.cache}")
    command = [sys.executable, "-m", "bench", "-m", "experiment=nightly", "hydra/launcher=joblib",
               f"hydra.launcher.n_jobs={args.jobs}", *options]
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, cwd=PROJECT_ROOT).returncode


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
    args = parser().parse_args(argv)
    started = time.perf_counter()
    # A job that failed stops the sweep, not the leaderboard of every unit stored so far.
    swept_code = sweep(args)
    swept = time.perf_counter()
    code = report.main(["--results", args.results, "--out", args.out])
    if code != 0:
        return code
    shot = screenshot(Path(args.out) / "index.html", Path(args.out) / "screenshot.png")
    print(f"\nnightly: sweep {swept - started:.0f} s, report {time.perf_counter() - swept:.0f} s; "
          f"leaderboard in {args.out}/" + (f", screenshot {shot}" if shot else ""))
    if swept_code != 0:
        print(f"the sweep failed (exit code {swept_code}): the leaderboard lacks its unfinished units", file=sys.stderr)
    return swept_code


if __name__ == "__main__":
    raise SystemExit(main())
