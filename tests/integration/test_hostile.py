"""The hostile-input corpus (tests/hostile/cases.py): every bad file gets its exact
problems, nothing of it loads, the other files still load, nothing it holds comes
back out of an export as a live formula, and memory and time stay bounded."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import openpyxl
import pytest

from itip.codebook import Codebook
from itip.problems import FileProblems, Problem
from itip.reading import read_table
from itip.reading.workbook import _entity_attack, _xlsx_failure
from itip.release import check_release, discover
from itip.settings import DEFAULTS, Settings
from itip.staging import is_header
from tests.conftest import REPO
from tests.hostile.cases import (
    CASES,
    FORMULA,
    FORMULA_NOTES,
    HEADER,
    TOLERATED,
    Case,
    Tolerated,
    entity_in,
    shared_strings_bomb,
    trust,
    year_of,
)
from tests.hostile.years import corpus_codebook, write_corpus_codebook

#: Peak RSS growth allowed while the heavy cases (zip bombs, entity expansion,
#: oversize and over-limit files, thousands of duplicates) are checked, after a
#: warm-up that loaded every library. A 1 GiB zip bomb or a billion laughs that
#: got through would take gigabytes; the worst legitimate case takes tens of MB.
MEMORY_BOUND_MB = 200
#: Wall time allowed per heavy case on a busy two-core machine.
TIME_BOUND_S = 30
#: Years of the odd files that must load, and of the tricks in the folder itself.
TOLERATED_YEARS = {t.id: 1990 + i for i, t in enumerate(TOLERATED)}
FOLDER_YEARS = {"link-out": 1995, "link-chain-out": 1996, "fifo": 1997, "folder": 1998}
BUNDLED_YEARS = {2010, 2011, 2014, 2015, 2016, 2017, 2020, 2021, 2022, 2023, 2024, 2025}
#: What a spreadsheet runs as a formula when a cell starts with it (as itip.render).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@functools.cache
def _codebook() -> Codebook:
    return corpus_codebook()  # the bundled codebook with first_year 1900 (tests/hostile/years.py)


def checks(problems: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.check) for p in problems]


def accepted_names(case: Case, year: int) -> set[str]:
    """How problems may name the file: escaped by itip.reading.check_name, or as is
    when itip.release already refuses the name (it does not escape it)."""
    return {case.shown_name(year), case.file_name(year)}


# --- every case on its own ---------------------------------------------------------------


def test_the_corpus_is_large_and_every_case_distinct() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    years = [year_of(c) for c in CASES]
    assert len(set(years)) == len(years) and max(years) < min(TOLERATED_YEARS.values())
    assert all(c.expect and c.phrase for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_file_is_refused_with_its_exact_problems(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = DEFAULTS.replace(**case.limits)  # the limits a case needs, stated, not read from the environment
    year = year_of(case)
    path = case.write(tmp_path, year)
    started = time.monotonic()
    result = check_release(path, _codebook(), settings=settings)
    assert time.monotonic() - started < TIME_BOUND_S
    assert not result.ok
    assert result.estimates.empty, "nothing of a refused file may load"
    assert checks(result.problems) == list(case.expect)
    assert case.phrase in result.problems[0].message
    for p in result.problems:
        assert p.file in accepted_names(case, year)
        assert "\n" not in p.message and str(tmp_path) not in p.message, "one line, no local paths"


@pytest.mark.parametrize("tolerated", TOLERATED, ids=[t.id for t in TOLERATED])
def test_odd_file_that_must_load(tolerated: Tolerated, tmp_path: Path) -> None:
    year = TOLERATED_YEARS[tolerated.id]
    path = tmp_path / f"itip_{year}.{tolerated.ext}"
    path.write_bytes(tolerated.make(year))
    result = check_release(path, _codebook())
    assert result.problems == []
    loaded = [(r["indicator"], r["value"], r["source"], r["note"]) for r in result.estimates.to_dict("records")]
    assert loaded == list(tolerated.loads)
    if tolerated.warning:
        assert [w for w in result.warnings if tolerated.warning in w]


def test_limits_are_configured_by_environment_variables() -> None:
    """Each documented limit is read from its environment variable."""
    env = {
        "ITIP_MAX_RELEASE_BYTES": "11",
        "ITIP_MAX_RELEASE_ROWS": "12",
        "ITIP_MAX_RELEASE_CELLS": "13",
        "ITIP_MAX_XLSX_UNCOMPRESSED_BYTES": "14",
        "ITIP_MAX_XLSX_COMPRESSION_RATIO": "15",
    }
    s = Settings.from_env(env)
    limits = (
        s.max_release_bytes,
        s.max_release_rows,
        s.max_release_cells,
        s.max_xlsx_uncompressed_bytes,
        s.max_xlsx_compression_ratio,
    )
    assert limits == (11, 12, 13, 14, 15)


def test_a_configured_row_limit_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "itip_2020.csv"
    path.write_text(f"{HEADER}\n{trust()}\n{trust('48')}\n{trust('49')}\n", encoding="utf-8")
    with pytest.raises(FileProblems) as refused:
        read_table(path, is_header, Settings(max_release_rows=3))
    assert checks(refused.value.problems) == [(4, None, "size")]
    read_table(path, is_header, Settings(max_release_rows=4))  # the same file within the limit reads


def test_itip_check_reads_its_limits_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings `itip check` builds at its start reach the reader: a row limit set in
    the environment refuses a file that the default limit lets through."""
    from typer.testing import CliRunner

    from itip.cli import app

    path = REPO / "raw" / "itip_2023.csv"  # a real published file, loaded by every ingest
    monkeypatch.delenv("ITIP_MAX_RELEASE_ROWS", raising=False)
    accepted = CliRunner().invoke(app, ["check", str(path)])
    assert accepted.exit_code == 0, accepted.output
    monkeypatch.setenv("ITIP_MAX_RELEASE_ROWS", "3")
    refused = CliRunner().invoke(app, ["check", str(path)])
    assert refused.exit_code == 1
    assert refused.output.startswith("itip_2023.csv, row ")
    assert "has more than 3 rows, over the limit (ITIP_MAX_RELEASE_ROWS)" in refused.output


# --- the XML parser itself is hardened ---------------------------------------------------


def test_openpyxl_parses_through_defusedxml() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True
    assert not openpyxl.xml.LXML, "with lxml, openpyxl would parse without defusedxml"


@pytest.mark.parametrize(
    "make",
    [
        lambda: entity_in(
            "xl/worksheets/sheet1.xml", (b'<c r="C2" t="n"><v>47</v>', b'<c r="C2" t="str"><v>&lol9;</v>')
        ),
        shared_strings_bomb,
        lambda: entity_in(
            "xl/workbook.xml",
            (b"<sheets>", b"<sheets>&xxe;"),
            b'<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        ),
    ],
    ids=["billion-laughs-in-sheet", "billion-laughs-in-shared-strings", "external-entity-in-workbook"],
)
def test_openpyxl_alone_refuses_entities_quickly(make: Callable[[], bytes], tmp_path: Path) -> None:
    """Behind itip's own inspection, openpyxl refuses entity declarations instead
    of expanding them, and itip names the attack."""
    path = tmp_path / "itip_2020.xlsx"
    path.write_bytes(make())
    started = time.monotonic()
    with pytest.raises(ValueError) as info:  # openpyxl wraps defusedxml's error in its own ValueError
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            list(ws.iter_rows(values_only=True))
    assert time.monotonic() - started < 5
    assert _entity_attack(info.value)
    failure = _xlsx_failure(path.name, info.value, path, "opened")
    assert "declares XML entities" in failure.problems[0].message


# --- tricks in the release folder itself -------------------------------------------------


def test_links_out_of_the_folder_are_refused_and_pipes_and_folders_ignored(tmp_path: Path) -> None:
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    raw.mkdir()
    outside.mkdir()
    target = outside / "figures.csv"
    target.write_text(f"{HEADER}\n{trust()}\n", encoding="utf-8")
    (raw / "itip_1995.csv").symlink_to(target)
    (raw / ".hop").symlink_to(target)
    (raw / "itip_1996.csv").symlink_to(raw / ".hop")
    os.mkfifo(raw / "itip_1997.csv")
    (raw / "itip_1998.csv").mkdir()
    found = discover(raw)
    assert found.releases == []
    assert [(p.file, p.row, p.column, p.check) for p in found.problems] == [
        ("itip_1995.csv", None, None, "symlink"),
        ("itip_1996.csv", None, None, "symlink"),
    ]
    assert "outside the release folder" in found.problems[0].message
    assert {"itip_1997.csv", "itip_1998.csv"} <= set(found.ignored)
    # Checked by hand, a pipe or folder is refused without being opened (a pipe would block).
    for name in ("itip_1997.csv", "itip_1998.csv"):
        result = check_release(raw / name, _codebook())
        assert checks(result.problems) == [(None, None, "unreadable")]
        assert "not a regular file" in result.problems[0].message


@pytest.mark.parametrize("kind", ["dangling", "loop", "pipe"])
def test_links_to_nothing_or_to_a_pipe_are_refused(tmp_path: Path, kind: str) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    link = raw / "itip_1999.csv"
    if kind == "dangling":
        link.symlink_to(raw / "gone.csv")
    elif kind == "loop":
        link.symlink_to(link)
    else:
        os.mkfifo(raw / "pipe")
        link.symlink_to(raw / "pipe")
    found = discover(raw)
    assert found.releases == []
    assert checks(found.problems) == [(None, None, "symlink")]


# --- bounded memory and time -------------------------------------------------------------

_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from itip.release import check_release
from tests.hostile.years import corpus_codebook

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

codebook = corpus_codebook()
for warm in sys.argv[2:4]:
    assert check_release(Path(warm), codebook).ok
base = peak_mb()
out = {}
for path in sorted(Path(sys.argv[1]).iterdir()):
    started = time.monotonic()
    result = check_release(path, codebook)
    out[path.name] = {"seconds": time.monotonic() - started, "growth_mb": peak_mb() - base,
                      "problems": len(result.problems), "loaded": len(result.estimates)}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_memory_and_time_stay_bounded_on_heavy_cases(tmp_path: Path) -> None:
    """In a fresh process, after a warm-up on a good CSV and a good workbook, checking
    every heavy case (1 GiB zip bomb, overlapping bomb, billion laughs, 100 MB file,
    a million-cell row, over-limit rows and cells, 9 000 duplicates) grows the peak
    RSS by less than MEMORY_BOUND_MB and takes less than TIME_BOUND_S per file."""
    heavy = [c for c in CASES if c.heavy]
    cases_dir = tmp_path / "cases"
    cases_dir.mkdir()
    for case in heavy:
        case.write(cases_dir, year_of(case))
    good_csv = tmp_path / "itip_2020.csv"
    good_csv.write_text(f"{HEADER}\n{trust()}\n", encoding="utf-8")
    good_xlsx = REPO / "raw" / "itip_2022.xlsx"
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(cases_dir), str(good_csv), str(good_xlsx)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    measured = json.loads(out.stdout)
    assert len(measured) == len(heavy)
    for name, m in measured.items():
        assert m["problems"] > 0 and m["loaded"] == 0, name
        assert m["seconds"] < TIME_BOUND_S, (name, m)
    worst = max(m["growth_mb"] for m in measured.values())
    assert worst < MEMORY_BOUND_MB, measured


# --- one real ingest of the whole corpus -------------------------------------------------


class _Text(HTMLParser):
    """Every text node and attribute value of a page, unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts += [v for _, v in attrs if v]

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def assert_no_live_formula(cells: list[str], payloads: list[str], starts: tuple[str, ...] = FORMULA_STARTS) -> None:
    """No cell starts like a formula (unless it is a number), and every payload that
    comes out is neutralised with a leading '."""
    for cell in cells:
        if cell[:1] in starts:
            try:
                float(cell)
            except ValueError:
                raise AssertionError(f"cell would run as a formula: {cell!r}") from None
    for payload in payloads:
        for cell in cells:
            at = cell.find(payload)
            while at >= 0:
                assert at > 0 and cell[at - 1] == "'", f"unescaped {payload!r} in {cell!r}"
                at = cell.find(payload, at + 1)


def sql_csv(warehouse: Path, query: str) -> list[list[str]]:
    """`itip sql --csv` as a user runs it."""
    itip = Path(sys.executable).with_name("itip")
    out = subprocess.run(
        [str(itip), "sql", "--csv", "--warehouse", str(warehouse), query],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return list(csv.reader(io.StringIO(out.stdout)))


@pytest.mark.slow
def test_one_ingest_of_the_whole_corpus(raw_copy: Path, tmp_path: Path, prefect_harness: None) -> None:
    """All hostile files in raw/ beside the bundled ones, one flow run: the bundled
    years load, every hostile file is rejected with its exact problems and leaves no
    row in estimates, and formula text never comes back out of `itip sql --csv`
    or the HTML report unneutralised."""
    from flows.ingest import ingest
    from itip import ingest as lib

    shared = [c for c in CASES if not c.limits]  # a changed limit would apply to every file of the run
    for case in shared:
        case.write(raw_copy, year_of(case))
    for tolerated in TOLERATED:
        year = TOLERATED_YEARS[tolerated.id]
        (raw_copy / f"itip_{year}.{tolerated.ext}").write_bytes(tolerated.make(year))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "figures.csv").write_text(f"{HEADER}\n{trust()}\n", encoding="utf-8")
    (raw_copy / "itip_1995.csv").symlink_to(outside / "figures.csv")
    (raw_copy / ".hop").symlink_to(outside / "figures.csv")
    (raw_copy / "itip_1996.csv").symlink_to(raw_copy / ".hop")
    os.mkfifo(raw_copy / "itip_1997.csv")
    (raw_copy / "itip_1998.csv").mkdir()

    warehouse = tmp_path / "wh" / "itip.duckdb"
    codebook_path = write_corpus_codebook(tmp_path)
    outcomes = {o.file: o for o in ingest(raw_dir=raw_copy, warehouse=warehouse, codebook_path=codebook_path)}

    for year in BUNDLED_YEARS:
        name = f"itip_{year}.xlsx" if year in (2011, 2022, 2024) else f"itip_{year}.csv"
        assert outcomes[name].status == lib.LOADED, outcomes[name]
    for tolerated in TOLERATED:
        assert outcomes[f"itip_{TOLERATED_YEARS[tolerated.id]}.{tolerated.ext}"].status == lib.LOADED
    for case in shared:
        outcome = outcomes.get(case.file_name(year_of(case)))
        if outcome is None:
            # Not taken for a release at all (a name itip.release does not match): nothing read, nothing loaded.
            assert case.name is not None, case.id
            continue
        assert outcome.status == lib.REJECTED, (case.id, outcome)
        assert checks(outcome.problems) == list(case.expect), case.id
        assert case.phrase in outcome.problems[0].message, case.id
    for name in ("itip_1995.csv", "itip_1996.csv"):
        assert outcomes[name].status == lib.REJECTED
        assert checks(outcomes[name].problems) == [(None, None, "symlink")]
    assert "itip_1997.csv" not in outcomes and "itip_1998.csv" not in outcomes

    with duckdb.connect(str(warehouse), read_only=True) as con:
        years = {r[0] for r in con.execute("SELECT DISTINCT year FROM estimates").fetchall()}
        assert years == BUNDLED_YEARS | set(TOLERATED_YEARS.values())
        statuses = dict(con.execute("SELECT file_name, status FROM releases").fetchall())
    hostile = {o.file for o in outcomes.values() if o.year is not None and o.year < 1990}
    assert hostile and all(statuses[f] == "rejected" for f in hostile)

    # Exports: `itip sql --csv` of every table a formula could sit in, and the report.
    payloads = [FORMULA, *FORMULA_NOTES]
    for query in (
        "SELECT * FROM rejections",
        "SELECT * FROM estimates",
        "SELECT * FROM trend",
        "SELECT * FROM releases",
    ):
        rows = sql_csv(warehouse, query)
        cells = [cell for row in rows for cell in row]
        assert_no_live_formula(cells, payloads)
    formula_values = sql_csv(warehouse, "SELECT value FROM rejections WHERE value LIKE '%HYPERLINK%'")[1:]
    assert formula_values and all(r == ["'" + FORMULA] for r in formula_values)
    year = TOLERATED_YEARS["formula-text-in-source-and-notes"]
    notes = {r[0] for r in sql_csv(warehouse, f"SELECT note FROM estimates WHERE year = {year}")[1:]}
    assert notes == {"'" + n if n[:1] in FORMULA_STARTS else n for n in FORMULA_NOTES}

    page = (warehouse.parent / "report" / "index.html").read_text(encoding="utf-8")
    assert FORMULA not in page, "text from a file must be HTML-escaped"
    text = _Text()
    text.feed(page)
    # The page itself writes changes as `+11 pp` and `-3 pp`; text from files never starts a node unneutralised.
    assert_no_live_formula([p.strip() for p in text.parts], [FORMULA], starts=("=", "@"))
    assert any("'" + FORMULA in p for p in text.parts), "the formula source is shown, neutralised"
