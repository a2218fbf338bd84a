"""Scheduled runs beside analysts' open sessions, with real processes: a
read-only session neither breaks an ingest nor is broken by one, and two
ingests never write at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import IO

import duckdb
import pytest
from filelock import FileLock

from flows.ingest import ingest
from itip.ingest import lock_path
from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

ITIP = Path(sys.executable).parent / "itip"
OLD = ("itip_2014.csv", "itip_2015.csv", "itip_2020.csv")


def env(**extra: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), **extra}


def count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("SELECT count(*) FROM trend").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def three_years(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with three years loaded, built once: each test gets a copy."""
    base = tmp_path_factory.mktemp("three")
    raw = base / "raw"
    raw.mkdir()
    for name in OLD:
        shutil.copy(REPO / "raw" / name, raw / name)
    warehouse = base / "itip.duckdb"
    ingest(raw_dir=raw, warehouse=warehouse)
    return warehouse


@pytest.fixture
def setup(tmp_path: Path, three_years: Path) -> tuple[Path, Path]:
    """A warehouse with three years loaded and a raw/ folder with every bundled year."""
    raw = tmp_path / "raw"
    raw.mkdir()
    warehouse = tmp_path / "itip.duckdb"
    shutil.copy(three_years, warehouse)
    for path in (REPO / "raw").iterdir():
        shutil.copy(path, raw / path.name)
    return raw, warehouse


def start_ingest(raw: Path, warehouse: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ITIP), "ingest", "--raw", str(raw), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(**extra),
    )


READER = textwrap.dedent(
    """
    import sys, time, pathlib, duckdb
    path, go = sys.argv[1], pathlib.Path(sys.argv[2])
    con = duckdb.connect(path, read_only=True)
    first = con.execute("SELECT count(*) FROM trend").fetchone()[0]
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.05)
    second = con.execute("SELECT count(*) FROM trend").fetchone()[0]
    con.close()
    third = duckdb.connect(path, read_only=True).execute("SELECT count(*) FROM trend").fetchone()[0]
    print(first, second, third, flush=True)
    """
)


def test_open_session_keeps_its_view_and_ingest_succeeds(setup: tuple[Path, Path], tmp_path: Path) -> None:
    raw, warehouse = setup
    before = count(warehouse)
    go = tmp_path / "go"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse), str(go)], stdout=subprocess.PIPE, text=True
    )
    assert reader.stdout is not None
    assert reader.stdout.readline().strip() == "ready"

    done = subprocess.run(
        [str(ITIP), "ingest", "--raw", str(raw), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    go.touch()
    out, _ = reader.communicate(timeout=60)
    first, second, third = map(int, out.split())
    assert reader.returncode == 0
    assert first == second == before, "an open session sees the warehouse as it was when it opened"
    assert third == count(warehouse) == 117, "the next session sees the new data"


POLLER = textwrap.dedent(
    """
    import sys, time, pathlib, duckdb
    path, stop = sys.argv[1], pathlib.Path(sys.argv[2])
    seen = []
    while not stop.exists():
        with duckdb.connect(path, read_only=True) as con:
            seen.append(con.execute("SELECT count(*) FROM trend").fetchone()[0])
        time.sleep(0.1)  # sessions keep opening through every file's load; 0.02 took half a core
    print(" ".join(map(str, seen)))
    """
)


def test_sessions_opened_during_an_ingest_always_work(setup: tuple[Path, Path], tmp_path: Path) -> None:
    """Analysts open and close sessions throughout a run: none fails, none sees a half-loaded file."""
    raw, warehouse = setup
    before = count(warehouse)
    stop = tmp_path / "stop"
    poller = subprocess.Popen(
        [sys.executable, "-c", POLLER, str(warehouse), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = start_ingest(raw, warehouse)
    out, err = run.communicate(timeout=300)
    stop.touch()
    seen_text, poll_err = poller.communicate(timeout=60)
    assert run.returncode == 0, out + err
    assert poller.returncode == 0, poll_err
    seen = [int(x) for x in seen_text.split()]
    assert len(seen) > 10
    assert seen == sorted(seen), "states only move forward"
    # Every state seen is the start, the end, or the start plus whole files.
    per_file = {
        "itip_2010.csv": 5,
        "itip_2011.xlsx": 5,
        "itip_2016.csv": 9,
        "itip_2017.csv": 3,
        "itip_2021.csv": 32,  # 33 rows, one of them the alternative of a conflict
        "itip_2022.xlsx": 26,
        "itip_2023.csv": 14,
        "itip_2024.xlsx": 3,
        "itip_2025.csv": 2,
        "itip_editions.csv": 0,
    }
    possible = {before}
    for n in per_file.values():
        possible |= {s + n for s in possible}
    assert set(seen) <= possible
    assert seen[-1] == count(warehouse) == 117


def test_second_ingest_waits_then_gives_up_with_a_message(setup: tuple[Path, Path]) -> None:
    raw, warehouse = setup
    before = count(warehouse)
    with FileLock(str(lock_path(warehouse))):
        done = subprocess.run(
            [str(ITIP), "ingest", "--raw", str(raw), "--warehouse", str(warehouse)],
            capture_output=True,
            text=True,
            env=env(ITIP_LOCK_WAIT_SECONDS="1"),
            timeout=300,
        )
    assert done.returncode == 1
    assert done.stdout.startswith("busy")
    assert "another ingest is still running after 1 s" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert count(warehouse) == before


def test_two_ingests_at_once_one_waits(setup: tuple[Path, Path]) -> None:
    raw, warehouse = setup
    first = start_ingest(raw, warehouse)
    second = start_ingest(raw, warehouse)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0, results[0]
    assert second.returncode == 0, results[1]
    assert count(warehouse) == 117
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Each new file was loaded exactly once: the later run found it unchanged.
        assert con.execute("SELECT count(*) FROM releases").fetchone() == (13,)


def watch(run: subprocess.Popen[str], message: str) -> tuple[list[str], threading.Event]:
    """Collect a process's stderr and stdout as it runs (so neither pipe fills up) and set the
    event when a line holds `message`: a test waits for what the process says, not a guess in
    seconds, and a process that never says it still ends the wait (the event's timeout)."""
    printed: list[str] = []
    said = threading.Event()

    def read(stream: IO[str]) -> None:
        for line in stream:
            printed.append(line)
            if message in line:
                said.set()

    for stream in (run.stderr, run.stdout):
        assert stream is not None
        threading.Thread(target=read, args=(stream,), daemon=True).start()
    return printed, said


def test_waiting_ingest_proceeds_when_the_other_finishes(setup: tuple[Path, Path]) -> None:
    raw, warehouse = setup
    lock = FileLock(str(lock_path(warehouse)))
    lock.acquire()
    try:
        run = start_ingest(raw, warehouse, ITIP_LOCK_WAIT_SECONDS="120")
        printed, waits = watch(run, "waiting up to 120 s")
        assert waits.wait(120), "it never said that it waits: " + "".join(printed)
        time.sleep(2)
        assert run.poll() is None, "it waits while the lock is held"
    finally:
        lock.release()
    assert run.wait(timeout=300) == 0, "".join(printed)
    assert count(warehouse) == 117
