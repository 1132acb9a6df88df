"""`python -m bench.report [--results DIR] [--out OUT] [--reproductions FOLDER]`: from every row
stored under DIR (single runs and multiruns alike), the tables
{accuracy,explanations,cost,skipped}.{csv,md} and the leaderboard (markdown, CSV, statistics,
figures and index.html); and from the reproductions' CSVs and plots (DIR/reproduction by
default), reproductions.html, every paper's numbers beside ours.

Without --out they go to DIR/tables/ and DIR/leaderboard/; with it, to OUT/tables/ and OUT/, and
nothing is written under DIR (which may be read-only, or someone else's)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bench.core.errors import one_line
from bench.report.gallery import gallery_files
from bench.report.pictures import draw_pictures
from bench.core.io import atomic_path
from bench.papers.reproduction import output_dir
from bench.results import ResultStore
from bench.report.leaderboard import build_leaderboards
from bench.report.publish import leaderboards_markdown, write_leaderboard
from bench.report.reproductions import read_reproductions, reproductions_html
from bench.report.tables import build_tables, write_tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="results", help="results folder of the runs (default: results)")
    parser.add_argument("--out", help="where to write the leaderboard, and the tables in OUT/tables "
                                      "(default: RESULTS/leaderboard and RESULTS/tables)")
    parser.add_argument("--reproductions", help="the reproductions' CSVs and plots (scripts/reproduce.py), shown on "
                                                "reproductions.html (default: RESULTS/reproduction)")
    args = parser.parse_args(argv)
    # The store's warnings (a damaged or foreign file skipped) go to stderr, one line each.
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    results = Path(args.results)
    if not (results / "rows").is_dir():
        return _fail(f"{results} holds no results (no {results / 'rows'} folder): give the folder of a run's "
                     "paths.results with --results, or run `python -m bench` first")
    # A reader: an unreadable file is skipped here, and moved aside by the next run that needs it.
    store = ResultStore(results, quarantine=False)
    rows = store.read_all()
    boards = build_leaderboards(rows)
    if all(board.empty for board in boards.values()):
        return _fail(f"no result rows under {results / 'rows'}: run `python -m bench` first")
    out = Path(args.out) if args.out else results / "leaderboard"
    tables_root = out if args.out else results  # the tables go to <root>/tables
    try:
        write_tables(build_tables(rows), tables_root / "tables")
        draw_pictures(store)  # those missing or older than what they are drawn from
        reproductions = Path(args.reproductions) if args.reproductions else output_dir(results)
        files = write_leaderboard(boards, out, source=str(results), galleries=gallery_files(results),
                                  reproductions=True)
        with atomic_path(out / "reproductions.html") as tmp:
            tmp.write_text(reproductions_html(read_reproductions(reproductions), source=str(reproductions)),
                           encoding="utf-8")
        files["reproductions.html"] = out / "reproductions.html"
    except OSError as e:
        return _fail(f"cannot write the report ({one_line(e)}); choose a writable folder with --out DIR")
    print(leaderboards_markdown(boards))
    print(f"tables written to {tables_root / 'tables'}/, the leaderboard ({len(files)} files) to {out}/ "
          f"(open {out / 'index.html'})")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
