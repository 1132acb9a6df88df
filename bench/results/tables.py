"""Tables from stored rows: long CSVs for tools, pivoted markdown for people."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.results.store import atomic_path

ID_COLUMNS = ["suite", "task_id", "dataset_id", "dataset", "fold", "split_kind", "seed", "model"]
TABLE_COLUMNS = {
    "accuracy": ID_COLUMNS + ["metric", "value", "higher_is_better", "status", "error"],
    "explanations": ID_COLUMNS + ["explainer", "metric", "value", "higher_is_better", "n_instances", "status", "error"],
    "cost": ID_COLUMNS + ["explainer", "metric", "value", "n_instances", "status", "error"],
    "skipped": ["suite", "task_id", "dataset_id", "dataset", "error"],
}
PIVOT_INDEX = {
    "accuracy": ["dataset", "fold", "model"],
    "explanations": ["dataset", "fold", "model", "explainer"],
    "cost": ["dataset", "fold", "model", "explainer"],
}


def build_tables(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    fit = rows["explainer"].isna() & (rows["category"] != "data")
    explained = rows["explainer"].notna()
    selections = {
        "accuracy": fit,
        "explanations": explained & (rows["category"] != "cost"),
        # A unit that did not run at all (no category) says why in both tables.
        "cost": explained & ((rows["category"] == "cost") | rows["category"].isna()),
        "skipped": rows["category"] == "data",
    }
    return {
        name: rows.loc[mask, TABLE_COLUMNS[name]].sort_values(TABLE_COLUMNS[name][:-2], na_position="first").reset_index(drop=True)
        for name, mask in selections.items()
    }


def to_markdown(name: str, table: pd.DataFrame) -> str:
    """One row per (dataset, fold, model[, explainer]), one column per metric; a unit that did
    not run says why in a last column."""
    if table.empty:
        return f"_no {name} rows_\n"
    if name == "skipped":
        return table.to_markdown(index=False) + "\n"
    index = PIVOT_INDEX[name]
    ok = table[table["status"] == "ok"]
    wide = ok.pivot_table(index=index, columns="metric", values="value", aggfunc="first", dropna=False) \
        if not ok.empty else pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=index))
    notes = table[table["status"] != "ok"]
    if not notes.empty:
        reasons = notes.assign(note=notes["status"] + ": " + notes["error"].fillna("")).groupby(index)["note"].first()
        wide = wide.join(reasons, how="outer")
    wide = wide.reset_index()
    wide.columns.name = None
    # tabulate blanks None, not NaN
    return wide.astype(object).where(wide.notna(), None).to_markdown(index=False, floatfmt=".4g", missingval="") + "\n"


def write_tables(tables: dict[str, pd.DataFrame], folder: str | Path) -> dict[str, str]:
    """Writes `<name>.csv` and `<name>.md` per table; returns the markdown texts."""
    folder = Path(folder)
    texts = {}
    for name, table in tables.items():
        with atomic_path(folder / f"{name}.csv") as tmp:
            table.to_csv(tmp, index=False)
        texts[name] = to_markdown(name, table)
        with atomic_path(folder / f"{name}.md") as tmp:
            tmp.write_text(texts[name])
    return texts
