"""The warehouse on DuckLake: the same trend and the same documented tables as the file,
time travel, migration from a file warehouse, and concurrent writers and readers on a
real PostgreSQL catalog (started by tests/postgres.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from flows.ingest import ingest
from itip.cli import app
from itip.db import open_warehouse
from itip.db_read import run_query
from itip.lake import Lake, snapshots
from itip.problems import ItipError
from tests.conftest import REPO, Bundled, write
from tests.postgres import Server, postgres_server

pytestmark = pytest.mark.usefixtures("prefect_harness")

ITIP = Path(sys.executable).parent / "itip"
TREND = "SELECT * FROM trend ORDER BY indicator, survey, segment, answer NULLS FIRST, year"
RELEASES = "SELECT * EXCLUDE (loaded_at, flow_run_id) FROM releases ORDER BY release_id"
#: Comments on tables, views and table columns (DuckLake keeps no comments on view columns).
COMMENTS = (
    "SELECT 'table', table_name, NULL, comment FROM duckdb_tables() WHERE database_name = current_database() "
    "UNION ALL SELECT 'view', view_name, NULL, comment FROM duckdb_views() "
    "WHERE NOT internal AND database_name = current_database() "
    "UNION ALL SELECT 'column', c.table_name, c.column_name, c.comment FROM duckdb_columns() AS c "
    "JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name) "
    "WHERE c.database_name = current_database() ORDER BY ALL"
)


def rows(target: Path | Lake, sql: str) -> list[tuple[object, ...]]:
    with open_warehouse(target, read_only=True) as wh:
        return wh.con.execute(sql).fetchall()


def file_lake(tmp_path: Path) -> Lake:
    return Lake(str(tmp_path / "meta.ducklake"), str(tmp_path / "lake-data") + "/")


def test_bundled_data_gives_the_same_trend_on_a_lake(raw_copy: Path, tmp_path: Path, bundled_run: Bundled) -> None:
    file = bundled_run.copy_to(tmp_path / "file")  # the session's one ingest of the bundled files into a file
    lake = file_lake(tmp_path)
    outcomes = ingest(raw_dir=raw_copy, warehouse="ducklake:" + lake.catalog, lake_data=lake.data_path)
    assert {o.status for o in outcomes} == {"loaded"}
    assert (tmp_path / "lake-data").is_dir()
    assert not (tmp_path / "meta.ducklake.lock").exists()  # no file lock on a lake
    trend = rows(lake, TREND)
    assert len(trend) > 30
    assert trend == rows(file, TREND)
    assert rows(lake, RELEASES) == rows(file, RELEASES)
    assert rows(lake, COMMENTS) == rows(file, COMMENTS)
    assert all(r[3] for r in rows(lake, COMMENTS))  # every table, view and table column documented
    again = ingest(raw_dir=raw_copy, warehouse=lake)
    assert {o.status for o in again} == {"unchanged"}


def test_a_sqlite_catalog_holds_the_same_warehouse(tmp_path: Path) -> None:
    """`ducklake:sqlite:...`: the catalog in a SQLite file (extension from its wheel, no download)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy2(REPO / "raw" / "itip_2021.csv", raw / "itip_2021.csv")  # one file: SQLite catalogs are slow
    lake = Lake("sqlite:" + str(tmp_path / "meta.sqlite"), str(tmp_path / "lake-data") + "/")
    outcomes = ingest(raw_dir=raw, warehouse="ducklake:" + lake.catalog, lake_data=lake.data_path)
    assert [o.status for o in outcomes] == ["loaded"]
    assert (tmp_path / "meta.sqlite").read_bytes().startswith(b"SQLite format 3")
    assert rows(lake, "SELECT DISTINCT year FROM trend ORDER BY year") == [(2021,)]
    assert rows(lake, "SELECT count(*) FROM releases") == [(1,)]


@dataclass(frozen=True)
class History:
    lake: Lake
    snapshot: int  # the lake's last snapshot after the first three years
    moment: datetime


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> History:
    """A lake that loaded three years and then the rest: built once, only read by the tests."""
    base = tmp_path_factory.mktemp("history")
    lake = file_lake(base)
    first = base / "first"
    first.mkdir()
    for name in ("itip_2014.csv", "itip_2015.csv", "itip_2020.csv"):
        shutil.copy(REPO / "raw" / name, first / name)
    ingest(raw_dir=first, warehouse=lake)
    snapshot, moment = snapshots(lake)[-1]
    time.sleep(0.05)
    ingest(raw_dir=REPO / "raw", warehouse=lake)
    return History(lake, snapshot, moment)


def test_as_of_reads_an_older_snapshot(history: History, tmp_path: Path) -> None:
    lake, snapshot, moment = history.lake, history.snapshot, history.moment
    count = "SELECT count(*) FROM releases WHERE status = 'loaded'"
    assert run_query(lake, count)[1] == [(len(list((REPO / "raw").iterdir())),)]
    assert run_query(lake, count, as_of=str(snapshot))[1] == [(3,)]
    assert run_query(lake, count, as_of=moment.isoformat())[1] == [(3,)]
    years = "SELECT DISTINCT year FROM trend ORDER BY year"
    assert run_query(lake, years, as_of=str(snapshot))[1] == [(2014,), (2015,), (2020,)]

    runner = CliRunner()
    result = runner.invoke(app, ["sql", "-w", "ducklake:" + lake.catalog, "--as-of", str(snapshot), count])
    assert result.exit_code == 0 and "3" in result.output
    on_file = runner.invoke(app, ["sql", "-w", str(tmp_path / "f.duckdb"), "--as-of", "1", "SELECT 1"])
    assert on_file.exit_code == 2  # a usage error: the option does not apply to a file
    assert on_file.output.strip().splitlines() == [
        f"itip: {tmp_path / 'f.duckdb'}: --as-of needs a DuckLake warehouse (ducklake:...); "
        "a DuckDB file keeps no history"
    ]
    bad = runner.invoke(app, ["sql", "-w", "ducklake:" + lake.catalog, "--as-of", "yesterday", "SELECT 1"])
    assert bad.exit_code == 2 and "not a snapshot id or a time" in bad.output


def test_lake_sql_cannot_reach_other_files_or_write(history: History) -> None:
    lake = history.lake
    data = Path(lake.data_path or "")
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    parquet = next(p for p in data.rglob("*.parquet"))
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "DELETE FROM releases",
        "SET enable_external_access = true",
        # The data path must stay readable for the lake's own files; nothing may be written there.
        f"COPY (SELECT 1 AS x) TO '{data}/extra.parquet'",
        f"COPY (SELECT * FROM releases LIMIT 0) TO '{parquet}' (FORMAT parquet)",
        f"ATTACH '{data}/side.duckdb' AS side",
        f"EXPORT DATABASE '{data}/dump'",
        f"SELECT 1; COPY (SELECT 1) TO '{data}/second.csv'",
        "CREATE TABLE memory.main.t AS SELECT 1",
    ):
        with pytest.raises(ItipError, match="query failed"):
            run_query(lake, sql)
    # the command analysts type goes through the same refusal
    copied = CliRunner().invoke(app, ["sql", "-w", "ducklake:" + lake.catalog, f"COPY trend TO '{data}/t.csv'"])
    assert copied.exit_code != 0 and "not allowed on a read-only lake" in copied.output
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before
    assert run_query(lake, "SELECT count(*) > 0 FROM estimates")[1] == [(True,)]
    for sql in ("DESCRIBE trend", "SHOW TABLES", "SUMMARIZE releases", "EXPLAIN SELECT * FROM trend"):
        assert run_query(lake, sql)[1], sql


def test_lake_init_migrates_every_release_and_rejection(raw_copy: Path, tmp_path: Path) -> None:
    write(raw_copy, "itip_2016.csv", "survey,indicator,value,source\ncitizens,no_such_indicator,120,x\n")
    file = tmp_path / "itip.duckdb"
    ingest(raw_dir=raw_copy, warehouse=file)
    assert rows(file, "SELECT count(*) FROM rejections")[0][0] >= 2
    lake = file_lake(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        app, ["lake", "init", "-w", "ducklake:" + lake.catalog, "--lake-data", str(lake.data_path), "--from", str(file)]
    )
    assert result.exit_code == 0, result.output
    assert "releases" in result.output
    every = "SELECT * FROM releases ORDER BY release_id"
    assert rows(lake, every) == rows(file, every)
    rejections = "SELECT * FROM rejections ORDER BY ALL"
    assert rows(lake, rejections) == rows(file, rejections)
    assert rows(lake, TREND) == rows(file, TREND)
    # the lake goes on from there: nothing new, the rejected file still rejected
    outcomes = {o.file: o.status for o in ingest(raw_dir=raw_copy, warehouse=lake)}
    assert outcomes.pop("itip_2016.csv") == "still rejected"
    assert set(outcomes.values()) == {"unchanged"}
    again = runner.invoke(app, ["lake", "init", "-w", "ducklake:" + lake.catalog, "--from", str(file)])
    assert again.exit_code == 1 and "migrate into an empty lake" in again.output
    not_lake = runner.invoke(app, ["lake", "init", "-w", str(file)])
    assert not_lake.exit_code == 2


# --- PostgreSQL catalog: concurrent writers and readers ---------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    with postgres_server() as server:
        yield server


READER = textwrap.dedent(
    """
    import sys, time, pathlib
    from itip.lake import Lake
    from itip.db import open_warehouse
    lake, stop = Lake(sys.argv[1]), pathlib.Path(sys.argv[2])
    seen, slowest = [], 0.0
    while not stop.exists():
        started = time.monotonic()
        with open_warehouse(lake, read_only=True) as wh:
            seen.append(wh.con.execute("SELECT count(*) FROM releases").fetchone()[0])
        slowest = max(slowest, time.monotonic() - started)
        # Each pass opens a new session (ATTACH of the PostgreSQL catalog: about 0.2 s of CPU).
        # At 0.2 s apart the two readers took about 60 s of CPU in all, CPU the writers need on a
        # two-core machine; a pass a second still gives dozens of sessions across the writes.
        time.sleep(1.0)
    print(len(seen), min(seen), max(seen), int(seen == sorted(seen)), round(slowest, 3), flush=True)
    """
)


@pytest.mark.slow
def test_two_writers_two_readers_and_a_killed_writer_on_postgres(
    postgres: Server, raw_copy: Path, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    lake = Lake("postgres:" + postgres.new_database(), str(tmp_path / "data") + "/")
    target = "ducklake:" + lake.catalog
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(raw_copy / "itip_2014.csv", first / "itip_2014.csv")
    ingest(raw_dir=first, warehouse=lake)  # readers need the tables to exist
    for late in raw_copy.glob("itip_202*"):
        # seven files (CSV, Excel and the editions file) make three writers race as well as
        # thirteen do, at half the cost: on two cores each writer's ingest is most of the test
        late.unlink()

    def env(**extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "ITIP_LAKE_DATA": lake.data_path,
            **extra,
        }

    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, lake.catalog, str(stop)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env(),
        )
        for _ in range(2)
    ]

    def writer(**extra: str) -> subprocess.Popen[str]:
        home = tmp_path / f"home{len(extra)}{time.monotonic_ns()}"  # separate local state per writer
        home.mkdir()
        return subprocess.Popen(
            [str(ITIP), "ingest", "--raw", str(raw_copy), "-w", target],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=home,
            env=env(**extra),
        )

    def flow_runs() -> int:
        response = httpx.post(f"{PREFECT_API_URL.value()}/flow_runs/filter", json={}, timeout=30)
        return len(response.json())

    # The writer to be killed at its second estimates insert goes first: once its flow run is
    # registered (its imports done) the other two start, and it has loaded a file and is
    # inside the next before they, still importing, can take every file from it. Started
    # together it could lose both files it needs and end with nothing to kill it.
    runs_before = flow_runs()
    killed = writer(ITIP_FAILPOINT="after_estimates_insert:2")
    deadline = time.monotonic() + 120
    while flow_runs() == runs_before and killed.poll() is None:
        assert time.monotonic() < deadline, "the writer to be killed never started its flow run"
        time.sleep(0.1)
    writers = [writer(), writer()]
    try:
        outputs = [w.communicate(timeout=400) for w in writers]
        killed.wait(timeout=400)
        stop.touch()
        reports = [r.communicate(timeout=120)[0].split() for r in readers]
    finally:  # a timeout must not leave writers or readers running behind the test
        stop.touch()
        for process in [*readers, *writers, killed]:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert killed.returncode == -9
    for w, (out, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, out + err
    files = sorted(p.name for p in raw_copy.iterdir())
    loaded = rows(lake, "SELECT file_name, count(*) FROM releases GROUP BY file_name ORDER BY file_name")
    assert loaded == [(name, 1) for name in files]  # every file exactly once
    assert rows(lake, "SELECT DISTINCT status FROM releases") == [("loaded",)]
    assert rows(lake, "SELECT count(DISTINCT release_id) = count(*) FROM releases") == [(True,)]
    assert rows(lake, "SELECT count(*) FROM estimates WHERE release_id NOT IN (SELECT release_id FROM releases)") == [
        (0,)
    ]
    # the editions file's rows go to table editions, not estimates
    expected = sum(r[0] for r in rows(lake, "SELECT rows FROM releases WHERE kind <> 'editions'"))
    assert rows(lake, "SELECT count(*) FROM estimates") == [(expected,)]
    for report in reports:
        queries, low, high, ordered, _slowest = report
        assert int(queries) >= 2  # kept answering while the writers ran (a blocked reader answers once)
        assert int(low) >= 1 and int(high) <= len(files)
        assert ordered == "1"  # never saw a state go backwards
