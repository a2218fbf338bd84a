"""The ingest deployed from prefect.yaml onto a process work pool, run by Prefect's own
worker into a DuckLake warehouse (issue 12): orchestration scales out on Prefect's
workers, nothing of ours in between."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from itip import server
from itip.db_read import run_query
from itip.lake import Lake
from itip.settings import Settings
from tests.conftest import REPO

PREFECT = Path(sys.executable).parent / "prefect"


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    """The project's background Prefect server, as the first `itip` command starts it."""
    state = tmp_path / "state"
    info, _ = server.ensure(state, template=Settings.from_env().prefect_db_template)
    yield info.url
    server.stop(state)


def prefect(*args: str, env: dict[str, str], cwd: Path = REPO) -> str:
    done = subprocess.run([str(PREFECT), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_a_prefect_worker_runs_the_deployed_ingest_into_a_lake(tmp_path: Path, prefect_server: str) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "DO_NOT_TRACK": "1", "ITIP_HOME": str(REPO)}
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("itip_2020.csv", "itip_2021.csv"):
        (raw / name).write_bytes((REPO / "raw" / name).read_bytes())
    lake = Lake(str(tmp_path / "meta.ducklake"), str(tmp_path / "lake-data") + "/")

    prefect("work-pool", "create", "itip", "--type", "process", env=env)
    prefect("--no-prompt", "deploy", "--all", env=env)  # prefect.yaml, as a team would deploy it
    params = {
        "raw_dir": str(raw),
        "warehouse": f"ducklake:{lake.catalog}",
        "lake_data": lake.data_path,
        "report_dir": str(tmp_path / "report"),
    }
    created = prefect("deployment", "run", "ingest/itip-daily", "--params", json.dumps(params), env=env)
    found = re.search(r"flow-run/([0-9a-f-]{36})", created)
    assert found, created
    prefect("worker", "start", "--pool", "itip", "--run-once", env=env)

    run = httpx.get(f"{prefect_server}/flow_runs/{found.group(1)}", timeout=10).json()
    assert run["state"]["type"] == "COMPLETED", run["state"]
    _, loaded = run_query(lake, "SELECT file_name FROM releases ORDER BY file_name")
    assert loaded == [("itip_2020.csv",), ("itip_2021.csv",)]
    _, years = run_query(lake, "SELECT DISTINCT year FROM trend ORDER BY year")
    assert years == [(2020,), (2021,)]
    assert (tmp_path / "report" / "index.html").is_file()
