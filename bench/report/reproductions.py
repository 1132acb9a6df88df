"""The page of reproductions, `reproductions.html` beside the leaderboard's index.html. For every
reproduction of bench.papers.REPRODUCTIONS it shows our numbers beside the paper's with the
difference. Each difference over the reproduction's threshold shows its reason: the CSV's note,
or "no reason recorded" where the CSV has none. The page also shows the plots the reproduction
wrote.

It is built from a folder of reproductions only (<results>/reproduction/: the CSVs and PNGs that
`scripts/reproduce.py` writes). A reproduction whose CSV is missing is listed with the command
that makes it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench import papers
from bench.core.errors import one_line
from bench.papers.reproduction import REQUIRED, Reproduction, read_run
from bench.report.publish import SCRIPT, STYLE, html_figure, html_notes, html_table

NO_REASON = "no reason recorded"


@dataclass(frozen=True)
class Stored:
    """What the folder holds of one reproduction."""

    reproduction: Reproduction
    rows: pd.DataFrame | None  # None: not run (no CSV), or its CSV unreadable (`problem`)
    plots: tuple[Path, ...]
    tables: dict[str, pd.DataFrame]
    problem: str | None = None
    run: dict | None = None  # read_run's: the command that wrote the CSV, when, how long

    def flagged(self) -> pd.DataFrame:
        """Rows whose diff exceeds the threshold, each with its reason."""
        reproduction = self.reproduction
        if self.rows is None or reproduction.threshold is None:
            return pd.DataFrame()
        diff = self.rows["diff"]
        beyond = (-diff if reproduction.one_sided else diff.abs()) > reproduction.threshold
        if reproduction.unflagged:
            beyond &= ~self.rows["row"].astype(str).str.startswith(reproduction.unflagged)
        over = self.rows[beyond]
        notes = over["note"] if "note" in over else [None] * len(over)
        return over.assign(reason=[note if isinstance(note, str) and note else NO_REASON for note in notes])


def read_reproductions(folder: str | Path) -> list[Stored]:
    """Every reproduction of bench.papers.REPRODUCTIONS, with what `folder` holds of it."""
    folder = Path(folder)
    found = []
    for reproduction in papers.REPRODUCTIONS:
        csv = folder / f"{reproduction.name}.csv"
        plots = tuple(path for path in (folder / f"{stem}.png" for stem in reproduction.plots) if path.is_file())
        tables, problems = {}, []
        for stem in reproduction.tables:
            if (folder / f"{stem}.csv").is_file():
                try:
                    tables[stem] = pd.read_csv(folder / f"{stem}.csv")
                except ValueError as e:  # pandas' parser errors and a bad encoding are ValueErrors
                    problems.append(f"{folder / f'{stem}.csv'} could not be read: {one_line(e)}")
        rows = None
        if csv.is_file():
            try:
                rows = _checked(pd.read_csv(csv))
            except ValueError as e:
                problems.insert(0, f"{csv} could not be read: {one_line(e)}")
        found.append(Stored(reproduction, rows, plots, tables, problem="; ".join(problems) or None,
                            run=read_run(folder, reproduction.name)))
    return found


def _checked(rows: pd.DataFrame) -> pd.DataFrame:
    """A reproduction's rows, with the columns every one holds and numbers where numbers go."""
    missing = [column for column in REQUIRED if column not in rows]
    if missing:
        raise ValueError(f"it lacks the column(s) {', '.join(missing)} (a reproduction's CSV has {', '.join(REQUIRED)})")
    for column in ("ours", "paper", "diff"):
        if not pd.api.types.is_numeric_dtype(rows[column]):
            raise ValueError(f"its column {column} holds text where numbers go")
    return rows


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers to 4 significant digits, missing cells empty."""
    return frame.apply(lambda col: col.map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
                       if pd.api.types.is_numeric_dtype(col) else col.fillna(""))


def _section(found: Stored, index: int) -> list[str]:
    reproduction = found.reproduction
    parts = [f'<h2 id="{html.escape(reproduction.name)}">{html.escape(reproduction.title)}</h2>']
    command = f"python scripts/reproduce.py {reproduction.name}"
    if found.problem and found.rows is None:
        return parts + [f"<p><em>{html.escape(found.problem)}</em>; <code>{html.escape(command)}</code> writes it "
                        "again.</p>"]
    if found.rows is None:
        return parts + [f"<p><em>not run yet</em>: <code>{html.escape(command)}</code> writes it.</p>"]
    flagged = found.flagged()
    if reproduction.threshold is None:
        summary = "no threshold is set for this table: the differences are shown, none is flagged"
    else:
        unexplained = int((flagged["reason"] == NO_REASON).sum()) if len(flagged) else 0
        test = (f"diff < -{reproduction.threshold:g}" if reproduction.one_sided
                else f"|diff| > {reproduction.threshold:g}")
        summary = (f"{len(found.rows)} rows, {len(flagged)} over the threshold ({test})"
                   + (f", {unexplained} of them without a recorded reason" if unexplained else ""))
    uncompared = int(found.rows["diff"].isna().sum())
    if uncompared:
        summary += f"; {uncompared} without a comparison (no number on one side)"
    if found.run:  # the budget the numbers come from: the full run's options or the nightly's
        run = found.run
        made = (f"By <code>{html.escape(run['command'])}</code>, finished {html.escape(str(run.get('finished', '?')))}"
                + (f" (that command ran {run['seconds'] / 60:.1f} min, reusing the units it found stored)"
                   if isinstance(run.get("seconds"), (int, float)) else ""))
    else:
        made = f"By <code>{html.escape(command)}</code> (its options not recorded)"
    parts.append(f"<p>{made}. {html.escape(summary)}.</p>")
    if found.problem:
        parts.append(f"<p><em>{html.escape(found.problem)}</em></p>")
    rows = found.rows.drop(columns="table", errors="ignore")  # the section names it
    parts.append(html_table(_shown(rows), rows, f"reproduction-{index}"))
    if len(flagged):
        parts.append("<h3>Differences over the threshold, and why</h3>")
        parts.append(html_notes([f"{r['row']} ({r['column']}{', ' + str(r['mode']) if 'mode' in r else ''}): "
                                 f"{r['diff']:+.4g}. {r['reason']}"
                                 for _, r in flagged.iterrows()]))
    for stem, frame in found.tables.items():
        parts += [f"<h3>{html.escape(stem)}</h3>", html_table(_shown(frame), frame, f"reproduction-{index}-{stem}")]
    parts += [html_figure(path, path.stem) for path in found.plots]
    return parts


def _state(found: Stored) -> str:
    return " (unreadable)" if found.problem and found.rows is None else " (not run yet)" if found.rows is None else ""


def reproductions_html(reproductions: list[Stored], *, source: str = "") -> str:
    """The page; every string from the CSVs is escaped."""
    parts = ["<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<title>bench: reproductions of papers</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Reproductions of papers</h1>",
             f"<p>From <code>{html.escape(source)}</code>: ours beside the paper's, the difference (ours minus "
             "the paper's), and a reason for every difference over the reproduction's threshold. "
             '<a href="index.html">The leaderboard</a>.</p>',
             "<ul>" + "".join(f'<li><a href="#{html.escape(r.reproduction.name)}">'
                              f"{html.escape(r.reproduction.title)}</a>{_state(r)}</li>" for r in reproductions)
             + "</ul>"]
    for index, found in enumerate(reproductions):
        parts += _section(found, index)
    parts += [f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts)
