"""`python -m bench.report [--results DIR]`: from every row stored under DIR (single runs and
multiruns alike), the tables in DIR/tables/{accuracy,explanations,cost,skipped}.{csv,md} and
the leaderboard in DIR/leaderboard/ (markdown, CSV, statistics, figures and index.html)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.results import ResultStore
from bench.results.leaderboard import build_leaderboard
from bench.results.publish import to_markdown, write_leaderboard
from bench.results.tables import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("--results", default="results", help="results folder of the runs (default: results)")
    parser.add_argument("--out", help="leaderboard folder (default: RESULTS/leaderboard)")
    args = parser.parse_args(argv)
    rows = ResultStore(args.results).read_all()
    write_report(rows, args.results)
    board = build_leaderboard(rows)
    if board.empty:
        print(f"no stored result rows under {args.results}/rows: run `python -m bench` first")
        return 1
    out = Path(args.out or Path(args.results) / "leaderboard")
    files = write_leaderboard(board, out, source=str(args.results))
    print(to_markdown(board))
    print(f"tables written to {args.results}/tables/, the leaderboard ({len(files)} files) to {out}/ "
          f"(open {out / 'index.html'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
