"""What the benchmark scripts share: timing a command in a fresh process, and
alternating a command with its baseline so a noisy shared machine slows both alike."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run of `cmd` from the repository root; a failed run stops the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    return elapsed


def alternated(
    measured: list[str], baseline: list[str], rounds: int, env: dict[str, str]
) -> tuple[list[float], list[float]]:
    """Wall seconds of each run of `measured` and of `baseline`, over `rounds` alternating runs."""
    ours: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        base.append(timed(baseline, env))
        ours.append(timed(measured, env))
    return ours, base
