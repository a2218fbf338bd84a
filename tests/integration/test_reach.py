"""Reaching the data from other tools: DuckDB 1.x clients, Parquet, Norwegian Excel CSV, xlsx,
and the contract changes that come with it (view latest, trend.topic, rejections columns)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from flows.ingest import ingest
from itip.cli import app
from itip.db import open_warehouse
from itip.export import export, parquet_snapshot_dir
from tests.conftest import REPO, Bundled, write

runner = CliRunner()

#: The newest DuckDB 1.x wheel, in its own environment (`make duckdb1x`, part of `make pytest`).
DUCKDB1X = Path(os.environ.get("ITIP_DUCKDB1X_PYTHON", REPO / ".tools" / "duckdb1x" / "bin" / "python"))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, bundled_run: Bundled) -> Path:
    """The bundled raw/ folder through the ingest flow (which also writes the Parquet snapshot;
    the session's one ingest of it, tests/conftest.py, copied for this module)."""
    return bundled_run.copy_to(tmp_path_factory.mktemp("wh"))


def _trend(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM trend ORDER BY indicator, survey, segment, answer NULLS FIRST, year").df()


# --- DuckDB 1.x clients ------------------------------------------------------------------
def test_warehouse_is_written_in_a_storage_version_duckdb_1x_reads(warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    assert tags is not None
    assert tags[0]["storage_version"] == "v1.0.0+"
    # chosen explicitly, not left to the DuckDB version's default (DuckDB 2.0 writes version 69)
    with open_warehouse(tmp_path / "new.duckdb") as wh:
        setting = wh.con.execute("SELECT current_setting('storage_compatibility_version')").fetchone()
        written = wh.con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()
    assert setting == ("v1.0.0",)
    assert written is not None and written[0]["storage_version"] == "v1.0.0+"


def test_newest_duckdb_1x_wheel_opens_the_warehouse_and_the_parquet_snapshot(warehouse: Path) -> None:
    if not DUCKDB1X.exists():
        pytest.skip(f"no DuckDB 1.x environment at {DUCKDB1X}: run 'make duckdb1x' (part of 'make pytest')")
    snapshot = parquet_snapshot_dir(warehouse)
    script = textwrap.dedent(
        """
        import json, sys
        import duckdb
        warehouse, parquet = sys.argv[1], sys.argv[2]
        con = duckdb.connect(warehouse, read_only=True)
        rows = con.execute(
            "SELECT indicator, year, value FROM trend WHERE indicator = 'trust_personal_data_safe' "
            "AND segment = 'all' ORDER BY year").fetchall()
        comments = dict(con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'trend'").fetchall())
        view = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'trend'").fetchone()[0]
        files = duckdb.connect().execute(
            "SELECT count(*), sum(value) FROM read_parquet(?)", [parquet + "/trend.parquet"]).fetchone()
        print(json.dumps({"version": duckdb.__version__, "rows": rows, "comments": comments, "view": view,
                          "parquet": files}))
        """
    )
    done = subprocess.run(
        [str(DUCKDB1X), "-c", script, str(warehouse), str(snapshot)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["version"].startswith("1.")
    assert [(r[1], r[2]) for r in seen["rows"]] == [(2020, 50.0), (2021, 47.0)]
    assert seen["comments"]["change_pp"] == "Change since prev_year in percentage points."
    assert all(seen["comments"].values()), "every trend column keeps its comment"
    assert seen["view"].startswith("The cross-year series")
    trend = _trend(warehouse)
    assert seen["parquet"][0] == len(trend)
    assert seen["parquet"][1] == pytest.approx(trend["value"].sum())


def test_parquet_snapshot_has_every_table_and_view(warehouse: Path) -> None:
    snapshot = parquet_snapshot_dir(warehouse)
    names = {p.stem for p in snapshot.glob("*.parquet")}
    assert names >= {"releases", "indicators", "breaks", "estimates", "rejections", "changes", "trend", "latest"}
    assert "_columns" in names and "meta" not in names
    with duckdb.connect() as con:
        described = con.execute(
            "SELECT comment FROM read_parquet(?) WHERE object = 'trend' AND column_name = 'value'",
            [str(snapshot / "_columns.parquet")],
        ).fetchone()
    assert described is not None and described[0].startswith("Percent")


def test_exports_list_rows_in_a_stable_order(warehouse: Path, tmp_path: Path) -> None:
    """Every exported table and view in the order of its columns, left to right: the same
    warehouse gives the same files, so a diff of two exports shows only what changed."""
    written = export(warehouse, tmp_path / "p", "parquet")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name in ("trend", "latest", "estimates", "releases"):
            path = next(p for p in written if p.stem == name)
            in_file = con.execute("SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            assert in_file == con.table(name).order("ALL").fetchall(), name


def test_an_ingest_that_changes_nothing_leaves_the_snapshot_alone(tmp_path: Path, prefect_harness: None) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "itip_2021.csv", (REPO / "raw" / "itip_2021.csv").read_bytes().decode("cp1252"), "cp1252")
    path = tmp_path / "itip.duckdb"
    ingest(raw_dir=raw, warehouse=path)
    trend = parquet_snapshot_dir(path) / "trend.parquet"
    first = trend.stat().st_mtime_ns
    ingest(raw_dir=raw, warehouse=path)
    assert trend.stat().st_mtime_ns == first
    write(raw, "itip_2026.csv", "survey,indicator,value,source\ncitizens,trust_personal_data_safe,55,https://x\n")
    ingest(raw_dir=raw, warehouse=path)
    with duckdb.connect() as con:
        years = con.execute("SELECT list(DISTINCT year ORDER BY year) FROM read_parquet(?)", [str(trend)]).fetchone()
    assert years is not None and years[0] == [2021, 2026]


# --- CSV for Norwegian Excel, plain CSV, xlsx ----------------------------------------------
def test_excel_csv_round_trips_through_a_norwegian_reader(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    result = runner.invoke(app, ["export", "--format", "csv", "--out", str(out), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    raw = (out / "trend.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel reads æøå"
    text = raw.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header.split(";")[:5] == ["indicator", "survey", "segment", "answer", "year"]
    # read as Norwegian Excel does: `;` between cells, decimal comma
    keys = ["indicator", "survey", "segment", "answer", "year"]
    back = pd.read_csv(out / "trend.csv", sep=";", decimal=",", encoding="utf-8-sig")
    back = back.sort_values(keys, na_position="first").reset_index(drop=True)
    expected = _trend(warehouse).sort_values(keys, na_position="first").reset_index(drop=True)
    assert len(back) == len(expected)
    for column in ("value", "ci_low", "ci_high", "change_pp", "prev_value", "change_p_value"):
        assert back[column].dtype.kind == "f", column
        pd.testing.assert_series_equal(back[column], expected[column].astype("float64"), check_names=False)
    assert list(back["year"]) == list(expected["year"])
    assert list(back["label_no"]) == list(expected["label_no"]), "Norwegian letters survive"
    assert any(ch in "".join(expected["label_no"]) for ch in "æøå")
    # a decimal really is written with a comma: 36.4 -> "36,4"
    decimals = expected["value"].dropna()
    fractional = decimals[decimals != decimals.round()]
    assert not fractional.empty
    sample = f"{fractional.iloc[0]:g}".replace(".", ",")
    assert f";{sample};" in text


def test_excel_csv_guards_formulas_and_plain_csv_is_for_programs(tmp_path: Path, prefect_harness: None) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write(
        raw,
        "itip_2026.csv",
        'survey,indicator,value,source,note\ncitizens,trust_personal_data_safe,36.4,https://x,"=HYPERLINK(""x"")"\n',
    )
    path = tmp_path / "itip.duckdb"
    ingest(raw_dir=raw, warehouse=path)
    excel, plain = tmp_path / "excel", tmp_path / "plain"
    assert runner.invoke(app, ["export", "-f", "csv", "-o", str(excel), "-w", str(path)]).exit_code == 0
    result = runner.invoke(app, ["export", "-f", "csv", "--plain-csv", "-o", str(plain), "-w", str(path)])
    assert result.exit_code == 0, result.output
    excel_rows = list(csv.DictReader((excel / "estimates.csv").read_text("utf-8-sig").splitlines(), delimiter=";"))
    assert excel_rows[0]["note"] == '\'=HYPERLINK("x")'
    assert excel_rows[0]["value"] == "36,4"
    plain_bytes = (plain / "estimates.csv").read_bytes()
    assert not plain_bytes.startswith(b"\xef\xbb\xbf")
    plain_rows = list(csv.DictReader(plain_bytes.decode().splitlines()))
    assert plain_rows[0]["value"] == "36.4"
    assert plain_rows[0]["note"] == '=HYPERLINK("x")'
    wrong = runner.invoke(app, ["export", "-f", "xlsx", "--plain-csv", "-o", str(plain), "-w", str(path)])
    assert wrong.exit_code == 2


def test_xlsx_has_a_sheet_per_table_and_view_with_column_descriptions(warehouse: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--format", "xlsx", "--out", str(tmp_path), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "itip.xlsx")
    assert book.sheetnames[0] == "_columns"
    assert set(book.sheetnames) >= {"trend", "latest", "estimates", "releases", "rejections", "indicators"}
    sheet = book["trend"]
    headers = {cell.value: cell for cell in sheet[1]}
    assert headers["change_pp"].comment is not None
    assert headers["change_pp"].comment.text == "Change since prev_year in percentage points."
    assert sheet.max_row - 1 == len(_trend(warehouse))
    listing = book["_columns"]
    described = {(r[0], r[2]): r[4] for r in listing.iter_rows(min_row=2, values_only=True)}
    assert described[("latest", "age_editions")].startswith("Number of editions")


def test_export_without_a_warehouse_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "-w", str(tmp_path / "none.duckdb"), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no warehouse yet" in result.output
    assert "Traceback" not in result.output


# --- contract: latest, topic, rejections ----------------------------------------------------
def test_latest_gives_the_newest_figure_with_its_age_in_editions(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT indicator, segment, year, value, age_editions, newest_edition, topic FROM latest "
            "WHERE indicator IN ('trust_personal_data_safe', 'user_service_weighted_over_cost') AND segment = 'all' "
            "ORDER BY indicator"
        ).fetchall()
        keys = con.execute(
            "SELECT count(*), count(DISTINCT (indicator, survey, segment, answer)) FROM latest"
        ).fetchone()
    # published 2020 and 2021; the citizens survey has figures up to 2024: three editions old
    assert rows[0] == ("trust_personal_data_safe", "all", 2021, 47.0, 3, 2024, "trust")
    # published for 2014-2015 only; the organisation survey has figures for 2016, 2017, 2020-2025 since
    assert rows[1][0] == "user_service_weighted_over_cost"
    assert rows[1][2] == 2015 and rows[1][5] == 2025 and rows[1][4] >= 4
    assert keys is not None and keys[0] == keys[1]


def test_trend_has_the_topic_of_each_indicator(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mismatched = con.execute(
            "SELECT count(*) FROM trend AS t JOIN indicators AS i USING (indicator) "
            "WHERE t.topic IS DISTINCT FROM i.topic"
        ).fetchone()
        topics = con.execute("SELECT count(DISTINCT topic) FROM trend WHERE topic IS NOT NULL").fetchone()
    assert mismatched == (0,)
    assert topics is not None and topics[0] > 1


def test_rejection_columns_need_no_quoting_and_old_warehouses_are_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # a warehouse of contract version 1
        con.execute(
            'CREATE TABLE rejections (release_id INTEGER NOT NULL, file_name VARCHAR NOT NULL, "row" INTEGER, '
            '"column" VARCHAR, "check" VARCHAR NOT NULL, value VARCHAR, message VARCHAR NOT NULL)'
        )
        con.execute("INSERT INTO rejections VALUES (1, 'itip_2020.csv', 7, 'value', 'value_range', '140', 'too big')")
    with open_warehouse(path) as wh:
        problems = wh.rejections(1)
        columns = [
            r[0]
            for r in wh.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'rejections' ORDER BY column_index"
            ).fetchall()
        ]
        row = wh.con.execute("SELECT source_row, source_column, check_id, value FROM rejections").fetchone()
    assert columns == ["release_id", "file_name", "source_row", "source_column", "check_id", "value", "message"]
    assert row == (7, "value", "value_range", "140")
    assert (problems[0].row, problems[0].column, problems[0].check) == (7, "value", "value_range")


# --- exploring: itip sql, itip trend, itip shell -----------------------------------------------
def test_sql_shows_duckdbs_whole_error_message(warehouse: Path) -> None:
    result = runner.invoke(app, ["sql", "SELECT valu FROM trend", "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert 'Referenced column "valu" not found' in result.output
    assert 'Candidate bindings: "value"' in result.output
    assert "LINE 1: SELECT valu FROM trend" in result.output
    assert "Traceback" not in result.output


def test_trend_suggests_close_indicator_ids(warehouse: Path) -> None:
    result = runner.invoke(app, ["trend", "trust", "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "unknown indicator 'trust'; did you mean: trust_personal_data_safe" in result.output
    typo = runner.invoke(app, ["trend", "trust_personal_data_saf", "--warehouse", str(warehouse)])
    assert "did you mean: trust_personal_data_safe" in typo.output


def test_trend_accepts_segment_aliases_and_writes_csv(warehouse: Path) -> None:
    by_alias = runner.invoke(app, ["trend", "trust_personal_data_safe", "-s", "alle", "--csv", "-w", str(warehouse)])
    by_id = runner.invoke(app, ["trend", "trust_personal_data_safe", "-s", "all", "--csv", "-w", str(warehouse)])
    assert by_alias.exit_code == 0, by_alias.output
    assert by_alias.output == by_id.output
    rows = list(csv.DictReader(by_alias.output.splitlines()))
    assert [(r["year"], r["segment"], r["value"], r["change_pp"]) for r in rows] == [
        ("2020", "all", "50", ""),
        ("2021", "all", "47", "-3"),
    ]
    wrong = runner.invoke(app, ["trend", "trust_personal_data_safe", "-s", "kommunr", "-w", str(warehouse)])
    assert wrong.exit_code == 1
    assert "unknown segment 'kommunr'; did you mean: kommuner" in wrong.output


def test_shell_runs_piped_statements_on_the_read_only_connection(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "leak.csv"
    script = (
        ".columns latest\n"
        "SELECT indicator, year\n  FROM latest WHERE indicator = 'trust_personal_data_safe' AND segment = 'all';\n"
        "SELECT valu FROM trend;\n"
        f"COPY trend TO '{out}';\n"
        "SELECT 40 + 2 AS answer;\n"
    )
    result = runner.invoke(app, ["shell", "--warehouse", str(warehouse)], input=script)
    assert result.exit_code == 1  # a statement failed
    assert "age_editions" in result.output and "Number of editions" in result.output
    assert "trust_personal_data_safe │ 2021" in result.output
    assert 'Candidate bindings: "value"' in result.output
    assert "file system operations are disabled" in result.output
    assert "42" in result.output.split("answer")[-1], "the session goes on after errors"
    assert not out.exists()


@pytest.mark.slow
def test_shell_on_a_terminal_has_a_prompt_and_keeps_history(warehouse: Path, tmp_path: Path) -> None:
    import pty
    import select

    history = tmp_path / "history"
    env = {**os.environ, "ITIP_HISTORY": str(history), "TERM": "dumb"}
    itip = REPO / ".venv" / "bin" / "itip"
    main, replica = pty.openpty()
    proc = subprocess.Popen(
        [str(itip), "shell", "--warehouse", str(warehouse)], stdin=replica, stdout=replica, stderr=replica, env=env
    )
    os.close(replica)
    seen = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal seen
        import time

        end = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < end:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(main, 4096)
                except OSError:
                    return

    try:
        read_until(b"itip> ")
        os.write(main, b"SELECT 40 + 2\n")
        read_until(b"...> ")
        os.write(main, b"  AS answer;\n")
        read_until(b"(1 row)")
        os.write(main, b".quit\n")
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    text = seen.decode("utf-8", "replace")
    assert "read-only" in text and "itip> " in text
    assert "answer" in text and "42" in text and "(1 row)" in text
    assert proc.returncode == 0
    assert "AS answer;" in history.read_text(encoding="utf-8")
