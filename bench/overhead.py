"""Fixed cost of a run that finds nothing new.

Prints the wall time of a no-op `itip ingest` (every bundled file already loaded)
on a warm machine, where the background Prefect server is already running (the
first command started it; see itip/server.py), against `python -c "import prefect"`:
the floor of any command that runs a Prefect flow. Target (issue 9): ratio <= 3.
For reference it also times the same no-op ingest with Prefect's temporary per-run
server (`ITIP_PREFECT_SERVER=temporary`, how every ingest ran before) and the first
command's cost of starting the server. Each command is a fresh process, interleaved,
median of the runs. Not part of the test suite (timings on a shared machine are
noisy); run it with `make bench-overhead`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchlib import BIN, REPO, timed

IMPORT = "import prefect"


def main(repeats: int = 5) -> None:
    from itip import server

    with tempfile.TemporaryDirectory(prefix="itip-bench-") as tmp:
        state = Path(tmp) / "state"
        env = {
            **os.environ,
            "PREFECT_HOME": str(Path(tmp) / "prefect"),
            "ITIP_PREFECT_STATE": str(state),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        env.pop("PREFECT_API_URL", None)
        env.pop("ITIP_PREFECT_SERVER", None)
        temporary = {**env, "ITIP_PREFECT_SERVER": "temporary"}
        warehouse = Path(tmp) / "itip.duckdb"
        raw = Path(tmp) / "raw"
        shutil.copytree(REPO / "raw", raw)
        itip = [str(BIN / "itip"), "ingest", "--raw", str(raw), "--warehouse", str(warehouse)]
        bare = [sys.executable, "-c", IMPORT]
        try:
            first = timed(itip, env)  # starts the server, loads every file, migrates Prefect's database
            timed(bare, env)
            noop, base, temp = [], [], []
            for _ in range(repeats):  # interleaved, so drift on a shared machine hits all alike
                base.append(timed(bare, env))
                noop.append(timed(itip, env))
                temp.append(timed(itip, temporary))
        finally:
            server.stop(state)
        b, n, t = statistics.median(base), statistics.median(noop), statistics.median(temp)
        print(f"first itip ingest (starts the server, loads all files): {first:6.2f} s")
        for label, value, xs in (
            ("python -c 'import prefect'", b, base),
            ("no-op itip ingest, warm", n, noop),
            ("no-op itip ingest, temporary server", t, temp),
        ):
            print(f"{label} (median of {repeats}): {value:6.2f} s   runs: {', '.join(f'{x:.2f}' for x in xs)}")
        print(f"ratio no-op ingest (warm) / import prefect: {n / b:.2f}  (target <= 3.00)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
