"""Entries are predictors: which rows are one predictor's, and how its explanations are named.

A model that predicts with another's network unchanged (FLINT post-hoc and CNN-INTE over the cnn)
stores, under its own name, rows whose `predictor` is the base's: its predictions' scores and its
post-hoc explanations of that f. They are the base's rows again (value for value where the
explainer is deterministic), so the leaderboard counts them once, under the predictor; the model
enters with its interpreter g (`<model>:g`), whose own explanation and post-hoc explanations are
g's rows. Rows stored before rows named their predictor are their model's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.results.entries import INTERPRETER_SUFFIX

NATIVE = "native"  # a model's own explanation (bench/explainers/native.py)
# FLINT's and CNN-INTE's own explanations are concepts and cluster paths: the attribution metrics
# score an attribution view of them that this project devised (bench/models/flint.py and
# cnn_inte.py), not the papers' explanations. Their rows are shown under this name.
VIEW = "native (our attribution view)"
OWN_EXPLANATIONS = (NATIVE, VIEW)
VIEW_NOTE = (f"{VIEW}: FLINT's and CNN-INTE's own explanations are concepts and cluster paths; the attribution metrics "
             "score an attribution view of them that this project devised, not the papers' explanations, and it is "
             "shown beside the post-hoc explanations of the same predictor, never alone.")
PREDICTOR_CELL = ["suite", "dataset", "fold", "seed", "predictor", "explainer", "metric"]


def one_row_per_predictor(cells: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One cell per predictor: the rows a model stores of another's predictor (FLINT post-hoc's
    and CNN-INTE's of the cnn: its predictions' scores, its post-hoc explanations of f) give way
    to the predictor's own where it has the cell, and elsewhere stand in for it (the first such
    model's, by name). Returns the cells, whose `model` is now their predictor, and the notes: who
    shares a predictor, and whose rows differ from the predictor's own (a stochastic explainer
    seeded per model, or another fit of the base). A stand-in's config is "" (unknown: the
    predictor's one recorded config, where it has one, by leaderboard._known_configs)."""
    own = cells["model"] == cells["predictor"]
    notes = _shared(cells)
    reused = cells[~own].sort_values("model", kind="stable")
    if reused.empty:
        return cells, notes
    kept = cells.loc[own, [*PREDICTOR_CELL, "value"]].drop_duplicates(PREDICTOR_CELL)
    matched = reused.merge(kept, on=PREDICTOR_CELL, how="left", suffixes=("", "_own"))
    has_own = matched["value_own"].notna().to_numpy()
    notes += _differing(matched[has_own])
    stand_ins = reused[~has_own].drop_duplicates(PREDICTOR_CELL)
    stand_ins = stand_ins.assign(model=stand_ins["predictor"], model_config="")
    return pd.concat([cells[own], stand_ins]), notes


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _shared(cells: pd.DataFrame) -> list[str]:
    """One line per predictor that several models predict with, said once. Cost rows are left out:
    a model that predicts with its base files its fit's cost under its interpreter g, which it
    trained, not predicts with."""
    lines = []
    entries = set(cells["predictor"])
    scores = cells[cells["category"] != "cost"]
    for predictor, models in scores.groupby("predictor")["model"].unique().items():
        others = sorted(set(models) - {predictor})
        if not others:
            continue
        line = (f"{_and([predictor, *others])} predict with one network, {predictor}'s: it is one entry, "
                f"{predictor}, and its post-hoc explanations are listed once, under it")
        interpreters = [m + INTERPRETER_SUFFIX for m in others if m + INTERPRETER_SUFFIX in entries]
        if interpreters:
            enters = "enter with their interpreters" if len(others) > 1 else "enters with its interpreter"
            line += f"; {_and(others)} {enters} g ({_and(interpreters)})"
        lines.append(line + ".")
    return lines


def _differing(matched: pd.DataFrame) -> list[str]:
    """Per model, how many of its rows of another's predictor differ from the predictor's own
    (costs aside: timings always differ), with an example."""
    scores = matched[matched["category"] != "cost"]
    differ = scores[~np.isclose(scores["value"], scores["value_own"], rtol=1e-9, atol=1e-12)]
    lines = []
    for (model, predictor), group in differ.groupby(["model", "predictor"]):
        first = group.iloc[0]
        what = first["metric"] + (f" of {first['explainer']}" if first["explainer"] else "")
        lines.append(f"{len(group)} of {model}'s rows for predictor {predictor} differ from {predictor}'s own, which "
                     f"are shown (e.g. {what} on {first['dataset']}: {first['value']:.4g} against "
                     f"{first['value_own']:.4g}).")
    return lines


def look_alike(fits: pd.DataFrame) -> list[str]:
    """Entries stored before rows named their predictor, whose prediction scores agree on every
    cell: one predictor, probably, counted as several entries."""
    old = fits[~fits["predictor_named"] & (fits["category"] == "prediction")]
    groups: dict[tuple, list[str]] = {}
    for label, group in old.groupby("label"):
        key = tuple(sorted(zip(group["task"], group["fold"], group["seed"], group["metric"],
                               group["value"].round(12))))
        groups.setdefault(key, []).append(label)
    return [f"{_and(labels)} have the same prediction scores on every cell ({len(key)} values): one predictor, "
            f"probably, stored before rows named their predictor, and counted here as {len(labels)} entries."
            for key, labels in groups.items() if len(labels) > 1]


def stored_before_predictors(explained: pd.DataFrame) -> list[str]:
    """A warning where own explanations were stored on a model's entry before rows named their
    predictor: FLINT's and CNN-INTE's then explained f's class, with f's probabilities scored,
    though they explain g (since 2026-12-08 they are g's entry's, `<model>:g`). A rerun into the
    same folder resumes them: only an empty results folder rebuilds them."""
    old = explained[~explained["predictor_named"] & (explained["explainer"] == VIEW)
                    & ~explained["model"].str.endswith(INTERPRETER_SUFFIX)]
    if old.empty:
        return []
    return [f"{_and(sorted(old['model'].unique()))}: their own explanations were stored before rows named their "
            f"predictor, on f's entry, explained for f's class ({len(old)} rows); they explain the interpreter g, "
            "and runs since 2026-12-08 score them on <model>:g, against g. Rebuild into an empty results folder."]


def label_views(cells: pd.DataFrame) -> pd.DataFrame:
    """The project's attribution views named as such (VIEW): the own explanation of an
    interpreter entry (`<model>:g`), or, in rows stored before g's explanations had rows of
    their own, of a model that has an interpreter entry."""
    entries = set(cells["model"])
    interpreted = cells["model"].str.endswith(INTERPRETER_SUFFIX) | (cells["model"] + INTERPRETER_SUFFIX).isin(entries)
    return cells.assign(explainer=cells["explainer"].mask(interpreted & (cells["explainer"] == NATIVE), VIEW))


