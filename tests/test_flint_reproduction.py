"""FLINT's Table 1 from result rows (bench/papers/flint.py), on rows made by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.papers.flint import PUBLISHED, compare, summarise
from bench.papers.reproduction import read_published
from tests.conftest import compose_config
from tests.test_reproduction import sweep_params


def row(model, metric, value, seed, explainer=None):
    return {"model": model, "metric": metric, "value": value, "seed": seed, "explainer": explainer, "status": "ok"}


def test_table1_means_over_seeds_in_percent_beside_the_paper_with_notes():
    rows = pd.DataFrame([
        row("cnn", "accuracy", 0.98, 0), row("cnn", "accuracy", 0.99, 1),
        row("flint", "accuracy", 0.95, 0), row("flint", "accuracy", 0.97, 1),
        row("flint:g", "accuracy", 0.90, 0), row("flint:g", "accuracy", 0.92, 1),
        row("flint:g", "fidelity", 0.93, 0), row("flint:g", "fidelity", 0.95, 1),
        # FLINT's own explanation is g's: its rows are the entry flint:g's.
        row("flint:g", "cns_2", 4.0, 0, "native"), row("flint:g", "cns_2", 2.0, 1, "native"),
        row("flint", "cns_2", 9.0, 0, "native"),
        row("cnn", "surrogate_fidelity", 0.90, 0, "lime_image"), row("flint", "surrogate_fidelity", 0.5, 0, "lime_image"),
        row("cnn", "surrogate_fidelity_at_instance", 1.0, 0, "lime_image"),
        row("flint", "accuracy", 0.1, 0, "native"),  # an explanation row: not f's accuracy
        {**row("flint", "accuracy", 0.0, 2), "status": "failed"},
    ])
    result = compare(summarise(rows), read_published(PUBLISHED), n_train=5000).set_index("row")
    assert result.loc["accuracy_base_f", "ours"] == pytest.approx(98.5)
    assert result.loc["accuracy_base_f", "ours_std"] == pytest.approx(np.std([98, 99], ddof=1))
    assert result.loc["accuracy_base_f", "diff"] == pytest.approx(98.5 - 98.9)
    assert result.loc["accuracy_base_f", "note"] == ""  # within a point
    assert result.loc["accuracy_flint_f", "ours"] == pytest.approx(96.0) and result.loc["accuracy_flint_f", "n_seeds"] == 2
    assert "trained on 5,000 images" in result.loc["accuracy_flint_g", "note"]
    assert result.loc["conciseness_tau_2", "ours"] == pytest.approx(3.0)
    assert result.loc["conciseness_tau_2", "paper"] == pytest.approx(1.07)
    assert "released checkpoint" in result.loc["conciseness_tau_2", "note"]
    assert result.loc["fidelity_lime", "ours"] == pytest.approx(90.0)  # LIME of BASE-f, not of FLINT's f
    assert "held-out perturbations" in result.loc["fidelity_lime", "note"]
    assert result.loc["fidelity_lime_at_instance", "ours"] == pytest.approx(100.0)  # the diagnostic, beside it
    assert np.isnan(result.loc["fidelity_lime_at_instance", "paper"])
    assert "diagnostic" in result.loc["fidelity_lime_at_instance", "note"]
    assert "not implemented" in result.loc["accuracy_senn", "note"] and np.isnan(result.loc["accuracy_senn", "ours"])
    assert "no stored rows" in result.loc["conciseness_tau_5", "note"]


def test_the_experiment_is_table_1s_protocol():
    cfg = compose_config(["experiment=paper_flint_table1"])
    assert cfg.data.suite == "mnist" and cfg.model.name == "flint" and list(cfg.explainers) == ["native", "lime_image"]
    lime = cfg.explainers.lime_image
    assert lime.every_class and lime.held_out_samples > 0 and lime.hide_color == 0  # VIBI's LIME hides with black
    assert {"surrogate_fidelity", "surrogate_fidelity_at_instance"} <= set(cfg.metrics.explanation)
    assert [cfg.metrics.explanation[f"cns_{tau}"].tau for tau in ("1_5", "2", "2_5", "3", "4", "5")] == \
        [1.5, 2, 2.5, 3, 4, 5]
    assert sweep_params("paper_flint_table1") == {"seed": "range(3)", "model": "cnn,flint,flint_posthoc"}
