"""The key-figures report rebuilt after a load, with and without charts to redraw.

Builds the report of the bundled releases but the newest three times, in this
process: cold (every chart drawn), again with nothing changed (every chart reused
from disk: named by the content of its series and the drawing code), and after
the newest release is added (only the series it touched redrawn). Prints the wall
time of each and the ratio of the last two against the cold build, the cost the
report adds to an ingest run. Run it with `make bench-report`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO

from itip.codebook import load_codebook
from itip.report.build import write_report

sys.path.insert(0, str(REPO))
from tests.unit.test_history import load_all

NEWEST = "itip_2025.csv"


def main() -> None:
    codebook = load_codebook()
    with tempfile.TemporaryDirectory(prefix="itip-bench-report-") as tmp:
        base = Path(tmp)
        raw, wh, out = base / "raw", base / "itip.duckdb", base / "report"
        shutil.copytree(REPO / "raw", raw, ignore=shutil.ignore_patterns(NEWEST))
        load_all(raw, wh, codebook)
        rows = []
        for label in ("cold: every chart drawn", "nothing changed", f"{NEWEST} added"):
            if label.endswith("added"):
                shutil.copy2(REPO / "raw" / NEWEST, raw / NEWEST)
                load_all(raw, wh, codebook)
            start = time.perf_counter()
            report = write_report(wh, out, codebook=codebook)
            rows.append((label, time.perf_counter() - start, report.charts_drawn, len(report.charts)))
    cold = rows[0][1]
    for label, seconds, drawn, total in rows:
        print(f"{label:28} {seconds:6.2f} s  {drawn:3d} of {total} charts drawn  ratio {seconds / cold:.2f}")


if __name__ == "__main__":
    main()
