"""`python -m bench.report [--results DIR]`: tables from every stored row, written to
DIR/tables/{accuracy,explanations,cost,skipped}.{csv,md} and printed."""

from __future__ import annotations

import argparse

from bench.results import ResultStore
from bench.results.tables import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("--results", default="results", help="results folder of the runs (default: results)")
    args = parser.parse_args(argv)
    texts = write_report(ResultStore(args.results), args.results)
    for name, text in texts.items():
        print(f"\n## {name}\n\n{text}")
    print(f"tables written to {args.results}/tables/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
