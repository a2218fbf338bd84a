"""Prefect flows. Importing this package sets Prefect's defaults first: no
telemetry (runs must not send anything over the network) and a start-up
timeout for Prefect's temporary local server that a busy two-core machine
meets (Prefect's default of 20 s is not enough while it migrates a new
database). Values already set in the environment win."""

import os

from itip.server import TELEMETRY_OFF

for _name, _value in TELEMETRY_OFF.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
