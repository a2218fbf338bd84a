"""The `itip` command line: documented commands, exit codes, messages without tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from itip.cli import app
from tests.conftest import REPO, Bundled, write

runner = CliRunner()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, bundled_run: Bundled) -> Path:
    """A warehouse built once from the bundled files (the session's one ingest of them,
    tests/conftest.py, copied for this module; `itip ingest` itself is run by
    test_ingest_command_in_a_real_process)."""
    return bundled_run.copy_to(tmp_path_factory.mktemp("wh"))


def test_every_command_is_documented_with_an_example() -> None:
    commands = {c.name or (c.callback.__name__ if c.callback else ""): c for c in app.registered_commands}
    assert set(commands) >= {"ingest", "check", "trend", "sql", "report", "serve", "synth"}
    for name, command in commands.items():
        doc = (command.callback.__doc__ if command.callback else "") or ""
        assert "Example: itip " + name in doc, name
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in commands:
        assert f"itip {name}" in readme, f"README does not show itip {name}"


@pytest.mark.parametrize(
    "args",
    [["ingest", "--no-such-option"], ["trend"], ["bogus"], ["check"], ["sql", "--csv", "--nope"]],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert runner.invoke(app, args).exit_code == 2


def test_check_good_files() -> None:
    result = runner.invoke(app, ["check", str(REPO / "raw" / "itip_2021.csv"), str(REPO / "raw" / "itip_2022.xlsx")])
    assert result.exit_code == 0, result.output
    assert "itip_2021.csv: ok, 33 rows" in result.output
    assert "itip_2022.xlsx: ok, 26 rows" in result.output


def test_check_lists_every_problem_with_file_row_and_column(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "itip_2024.csv",
        "survey;indicator;value;source\ncitizens;trust_personal_data_safe;1,5x;s\ncitizens;trust;5;\n",
    )
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        "itip_2024.csv, row 2, column value: value is not a percentage (expected e.g. 47, 47 %, 36,4) (cell: '1,5x')",
        "itip_2024.csv, row 3, column indicator: unknown indicator 'trust'; closest codebook entry: "
        "'trust_personal_data_safe'",
        "itip_2024.csv, row 3, column source: source is empty",
    ]
    assert "Traceback" not in result.output


def test_check_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "itip_2026.csv")])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_trend_shows_the_series(warehouse: Path) -> None:
    result = runner.invoke(app, ["trend", "trust_personal_data_safe", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("2020", "2021"))]
    assert len(lines) == 2
    assert " 50 " in lines[0] and " 47 " in lines[1] and "-3" in lines[1]


def test_trend_unknown_indicator(warehouse: Path) -> None:
    result = runner.invoke(app, ["trend", "trust", "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "unknown indicator 'trust'" in result.output


def test_sql_reads(warehouse: Path) -> None:
    query = "SELECT year, value FROM trend WHERE indicator = 'trust_personal_data_safe' ORDER BY year"
    result = runner.invoke(app, ["sql", "--csv", query, "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["year,value", "2020,50.0", "2021,47.0"]


def test_sql_from_stdin(warehouse: Path) -> None:
    result = runner.invoke(
        app, ["sql", "--csv", "--warehouse", str(warehouse)], input="SELECT count(*) AS n FROM trend"
    )
    assert result.output.splitlines() == ["n", "117"]


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM estimates",
        "CREATE TABLE x AS SELECT 1",
        "COPY (SELECT * FROM trend) TO '{out}'",
        "ATTACH '{out}' AS other",
        "INSTALL excel",
        "SET enable_external_access = true",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_sql_cannot_change_anything(warehouse: Path, tmp_path: Path, query: str) -> None:
    out = tmp_path / "leak.csv"
    before = duckdb.connect(str(warehouse), read_only=True).execute("SELECT count(*) FROM estimates").fetchone()
    result = runner.invoke(app, ["sql", query.format(out=out), "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert result.output.startswith("itip: query failed:")
    assert not out.exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM estimates").fetchone() == before


def test_csv_output_escapes_formula_text(tmp_path: Path, warehouse: Path) -> None:
    """A published wording like =HYPERLINK(...) must not become a live formula in a spreadsheet."""
    result = runner.invoke(
        app, ["sql", "--csv", "SELECT '=HYPERLINK(\"x\")' AS q, -3 AS d", "--warehouse", str(warehouse)]
    )
    assert result.output.splitlines()[1] == '"\'=HYPERLINK(""x"")",-3'


def test_sql_without_warehouse(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sql", "SELECT 1", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert "run 'itip ingest' first" in result.output


@pytest.mark.slow
def test_ingest_command_in_a_real_process(tmp_path: Path, prefect_harness: None) -> None:
    """The installed console script, as a user runs it: one line per file, exit 1 on a rejected file, no traceback.
    It reports to the session's Prefect server through PREFECT_API_URL, as a user with a configured server does
    (a server of its own would take most of the test's time; tests/integration/test_server.py covers those)."""
    from prefect.settings import PREFECT_API_URL

    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("itip_2020.csv", "itip_2021.csv"):
        (raw / name).write_bytes((REPO / "raw" / name).read_bytes())
    write(raw, "itip_2019.csv", "survey,indicator,value,source\ncitizens,trust_personal_data_safe,abc,s\n")
    env = {**os.environ, "ITIP_WAREHOUSE": str(tmp_path / "w.duckdb"), "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    itip = Path(sys.executable).parent / "itip"
    done = subprocess.run(
        [str(itip), "ingest", "--raw", str(raw)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["rejected", "2019", "itip_2019.csv"]
    assert (
        lines[1].strip()
        == "itip_2019.csv, row 2, column value: value is not a percentage (expected e.g. 47, 47 %, 36,4) (cell: 'abc')"
    )
    assert lines[2].split()[:3] == ["loaded", "2020", "itip_2020.csv"]
    assert lines[3].split()[:3] == ["loaded", "2021", "itip_2021.csv"]
    assert "Traceback" not in done.stdout + done.stderr
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trend").fetchone() == (46,)  # 14 + 32
