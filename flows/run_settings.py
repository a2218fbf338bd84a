"""Prefect settings for a flow run inside an itip process: `itip ingest`, and the tests that
call the flow as it does.

Prefect's synchronous flow engine starts a heartbeat thread for every run and joins it at
the end; the thread sleeps in whole seconds, so every run ended with up to a second of
waiting (a trivial flow here: 1.12 s with it, 0.18 s without; a no-op `itip ingest` is
about 4 s in all). The heartbeat only emits events, for an automation a user may build to
mark runs that stopped beating as crashed; Prefect's server does nothing with them by
itself. A command a person watches does not need it, so these runs go without, unless a
heartbeat is configured (PREFECT_FLOWS_HEARTBEAT_FREQUENCY, its older name
PREFECT_RUNNER_HEARTBEAT_FREQUENCY, or another value in a Prefect profile or prefect.toml):
then Prefect's setting is kept. Runs started by `itip serve` or a Prefect worker run in
Prefect's own processes and keep Prefect's defaults.
"""

from __future__ import annotations

import os
from typing import Any

from prefect.context import GLOBAL_SETTINGS_CONTEXT
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY
from prefect.settings.legacy import Setting
from prefect.settings.models.flows import FlowsSettings

#: The environment variables that configure the flow-run heartbeat.
HEARTBEAT_VARIABLES = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


def heartbeat_configured() -> bool:
    """Whether the user set the flow-run heartbeat: in the environment, or to a value other
    than Prefect's default in a profile or prefect.toml. Read from the settings Prefect loaded
    at import (its root context), not the current ones, which a caller's `temporary_settings`
    (this module's own, around a test session) may have changed."""
    if any(os.environ.get(name) for name in HEARTBEAT_VARIABLES):
        return True
    default = FlowsSettings.model_fields["heartbeat_frequency"].default
    return GLOBAL_SETTINGS_CONTEXT.settings.flows.heartbeat_frequency != default


def in_process(url: str | None) -> dict[Setting, Any]:
    """The updates for `prefect.settings.temporary_settings` around an in-process run: the
    server's final URL (when itip chose the server) and no heartbeat unless configured."""
    updates: dict[Setting, Any] = {}
    if url:
        updates[PREFECT_API_URL] = url
    if not heartbeat_configured():
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    return updates
