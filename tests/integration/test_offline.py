"""Nothing is sent over the network at run time: an ingest in a network namespace
with only loopback completes, and its debug log shows no failed connection and no
address but 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ITIP = Path(sys.executable).parent / "itip"
FAILED_CONNECTION = re.compile(
    r"Network is unreachable|name resolution|Name or service not known|ConnectError|ConnectionRefused|"
    r"Connection refused|getaddrinfo|Errno 101|Errno 111",
    re.IGNORECASE,
)


def _can_unshare() -> str | None:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "needs unshare and ip (util-linux, iproute2)"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"cannot create a network namespace here: {probe.stderr.strip()}"


@pytest.mark.slow
def test_ingest_with_the_network_unavailable(tmp_path: Path) -> None:
    reason = _can_unshare()
    if reason:
        pytest.skip(reason)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_LOGGING_LEVEL": "DEBUG"}
    env.pop("PREFECT_API_URL", None)
    warehouse = tmp_path / "itip.duckdb"
    done = subprocess.run(
        [
            "unshare",
            "-n",
            "sh",
            "-c",
            'ip link set lo up && exec "$0" "$@"',
            str(ITIP),
            "ingest",
            "-v",
            "--warehouse",
            str(warehouse),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "13 loaded" in done.stdout
    assert FAILED_CONNECTION.findall(log) == []
    # Where Prefect says it connects or serves (other URLs in the log are links to its docs).
    used = set(re.findall(r"(?:Connecting to API at|server on) https?://([^\s/:]+)", log))
    assert used == {"127.0.0.1"}, used
