"""Writes a leaderboard out: `leaderboard.{md,csv}`, `statistics.csv`, the figures, and
`index.html`, a self-contained page (figures inline, no network at view time)."""

from __future__ import annotations

import base64
import functools
import html
import math
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.core.errors import one_line
from bench.core.io import atomic_path, write_bytes_atomic
from bench.report import plots
from bench.core.figures import in_256_colours
from bench.report.markdown import markdown_table
from bench.report.leaderboard import COST_METRICS, MODALITIES, Leaderboard
from bench.report.statistics import ALPHA
from bench.results.units import slug

COST_NAMES = {"wall_seconds_per_instance": "seconds / instance", "model_evaluations_per_instance": "evaluations / instance",
              "peak_memory_mb": "peak MB"}
# Each modality's headline accuracy, as the page names it (leaderboard.HEADLINE_METRICS).
HEADLINE_NAMES = {"tabular": "AUROC as in IMN's tables; R² for regression, accuracy where neither",
                  "image": "accuracy as image papers report it; MNIST's AUROC, saturated, stays in the table"}
ENTRIES_NOTE = ("Entries are predictors: a model that predicts with another's network unchanged adds no entry; "
                "its interpreter g (<model>:g) is its entry, and explanations are grouped under the predictor they "
                "explain.")
NORMALISED_NOTE = ("Explanation scores depend on the predictor as much as on the explainer (deletion AUC integrates "
                   "the model's probability as features go, so its level moves with how confident the model is, "
                   "whatever the explainer): they are compared within a predictor, on the same cells, and across "
                   "predictors only normalised, (explainer − random) / (best − random) per predictor and cell, where best is the best "
                   "explainer of that predictor on that cell, its own included: 1 is the best found here, 0 is "
                   "random's level. Not the metric's theoretical bound, which a given model's explanations cannot be "
                   "expected to reach (deletion AUC's 0 needs a model whose output vanishes at the first removed "
                   "feature). Random, 0 by construction, is not ranked.")
OWN_NOTE = ("Each predictor's own explanation against the best post-hoc explainer of the same predictor (by mean; "
            "random is a baseline, not a contender), on the cells both were scored on: the paired difference own − "
            "post-hoc ± its 95% interval, 'not distinguishable' where the interval holds 0. 'own normalised' is the "
            "number to compare across predictors.")
ACCURACY_TITLE = "Accuracy per predictor"
OWN_TITLE = "Inherent vs post-hoc, within each predictor"
EXPLANATIONS_TITLE = "Explanation quality and cost per (predictor, explainer)"
VERSUS_BEST_NOTE = ("vs best: the paired difference from the best entry over the cells both have, ± its 95% interval; "
                    "'not distinguishable' where the interval holds 0, 'cannot tell' with one cell.")


def _arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def _format(mean: float, ci: float) -> str:
    if math.isnan(mean):
        return ""
    text = f"{mean:.4g}"
    return text if math.isnan(ci) else f"{text} ± {ci:.2g}"


def _lead_metric(board: Leaderboard, section: str, metrics: set[str]) -> str | None:
    """The metric a section's table leads with: the headline accuracy, or the scatter's metric."""
    if section == "accuracy":
        return next((m for m in board.headline_metrics if m in metrics), None)
    return board.scatter_metric if board.scatter_metric in metrics else None


def wide_table(board: Leaderboard, section: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The section as people read it, one row per entry (predictor; for explanations, predictor
    and explainer) and one column per metric: the text shown and, of the same shape, the number
    each cell sorts by. The lead metric (the headline accuracy; the scatter's faithfulness
    metric) comes first, with how each entry compares with the best (of its predictor, for
    explanations) and, for explanations, its normalised score."""
    keys = ["predictor"] if section == "accuracy" else ["predictor", "explainer"]
    rows = board.summary[board.summary["section"] == section]
    if section == "explanations":
        rows = pd.concat([rows, board.summary[board.summary["section"] == "cost"]])
    if rows.empty:
        return pd.DataFrame(), pd.DataFrame()
    metrics = set(rows["metric"])
    lead = _lead_metric(board, section, metrics)
    leading = [m for m in board.headline_metrics if m in metrics] if section == "accuracy" else [lead] if lead else []
    order = leading + sorted(metrics - set(leading) - set(COST_METRICS)) + [m for m in COST_METRICS if m in metrics]
    header = {m: COST_NAMES.get(m) or f"{m} {_arrow(bool(rows.loc[rows['metric'] == m, 'higher_is_better'].iloc[0]))}"
              for m in order}
    coverage = rows.groupby(keys).apply(lambda g: f"{g['entry_tasks'].max()}/{g['n_tasks_total'].max()}",
                                        include_groups=False).rename("tasks")
    shown = rows.assign(text=[_format(m, c) for m, c in zip(rows["mean"], rows["ci95"])])
    text = shown.pivot_table(index=keys, columns="metric", values="text", aggfunc="first").reindex(columns=order)
    value = rows.pivot_table(index=keys, columns="metric", values="mean", aggfunc="first").reindex(columns=order)
    text, value = text.rename(columns=header), value.rename(columns=header)
    at = 1
    text.insert(0, "tasks", coverage)
    value.insert(0, "tasks", coverage.str.split("/").str[0].astype(int))
    if section == "accuracy":
        budget = rows.groupby("predictor")["budget"].first()
        text.insert(1, "budget", budget)
        value.insert(1, "budget", budget)
        at = 2
    if lead:
        at += 1  # after the lead metric
        normal = board.summary[(board.summary["section"] == "normalised") & (board.summary["metric"] == lead)]
        if section == "explanations" and not normal.empty:
            normal = normal.set_index(keys)
            shown = [_format(m, c) for m, c in zip(normal["mean"], normal["ci95"])]
            text.insert(at, f"{lead} normalised ↑", pd.Series(shown, index=normal.index, dtype=object))
            value.insert(at, f"{lead} normalised ↑", normal["mean"])
            at += 1
        verdicts = rows[rows["metric"] == lead].set_index(keys)["versus_best"]
        name = f"vs best ({lead})" if section == "accuracy" else f"vs best of its predictor ({lead})"
        text.insert(at, name, verdicts)
        value.insert(at, name, verdicts)
    if section == "accuracy":
        # Best first: by mean rank where there are ranks (enough tasks), else by the headline.
        rank = rows.groupby("predictor")["mean_rank"].first().astype(float)
        if rank.notna().any():
            value["mean rank ↓"] = rank
            text["mean rank ↓"] = rank.map(lambda r: "" if math.isnan(r) else f"{r:.2f}")
            value = value.sort_values("mean rank ↓", kind="stable")
        elif lead:
            value = value.sort_values(header[lead], ascending=False, kind="stable")
        text = text.loc[value.index]
    return text.fillna("").reset_index(), value.reset_index()


def own_table(board: Leaderboard) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inherent vs post-hoc within each predictor (board.own_versus_post_hoc): the text shown and
    the numbers."""
    own = board.own_versus_post_hoc
    if own.empty:
        return pd.DataFrame(), pd.DataFrame()
    metric = [f"{m} {_arrow(h)}" for m, h in zip(own["metric"], own["higher_is_better"])]
    columns = {
        "predictor": (own["predictor"], own["predictor"]), "metric": (metric, metric),
        "own explanation": (own["own"], own["own"]),
        "own": ([_format(m, c) for m, c in zip(own["own_mean"], own["own_ci95"])], own["own_mean"]),
        "best post-hoc": (own["post_hoc"], own["post_hoc"]),
        "post-hoc": ([_format(m, c) for m, c in zip(own["post_hoc_mean"], own["post_hoc_ci95"])],
                     own["post_hoc_mean"]),
        "Δ own − post-hoc": ([_format(m, c) for m, c in zip(own["delta"], own["delta_ci95"])], own["delta"]),
        "own vs post-hoc": (own["verdict"], own["verdict"]),
        "own normalised ↑": ([_format(m, c) for m, c in zip(own["own_normalised"], own["own_normalised_ci95"])],
                             own["own_normalised"]),
        "cells": (own["n_paired"], own["n_paired"]),
    }
    text = pd.DataFrame({name: list(shown) for name, (shown, _) in columns.items()})
    value = pd.DataFrame({name: list(number) for name, (_, number) in columns.items()})
    return text, value


def per_task_table(board: Leaderboard) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tasks x entries, each task's headline accuracy (± its interval over folds and seeds where
    it has several): the text shown and the numbers."""
    if board.primary.empty:
        return pd.DataFrame(), pd.DataFrame()
    ci = board.primary_ci.reindex(index=board.primary.index, columns=board.primary.columns)
    text = pd.DataFrame({c: [f"{m:.4f}" + ("" if math.isnan(h) else f" ± {h:.2g}") if not math.isnan(m) else ""
                             for m, h in zip(board.primary[c], ci[c])] for c in board.primary.columns},
                        index=board.primary.index)
    value = board.primary.rename_axis(index="task", columns=None).reset_index()
    return text.rename_axis(index="task", columns=None).reset_index(), value


def statistics_frame(board: Leaderboard) -> pd.DataFrame:
    return pd.DataFrame([{
        "compared": name, "what": test.name, "test": test.test or "", "statistic": test.statistic,
        "pvalue": test.pvalue, "critical_difference": test.critical_difference, "alpha": ALPHA, "n_tasks": test.n_tasks,
        "n_entries": test.matrix.shape[1], "higher_is_better": test.higher_is_better,
        "mean_ranks": "; ".join(f"{entry}: {rank:.3f}" for entry, rank in test.mean_ranks.items()),
        "dropped_tasks": "; ".join(test.dropped_tasks), "dropped_entries": "; ".join(test.dropped_entries),
        "problem": test.problem or "",
    } for name, test in board.tests.items()])


def write_figures(board: Leaderboard, folder: Path, prefix: str = "") -> dict[str, Path]:
    """name -> PNG (`prefix` before each file's name), only the figures there is data for. A
    figure that cannot be drawn is a note on the page, not a lost leaderboard."""
    drawings = {f"cd-{name}": (plots.cd_diagram, test, folder / f"{prefix}cd-{slug(name)}.png")
                for name, test in board.tests.items()}
    drawings["heatmap"] = (plots.task_heatmap, board.primary, folder / f"{prefix}accuracy-per-task.png")
    if board.scatter_metric:
        drawings["accuracy-vs-quality"] = (
            functools.partial(plots.accuracy_vs_quality, board.summary, board.headline, board.scatter_metric,
                              board.headline_metrics),
            folder / f"{prefix}accuracy-vs-{slug(board.scatter_metric)}.png")
    drawings["cost"] = (plots.cost_per_explainer, board.cost_cells, folder / f"{prefix}cost-per-explainer.png")
    figures = {}
    for name, (draw, *arguments) in drawings.items():
        try:
            figures[name] = draw(*arguments)
        except Exception as e:
            board.notes.setdefault("data", []).append(f"figure {name} could not be drawn: {one_line(e)}")
    return {name: path for name, path in figures.items() if path is not None}


def leaderboards_markdown(boards: dict[str, Leaderboard]) -> str:
    """Each modality's leaderboard in markdown, titled by its modality where there are several."""
    return "\n".join(to_markdown(board, MODALITIES[modality] if len(boards) > 1 else None)
                     for modality, board in boards.items())


def to_markdown(board: Leaderboard, title: str | None = None) -> str:
    """The leaderboard in markdown; `title`: its modality's, where there are several."""
    parts = [f"# Leaderboard{f': {title}' if title else ''}\n", f"{board.scope}\n",
             *[f"- {note}" for note in [ENTRIES_NOTE, *board.notes.get("entries", [])]], ""]

    def section(heading: str, text: pd.DataFrame, lines: list[str], names: list[str]) -> list[str]:
        table = markdown_table(text, names=names) + "\n" if not text.empty else "_no rows_\n"
        return [f"## {heading}\n", table, *[f"- {line}" for line in lines], ""]

    parts += section(ACCURACY_TITLE, wide_table(board, "accuracy")[0],
                     [f"Headline: {HEADLINE_NAMES[board.modality]}.", VERSUS_BEST_NOTE,
                      *[test.describe() for name, test in board.tests.items() if name == "accuracy"],
                      *board.notes.get("accuracy", [])], ["predictor", "budget"])
    if not board.primary.empty:
        parts += [f"### Headline accuracy per task: {HEADLINE_NAMES[board.modality]}\n",
                  markdown_table(per_task_table(board)[0], names=["task"]), ""]
    own = own_table(board)[0]
    if not own.empty:
        parts += section(OWN_TITLE, own, [OWN_NOTE, NORMALISED_NOTE], ["predictor", "metric", "own explanation",
                                                                        "best post-hoc", "own vs post-hoc"])
    parts += section(EXPLANATIONS_TITLE, wide_table(board, "explanations")[0],
                     [NORMALISED_NOTE, *[test.describe() for name, test in board.tests.items() if name != "accuracy"],
                      *board.notes.get("explanations", [])], ["predictor", "explainer"])
    if board.notes.get("data"):
        parts += ["## About the rows\n", *[f"- {note}" for note in board.notes["data"]], ""]
    return "\n".join(parts)


def write_leaderboard(boards: dict[str, Leaderboard], folder: str | Path, *, source: str = "",
                      galleries: Sequence[Path] = (), reproductions: bool = False) -> dict[str, Path]:
    """Every file of the leaderboard of each modality (bench.report.leaderboard.MODALITIES) in
    `folder`, one section each; returns name -> path. Each modality's figures and table ids
    carry its name first (tabular-cd-accuracy.png). `galleries`: the runs' pictures of image
    explanations (bench/report/gallery.py), shown on the page; `reproductions`: the page links to
    reproductions.html (bench/report/reproductions.py) beside it."""
    folder = Path(folder)
    # Always the modality's name first, so that a file's name and a section's anchor do not change
    # when a second modality's rows arrive (and no figure of a former name is left stale).
    prefixes = {modality: f"{modality}-" for modality in boards}
    # First: a figure that fails adds a note to the texts.
    figures = {modality: write_figures(board, folder, prefixes[modality]) for modality, board in boards.items()}
    files = {}
    for name, frames in (("leaderboard.csv", {m: b.summary for m, b in boards.items()}),
                         ("statistics.csv", {m: statistics_frame(b) for m, b in boards.items()})):
        frame = pd.concat([frame.assign(modality=modality) for modality, frame in frames.items()], ignore_index=True)
        with atomic_path(folder / name) as tmp:
            frame[["modality", *frame.columns.drop("modality")]].to_csv(tmp, index=False)
        files[name] = folder / name
    with atomic_path(folder / "leaderboard.md") as tmp:
        tmp.write_text(leaderboards_markdown(boards))
    files["leaderboard.md"] = folder / "leaderboard.md"
    shown = copy_galleries(galleries, folder / GALLERIES)
    with atomic_path(folder / "index.html") as tmp:
        tmp.write_text(to_html(boards, figures, prefixes, source=source, galleries=shown,
                               reproductions=reproductions), encoding="utf-8")
    files["index.html"] = folder / "index.html"
    return files | {prefixes[modality] + name: path
                    for modality, drawn in figures.items() for name, path in drawn.items()}


# The pictures of image explanations, beside the page (a folder of the page's own): inline they
# made the nightly's page 4.9 MB, and it grows with every image model.
GALLERIES = "galleries"


def copy_galleries(galleries: Sequence[Path], into: Path) -> list[Path]:
    """Each picture in 256 colours in `into`, whose other pictures (of an earlier page) go; the
    copies' paths, in the order given."""
    copies = [into / path.name for path in galleries]
    for path, copy in zip(galleries, copies, strict=True):
        write_bytes_atomic(copy, in_256_colours(path))
    for stale in set(into.glob("*.png")) - set(copies):
        stale.unlink()
    return copies


# The page: one file but for the galleries, styles and script inline, the leaderboard's figures as
# data URIs.

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
div.wide { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f2f2f2; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td.text, th.text { text-align: left; }
p.stats, ul.notes { font-size: 0.85rem; color: #444; max-width: 70rem; }
figure { display: inline-block; margin: 0.5rem 1rem 1rem 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.8rem; color: #555; }
"""

# Click a header to sort by it; again to reverse. Cells sort by data-sort (a number) when they
# have one, else by their text; empty cells sort last either way.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[column];
        var number = cell.getAttribute("data-sort");
        return number === null || number === "" ? cell.textContent.trim() : parseFloat(number);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === "" || y === "") { return x === "" ? (y === "" ? 0 : 1) : -1; }
        var order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def html_table(text: pd.DataFrame, value: pd.DataFrame, table_id: str) -> str:
    if text.empty:
        return "<p><em>no rows</em></p>"
    numeric = {c for c in value.columns if pd.api.types.is_numeric_dtype(value[c])}
    head = "".join(f'<th class="{"num" if c in numeric else "text"}">{html.escape(str(c))}</th>' for c in text.columns)
    body = []
    for i in range(len(text)):
        cells = []
        for c in text.columns:
            shown = html.escape(str(text[c].iloc[i]))
            if c in numeric and pd.notna(value[c].iloc[i]):
                cells.append(f'<td data-sort="{float(value[c].iloc[i])!r}">{shown}</td>')
            else:
                cells.append(f'<td class="text">{shown}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    # In a box that scrolls sideways: a table of many metrics is wider than a window.
    return (f'<div class="wide"><table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def html_figure(path: Path, caption: str) -> str:
    data = base64.b64encode(in_256_colours(path)).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def html_picture(path: Path, caption: str) -> str:
    """A picture in the page's galleries folder, loaded when scrolled to."""
    return (f'<figure><img alt="{html.escape(caption)}" loading="lazy" '
            f'src="{html.escape(f"{GALLERIES}/{path.name}")}"><figcaption>{html.escape(caption)}</figcaption></figure>')


def html_notes(lines: list[str], css: str = "notes") -> str:
    return f'<ul class="{css}">' + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>" if lines else ""


def to_html(boards: dict[str, Leaderboard], figures: dict[str, dict[str, Path]], prefixes: dict[str, str], *,
            source: str = "", galleries: Sequence[Path] = (), reproductions: bool = False) -> str:
    """Every string from the rows (dataset, model, explainer and metric names, notes) is escaped:
    dataset names come from OpenML and are not ours to trust."""
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>bench leaderboard</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>bench leaderboard</h1>",
        f"<p>Built {html.escape(time.strftime('%Y-%m-%d %H:%M'))} from the rows in "
        f"<code>{html.escape(source)}</code>. Click a column header to sort.</p>",
    ]
    if reproductions:
        parts.append('<p><a href="reproductions.html">Reproductions of papers</a>: our numbers beside the '
                     "published ones.</p>")
    several = len(boards) > 1
    if several:
        parts.append("<p>One section per modality: " + ", ".join(
            f'<a href="#{prefixes[m]}accuracy">{html.escape(MODALITIES[m])}</a>' for m in boards) + ".</p>")
    for modality, board in boards.items():
        parts += _board_html(board, figures[modality], prefixes[modality],
                             f"{MODALITIES[modality]}: " if several else "")
    if galleries:
        parts += ["<h2 id=\"images\">Explanations of images</h2>",
                  "<p>Per image task, fold and model: a sample of explained test images, each explainer's heatmaps "
                  "(red for the explained class, blue against, each panel scaled to its largest |attribution|) "
                  "and its deletion curves. A model's own pictures follow its fold's: FLINT's attributes "
                  "(-relevance, -attributes, -local) and CNN-INTE's paths (-paths: a test image, the prototypes of "
                  "its cluster and sub-cluster, the base learners' votes and the combiner's decision).</p>"]
        parts += [html_picture(path, path.stem) for path in galleries]
    notes = [f"{MODALITIES[m]}: {note}" if several else note
             for m, board in boards.items() for note in board.notes.get("data", [])]
    if notes:
        parts += ["<h2 id=\"rows\">About the rows</h2>", html_notes(notes)]
    parts += [f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts)


def _board_html(board: Leaderboard, figures: dict[str, Path], prefix: str, title: str) -> list[str]:
    """One modality's sections: what its entries are, accuracy, inherent vs post-hoc, then
    explanation quality and cost, with their figures; `prefix` before each id, `title` before
    each heading."""
    heading = f'<h2 id="{prefix}accuracy">{html.escape(title + ACCURACY_TITLE)}</h2>'
    if board.empty:  # only failed or non-finite rows: say so where the section would be
        return [heading, "<p><em>No finished result for this modality.</em></p>",
                html_notes(board.notes.get("data", []))]
    text, value = wide_table(board, "accuracy")
    parts = [heading, f'<p class="stats">{html.escape(board.scope)}</p>',
             html_notes([ENTRIES_NOTE, *board.notes.get("entries", [])]),
             html_table(text, value, f"{prefix}accuracy-table"),
             html_notes([f"Headline: {HEADLINE_NAMES[board.modality]}.", VERSUS_BEST_NOTE], "notes stats")]
    if "accuracy" in board.tests:
        parts.append(f'<p class="stats">{html.escape(board.tests["accuracy"].describe())}</p>')
    parts.append(html_notes(board.notes.get("accuracy", [])))
    text, value = per_task_table(board)
    if not text.empty:
        parts += [f"<h3>{html.escape(f'Headline accuracy per task: {HEADLINE_NAMES[board.modality]}')}</h3>",
                  html_table(text, value, f"{prefix}tasks-table")]
    for name, caption in (("cd-accuracy", "critical-difference diagram of accuracy"),
                          ("heatmap", f"headline accuracy per task: {HEADLINE_NAMES[board.modality]}")):
        if name in figures:
            parts.append(html_figure(figures[name], caption))

    text, value = own_table(board)
    if not text.empty:
        parts += [f'<h2 id="{prefix}own">{html.escape(title + OWN_TITLE)}</h2>',
                  html_table(text, value, f"{prefix}own-table"), html_notes([OWN_NOTE, NORMALISED_NOTE], "notes stats")]
    if "accuracy-vs-quality" in figures:
        parts.append(html_figure(figures["accuracy-vs-quality"],
                                 f"inherent vs post-hoc across predictors: accuracy against {board.scatter_metric} "
                                 "normalised per predictor (1: the best explainer of that predictor, 0: random); "
                                 "bars: 95% intervals; stars: a model's own explanation; diamonds: our attribution "
                                 "views of FLINT's and CNN-INTE's; circles: post-hoc explainers; area: seconds per "
                                 "instance"))

    text, value = wide_table(board, "explanations")
    parts += [f'<h2 id="{prefix}explanations">{html.escape(title + EXPLANATIONS_TITLE)}</h2>',
              html_table(text, value, f"{prefix}explanations-table")]
    parts.append(html_notes([NORMALISED_NOTE, *[test.describe() for name, test in board.tests.items()
                                                if name != "accuracy"]], "notes stats"))
    parts.append(html_notes(board.notes.get("explanations", [])))
    if "cost" in figures:
        parts.append(html_figure(figures["cost"], "explainer cost, seconds per instance (log scale)"))
    for name, test in board.tests.items():
        if name != "accuracy" and f"cd-{name}" in figures:
            parts.append(html_figure(figures[f"cd-{name}"], f"critical-difference diagram of {test.name}"))
    return parts
