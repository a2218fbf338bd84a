"""The order the test files start in: the longest first.

`make test` runs two xdist workers that each take a whole test file at a time
(`--dist loadfile`): a file's module fixtures (a crash-safety warehouse built by four flow
runs, the hostile corpus) are then built once, not once per worker. Which file a worker
takes next is the next in collection order, so the files are put in order of their measured
seconds, the longest first: the long ones start at once and the short ones fill the end,
instead of a worker finishing early while the other runs a file of a minute or more.

The seconds are in tests/timings.json, measured by a run of the suite; a file not in it
is placed as if it took `UNKNOWN` seconds. Only the order depends on them, never a result.
Refresh after adding slow tests:

    .venv/bin/pytest -n 2 --dist loadfile --junitxml=/tmp/junit.xml
    .venv/bin/python -m tests.timings /tmp/junit.xml
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

TIMINGS = Path(__file__).with_name("timings.json")
#: Seconds assumed for a test file with no measurement: after the long files, before the quick ones.
UNKNOWN = 10.0


def file_seconds(path: Path = TIMINGS) -> dict[str, float]:
    """{test file relative to the repository: seconds} (empty when there is no timings file)."""
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError):
        return {}


def longest_first(files: list[str], seconds: dict[str, float]) -> list[str]:
    """The distinct files in order of their seconds, the longest first (ties: as given)."""
    distinct = list(dict.fromkeys(files))
    return sorted(distinct, key=lambda name: -seconds.get(name, UNKNOWN))


def from_junit(report: Path) -> dict[str, float]:
    """Seconds per test file from a JUnit XML report (each test's setup, call and teardown)."""
    totals: Counter[str] = Counter()
    for case in ET.parse(report).iter("testcase"):
        module = str(case.get("classname", "")).split(".")
        # classname is the module path, then the class if any: tests.integration.test_flow[.Class]
        parts = [p for p in module if not p[:1].isupper()]
        totals["/".join(parts) + ".py"] += float(case.get("time") or 0)
    return {name: round(total, 1) for name, total in totals.most_common()}


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m tests.timings JUNIT_XML")
    timings = from_junit(Path(argv[0]))
    TIMINGS.write_text(json.dumps(timings, indent=1) + "\n", encoding="utf-8")
    print(f"{TIMINGS}: {len(timings)} files, {sum(timings.values()):.0f} s in all")


if __name__ == "__main__":
    main(sys.argv[1:])
