"""`itip server status|stop`, and which Prefect server a command uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from itip.problems import ItipError
from itip.settings import DEFAULTS, Settings

#: `ITIP_PREFECT_SERVER=temporary` makes `itip ingest` start Prefect's own temporary server
#: for the one run, as before the background server existed (containers, one-off jobs).
SERVER_MODE_ENV = "ITIP_PREFECT_SERVER"

StateOpt = Annotated[
    Path | None,
    typer.Option("--state", help="Local Prefect server's state folder (default: $ITIP_PREFECT_STATE or .prefect/)."),
]

server_app = typer.Typer(
    help="The local Prefect server that itip starts in the background and reuses.", no_args_is_help=True
)


def _settings_of(ctx: typer.Context) -> Settings:
    """The settings the `itip` command was started with (built once where every command
    starts, itip.cli); the environment's when this sub-app runs on its own."""
    return ctx.obj if isinstance(ctx.obj, Settings) else Settings.from_env()


def _state(state: Path | None, settings: Settings) -> Path:
    from itip.problems import ConfigError

    folder = state or settings.prefect_state
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: the Prefect server's state folder is not a folder (--state, ITIP_PREFECT_STATE)")
    return folder


def prefect_api(
    state: Path | None = None,
    port: int | None = None,
    settings: Settings = DEFAULTS,
    warm: Callable[[], object] | None = None,
) -> str | None:
    """The Prefect API this command uses: PREFECT_API_URL when configured (it always wins),
    else the background server (in `state`, else the settings' prefect_state), started now
    if it is not running. None: Prefect's temporary server (the settings' prefect_server,
    ITIP_PREFECT_SERVER=temporary). Sets PREFECT_API_URL for the flows of this process.
    PREFECT_API_URL is Prefect's own variable, read here because Prefect reads it once.

    `warm` (say, importing the flow) runs while a server this call starts boots, with
    PREFECT_API_URL already set, so a first run does not pay both one after the other. The
    server may still move to another port (another program took the first one while it
    started): Prefect, imported by then, has read the first URL, so the caller runs its flow
    under `prefect.settings.temporary_settings` with the URL returned here."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    if settings.prefect_server == "temporary":
        return None
    from itip import server

    def early(url: str) -> None:
        os.environ["PREFECT_API_URL"] = url
        if warm is not None:
            warm()

    info, started = server.ensure(_state(state, settings), port, meanwhile=early, template=settings.prefect_db_template)
    if started:
        typer.echo(
            f"started the local Prefect server in the background (UI at {info.url.removesuffix('/api')}); "
            "later commands reuse it; stop it with: itip server stop",
            err=True,
        )
    os.environ["PREFECT_API_URL"] = info.url
    return info.url


@server_app.command("status")
def server_status(ctx: typer.Context, state: StateOpt = None) -> None:
    """Say whether the background Prefect server runs, where, and since when; exit 1 if not.

    Example: itip server status
    """
    from itip import server

    if os.environ.get("PREFECT_API_URL"):
        typer.echo(f"PREFECT_API_URL is set: itip uses the Prefect server at {os.environ['PREFECT_API_URL']}")
    folder = _state(state, _settings_of(ctx))
    info = server.status(folder)
    if info is None:
        stale = server.read_info(folder)
        extra = f" (the recorded pid {stale.pid} does not answer: stale)" if stale else ""
        typer.echo(f"not running{extra}; the next itip ingest or itip serve starts it")
        raise typer.Exit(1)
    typer.echo(f"running: {info.url.removesuffix('/api')} (pid {info.pid}, since {info.started}, state in {folder})")


@server_app.command("stop")
def server_stop(ctx: typer.Context, state: StateOpt = None) -> None:
    """Stop the background Prefect server (its runs and history stay in the state folder).

    Example: itip server stop
    """
    from itip import server

    folder = _state(state, _settings_of(ctx))
    try:
        info = server.stop(folder)
    except ItipError as exc:
        typer.echo(f"itip: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"stopped the Prefect server at {info.url} (pid {info.pid})" if info else "no server was running")
