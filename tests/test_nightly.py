"""scripts/nightly.py's tracks: which experiment each sweeps, with which options."""

from __future__ import annotations

import pytest

from scripts import nightly


def test_each_track_sweeps_its_experiment_and_only_the_tables_import_openml_tasks(monkeypatch, tmp_path):
    swept, imported = [], []
    monkeypatch.setattr(nightly, "run_sweep", lambda experiment, options, folder, launcher:
                        swept.append((experiment, options)) or type("S", (), {"failure": lambda self: None})())
    monkeypatch.setattr(nightly, "import_for_experiment", lambda experiment, options: imported.append(experiment) or [])
    monkeypatch.setattr(nightly.report, "main", lambda argv: 0)
    monkeypatch.setattr(nightly, "screenshot", lambda page, out: None)
    assert nightly.main(["--results", str(tmp_path), "seed=1"]) == 0
    assert [experiment for experiment, _ in swept] == ["nightly", "nightly_images", "nightly_images"]
    assert imported == ["nightly"]
    tables, bases, images = (options for _, options in swept)
    assert "data.offline=true" in tables and tables[-1] == "seed=1"  # the user's override last: it wins
    # The image track's bases first, on their own: the models built on them then find their fits.
    assert bases == [f"paths.results={tmp_path}", "seed=1", "model=cnn,cnn_tanh"]
    assert images == [f"paths.results={tmp_path}", "seed=1"]


@pytest.mark.parametrize("argv, message", [
    (["--tracks", "tables,audio"], "unknown track(s) audio: choose among tables, images"),
    (["data.tasks=[31]"], "data.tasks=[31] would go to both tracks, whose data differ: add --tracks tables"),
])
def test_an_unknown_track_or_a_data_override_for_both_is_named(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        nightly.main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err
