"""`itip serve`: a real local Prefect server, a cron schedule, and a scheduled run that completes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from tests.conftest import REPO

ITIP = Path(sys.executable).parent / "itip"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_serve(args: list[str], tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], Path]:
    """Start `itip serve` with its output in a file, never a pipe: a pipe nobody reads fills up
    (64 KiB of run logs) and then blocks the server in the middle of a run."""
    log = tmp_path / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        serve = subprocess.Popen([str(ITIP), "serve", *args], stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    return serve, log


def stop_serve(serve: subprocess.Popen[str], log: Path, state: Path) -> str:
    """Stop `itip serve`, then the background Prefect server it started (which outlives it)."""
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=120)
    stopped = subprocess.run([str(ITIP), "server", "stop", "--state", str(state)], capture_output=True, text=True)
    return log.read_text(encoding="utf-8") + stopped.stdout + stopped.stderr


def loaded_rows(warehouse: Path) -> int:
    if not warehouse.exists():
        return 0
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute("SELECT count(*) FROM trend").fetchone()
    except duckdb.Error:
        return 0
    return int(row[0]) if row else 0


@pytest.mark.slow
def test_scheduled_run_completes(raw_copy: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "itip.duckdb"
    port = free_port()
    # A cron schedule in seconds (croniter's sixth field): every 20 s, so the test waits for the
    # server's start-up and one tick, not for a whole minute to come round.
    started = datetime.now(UTC)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = "5"
    serve, log = start_serve(
        [
            "--cron", "* * * * * */20", "--timezone", "UTC",
            "--raw", str(raw_copy), "--warehouse", str(warehouse),
            "--port", str(port), "--state", str(tmp_path / "prefect"),
        ],
        tmp_path,
        env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 900
        while loaded_rows(warehouse) < 117:
            assert serve.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "no scheduled run completed in time"
            time.sleep(2)

        with duckdb.connect(str(warehouse), read_only=True) as con:
            run_ids = {r[0] for r in con.execute("SELECT DISTINCT flow_run_id FROM releases").fetchall()}
        (run_id,) = run_ids
        api = f"http://127.0.0.1:{port}/api"
        while True:
            run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
            if run["state_type"] == "COMPLETED" or time.monotonic() > deadline + 120:  # the run's last steps
                break
            time.sleep(1)
        assert run["state_type"] == "COMPLETED"
        assert run["deployment_id"] is not None
        assert run["auto_scheduled"] is True
        # The run came from the schedule: planned for a tick of it, after `itip serve` started.
        expected = datetime.fromisoformat(run["expected_start_time"])
        assert expected > started
        assert expected.second % 20 == 0 and expected.microsecond == 0
    finally:
        output = stop_serve(serve, log, tmp_path / "prefect")
    assert serve.returncode == 0, output
    assert "stopped (the Prefect server keeps running: itip server stop)" in output
    assert f"stopped the Prefect server at http://127.0.0.1:{port}/api" in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)


def test_prefect_yaml_deploys_the_ingest_flow() -> None:
    """For teams with their own Prefect server and workers: prefect.yaml names the real flow."""
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = spec["deployments"]
    path, _, name = deployment["entrypoint"].partition(":")
    assert (REPO / path).is_file()
    assert f"def {name}(" in (REPO / path).read_text(encoding="utf-8")
    (schedule,) = deployment["schedules"]
    assert schedule == {"cron": "0 6 * * *", "timezone": "Europe/Oslo"}


def test_invalid_cron_is_a_usage_error() -> None:
    done = subprocess.run([str(ITIP), "serve", "--cron", "every day"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "invalid schedule" in done.stderr
