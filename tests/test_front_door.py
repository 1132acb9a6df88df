"""The front door (issue 29): `python -m bench --help` and a config error answer without loading
torch or the explanation libraries: the modules of models, explainers, metrics and data are
imported for their signatures only, and import those where they compute. Measured on the real
command, nothing stubbed (scripts/import_cost.py)."""

from __future__ import annotations

import pytest

from scripts.import_cost import measure

# Never, not even through bench.models: each takes seconds to import (torch 1.2 s of its own on 2
# cores), and only a fit, a prediction or an explanation needs it.
NEVER = ("torch", "torchvision", "catboost", "shap", "captum", "lime", "skimage", "numba", "matplotlib", "openml")
# What composing may import without bench.models: scikit-learn, which the models' classes derive
# from (sklearn.base imports scipy and pandas), and pandas' pyarrow.
FLOOR = {"sklearn", "scipy", "pandas", "pyarrow"}
# And through bench.models only: interpret, whose ExplainableBoostingClassifier the EBM subclasses
# (its class cannot be defined without it; 0.03 s on 2 cores).
THROUGH_MODELS = {"interpret"}


@pytest.mark.parametrize("args, exit_code", [(["--help"], 0), (["data.foo=1"], 1)])
def test_help_and_a_config_error_load_neither_torch_nor_an_explanation_library(args, exit_code):
    cost = measure(args)
    assert cost.returncode == exit_code, cost.stderr
    imported = {library.name for library in cost.libraries}
    assert not imported & set(NEVER), [f"{lib.name}: {lib.importers}" for lib in cost.libraries if lib.name in NEVER]
    beyond = [" > ".join(library.path) for library in cost.without_models() if library.name not in FLOOR]
    assert not beyond, beyond
    assert imported <= FLOOR | THROUGH_MODELS, [f"{lib.name}: {lib.importers}" for lib in cost.libraries
                                                if lib.name not in FLOOR | THROUGH_MODELS]
