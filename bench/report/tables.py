"""Tables from stored rows: long CSVs for tools, pivoted markdown for people."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.core.io import write_all_atomic, write_bytes_atomic
from bench.results.locks import locked
from bench.report.markdown import markdown_table
from bench.results.store import ResultStore
from bench.results.units import LOCKS, explanation_key

ID_COLUMNS = ["suite", "task_id", "dataset_id", "dataset", "fold", "split_kind", "split_seed", "n_train", "seed", "model"]
# `predictor`: the predictor a row is about (bench/report/predictors.py); `budget`: the fit's
# training budget. Both blank in rows stored before they were recorded.
TABLE_COLUMNS = {
    "accuracy": ID_COLUMNS + ["predictor", "budget", "metric", "value", "higher_is_better", "unit", "status", "error"],
    "explanations": ID_COLUMNS + ["predictor", "explainer", "metric", "value", "higher_is_better", "n_instances",
                                  "model_evaluations", "unit", "status", "error"],
    "cost": ID_COLUMNS + ["predictor", "explainer", "metric", "value", "n_instances", "unit", "status", "error"],
    "skipped": ["suite", "task_id", "dataset_id", "dataset", "error"],
}
# What a person needs to tell rows apart; units that still look alike (two configs of one
# model) also get their unit key.
PIVOT_INDEX = {
    "accuracy": ["suite", "dataset", "fold", "seed", "model"],
    "explanations": ["suite", "dataset", "fold", "seed", "model", "explainer"],
    "cost": ["suite", "dataset", "fold", "seed", "model", "explainer"],
}
# Index columns that hold names, never numbers (a dataset may be called "inf").
NAME_COLUMNS = ["unit", "suite", "dataset", "model", "explainer"]
NAME_SLOT = "\0"  # where a metric's name stood in its reason, while notes are grouped


def build_tables(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    fit = rows["explainer"].isna() & ~rows["category"].isin(["data", "cost"])
    fit_cost = rows["explainer"].isna() & (rows["category"] == "cost")
    explained = rows["explainer"].notna()
    selections = {
        "accuracy": fit,
        "explanations": explained & (rows["category"] != "cost"),
        # The explainers' cost, a unit that did not run at all (no category: it says why in both
        # tables), and each model's training, as a row without an explainer.
        "cost": fit_cost | (explained & ((rows["category"] == "cost") | rows["category"].isna())),
        "skipped": rows["category"] == "data",
    }
    return {
        name: rows.loc[mask].reindex(columns=TABLE_COLUMNS[name])  # older rows lack the newer columns
        .sort_values(TABLE_COLUMNS[name][:-2], na_position="first").reset_index(drop=True)
        for name, mask in selections.items()
    }


def to_markdown(name: str, table: pd.DataFrame) -> str:
    """One row per unit (suite, dataset, fold, seed, model[, explainer]), one column per metric;
    a unit that did not run, or a metric that failed, says why in a last column."""
    if table.empty:
        return f"_no {name} rows_\n"
    if name == "skipped":
        return markdown_table(table) + "\n"
    shown = PIVOT_INDEX[name]
    index = ["unit", *shown]
    # An explanation's metrics are units of their own: one line per explanation.
    table = table.assign(unit=table["unit"].map(explanation_key, na_action="ignore"))
    # Blank, not NaN, in the index: NaN keys do not match between the two halves joined below.
    table = table.assign(**{c: table[c].astype(object).where(table[c].notna(), "") for c in index})
    ok = table[table["status"] == "ok"].drop_duplicates([*index, "metric"])
    wide = ok.set_index([*index, "metric"])["value"].unstack("metric") \
        if not ok.empty else pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=index))
    notes = table[table["status"] != "ok"]
    if not notes.empty:
        wide = wide.join(_notes(notes, index), how="outer")
    wide = wide.reset_index()
    wide.columns.name = None
    if not wide.duplicated(shown).any():
        wide = wide.drop(columns="unit")
    return markdown_table(wide, names=NAME_COLUMNS, floatfmt=".4g") + "\n"


def shared_reasons(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Rows that did not run, counted per `by` and reason, where reasons that differ only by the
    metric's name are one and name every such metric (six conciseness taus that do not apply to
    an attribution explanation): columns `by`, "reason", "rows"."""
    metrics = rows["metric"].fillna("").astype(str)
    # The name as a reason's first word only: "faithfulness" must not match inside "faithfulness_correlation".
    slotted = [NAME_SLOT + error[len(metric):] if metric and error.startswith(metric + " ") else error
               for metric, error in zip(metrics, rows["error"].fillna("").astype(str), strict=True)]
    groups = rows.assign(metric=metrics, slotted=slotted).groupby([*by, "slotted"], sort=False)
    shared = groups["metric"].agg(lambda names: ", ".join(dict.fromkeys(names))).to_frame("names")
    shared["rows"] = groups.size()
    shared = shared.reset_index()
    shared["reason"] = [slotted.replace(NAME_SLOT, names)
                        for slotted, names in zip(shared["slotted"], shared["names"], strict=True)]
    return shared[[*by, "reason", "rows"]]


def _notes(notes: pd.DataFrame, index: list[str]) -> pd.Series:
    """Per unit, "status: reason" of the rows that did not run."""
    shared = shared_reasons(notes, [*index, "status"])
    return (shared["status"] + ": " + shared["reason"]).groupby([shared[c] for c in index], sort=False).agg("; ".join) \
        .rename("note")


def write_tables(tables: dict[str, pd.DataFrame], folder: str | Path) -> dict[str, str]:
    """Writes `<name>.csv` and `<name>.md` per table, all or none; returns the markdown texts."""
    folder = Path(folder)
    texts = {name: to_markdown(name, table) for name, table in tables.items()}
    files = {f"{name}.csv": table.to_csv(index=False) for name, table in tables.items()} | \
        {f"{name}.md": text for name, text in texts.items()}
    write_all_atomic({folder / file_name: content.encode("utf8") for file_name, content in files.items()})
    return texts


def refresh_tables(store: ResultStore, folder: str | Path) -> None:
    """The tables of every row `store` holds, in `folder`, rewritten when rows were written,
    replaced or removed since they were (a run that stored nothing reads none of the thousands of
    files of a large results folder); one run at a time, so that the last to write them had read
    every row stored before it looked."""
    folder = Path(folder)
    with locked(store.root / LOCKS / "tables.lock"):
        stamp, written = store.rows_stamp(), folder / ROWS_STAMP
        if written.is_file() and written.read_text() == stamp:
            return
        write_tables(build_tables(store.read_all()), folder)
        write_bytes_atomic(written, stamp.encode())


# In a tables folder: the stamp of the rows its tables were built from (ResultStore.rows_stamp).
ROWS_STAMP = ".rows-stamp"
