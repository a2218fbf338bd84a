"""Respondent-level ingest at scale: the three figures of issue 3, each against a baseline measured in the same run.

    .venv/bin/python bench/respondents.py [--respondents 1000000] [--years 20] [--rounds 3]
    (or: make bench-respondents)

1. one year of N respondents × 28 questions (CSV, written by `itip synth`) through
   the real flow (`itip ingest`, a fresh process, against a running local Prefect
   server as in production) vs a bare DuckDB `CREATE TABLE t AS SELECT * FROM
   read_csv(...)` of the same file in a fresh process: wall-time and peak-memory
   (RSS of the process and its children, from os.wait4) ratios;
2. adding that year to a warehouse that already holds 20 years vs loading it into
   an empty warehouse (wall time of `itip ingest`);
3. `SELECT * FROM trend` on the 20-year warehouse at N a year vs at 1,000 a year
   (median of 20 runs each, in this process, read-only connection).

Figures 1 and 2 are the medians of `--rounds` rounds, each round the bare load, the
one-year ingest into a new warehouse and the addition to a copy of the 20-year warehouse
(with its report), one after the other: one sample of each side put a ratio near its target
on either side of it from run to run. Every ingest writes into a folder of its own, so no
run finds another's charts in its report folder.

Not part of the test suite: timings on a shared machine are noisy. Record the
output in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
BARE = (
    "import duckdb, sys\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "con.execute('CREATE TABLE t AS SELECT * FROM read_csv(?)', [sys.argv[2]])\n"
    "con.close()\n"
)
#: The data path alone: read, check and aggregate (no Prefect, no warehouse write, no report).
LIBRARY = (
    "import sys\n"
    "from pathlib import Path\n"
    "from itip.codebook import load_codebook\n"
    "from itip.respondents.check import check_respondents\n"
    "from itip.settings import Settings\n"
    "r = check_respondents(Path(sys.argv[1]), load_codebook(), int(sys.argv[2]), b'k', settings=Settings.from_env())\n"
    "assert r.ok, r.problems[:3]\n"
)


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB of the process and its waited-for children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def synth(years: str, respondents: int, out: Path, env: dict[str, str]) -> None:
    cmd = [str(BIN / "itip"), "synth", "--years", years, "--respondents", str(respondents), "--out", str(out)]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def ingest(raw: Path, warehouse: Path, env: dict[str, str]) -> tuple[float, float]:
    return measure([str(BIN / "itip"), "ingest", "--raw", str(raw), "--warehouse", str(warehouse)], env)


def folder(tmp: Path, name: str) -> Path:
    """A warehouse in a folder of its own: its report (beside it) is its own too."""
    (tmp / name).mkdir()
    return tmp / name / "itip.duckdb"


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def trend_seconds(warehouse: Path, repeats: int = 20) -> float:
    from itip.db import open_warehouse

    times = []
    with open_warehouse(warehouse, read_only=True) as wh:
        for _ in range(repeats):
            start = time.perf_counter()
            wh.con.execute("SELECT * FROM trend").fetchall()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=20, help="years already in the warehouse (figure 2 and 3)")
    parser.add_argument("--port", type=int, default=4299)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of figures 1 and 2 (their medians are shown)")
    args = parser.parse_args()
    n, first = args.respondents, 2008
    last = first + args.years - 1
    new_year = last + 1
    from itip import server

    with tempfile.TemporaryDirectory(prefix="itip-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = {
            **os.environ,
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "ITIP_ID_KEY": "benchmark key, not a secret",
            # 21 synthetic years do not fit between the survey's first edition and next year
            "ITIP_YEAR_RANGE": f"{first}-{new_year}",
        }
        one, hist, small = tmp / "one", tmp / "hist", tmp / "small"
        print(f"writing synthetic files: 1 + {args.years} years at {n:,}, {args.years} years at 1,000 ...", flush=True)
        synth(str(new_year), n, one, env)
        synth(f"{first}-{last}", n, hist, env)
        synth(f"{first}-{last}", 1000, small, env)
        csv_file = one / f"itip_{new_year}_respondents.csv"
        size_mb = csv_file.stat().st_size / 1e6
        info, _ = server.ensure(tmp / "prefect", args.port)
        try:
            env["PREFECT_API_URL"] = info.url
            env["PREFECT_HOME"] = str(tmp / "prefect")
            ingest(small, folder(tmp, "warmup"), env)  # first run migrates Prefect's database: not measured
            lib_wall, lib_rss = measure([sys.executable, "-c", LIBRARY, str(csv_file), str(new_year)], env)
            print("loading the history ...", flush=True)
            twenty = folder(tmp, "twenty")
            hist_wall, _ = ingest(hist, twenty, env)
            twenty_small = folder(tmp, "twenty_small")
            ingest(small, twenty_small, env)
            shutil.copy(csv_file, hist / csv_file.name)
            bases, flows, adds = [], [], []
            for r in range(args.rounds):
                print(f"round {r + 1} of {args.rounds} ...", flush=True)
                bare = [sys.executable, "-c", BARE, str(tmp / f"bare{r}.duckdb"), str(csv_file)]
                bases.append(measure(bare, env))
                flows.append(ingest(one, folder(tmp, f"empty{r}"), env))
                added = tmp / f"added{r}"
                shutil.copytree(twenty.parent, added)  # the 20-year warehouse with its report
                adds.append(ingest(hist, added / twenty.name, env))
        finally:
            server.stop(tmp / "prefect")
        base_wall, base_rss = medians(bases)
        flow_wall, flow_rss = medians(flows)
        add_wall, add_rss = medians(adds)
        big_q, small_q = trend_seconds(twenty), trend_seconds(twenty_small)
        wh_mb = twenty.stat().st_size / 1e6
    walls = ", ".join(f"{a[0]:.1f}/{f[0]:.1f}" for a, f in zip(adds, flows, strict=True))
    print()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; file {size_mb:.0f} MB, {n:,} respondents")
    print(f"1. ingest one year through the flow: {flow_wall:.1f} s, {flow_rss:.0f} MiB peak")
    print(f"   bare DuckDB CREATE TABLE AS read_csv:  {base_wall:.1f} s, {base_rss:.0f} MiB peak")
    print(
        f"   ratio: wall {flow_wall / base_wall:.2f}x (target <= 1.5), "
        f"memory {flow_rss / base_rss:.2f}x (target <= 1.5)"
    )
    print(f"   data path alone (read, check, aggregate; no Prefect, report or warehouse write): {lib_wall:.1f} s, "
          f"{lib_rss:.0f} MiB; ratio wall {lib_wall / base_wall:.2f}x, memory {lib_rss / base_rss:.2f}x")  # fmt: skip
    print(f"2. add year {new_year} to {args.years} loaded years: {add_wall:.1f} s ({add_rss:.0f} MiB); into an empty "
          f"warehouse: {flow_wall:.1f} s; ratio {add_wall / flow_wall:.2f}x (target <= 1.2)")  # fmt: skip
    print(f"   (each round, added/empty: {walls} s)")
    print(f"   (loading the {args.years} years in one run took {hist_wall:.0f} s; warehouse file {wh_mb:.1f} MB)")
    print(f"3. trend query, {args.years} years: {big_q * 1000:.1f} ms at {n:,}/year, {small_q * 1000:.1f} ms at "
          f"1,000/year; ratio {big_q / small_q:.2f}x (target <= 2)")  # fmt: skip


if __name__ == "__main__":
    main()
