"""Re-explanations (MetricContext.reexplain): independent of the explanation's draws by default,
its very draws with `draws="shared"`, deterministic for a config and a seed; in a run, through
the explain function bench/pipeline/explanation_units.py gives the metrics."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import bench.cli.run as bench_run
from bench.core.explanation import Explanation
from bench.metrics import (
    data_randomisation,
    max_sensitivity,
    model_parameter_randomisation,
    relative_input_stability,
    relative_output_stability,
)
from tests.conftest import FAST, FAST_MODEL, compose_config
from tests.metrics.conftest import make_context


def drawn(model, X, target, rng=None) -> Explanation:
    """Attributions that are the draws alone; rng=None: the explanation's own stream, afresh."""
    rng = np.random.default_rng(7) if rng is None else rng
    return Explanation(rng.standard_normal(np.shape(X)), "attribution", np.asarray(target))


def test_shared_draws_are_the_explanations_own_and_independent_ones_the_folds_per_purpose():
    context = make_context(explain=drawn)
    X, target = np.zeros((2, 3)), np.zeros(2, dtype=int)
    original = drawn(None, X, target)
    shared = context.reexplain(None, X, target, draws="shared", purpose="a")
    np.testing.assert_array_equal(shared.values, original.values)
    independent = context.reexplain(None, X, target, draws="independent", purpose="a")
    assert not np.allclose(independent.values, original.values)
    # The fold's stream of the purpose: again the same, another purpose or another seed other draws.
    np.testing.assert_array_equal(context.reexplain(None, X, target, draws="independent", purpose="a").values,
                                  independent.values)
    for other in (context.reexplain(None, X, target, draws="independent", purpose="b"),
                  replace(context, seed=1).reexplain(None, X, target, draws="independent", purpose="a")):
        assert not np.allclose(other.values, independent.values)


@pytest.mark.parametrize("fn", [max_sensitivity, relative_input_stability, relative_output_stability,
                                model_parameter_randomisation, data_randomisation])
def test_draws_is_checked_and_the_message_names_the_choices(fn):
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"draws must be one of \('independent', 'shared'\).*'same'"):
        fn(None, X, drawn(None, X, np.zeros(2, dtype=int)), context=make_context(explain=drawn),
           rng=np.random.default_rng(0), draws="same")


def sensitivity_of_random_attributions(results, draws: str) -> float:
    """max_sensitivity of the `random` explainer, one neighbour of one row, in a run on gaussianLinear."""
    metric = ("+metrics.explanation.max_sensitivity={_target_:bench.metrics.max_sensitivity,_partial_:true,"
              f"n_instances:1,n_samples:1,draws:{draws}}}")
    bench_run.run(compose_config([*FAST, *FAST_MODEL, "data.datasets=[gaussianLinear]", "explainers=[random]", metric],
                                 results))
    rows = pd.read_csv(results / "tables" / "explanations.csv", keep_default_na=False, na_values=[""])
    (value,) = rows.query("metric == 'max_sensitivity'")["value"]
    return value


def test_a_run_re_explains_with_draws_of_its_own_unless_asked_to_share_them(tmp_path):
    # Random attributions know nothing of the input: re-explained with the explanation's seed, the
    # one neighbour gets the row's very attributions (sensitivity 0); with its own draws, others.
    assert sensitivity_of_random_attributions(tmp_path / "shared", "shared") == 0
    assert sensitivity_of_random_attributions(tmp_path / "independent", "independent") > 0.5
