"""`itip check` of a small release file against the bare imports it cannot avoid.

Prints the median wall time of `itip check raw/itip_2023.csv` (4 rows) and of
`python -c "import pandas, duckdb"`, each a fresh process, measured in this run
and alternated so that a noisy machine affects both alike. Target: ratio <= 1.25.
Run it with `make bench-check`. In the dev environment Pandera also imports
Hypothesis (installed for the tests, not for users), which counts against it here.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile

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


if __name__ == "__main__":
    main()
