"""Progress bars on a terminal only; every item is still yielded when they are off."""

from __future__ import annotations

from bench.pipeline.progress import progress


def test_off_a_terminal_the_bar_is_silent_and_yields_everything(capsys):
    bar = progress(["a", "b", "c"], desc="tasks")
    assert list(bar) == ["a", "b", "c"]
    assert bar.disable  # pytest captures stderr: not a terminal, as in CI
    assert capsys.readouterr().err == ""


def test_a_single_item_never_gets_a_bar():
    assert progress(["only"], desc="tasks").disable
