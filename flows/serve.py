"""Scheduled ingests: `itip serve`.

Prefect's temporary (ephemeral) server cannot run schedules: the served flow talks to
the project's background server (itip.server) or to PREFECT_API_URL when configured.
"""

from __future__ import annotations

import shlex
import signal
import sys
from contextlib import suppress
from pathlib import Path

from itip.lake import PREFIX, Lake
from itip.server import TELEMETRY_OFF

DEPLOYMENT = "itip-scheduled"


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
    env = f"PREFECT_API_URL={shlex.quote(api_url)} DO_NOT_TRACK={TELEMETRY_OFF['DO_NOT_TRACK']}"
    return [
        "run the ingest now (from another shell):",
        f"  {env} {prefect} deployment run {shlex.quote('ingest/' + DEPLOYMENT)}",
        "list its runs:",
        f"  {env} {prefect} flow-run ls --flow-name ingest",
    ]
