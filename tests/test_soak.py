"""scripts/soak.py: the rows it compares, and a short soak of a real sweep."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bench.core.paths import PROJECT_ROOT
from scripts.soak import differing_rows, merged


def rows(*values) -> pd.DataFrame:
    return pd.DataFrame(values, columns=["unit", "metric", "value", "status"])


def test_every_row_that_differs_is_named_and_no_other():
    reference = rows(("a", "accuracy", 0.75, "ok"), ("a", "roc_auc", 0.5, "ok"), ("b", "", np.nan, "n/a"),
                     ("c", "wall_seconds_per_instance", np.nan, "ok"), ("d", "accuracy", 1.0, "ok"))
    soaked = rows(("a", "accuracy", 0.75, "ok"), ("a", "roc_auc", 0.25, "ok"), ("b", "", np.nan, "failed"),
                  ("c", "wall_seconds_per_instance", np.nan, "ok"), ("e", "accuracy", 1.0, "ok"))
    differences = differing_rows(reference, soaked)
    assert differences[["unit", "metric", "stored_in"]].values.tolist() == [
        ["a", "roc_auc", "both"], ["b", "", "both"], ["d", "accuracy", "left_only"], ["e", "accuracy", "right_only"]]
    assert differing_rows(reference, reference).empty  # NaN values (n/a rows, cost metrics) are equal


def test_an_override_replaces_the_sweeps_option_of_its_key():
    assert merged(["model=logreg,mlp", "seed=0"], ["model=logreg", "data.n_train=100"]) == [
        "model=logreg", "seed=0", "data.n_train=100"]


@pytest.mark.slow
def test_a_sweep_survives_two_kills(tmp_path):
    """One job (logreg, 14 units) killed twice at random times, then run to its end (~40 s)."""
    done = subprocess.run([sys.executable, "scripts/soak.py", "--kills", "2", "--out", str(tmp_path / "soak"),
                           "model=logreg", "seed=0"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "survived 2 of 2 kills (" in done.stdout
    assert "0 row(s) differ; 0 kill(s) left a process running" in done.stdout
