"""Markdown tables whose cells stay cells: names are user data (a dataset called `x|y`, `inf`
or `<script>`), so every text cell is escaped and name columns are never read as numbers."""

from __future__ import annotations

from typing import Iterable

import pandas as pd
from tabulate import tabulate

# `&` first, so that the entities added after it are not escaped twice.
ESCAPES = (("&", "&amp;"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"))


def escape(text: str) -> str:
    """A string safe inside a markdown table cell: no column break, no HTML, one line."""
    text = " ".join(str(text).splitlines())
    for raw, safe in ESCAPES:
        text = text.replace(raw, safe)
    return text


def markdown_table(frame: pd.DataFrame, *, names: Iterable[str] | None = None, floatfmt: str = "g") -> str:
    """`frame` as a GitHub (pipe) table. `names`: the columns that hold names, shown as text
    even when they look like numbers (default: every non-numeric column). Numeric columns are
    right-aligned, the others left-aligned; missing values are blank."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    names = set(names) if names is not None else {c for c, n in zip(frame.columns, numeric) if not n}
    as_text = [i for i, column in enumerate(frame.columns) if column in names]
    cells = [[_cell(value) for value in row] for row in frame.itertuples(index=False, name=None)]
    return tabulate(cells, headers=[escape(c) for c in frame.columns], tablefmt="pipe", floatfmt=floatfmt,
                    missingval="", disable_numparse=bool(cells) and as_text,
                    colalign=["decimal" if n and i not in as_text else "left" for i, n in enumerate(numeric)])


def _cell(value: object) -> object:
    if isinstance(value, str):
        return escape(value)
    return None if pd.isna(value) else value
