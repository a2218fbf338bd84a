"""Prefect hand-over: the commands `itip serve` prints work as printed, and `prefect` commands
run from the repository have analytics off without itip's environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.test_serve import free_port, loaded_rows, start_serve, stop_serve

ITIP = Path(sys.executable).parent / "itip"
PREFECT = Path(sys.executable).parent / "prefect"


def _bare_env(tmp_path: Path) -> dict[str, str]:
    """A shell as a user has it: none of the variables itip, the Makefile or the tests set."""
    drop = {"PREFECT_API_URL", "DO_NOT_TRACK", "PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_LOGGING_LEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PREFECT_HOME"] = str(tmp_path / "home")
    return env


def test_prefect_commands_run_in_the_repository_have_analytics_off(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(PREFECT), "config", "view", "--show-sources", "--show-defaults"],
        cwd=REPO,
        env=_bare_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "PREFECT_SERVER_ANALYTICS_ENABLED='False' (from prefect.toml)" in done.stdout


@pytest.mark.slow
def test_the_run_hint_itip_serve_prints_works_as_printed(raw_copy: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "itip.duckdb"
    port = free_port()
    serve, log = start_serve(
        [
            "--cron", "0 3 1 1 *", "--timezone", "UTC",
            "--raw", str(raw_copy), "--warehouse", str(warehouse),
            "--port", str(port), "--state", str(tmp_path / "prefect"),
        ],
        tmp_path,
        {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
    )  # fmt: skip
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 600
        while not any("deployment run" in line for line in lines):
            lines = log.read_text(encoding="utf-8").splitlines()
            assert serve.poll() is None, "\n".join(lines)
            assert time.monotonic() < deadline, "\n".join(lines)
            time.sleep(0.5)
        hint = next(line.strip() for line in lines if "deployment run" in line)
        assert hint.startswith(f"PREFECT_API_URL=http://127.0.0.1:{port}/api DO_NOT_TRACK=1 ")
        # as a user pastes it into another shell, in another folder, with no Prefect variables set
        for _ in range(30):  # the deployment is registered a moment after the hint is printed
            ran = subprocess.run(
                ["bash", "-c", hint], cwd=tmp_path, env=_bare_env(tmp_path), capture_output=True, text=True, timeout=120
            )
            if ran.returncode == 0:
                break
            time.sleep(2)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Created flow run" in ran.stdout
        while loaded_rows(warehouse) < 41:  # the served flow picked the run up and loaded raw/
            assert serve.poll() is None
            assert time.monotonic() < deadline + 300, "the triggered run did not load the files"
            time.sleep(2)
    finally:
        output = stop_serve(serve, log, tmp_path / "prefect")
    assert serve.returncode == 0, output
    assert "$ prefect deployment run" not in output  # Prefect's own hint, which fails as printed
