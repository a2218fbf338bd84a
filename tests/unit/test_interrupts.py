"""Ctrl-C while DuckDB runs a query ends the command as Ctrl-C (exit 130, one line), never as a
damaged file, a failed file the run goes past, or a rejection recorded for a good file.

DuckDB's Python client turns SIGINT during a query into RuntimeError("Query interrupted"),
which a broad `except Exception` used to take for the file's fault."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from itip.cli import app
from itip.problems import interrupted


def test_duckdb_reports_ctrl_c_as_an_exception_that_counts_as_an_interrupt() -> None:
    """The real client, a real SIGINT: what DuckDB raises is recognised (a DuckDB upgrade that
    changes it fails here, not silently in a user's terminal). SIGINT is sent every 0.2 s
    until the query ends (one that lands before the query runs is lost), to a handler that
    acts as Python's only while the query runs (a late one must not stop pytest), and the
    query is bounded (about 2 s on two cores) should none reach it."""
    con = duckdb.connect()
    armed, done = threading.Event(), threading.Event()

    def handler(signum: int, frame: object) -> None:
        if armed.is_set():
            raise KeyboardInterrupt

    def interrupt() -> None:
        while not done.wait(0.2):
            os.kill(os.getpid(), signal.SIGINT)

    previous = signal.signal(signal.SIGINT, handler)
    sender = threading.Thread(target=interrupt, daemon=True)
    armed.set()
    sender.start()
    try:
        with pytest.raises(BaseException) as caught:
            con.execute("SELECT count(*) FROM range(400000000) t(x) WHERE x % 7 = 3").fetchall()
            armed.clear()
            raise AssertionError("the query ran to its end: no interrupt reached it")
    finally:
        armed.clear()
        done.set()
        sender.join()
        signal.signal(signal.SIGINT, previous)
        con.close()
    assert isinstance(caught.value, KeyboardInterrupt) or interrupted(caught.value), repr(caught.value)
    assert not interrupted(RuntimeError("a damaged file")) and not interrupted(ValueError("Query interrupted"))


def test_an_interrupt_reported_by_pydantic_or_raised_from_counts_as_one() -> None:
    """Prefect's models serialise with pydantic-core, which reports Ctrl-C inside a serializer
    as a PydanticSerializationError naming it (seen: `itip ingest` exited 1 with 'unexpected
    error'); an error raised from an interrupt is one too."""
    from pydantic import BaseModel, field_serializer

    class Run(BaseModel):
        name: str

        @field_serializer("name")
        def _stop(self, value: str) -> str:
            raise KeyboardInterrupt

    with pytest.raises(BaseException) as caught:
        Run(name="x").model_dump_json()
    assert interrupted(caught.value), repr(caught.value)
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert interrupted(wrapped)
    assert not interrupted(RuntimeError("KeyboardInterrupt is only a word here"))


def test_an_interrupt_while_a_respondent_file_is_read_is_not_a_rejection(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from itip.codebook import load_codebook
    from itip.respondents import read
    from itip.respondents.check import check_respondents

    def stopped(path: Path) -> list[str]:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(read, "csv_header", stopped)
    path = tmp_path / "itip_2024_respondents.csv"
    path.write_text("respondent_id,survey\n1,citizens\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        check_respondents(path, load_codebook(), 2024, b"k" * 32, private=True)


def test_an_interrupt_inside_a_file_stops_the_run_instead_of_failing_that_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.ingest as flow

    def stopped(*args: object) -> None:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(flow, "file_task", stopped)
    with pytest.raises(KeyboardInterrupt):
        flow._guarded(Path("w.duckdb"), None, None, None)  # type: ignore[arg-type]


def test_a_command_interrupted_in_a_query_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from itip import db_read
    from itip.db import open_warehouse

    def stopped(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Query interrupted")

    warehouse = tmp_path / "w.duckdb"
    with open_warehouse(warehouse):  # an empty warehouse: the schema only
        pass
    monkeypatch.setattr(db_read, "has_indicator", stopped)
    monkeypatch.setattr(db_read, "trend", stopped)
    result = CliRunner().invoke(app, ["trend", "trust_personal_data_safe", "-w", str(warehouse)])
    assert result.exit_code == 130, result.output
    assert result.output.strip().splitlines() == ["itip: interrupted (Ctrl-C)"]
