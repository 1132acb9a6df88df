"""How result rows name an entry: a model by its conf name, and the interpreter learnt with it
(FLINT's g, CNN-INTE's meta-learner) as `<model>:g`, which carries g's own scores: its accuracy,
its fidelity to the model and its accuracy's change from the model's."""

from __future__ import annotations

import pandas as pd

from bench.results.units import INTERPRETER

INTERPRETER_SUFFIX = f":{INTERPRETER}"
# The scores of an interpreter against its model (bench/metrics/fidelity.py), stored without an
# explainer: never the model's own.
INTERPRETER_METRICS = ("fidelity", "fidelity_top5", "accuracy_change")


def interpreter_entry(model: str) -> str:
    return f"{model}{INTERPRETER_SUFFIX}"


def interpreter_rows_on_their_entry(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows stored before 2026-12-07 put the interpreter's fidelity and accuracy change on the
    model's row; they move to the interpreter's entry, where newer runs store them."""
    legacy = (rows["metric"].isin(INTERPRETER_METRICS) & rows["explainer"].isna()
              & ~rows["model"].fillna("").str.endswith(INTERPRETER_SUFFIX))
    if not legacy.any():
        return rows
    rows = rows.copy()
    rows.loc[legacy, "model"] = rows.loc[legacy, "model"].map(interpreter_entry)
    return rows
