"""Comparisons a referee would accept (issue 30): entries are predictors, explanation scores are
compared within a predictor and across predictors only normalised, images are ranked on accuracy,
and every compared number carries its interval. Hand-made rows whose answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench.report.comparison import normalised, references, versus_best
from bench.report.predictors import OWN_EXPLANATIONS as OWN
from bench.report.leaderboard import build_leaderboard, build_leaderboards
from bench.report.predictors import VIEW, VIEW_NOTE
from bench.report.publish import own_table, to_markdown, wide_table, write_leaderboard
from bench.report.tables import build_tables
from bench.results.store import rows_frame
from tests.results.conftest import KNOWN, TASKS, grid, row

DELETION = {"metric": "deletion_auc", "higher_is_better": False}


def named(rows: list[dict], predictor: str | None = None, **columns) -> list[dict]:
    """`rows` naming their predictor (`predictor`, else each row's model) and any other column."""
    return [{**r, "predictor": predictor or r["model"], **columns} for r in rows]


def shared_cnn_rows() -> list[dict]:
    """cnn, and CNN-INTE and FLINT post-hoc over it: three models, one predictor, with their
    interpreters and another model."""
    cnn = KNOWN["a"]
    return named(grid({"cnn": cnn, "flint": KNOWN["b"], "cnn_inte:g": KNOWN["c"], "flint_posthoc:g": [0.6] * 6})) \
        + named(grid({"cnn_inte": cnn, "flint_posthoc": cnn}), "cnn")


def test_three_models_with_one_predictor_count_once_in_the_accuracy_ranks():
    board = build_leaderboard(rows_frame(shared_cnn_rows()))
    entries = {"cnn", "flint", "cnn_inte:g", "flint_posthoc:g"}
    assert set(board.tests["accuracy"].mean_ranks.index) == entries and board.tests["accuracy"].matrix.shape == (6, 4)
    assert set(board.primary.columns) == entries
    assert set(board.summary.loc[board.summary["section"] == "accuracy", "predictor"]) == entries
    assert ("cnn, cnn_inte and flint_posthoc predict with one network, cnn's: it is one entry, cnn, and its post-hoc "
            "explanations are listed once, under it; cnn_inte and flint_posthoc enter with their interpreters g "
            "(cnn_inte:g and flint_posthoc:g).") in board.notes["entries"]


def test_post_hoc_explanations_of_a_shared_predictor_are_listed_once_and_differences_said():
    ig = grid({"cnn": [0.1] * 6}, explainer="ig", **DELETION)
    random = grid({"cnn": [0.7] * 6}, explainer="random", **DELETION)
    again = [dict(r, model="cnn_inte") for r in ig + random]
    again[-1] = dict(again[-1], value=0.75)  # random, seeded per model, drew otherwise on task5
    board = build_leaderboard(rows_frame(shared_cnn_rows() + named(ig + random) + named(again, "cnn")))
    explained = board.summary[board.summary["section"] == "explanations"]
    assert explained[["predictor", "explainer"]].values.tolist() == [["cnn", "ig"], ["cnn", "random"]]
    assert explained["n_cells"].tolist() == [6, 6] and explained["mean"].tolist() == pytest.approx([0.1, 0.7])
    assert ("1 of cnn_inte's rows for predictor cnn differ from cnn's own, which are shown (e.g. deletion_auc of "
            "random on task5: 0.75 against 0.7).") in board.notes["entries"]


def test_a_model_whose_base_has_no_rows_stands_in_for_it():
    board = build_leaderboard(rows_frame(named(grid({"cnn_inte": KNOWN["a"], "flint": KNOWN["b"]}), "cnn")[:6]
                                         + named(grid({"flint": KNOWN["b"]}))))
    assert board.primary["cnn"].tolist() == KNOWN["a"] and set(board.primary.columns) == {"cnn", "flint"}


def test_rows_stored_before_the_predictor_column_are_their_models_and_look_alikes_are_named(tmp_path):
    rows = rows_frame(grid({"cnn": KNOWN["a"], "cnn_inte": KNOWN["a"], "flint": KNOWN["b"]})) \
        .drop(columns=["predictor", "budget"])
    board = build_leaderboard(rows)
    assert set(board.primary.columns) == {"cnn", "cnn_inte", "flint"}
    assert ("cnn and cnn_inte have the same prediction scores on every cell (6 values): one predictor, probably, "
            "stored before rows named their predictor, and counted here as 2 entries.") in board.notes["entries"]
    assert set(wide_table(board, "accuracy")[0]["budget"]) == {"—"}
    assert (write_leaderboard({"tabular": board}, tmp_path)["index.html"]).is_file()


def test_the_image_headline_is_accuracy_and_auroc_stays_in_the_table():
    # x has the better AUROC on every task, y the better accuracy.
    auroc = grid({"x": [0.999] * 6, "y": [0.995] * 6})
    accuracy = grid({"x": [0.90] * 6, "y": [0.93] * 6}, metric="accuracy")
    rows = rows_frame([{**r, "suite": "mnist", "input_kind": "image"} for r in auroc + accuracy])
    board = build_leaderboards(rows)["image"]
    assert board.tests["accuracy"].mean_ranks.index.tolist() == ["y", "x"]
    assert board.primary.loc["task0"].to_dict() == {"x": 0.90, "y": 0.93}
    assert board.headline["mean"].to_dict() == pytest.approx({"x": 0.90, "y": 0.93})  # the scatter's x
    text, _ = wide_table(board, "accuracy")
    assert list(text.columns[:5]) == ["predictor", "tasks", "budget", "accuracy ↑", "vs best (accuracy)"]
    assert "roc_auc ↑" in text.columns and text["predictor"].tolist() == ["y", "x"]
    # The same rows as a table's rank on AUROC.
    tabular = build_leaderboard(rows_frame(auroc + accuracy))
    assert tabular.tests["accuracy"].mean_ranks.index.tolist() == ["x", "y"]


def test_the_normalised_score_is_random_minus_explainer_over_random_minus_best():
    cells = pd.DataFrame([
        # predictor p: random 0.6, the best 0.2, e2 at 0.4: half way from random to the best.
        ("p", "random", 0.6), ("p", "e1", 0.2), ("p", "e2", 0.4),
        # predictor q, an overconfident model: all its scores are lower, random's too.
        ("q", "random", 0.25), ("q", "e1", 0.05), ("q", "e2", 0.20),
    ], columns=["entry", "explainer", "value"]).assign(task="t", fold=0, seed=0, metric="deletion_auc",
                                                        higher_is_better=False)
    scores = normalised(cells, OWN).set_index(["entry", "explainer"])["value"]
    assert scores.to_dict() == pytest.approx({
        ("p", "random"): 0.0, ("p", "e1"): 1.0, ("p", "e2"): (0.6 - 0.4) / (0.6 - 0.2),
        ("q", "random"): 0.0, ("q", "e1"): 1.0, ("q", "e2"): (0.25 - 0.20) / (0.25 - 0.05)})
    correlation = cells.assign(metric="faithfulness_correlation", higher_is_better=True,
                               value=[0.0, 0.8, 0.2, 0.1, 0.5, 0.1])
    scores = normalised(correlation, OWN).set_index(["entry", "explainer"])["value"]
    assert scores[("p", "e2")] == pytest.approx((0.2 - 0.0) / (0.8 - 0.0))
    # q's e2 is no better than random, and nothing is undefined but where best == random.
    assert scores[("q", "e2")] == 0.0
    assert normalised(cells[cells["explainer"] != "random"], OWN).empty  # no random: no score
    assert normalised(cells.assign(value=0.5), OWN).empty  # no explainer beats random


def test_every_predictor_is_normalised_against_the_same_reference_explainers():
    cells = pd.DataFrame([
        # p was explained by e1 and e2 and has its own explanation; q, a forest, by e2 only
        ("p", "random", 0.6), ("p", "e1", 0.2), ("p", "e2", 0.4), ("p", "native", 0.3),
        ("q", "random", 0.6), ("q", "e2", 0.4), ("q", "native", 0.3),
    ], columns=["entry", "explainer", "value"]).assign(task="t", fold=0, seed=0, metric="deletion_auc",
                                                        higher_is_better=False)
    assert references(cells, OWN) == {"deletion_auc": ["e2"]}
    scores = normalised(cells, OWN).set_index(["entry", "explainer"])["value"]
    # the same own score on both predictors, against the same reference (e2), scores the same,
    # however many more explainers p had; better than every reference: above 1
    assert scores[("p", "native")] == scores[("q", "native")] == pytest.approx((0.6 - 0.3) / (0.6 - 0.4))
    assert scores[("p", "e1")] == pytest.approx((0.6 - 0.2) / (0.6 - 0.4))


def test_explanations_are_ranked_across_predictors_only_normalised():
    # Raw, q's e2 (0.20) beats p's (0.40); normalised per predictor, p's (0.5) beats q's (0.25):
    # q's random explainer scores lower too, as a less confident model's does (ATEX's on MNIST).
    rows = grid({"p": KNOWN["a"], "q": KNOWN["b"]}) \
        + grid({"p": [0.6] * 6, "q": [0.25] * 6}, explainer="random", **DELETION) \
        + grid({"p": [0.2] * 6, "q": [0.05] * 6}, explainer="e1", **DELETION) \
        + grid({"p": [0.4] * 6, "q": [0.20] * 6}, explainer="e2", **DELETION)
    board = build_leaderboard(rows_frame(rows))
    ranks = board.tests["deletion_auc"].mean_ranks
    assert ranks["p · e2"] < ranks["q · e2"] and "normalised per predictor" in board.tests["deletion_auc"].name
    normal = board.summary[board.summary["section"] == "normalised"].set_index(["predictor", "explainer"])["mean"]
    assert normal[("p", "e2")] == pytest.approx(0.5) and normal[("q", "e2")] == pytest.approx(0.25)
    assert "(explainer − random) / (best − random)" in to_markdown(board)


def test_versus_best_is_the_paired_difference_and_its_student_t_interval():
    best = np.array([0.9, 0.8, 0.95, 0.7, 0.85, 0.9])
    noisy = best + np.array([0.1, -0.1, 0.1, -0.1, 0.1, -0.11])  # overlapping: the difference averages ~0
    far = best - 0.2 + np.array([0.001, -0.001, 0.0, 0.001, -0.001, 0.0])
    cells = pd.DataFrame({"task": TASKS * 3, "fold": 0, "seed": 0, "label": ["best"] * 6 + ["noisy"] * 6 + ["far"] * 6,
                          "value": np.concatenate([best, noisy, far])})
    table = versus_best(cells, higher_is_better=True)
    difference = noisy - best
    half = stats.t.ppf(0.975, 5) * difference.std(ddof=1) / np.sqrt(6)
    assert table.loc["noisy", ["delta", "ci95"]].tolist() == pytest.approx([difference.mean(), half])
    assert table["verdict"].to_dict() == {"best": "best", "noisy": "not distinguishable", "far": "worse"}
    assert table.loc["far", "delta"] == pytest.approx(-0.2)


def test_the_page_says_not_distinguishable_where_intervals_overlap_and_not_where_far_apart(tmp_path):
    a = np.array(KNOWN["a"])
    values = {"a": list(a), "near": list(a + [0.01, -0.01, 0.01, -0.01, 0.01, -0.012]), "far": list(a - 0.3)}
    rows = grid(values) + grid({m: list(np.array(v) * 0 + 0.9) for m, v in values.items()}, explainer="random",
                               **DELETION) \
        + grid({m: [0.2, 0.3, 0.2, 0.3, 0.2, 0.3] for m in values}, explainer="ig", **DELETION) \
        + grid({m: [0.3, 0.2, 0.3, 0.2, 0.3, 0.21] for m in values}, explainer="saliency", **DELETION) \
        + grid({m: [0.8] * 6 for m in values}, explainer="lime", **DELETION)
    board = build_leaderboard(rows_frame(rows))
    accuracy = wide_table(board, "accuracy")[0].set_index("predictor")["vs best (roc_auc)"]
    assert accuracy["near"].startswith("not distinguishable (Δ") and accuracy["far"].startswith("worse (Δ -0.3")
    explained = wide_table(board, "explanations")[0].set_index(["predictor", "explainer"])
    verdicts = explained["vs best of its predictor (deletion_auc)"]
    assert verdicts[("a", "ig")] == "best" and verdicts[("a", "saliency")].startswith("not distinguishable")
    assert verdicts[("a", "lime")].startswith("worse")
    page = write_leaderboard({"tabular": board}, tmp_path)["index.html"].read_text()
    assert "not distinguishable (Δ" in page


def test_one_cell_cannot_tell_and_three_seeds_of_one_task_give_an_interval_over_seeds():
    one = build_leaderboard(rows_frame([row("mnist", m, v, metric="accuracy") for m, v in (("x", 0.9), ("y", 0.8))]),
                            modality="image")
    assert one.headline.loc["y", "verdict"] == "cannot tell: 1 cell"
    assert "one cell per mean: no interval, and no difference is called distinguishable or not" in one.scope
    seeds = [{**row("mnist", m, v, metric="accuracy"), "seed": seed}
             for m, by_seed in (("x", [0.90, 0.92, 0.91]), ("y", [0.80, 0.83, 0.81])) for seed, v in enumerate(by_seed)]
    board = build_leaderboard(rows_frame(seeds), modality="image")
    assert "3 seeds, so the interval is over the one task's folds and seeds" in board.scope
    x = board.summary.set_index(["predictor", "metric"]).loc[("x", "accuracy")]
    assert (x["mean"], x["ci95"]) == pytest.approx((0.91, stats.t.ppf(0.975, 2) * 0.01 / np.sqrt(3)))
    assert board.headline.loc["y", "verdict"] == "worse"  # y - x: -0.1, -0.09, -0.1
    assert board.tests == {} and board.notes["accuracy"][0].startswith("1 task: no ranks and no rank test")


def test_our_attribution_views_are_labelled_in_every_table():
    # New rows: FLINT's own explanation explains g, the entry flint:g; dtree's is inherent.
    explainers = {"native": [0.4] * 6, "ig": [0.2] * 6, "random": [0.9] * 6}
    rows = named(grid({"flint": KNOWN["a"], "flint:g": KNOWN["b"], "dtree": KNOWN["c"]})) \
        + named([r for name, values in explainers.items()
                 for r in grid({"flint:g": values, "dtree": values}, explainer=name, **DELETION)])
    board = build_leaderboard(rows_frame(rows))
    explained = wide_table(board, "explanations")[0]
    assert sorted(explained.loc[explained["predictor"] == "flint:g", "explainer"]) == ["ig", VIEW, "random"]
    assert "native" in set(explained.loc[explained["predictor"] == "dtree", "explainer"])
    own = own_table(board)[0].set_index("predictor")["own explanation"]
    assert own.to_dict() == {"dtree": "native", "flint:g": VIEW}
    assert VIEW_NOTE in board.notes["entries"] and VIEW_NOTE in to_markdown(board)
    assert set(board.summary.loc[board.summary["predictor"] == "flint:g", "explainer"]) - {""} == {"ig", VIEW, "random"}


def test_own_explanation_against_the_best_post_hoc_explainer_of_its_predictor():
    native = [0.31, 0.29, 0.31, 0.29, 0.31, 0.29]
    rows = grid({"dtree": KNOWN["a"]}) + grid({"dtree": native}, explainer="native", **DELETION) \
        + grid({"dtree": [0.2] * 6}, explainer="ig", **DELETION) \
        + grid({"dtree": [0.25] * 6}, explainer="kernel_shap", **DELETION) \
        + grid({"dtree": [0.9] * 6}, explainer="random", **DELETION)
    # Random is a baseline, never the contender, even where it scores best (ROAD's LeRF on MNIST).
    lerf = {"metric": "road_lerf", "higher_is_better": True}
    rows += grid({"dtree": [0.95] * 6}, explainer="random", **lerf) \
        + grid({"dtree": [0.9] * 6}, explainer="ig", **lerf) + grid({"dtree": [0.8] * 6}, explainer="native", **lerf)
    both = build_leaderboard(rows_frame(rows)).own_versus_post_hoc.set_index("metric")
    assert both.loc["road_lerf", "post_hoc"] == "ig"
    own = both.loc["deletion_auc"]
    assert (own["predictor"], own["own"], own["post_hoc"], own["verdict"]) == ("dtree", "native", "ig", "worse")
    difference = np.array(native) - 0.2
    assert (own["delta"], own["delta_ci95"]) == pytest.approx(
        (difference.mean(), stats.t.ppf(0.975, 5) * difference.std(ddof=1) / np.sqrt(6)))
    assert own["own_normalised"] == pytest.approx(np.mean((0.9 - np.array(native)) / (0.9 - 0.2)))


def test_each_entry_states_its_training_budget_where_its_rows_do():
    rows = named(grid({"cnn": KNOWN["a"]}), budget="12 epochs, adam lr 0.0001, batch 16") \
        + named(grid({"dtree": KNOWN["b"]}), budget="") + named(grid({"old": KNOWN["c"]}), budget=None)
    budget = wide_table(build_leaderboard(rows_frame(rows)), "accuracy")[0].set_index("predictor")["budget"]
    assert budget.to_dict() == {"cnn": "12 epochs, adam lr 0.0001, batch 16", "dtree": "no training loop", "old": "—"}


def test_the_tables_name_each_rows_predictor_and_budget_and_read_older_rows():
    rows = named(grid({"cnn": KNOWN["a"]}), budget="12 epochs") + named(grid({"cnn_inte": KNOWN["a"]}), "cnn")
    accuracy = build_tables(rows_frame(rows))["accuracy"]
    assert set(zip(accuracy["model"], accuracy["predictor"])) == {("cnn", "cnn"), ("cnn_inte", "cnn")}
    assert set(accuracy.loc[accuracy["model"] == "cnn", "budget"]) == {"12 epochs"}
    older = build_tables(rows_frame(rows).drop(columns=["predictor", "budget"]))["accuracy"]
    assert older["predictor"].isna().all() and len(older) == 12


def test_own_explanations_stored_on_fs_entry_before_rows_named_their_predictor_are_flagged():
    fits = grid({"flint": KNOWN["a"], "flint:g": KNOWN["b"]})
    views = grid({"flint": [0.3] * 6}, explainer="native", **DELETION)
    old = build_leaderboard(rows_frame(fits + views))  # no predictor column: stored before 2026-12-08
    assert any("flint: their own explanations were stored before rows named their predictor" in note
               for note in old.notes["entries"])
    moved = [dict(r, model="flint:g") for r in views]
    new = build_leaderboard(rows_frame(named(fits) + named(moved)))
    assert not any("stored before rows named their predictor" in note for note in new.notes["entries"])


def test_an_interpreters_fit_cost_filed_under_it_is_no_shared_predictor():
    cost = [dict(r, model="mlp_inte", predictor="mlp_inte:g", metric="fit_seconds", category="cost",
                 higher_is_better=False) for r in grid({"mlp_inte": [1.0] * 6})]
    board = build_leaderboard(rows_frame(named(grid({"mlp": KNOWN["a"], "mlp_inte:g": KNOWN["b"]}))
                                         + named(grid({"mlp_inte": KNOWN["a"]}), "mlp") + cost))
    assert not any(note.startswith("mlp_inte:g and mlp_inte") for note in board.notes["entries"])
    assert any(note.startswith("mlp and mlp_inte predict with one network") for note in board.notes["entries"])
