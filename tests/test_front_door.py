"""The front door (issue 29): `python -m bench --help` and a config error answer without loading
the explanation libraries, whose modules are imported for their signatures only. Measured on
the real command, nothing stubbed (scripts/import_cost.py)."""

from __future__ import annotations

import pytest

from scripts.import_cost import measure

# Never, not even through bench.models: each takes seconds to import, and only an explanation needs it.
NEVER = ("shap", "captum", "lime", "skimage", "numba", "matplotlib", "openml")
# What composing may import without bench.models: scikit-learn, which the models' classes derive
# from (sklearn.base imports scipy and pandas), and pandas' pyarrow.
FLOOR = {"sklearn", "scipy", "pandas", "pyarrow"}


@pytest.mark.parametrize("args, exit_code", [(["--help"], 0), (["data.foo=1"], 1)])
def test_help_and_a_config_error_load_no_explanation_library(args, exit_code):
    cost = measure(args)
    assert cost.returncode == exit_code, cost.stderr
    imported = {library.name for library in cost.libraries}
    assert not imported & set(NEVER), [f"{lib.name}: {lib.importers}" for lib in cost.libraries if lib.name in NEVER]
    # torch still comes, through bench.models only: every model module imports it at its top
    # (issue 29's next step makes them lazy; then torch joins NEVER).
    beyond = [" > ".join(library.path) for library in cost.without_models() if library.name not in FLOOR]
    assert not beyond, beyond
