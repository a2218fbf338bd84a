"""Kill `itip ingest` (SIGKILL) at many points of a load: the warehouse always
holds the state before or after a file, never half of one, and the next run ends
exactly where an uninterrupted run ends."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from itip.failpoints import POINTS
from itip.warehouse_file import snapshot_path
from tests.conftest import REPO
from tests.forkserver import ForkServer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

FIRST = ("itip_2014.csv", "itip_2015.csv", "itip_2016.csv", "itip_2017.csv", "itip_2020.csv")
#: Changes that the killed run processes, in the order it processes them.
CHANGES = ("corrected itip_2020.csv", "new itip_2021.csv", "new itip_2022.xlsx")


def state(path: Path) -> tuple[object, ...]:
    """Everything a user can see, less run times and flow run ids."""
    with duckdb.connect(str(path), read_only=True) as con:
        return (
            con.execute(
                "SELECT release_id, year, kind, file_name, sha256, rows, status FROM releases ORDER BY release_id"
            ).fetchall(),
            con.execute("SELECT * FROM estimates ORDER BY release_id, source_row").fetchall(),
            con.execute("SELECT * FROM rejections ORDER BY release_id, source_row").fetchall(),
            con.execute("SELECT * FROM trend ORDER BY release_id, indicator, segment, answer, year").fetchall(),
        )


def build_raw(folder: Path, step: int) -> Path:
    """raw/ with the first files, plus the first `step` changes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FIRST:
        shutil.copy(REPO / "raw" / name, folder / name)
    if step >= 1:
        text = (REPO / "raw" / "itip_2020.csv").read_text(encoding="utf-8-sig").replace("\t60\t", "\t61\t")
        (folder / "itip_2020.csv").write_text(text, encoding="utf-8")
    if step >= 2:
        shutil.copy(REPO / "raw" / "itip_2021.csv", folder / "itip_2021.csv")
    if step >= 3:
        shutil.copy(REPO / "raw" / "itip_2022.xlsx", folder / "itip_2022.xlsx")
    return folder


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[object, ...]]]:
    """The starting warehouse, and the state after each change of an uninterrupted run."""
    base = tmp_path_factory.mktemp("crash")
    start = base / "start.duckdb"
    ingest(raw_dir=build_raw(base / "raw0", 0), warehouse=start)
    expected = [state(start)]
    work = base / "steps.duckdb"
    shutil.copy(start, work)
    for step in range(1, len(CHANGES) + 1):
        ingest(raw_dir=build_raw(base / f"raw{step}", step), warehouse=work)
        expected.append(state(work))
    assert len(set(map(repr, expected))) == len(expected), "each change must be visible"
    return start, expected


@pytest.fixture(scope="module")
def itip() -> Iterator[ForkServer]:
    """`itip` commands in processes of their own, forked from one that imported the ingest
    once (tests/forkserver.py): each case's killed run is a real process, without paying
    Prefect's and pandas' imports again (about 6 s a case)."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    env.pop("ITIP_FAILPOINT", None)
    server = ForkServer(env)
    yield server
    server.close()


def run_ingest(itip: ForkServer, raw: Path, warehouse: Path, failpoint: str | None) -> subprocess.CompletedProcess[str]:
    output = warehouse.parent / "itip-output"
    output.mkdir(exist_ok=True)
    return itip.run(["ingest", "--raw", str(raw), "--warehouse", str(warehouse)], output, ITIP_FAILPOINT=failpoint)


KILL_POINTS = [*POINTS, "after_read:2", "after_estimates_insert:2", "before_swap:3", "after_swap:2"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_leaves_a_whole_state_and_next_run_completes(
    point: str, states: tuple[Path, list[tuple[object, ...]]], tmp_path: Path, itip: ForkServer
) -> None:
    start, expected = states
    warehouse = tmp_path / "itip.duckdb"
    shutil.copy(start, warehouse)
    raw = build_raw(tmp_path / "raw", len(CHANGES))

    killed = run_ingest(itip, raw, warehouse, point)
    assert killed.returncode == -signal.SIGKILL, f"failpoint {point} was never reached:\n{killed.stdout}{killed.stderr}"

    after_kill = state(warehouse)  # opens: the file is never half-written
    assert after_kill in expected, f"killed at {point}: the warehouse is not a state before or after a file"

    # The next run, in this process (a real flow run on the same server; a second
    # interpreter start-up per case would double the time and prove nothing more).
    outcomes = ingest(raw_dir=raw, warehouse=warehouse)
    assert not [o.line() for o in outcomes if o.failed]
    assert state(warehouse) == expected[-1]
    assert not snapshot_path(warehouse).exists(), "the killed run's working copy is cleaned up"


def test_a_kill_after_the_last_swap_does_not_leave_the_report_stale(
    states: tuple[Path, list[tuple[object, ...]]], tmp_path: Path, itip: ForkServer
) -> None:
    """Killed after the last file's swap, before the report: the next run finds nothing new but
    sees that the report is older than the warehouse, and rebuilds it (issue 14)."""
    start, expected = states
    warehouse = tmp_path / "itip.duckdb"
    shutil.copy(start, warehouse)
    raw = build_raw(tmp_path / "raw", len(CHANGES))
    killed = run_ingest(itip, raw, warehouse, f"after_swap:{len(CHANGES)}")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert state(warehouse) == expected[-1]
    assert not (tmp_path / "report" / "index.html").exists()
    outcomes = ingest(raw_dir=raw, warehouse=warehouse)
    assert {o.status for o in outcomes} == {"unchanged"}
    assert (tmp_path / "report" / "index.html").is_file(), "the stale report is rebuilt"
