"""`itip ingest` runs its flow without Prefect's flow-run heartbeat (whose thread made every
run wait up to a second at its end), unless the user configured one: then it is kept.
Checked on the events the session's Prefect server received from real `itip ingest` runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY

from flows import run_settings
from tests.conftest import REPO

ITIP = Path(sys.executable).parent / "itip"


def test_no_heartbeat_unless_configured(prefect_harness: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also inside the session's harness, whose settings already say no heartbeat: what the
    user configured is read from Prefect's root settings, not from the current ones."""
    for name in run_settings.HEARTBEAT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert run_settings.in_process(None) == {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    assert run_settings.in_process("http://127.0.0.1:4200/api") == {
        PREFECT_API_URL: "http://127.0.0.1:4200/api",
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
    }
    for name in run_settings.HEARTBEAT_VARIABLES:  # either name counts, the older one too
        monkeypatch.setenv(name, "60")
        assert run_settings.in_process(None) == {}
        monkeypatch.delenv(name)


def beating(api: str) -> set[str]:
    """The flow runs the server has received a heartbeat from (events are stored a moment
    after they arrive)."""
    body = {"filter": {"event": {"prefix": ["prefect.flow-run.heartbeat"]}}, "limit": 50}
    events = httpx.post(f"{api}/events/filter", json=body, timeout=30).json()["events"]
    return {e["resource"]["prefect.resource.id"].removeprefix("prefect.flow-run.") for e in events}


def newest_flow_run(api: str) -> str:
    body = {"sort": "EXPECTED_START_TIME_DESC", "limit": 1}
    (run,) = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).json()
    return str(run["id"])


def ingest(raw: Path, warehouse: Path, api: str, **extra: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in run_settings.HEARTBEAT_VARIABLES}
    env = {**env, "PREFECT_API_URL": api, **extra}  # a configured server: the session's
    done = subprocess.run(
        [str(ITIP), "ingest", "--raw", str(raw), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_itip_ingest_sends_no_heartbeat_unless_one_is_configured(prefect_harness: None, tmp_path: Path) -> None:
    api = PREFECT_API_URL.value()
    assert api
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "itip_2023.csv").write_bytes((REPO / "raw" / "itip_2023.csv").read_bytes())
    ingest(raw, tmp_path / "a" / "itip.duckdb", api)
    quiet = newest_flow_run(api)
    ingest(raw, tmp_path / "b" / "itip.duckdb", api, PREFECT_FLOWS_HEARTBEAT_FREQUENCY="30")
    configured = newest_flow_run(api)
    assert quiet != configured
    deadline = time.monotonic() + 120
    while configured not in beating(api):  # the second run's heartbeat, once stored ...
        assert time.monotonic() < deadline, "the configured heartbeat was not sent"
        time.sleep(0.5)
    assert quiet not in beating(api), "a heartbeat was sent though none is configured"  # ... after the first's
