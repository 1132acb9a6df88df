"""scripts/nightly.py's tracks: which experiment each sweeps, with which options, and the\nreproductions at the nightly's budget."""

from __future__ import annotations

import pytest

from bench.papers import REPRODUCTIONS
from scripts import nightly


def test_each_track_sweeps_its_experiment_and_only_the_tables_import_openml_tasks(monkeypatch, tmp_path):
    swept, imported, reproduced, reported = [], [], [], []
    monkeypatch.setattr(nightly, "run_sweep", lambda experiment, options, folder, launcher:
                        swept.append((experiment, options)) or type("S", (), {"failure": lambda self: None})())
    monkeypatch.setattr(nightly, "import_for_experiment", lambda experiment, options: imported.append(experiment) or [])
    monkeypatch.setattr(nightly.subprocess, "run", lambda command: reproduced.append(command[2:]) or
                        type("P", (), {"returncode": 0})())
    monkeypatch.setattr(nightly.report, "main", lambda argv: reported.append(argv) or 0)
    monkeypatch.setattr(nightly, "screenshot", lambda page, out: None)
    assert nightly.main(["--results", str(tmp_path), "seed=1"]) == 0
    assert [experiment for experiment, _ in swept] == ["nightly", "nightly", "nightly_images", "nightly_images"]
    assert imported == ["nightly"]
    base, tables, bases, images = (options for _, options in swept)
    assert "data.offline=true" in tables and tables[-1] == "seed=1"  # the user's override last: it wins
    # Each track's bases first, on their own: the models built on them then find their fits.
    assert base == [*tables, "model=mlp"]
    assert bases == [f"paths.results={tmp_path}", "seed=1", "model=cnn,cnn_tanh"]
    assert images == [f"paths.results={tmp_path}", "seed=1"]
    # Then every reproduction at the nightly's budget, into the same results folder, and the page
    # of the nightly's own reproductions.
    # Their rows go to a folder of their own: the leaderboard is built from every row under --results.
    assert [command[0] for command in reproduced] == [reproduction.name for reproduction in REPRODUCTIONS]
    assert reproduced[0] == ["imn-table8", "--results", str(tmp_path / "reproduce"), "--cache", "results/openml-cache",
                             "--jobs", "2", "seed=0"]  # independent jobs: the nightly's workers
    assert reproduced[3] == ["atex-figure", "--results", str(tmp_path / "reproduce"), "--cache",
                             "results/openml-cache", "--images", "10"]  # one at a time: ATEX reuses its base
    assert reported[0][-2:] == ["--reproductions", str(tmp_path / "reproduce" / "reproduction")]


def test_the_page_can_show_other_reproductions_and_the_workers_reach_them(monkeypatch, tmp_path):
    reproduced, reported = [], []
    monkeypatch.setattr(nightly.subprocess, "run", lambda command: reproduced.append(command[2:]) or
                        type("P", (), {"returncode": 0})())
    monkeypatch.setattr(nightly.report, "main", lambda argv: reported.append(argv) or 0)
    monkeypatch.setattr(nightly, "screenshot", lambda page, out: None)
    assert nightly.main(["--results", str(tmp_path), "--tracks", "reproductions", "--jobs", "3",
                         "--reproductions", "results/reproduction"]) == 0
    assert reproduced[1][4:7] == ["results/openml-cache", "--jobs", "3"]  # imn-table3
    assert reported[0][-2:] == ["--reproductions", "results/reproduction"]


def test_a_failed_reproduction_is_named_after_the_page_is_built(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(nightly.subprocess, "run", lambda command: type("P", (), {
        "returncode": 1 if command[2] == "flint-table1" else 0})())
    built = []
    monkeypatch.setattr(nightly.report, "main", lambda argv: built.append(argv) or 0)
    monkeypatch.setattr(nightly, "screenshot", lambda page, out: None)
    assert nightly.main(["--results", str(tmp_path), "--tracks", "reproductions"]) == 1
    out, err = capsys.readouterr()
    assert built and "flint-table1: failed (exit 1)" in out and "cnn-inte: done" in out  # the others still ran
    assert "scripts/reproduce.py flint-table1 failed" in err


@pytest.mark.parametrize("argv, message", [
    (["--tracks", "tables,audio"], "unknown track(s) audio: choose among tables, images, reproductions"),
    (["data.tasks=[31]"], "data.tasks=[31] would go to both sweeps, whose data differ: add --tracks tables"),
])
def test_an_unknown_track_or_a_data_override_for_both_is_named(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        nightly.main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_models_picked_by_an_override_get_no_bases_sweep(monkeypatch, tmp_path):
    swept = []
    monkeypatch.setattr(nightly, "run_sweep", lambda experiment, options, folder, launcher:
                        swept.append(options) or type("S", (), {"failure": lambda self: None})())
    monkeypatch.setattr(nightly, "import_for_experiment", lambda experiment, options: [])
    monkeypatch.setattr(nightly.report, "main", lambda argv: 0)
    monkeypatch.setattr(nightly, "screenshot", lambda page, out: None)
    assert nightly.main(["--results", str(tmp_path), "--tracks", "tables", "model=logreg"]) == 0
    assert len(swept) == 1 and swept[0][-1] == "model=logreg"  # no mlp trained first on every task
