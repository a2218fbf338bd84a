"""`itip check` of a small release file against the bare imports it cannot avoid.

Prints the median wall time of `itip check raw/itip_2023.csv` (4 rows) and of
`python -c "import pandas, duckdb"`, each a fresh process, measured in this run
and alternated so that a noisy machine affects both alike. Target: ratio <= 1.25.
Then what `itip check --watch` answers a save in: from writing a copy of the file (a
value made bad, then good again) to its result line, the median of as many saves.
Run it with `make bench-check`. In the dev environment Pandera also imports
Hypothesis (installed for the tests, not for users), which counts against it here.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import BIN, REPO, alternated, timed

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="itip-bench-check-") as home:
        env = {**os.environ, "PREFECT_HOME": home, "DO_NOT_TRACK": "1"}
        check = [str(BIN / "itip"), "check", str(REPO / "raw" / "itip_2023.csv")]
        bare = [sys.executable, "-c", "import pandas, duckdb"]
        timed(check, env)  # warm the file cache once
        checks, bares = alternated(check, bare, ROUNDS, env)
    c, b = statistics.median(checks), statistics.median(bares)
    print(f"itip check itip_2023.csv        median {c:6.2f} s  (of {ROUNDS})")
    print(f'python -c "import pandas, duckdb" median {b:6.2f} s  (of {ROUNDS})')
    print(f"ratio check / bare imports: {c / b:.2f} (target <= 1.25)")
    w = statistics.median(watch_answers(ROUNDS * 2))
    print(f"itip check --watch, a save to its result line: median {w * 1000:4.0f} ms  (of {ROUNDS * 2})")


def watch_answers(saves: int) -> list[float]:
    """Seconds from each save of a copy of itip_2023.csv to the line `itip check --watch` prints for it."""
    with tempfile.TemporaryDirectory(prefix="itip-bench-watch-") as folder:
        path = Path(folder) / "itip_2023.csv"
        shutil.copy(REPO / "raw" / "itip_2023.csv", path)
        good = path.read_text(encoding="utf-8")
        bad = good.replace(",59,", ",159,", 1)
        env = {**os.environ, "PREFECT_HOME": folder, "DO_NOT_TRACK": "1"}
        proc = subprocess.Popen(
            [str(BIN / "itip"), "check", "--watch", str(path)],
            stdout=subprocess.PIPE, text=True, env=env, cwd=REPO, bufsize=1,
        )  # fmt: skip
        assert proc.stdout is not None
        try:
            while "Ctrl-C stops" not in proc.stdout.readline():
                pass
            answers = []
            for i in range(saves):
                expected = "outside 0-100" if i % 2 == 0 else "ok, 14 rows"
                start = time.perf_counter()
                path.write_text(bad if i % 2 == 0 else good, encoding="utf-8")
                while expected not in proc.stdout.readline():
                    pass
                answers.append(time.perf_counter() - start)
            return answers
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
