"""Progress of a run: a bar on a terminal, plain lines in logs; finished files always printed."""

from __future__ import annotations

import io

from itip import progress


def run(reporter: progress.Reporter) -> None:
    with reporter:
        progress.run_started(2)
        progress.stage("itip_2020.csv", "reading")
        progress.file_done("loaded          2020  itip_2020.csv            7 rows", [])
        progress.stage("itip_2019.csv", "validating 2 rows")
        progress.file_done("rejected        2019  itip_2019.csv            1 problem(s)", ["itip_2019.csv, row 2: bad"])


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    run(progress.Reporter(out, force_terminal=False))
    assert out.getvalue().splitlines() == [
        "loaded          2020  itip_2020.csv            7 rows",
        "rejected        2019  itip_2019.csv            1 problem(s)",
        "    itip_2019.csv, row 2: bad",
    ]


def test_terminal_shows_the_same_lines_around_a_bar() -> None:
    out = io.StringIO()
    run(progress.Reporter(out, force_terminal=True))
    text = out.getvalue()
    assert "loaded          2020  itip_2020.csv            7 rows" in text
    assert "    itip_2019.csv, row 2: bad" in text


def test_events_go_nowhere_without_a_reporter(capsys) -> None:  # type: ignore[no-untyped-def]
    """A scheduled run has no terminal: events then only reach the standard logging setup."""
    progress.file_done("loaded 2020", [])
    assert capsys.readouterr().out == ""
