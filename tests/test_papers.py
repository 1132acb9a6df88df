"""bench/papers: every reproduction listed once, in bench.papers.REPRODUCTIONS, and the three
readers of that list (scripts/reproduce.py's commands, the nightly's reproductions, the sections
of reproductions.html) derived from it: a toy reproduction added to the list appears in all three."""

from __future__ import annotations

import pytest

from bench import papers
from bench.core.paths import CONF_DIR, project_path
from bench.papers import REPRODUCTIONS, Option, Reproduction
from bench.papers.reproduction import COLUMNS, columns, seeds
from bench.report.reproductions import read_reproductions, reproductions_html
from scripts import nightly, reproduce


@pytest.fixture
def toy(monkeypatch):
    """A reproduction added to the list, whose run records the options it was given."""
    given = []

    def run(args, launch):
        given.append(args)
        return []  # no sweep, so none failed

    toy = Reproduction(name="toy-table", title="A toy paper, Table 1", about="a toy table to reproduce.",
                       experiment="paper_toy", published=None, run=run,
                       options=(seeds(4), Option("--toys", "toys counted (default 2)", default=2, parse=int)),
                       nightly=("--toys", "1"), threshold=0.1)
    monkeypatch.setattr(papers, "REPRODUCTIONS", (*REPRODUCTIONS, toy))
    return given


def test_the_script_the_nightly_and_the_page_read_the_one_list(toy, monkeypatch, tmp_path, capsys):
    # scripts/reproduce.py: a command of its own, with its own options and their defaults
    assert reproduce.main(["toy-table", "--results", str(tmp_path)]) == 0
    assert reproduce.main(["toy-table", "--toys", "5", "--seeds", "1"]) == 0
    assert [(args.toys, args.seeds) for args in toy] == [(2, 4), (5, 1)]
    monkeypatch.setenv("COLUMNS", "1000")  # argparse's help in lines it does not break
    with pytest.raises(SystemExit):
        reproduce.main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "toy-table: a toy table to reproduce." in help_text and "toy-table: toys counted (default 2)" in help_text
    assert "toy-table: seeds 0..N-1 (default 4)" in help_text  # beside the other tables' meaning of --seeds
    # the nightly: every reproduction of the list, with its nightly options
    commands = []
    monkeypatch.setattr(nightly.subprocess, "run", lambda command: commands.append(command[2:]) or
                        type("P", (), {"returncode": 0})())
    monkeypatch.setattr(nightly.report, "main", lambda argv: 0)
    monkeypatch.setattr(nightly, "screenshot", lambda page, out: None)
    assert nightly.main(["--results", str(tmp_path), "--tracks", "reproductions"]) == 0
    assert [command[0] for command in commands] == [*(r.name for r in REPRODUCTIONS), "toy-table"]
    assert commands[-1][-2:] == ["--toys", "1"]
    # the page: a section for each, in the list's order
    found = read_reproductions(tmp_path)
    assert [stored.reproduction.name for stored in found] == [*(r.name for r in REPRODUCTIONS), "toy-table"]
    page = reproductions_html(found)
    assert '<h2 id="toy-table">A toy paper, Table 1</h2>' in page
    assert "<code>python scripts/reproduce.py toy-table</code> writes it" in page


def test_each_reproduction_names_its_experiment_and_the_published_numbers_it_compares_with():
    assert len({r.name for r in REPRODUCTIONS}) == len(REPRODUCTIONS)
    for reproduction in REPRODUCTIONS:
        assert (CONF_DIR / "experiment" / f"{reproduction.experiment}.yaml").is_file(), reproduction.name
        assert reproduction.published is None or project_path(reproduction.published).is_file(), reproduction.name


def test_an_option_read_by_several_reproductions_is_parsed_the_same_way_by_each():
    parsed = {}
    for reproduction in REPRODUCTIONS:
        for option in reproduction.options:
            parsed.setdefault(option.flag, set()).add((option.parse, option.action))
    assert {flag: len(ways) for flag, ways in parsed.items()} == dict.fromkeys(parsed, 1)
    assert {"--seeds", "--online"} <= {flag for flag in parsed}


def test_a_reproductions_own_columns_go_where_it_says():
    assert columns() == COLUMNS
    assert columns(epsilon="column", n_images="n_seeds") == [
        "table", "row", "column", "epsilon", "ours", "ours_std", "n_seeds", "n_images", "paper", "diff", "note"]
