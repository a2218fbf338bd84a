"""`itip serve`: a real local Prefect server, a cron schedule, a scheduled run that completes, and
the printed command that runs the ingest now."""

from __future__ import annotations

import os
import re
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


def bare_env(tmp_path: Path) -> dict[str, str]:
    """A shell as a user has it: none of the variables itip, the Makefile or the tests set."""
    drop = {"PREFECT_API_URL", "DO_NOT_TRACK", "PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_LOGGING_LEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PREFECT_HOME"] = str(tmp_path / "home")
    return env


def completed_runs(api: str) -> list[dict[str, object]]:
    found = httpx.post(
        f"{api}/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}, timeout=10
    )
    return list(found.json())


@pytest.mark.slow
def test_scheduled_run_completes_and_the_printed_run_hint_works(raw_copy: Path, tmp_path: Path) -> None:
    """One `itip serve` (a server start is most of the time): its schedule starts a run that
    completes, and the command it prints to run the ingest now works as printed, pasted into
    another shell with no Prefect variables, and the served flow runs it."""
    warehouse = tmp_path / "itip.duckdb"
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    # A cron schedule in seconds (croniter's sixth field): every 20 s, so the test waits for the
    # server's start-up and one tick, not for a whole minute to come round; the server's
    # scheduler and the served flow's runner look for work every 2 s instead of 60 and 10.
    started = datetime.now(UTC)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"] = "2"
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "2"
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
        lines: list[str] = []
        while not any("deployment run" in line for line in lines):
            lines = log.read_text(encoding="utf-8").splitlines()
            assert serve.poll() is None, "\n".join(lines)
            assert time.monotonic() < deadline, "\n".join(lines)
            time.sleep(0.5)
        hint = next(line.strip() for line in lines if "deployment run" in line)
        assert hint.startswith(f"PREFECT_API_URL={api} DO_NOT_TRACK=1 ")
        # as a user pastes it into another shell, in another folder, with no Prefect variables set
        for _ in range(30):  # the deployment is registered a moment after the hint is printed
            ran = subprocess.run(
                ["bash", "-c", hint], cwd=tmp_path, env=bare_env(tmp_path), capture_output=True, text=True, timeout=120
            )
            if ran.returncode == 0:
                break
            time.sleep(2)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Created flow run" in ran.stdout
        triggered = re.search(r"UUID: ([0-9a-f-]+)", ran.stdout)
        assert triggered, ran.stdout

        def done() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
            runs = completed_runs(api)
            return [r for r in runs if r["id"] == triggered[1]], [r for r in runs if r["auto_scheduled"]]

        manual, scheduled = done()
        while not (manual and scheduled):
            assert serve.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, f"runs completed: triggered {manual}, scheduled {scheduled}"
            time.sleep(2)
            manual, scheduled = done()

        assert loaded_rows(warehouse) == 117  # every bundled figure, loaded by one of the runs
        with duckdb.connect(str(warehouse), read_only=True) as con:
            (loader,) = con.execute("SELECT DISTINCT flow_run_id FROM releases").fetchall()
        assert loader[0] in {r["id"] for r in manual + scheduled}
        (run, *_) = scheduled
        assert run["deployment_id"] is not None and run["deployment_id"] == manual[0]["deployment_id"]
        # The run came from the schedule: planned for a tick of it, after `itip serve` started.
        expected = datetime.fromisoformat(str(run["expected_start_time"]))
        assert expected > started
        assert expected.second % 20 == 0 and expected.microsecond == 0
    finally:
        output = stop_serve(serve, log, tmp_path / "prefect")
    assert serve.returncode == 0, output
    assert "$ prefect deployment run" not in output  # Prefect's own hint, which fails as printed
    assert "stopped (the Prefect server keeps running: itip server stop)" in output
    assert f"stopped the Prefect server at {api}" in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=2)


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
