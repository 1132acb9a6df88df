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
    assert [experiment for experiment, _ in swept] == ["nightly", "nightly_images"] and imported == ["nightly"]
    tables, images = (options for _, options in swept)
    assert "data.offline=true" in tables and tables[-1] == "seed=1"  # the user's override last: it wins
    assert images == [f"paths.results={tmp_path}", "seed=1"]


def test_an_unknown_track_is_named(capsys):
    with pytest.raises(SystemExit) as stop:
        nightly.main(["--tracks", "tables,audio"])
    assert stop.value.code == 2 and "unknown track(s) audio: choose among tables, images" in capsys.readouterr().err
