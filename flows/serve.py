"""Scheduled ingests: `itip serve`.

Prefect's temporary (ephemeral) server cannot run schedules, so where no Prefect
API is configured this starts a real local Prefect server as a child process,
with its state (SQLite database, logs) in a folder of its own, and stops it on
exit. Where PREFECT_API_URL is set, that server is used and nothing is started.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from itip.lake import PREFIX, Lake
from itip.problems import ItipError

DEFAULT_CRON = "0 6 * * *"
DEFAULT_TIMEZONE = "Europe/Oslo"
DEPLOYMENT = "itip-scheduled"
STARTUP_SECONDS = 180


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


@contextmanager
def local_server(state_dir: Path, port: int, host: str = "127.0.0.1") -> Iterator[str]:
    """Run `prefect server start` on loopback with its state in `state_dir`; yield its API URL."""
    if not _port_free(host, port):
        raise ItipError(f"port {port} on {host} is in use; choose another with --port")
    state_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(state_dir),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    env.pop("PREFECT_API_URL", None)
    log = (state_dir / "server.log").open("ab")
    prefect = Path(sys.executable).with_name("prefect")
    server = subprocess.Popen(
        [str(prefect), "server", "start", "--host", host, "--port", str(port), "--analytics-off"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://{host}:{port}/api"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if server.poll() is not None:
                raise ItipError(f"the local Prefect server stopped at start-up; see {state_dir / 'server.log'}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ItipError(
                    f"the local Prefect server did not start in {STARTUP_SECONDS} s; see {state_dir / 'server.log'}"
                )
            time.sleep(0.5)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


def _warehouse_parameters(warehouse: Path | Lake) -> dict[str, str]:
    if isinstance(warehouse, Path):
        return {"warehouse": str(warehouse.resolve())}
    return {
        "warehouse": PREFIX + warehouse.catalog,
        **({"lake_data": warehouse.data_path} if warehouse.data_path else {}),
    }


def serve(raw_dir: Path, warehouse: Path | Lake, cron: str, timezone: str, api_url: str | None = None) -> None:
    """Serve the ingest flow on a cron schedule until interrupted (Ctrl-C or SIGTERM).

    `api_url` points this process at a server started after Prefect was imported
    (its settings are read once, so the environment alone is not enough)."""
    from prefect.schedules import Cron
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.ingest import ingest

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    settings = {PREFECT_API_URL: api_url} if api_url else {}
    with suppress(KeyboardInterrupt), temporary_settings(updates=settings):
        ingest.serve(
            name=DEPLOYMENT,
            schedule=Cron(cron, timezone=timezone),
            parameters={"raw_dir": str(raw_dir.resolve()), **_warehouse_parameters(warehouse)},
            description=f"itip ingest of {raw_dir} into {warehouse}, {cron} ({timezone})",
            pause_on_shutdown=False,
            print_starting_message=False,  # its hint lacks PREFECT_API_URL and fails as printed; see run_hint
        )


def run_hint(api_url: str) -> list[str]:
    """Commands that work exactly as printed from another shell: Prefect's own hint
    (`prefect deployment run ...`) lacks the API URL of a server started here, so it
    would talk to an ephemeral server of its own and find no such deployment."""
    prefect = shlex.quote(str(Path(sys.executable).with_name("prefect")))
    env = f"PREFECT_API_URL={shlex.quote(api_url)} DO_NOT_TRACK=1"
    return [
        "run the ingest now (from another shell):",
        f"  {env} {prefect} deployment run {shlex.quote('ingest/' + DEPLOYMENT)}",
        "list its runs:",
        f"  {env} {prefect} flow-run ls --flow-name ingest",
    ]
