"""A run's last line is the summary: Prefect's exit drain of queued events ("EventsWorker -
Still processing items: 4 items remaining...", at WARNING) no longer prints below it, while
the same logger's real failures still do."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Prefect's logging as a command has it (handlers configured at import), then the drain's line
# and a real failure on the same logger, as Prefect's services log them.
SCRIPT = """
import logging, sys
import prefect  # noqa: F401
from itip.cli.load import quiet_event_drain
if sys.argv[1] == "quiet":
    quiet_event_drain()
    quiet_event_drain()  # a second call adds no second filter
    assert len(logging.getLogger("EventsWorker").filters) == 1
log = logging.getLogger("EventsWorker")
log.warning("Still processing items: 4 items remaining...")
log.error("Service 'EventsWorker' failed to process item 'x'")
"""


@pytest.mark.parametrize("mode", ["quiet", "verbose"])
def test_the_event_drain_line_is_dropped_and_failures_are_kept(mode: str) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "failed to process item" in done.stderr
    assert ("Still processing items" in done.stderr) == (mode == "verbose")
