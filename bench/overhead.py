"""Orchestration overhead of a run that finds nothing new.

Prints the wall time of a no-op `itip ingest` (every bundled file already
loaded) against a bare Prefect flow that does nothing, both run the same way:
a fresh process each, Prefect's temporary local server, same PREFECT_HOME.
Target: ratio <= 1.2. Not part of the test suite (timings on a shared machine
are noisy); run it with `make bench-overhead`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BARE = "from prefect import flow\n@flow\ndef noop():\n    return None\nnoop()\n"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    return elapsed


def main(repeats: int = 5) -> None:
    with tempfile.TemporaryDirectory(prefix="itip-bench-") as tmp:
        env = {
            **os.environ,
            "PREFECT_HOME": str(Path(tmp) / "prefect"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        env.pop("PREFECT_API_URL", None)
        warehouse = Path(tmp) / "itip.duckdb"
        raw = Path(tmp) / "raw"
        shutil.copytree(REPO / "raw", raw)
        itip = [str(BIN / "itip"), "ingest", "--raw", str(raw), "--warehouse", str(warehouse)]
        bare = [sys.executable, "-c", BARE]
        timed(itip, env)  # load everything once; also migrates Prefect's database
        timed(bare, env)
        noop, base = [], []
        for _ in range(repeats):  # interleaved, so drift on a shared machine hits both alike
            base.append(timed(bare, env))
            noop.append(timed(itip, env))
        b, n = statistics.median(base), statistics.median(noop)
        print(f"bare Prefect flow (median of {repeats}): {b:6.2f} s   runs: {', '.join(f'{x:.2f}' for x in base)}")
        print(f"no-op itip ingest (median of {repeats}): {n:6.2f} s   runs: {', '.join(f'{x:.2f}' for x in noop)}")
        print(f"ratio no-op ingest / bare flow: {n / b:.2f}  (target <= 1.20)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
