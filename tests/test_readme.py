"""README.md's Python examples (its `>>>` lines) run and print what the README says."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_examples_print_what_it_shows():
    # doctest prints each failing example with what it got; pytest shows that output on failure.
    result = doctest.testfile(str(README), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, "README.md has no >>> examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} README.md examples failed (printed above)"
