"""Attacks on what gets loaded and on getting stuck (issue 14, helper hdata).

Unlike tests/hostile/cases.py, whose cases are bad files that must be refused, these are
attacks on the run around a file: a file rewritten between the moment it is hashed and
the moment it is read, folder names DuckDB reads as globs, spreadsheet formats and hidden
sheets that make a workbook say something else than Excel shows, years and n that cannot
be, weights whose squares underflow, a rejection that outlives the codebook that decided
it, a file missing for a moment, a write-ahead log left by a killed read-write session, a
deleted lock file, a symlinked warehouse and a report left stale by a failure after the
swap. Each case runs the attack and asserts what a user must see; tests/integration/test_hostile_hdata.py
runs them (one test id per case). Every case failed on main before issue 14's fixes.

All data here is SYNTHETIC, made up for the attack.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import openpyxl

from itip.codebook import Codebook, load_codebook, parse_codebook
from itip.paths import CODEBOOK

SRC = "https://example.org/itip-hdata (SYNTHETIC)"
HEADER = "survey;indicator;value;n;source"
RESPONDENT_HEADER = "respondent_id,survey,age_group,weight,q_tillit_opplysninger"
KEY = b"hdata-test-key"


@dataclass(frozen=True)
class Attack:
    id: str
    #: Runs the attack in a private folder and asserts the outcome a user must get.
    run: Callable[[Path], None]
    #: Runs the Prefect flow (needs the prefect_harness fixture).
    flow: bool = False


# --- building blocks ---------------------------------------------------------------------


def published(value: str = "47", n: str = "", indicator: str = "trust_personal_data_safe") -> str:
    return f"{HEADER}\ninnbyggere;{indicator};{value};{n};{SRC}\n"


def respondents(count: int, yes: int, weight: str = "1", prefix: str = "R") -> str:
    """`count` citizens answering the trust question, the first `yes` of them 5 (agree), the rest 1."""
    rows = [RESPONDENT_HEADER]
    for i in range(count):
        rows.append(f"{prefix}{i:05d},citizens,{1 + i % 4},{weight},{5 if i < yes else 1}")
    return "\n".join(rows) + "\n"


def codebook_open() -> Codebook:
    """The bundled codebook with disclosure thresholds of 1 (these attacks are about reading)."""
    codebook = load_codebook()
    assert codebook.respondents is not None
    spec = replace(codebook.respondents, min_cell_n=1, min_cell_n_extreme=1)
    return replace(codebook, respondents=spec)


def share(result_estimates: object, segment: str = "all") -> float:
    frame = result_estimates  # a pandas frame of estimates
    rows = frame[(frame["indicator"] == "trust_personal_data_safe") & (frame["segment"] == segment)]  # type: ignore[index]
    assert len(rows) == 1, rows
    return float(rows.iloc[0]["value"])


def workbook_bytes(setup: Callable[[openpyxl.Workbook], None]) -> bytes:
    wb = openpyxl.Workbook()
    setup(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def sheet_rows(ws: object, value: object, number_format: str | None = None) -> None:
    ws.append(["survey", "indicator", "value", "source"])  # type: ignore[attr-defined]
    ws.append(["innbyggere", "trust_personal_data_safe", value, SRC])  # type: ignore[attr-defined]
    if number_format is not None:
        ws["C2"].number_format = number_format  # type: ignore[index]


def loaded_values(warehouse: Path, year: int) -> list[float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            float(r[0])
            for r in con.execute(
                "SELECT e.value FROM estimates e JOIN releases r USING (release_id) "
                "WHERE r.status = 'loaded' AND e.year = ? AND e.indicator = 'trust_personal_data_safe' "
                "AND e.segment = 'all' ORDER BY e.source_row",
                [year],
            ).fetchall()
        ]


def current_sha(warehouse: Path, year: int) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("SELECT sha256 FROM releases WHERE status = 'loaded' AND year = ?", [year]).fetchone()
    assert row is not None
    return str(row[0])


def sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# --- respondent paths as globs -----------------------------------------------------------


def glob_brackets(tmp: Path) -> None:
    """`--raw 'r[a]w'`: DuckDB's read_csv took the folder for a pattern and read raw/ instead."""
    from itip.respondents.check import check_respondents

    (tmp / "raw").mkdir()
    (tmp / "r[a]w").mkdir()
    (tmp / "raw" / "itip_2024_respondents.csv").write_text(respondents(40, 40, prefix="X"), encoding="utf-8")
    target = tmp / "r[a]w" / "itip_2024_respondents.csv"
    target.write_text(respondents(40, 10), encoding="utf-8")
    result = check_respondents(target, codebook_open(), 2024, KEY)
    assert result.ok, result.problems
    assert share(result.estimates) == 25.0, "the file asked for (10 of 40 agree), not raw/'s (40 of 40)"


def glob_star(tmp: Path) -> None:
    """`raw*`: read_csv merged the files of every folder the pattern matched."""
    from itip.respondents.check import check_respondents

    for folder, yes in (("raw1", 40), ("raw2", 0), ("raw*", 20)):
        (tmp / folder).mkdir()
        (tmp / folder / "itip_2024_respondents.csv").write_text(respondents(40, yes, prefix=folder[-1]), "utf-8")
    result = check_respondents(tmp / "raw*" / "itip_2024_respondents.csv", codebook_open(), 2024, KEY)
    assert result.ok, result.problems
    assert result.rows == 40 and share(result.estimates) == 50.0


# --- spreadsheets that say something else than Excel shows ------------------------------


def _check_workbook(tmp: Path, data: bytes) -> list[float]:
    from itip.release import check_release

    path = tmp / "itip_2024.xlsx"
    path.write_bytes(data)
    result = check_release(path, load_codebook())
    assert result.ok, result.problems
    return [float(v) for v in result.estimates["value"]]


def percent_in_quotes(tmp: Path) -> None:
    """0.5 formatted `0.0" %"` shows "0.5 %" in Excel; it loaded as 50 %."""

    def setup(wb: openpyxl.Workbook) -> None:
        sheet_rows(wb.active, 0.5, '0.0" %"')

    assert _check_workbook(tmp, workbook_bytes(setup)) == [0.5]


def percent_escaped(tmp: Path) -> None:
    """47 formatted `0\\%` shows "47%"; it loaded as 4700 (and was refused as out of range)."""

    def setup(wb: openpyxl.Workbook) -> None:
        sheet_rows(wb.active, 47, "0\\%")

    assert _check_workbook(tmp, workbook_bytes(setup)) == [47.0]


def very_hidden_sheet(tmp: Path) -> None:
    """A veryHidden sheet named `tall` (invisible in Excel) was read instead of the visible one."""

    def setup(wb: openpyxl.Workbook) -> None:
        visible = wb.active
        assert visible is not None
        visible.title = "Ark1"
        sheet_rows(visible, 47)
        hidden = wb.create_sheet("tall")
        sheet_rows(hidden, 99)
        hidden.sheet_state = "veryHidden"

    assert _check_workbook(tmp, workbook_bytes(setup)) == [47.0]


def hidden_first_sheet(tmp: Path) -> None:
    """Without a `data`/`tall` sheet the first sheet was read, even a hidden one."""

    def setup(wb: openpyxl.Workbook) -> None:
        hidden = wb.active
        assert hidden is not None
        hidden.title = "gammel"
        sheet_rows(hidden, 12)
        hidden.sheet_state = "hidden"
        visible = wb.create_sheet("Ark2")
        sheet_rows(visible, 47)
        wb.active = 1

    assert _check_workbook(tmp, workbook_bytes(setup)) == [47.0]


# --- years and n that cannot be ------------------------------------------------------------


def _refused_year(tmp: Path, name: str, year: str) -> None:
    from itip.release import check_release

    path = tmp / name
    path.write_text(published(), encoding="utf-8")
    result = check_release(path, load_codebook())
    assert [(p.check, p.value) for p in result.problems] == [("year_range", year)]
    assert result.problems[0].file == name and "outside the survey's years 2008-" in result.problems[0].message


def year_zero(tmp: Path) -> None:
    """itip_0000.csv loaded and got changes against year 0."""
    _refused_year(tmp, "itip_0000.csv", "0")


def year_9999(tmp: Path) -> None:
    _refused_year(tmp, "itip_9999.csv", "9999")


def year_before_first_edition(tmp: Path) -> None:
    """2007: the survey began in 2008 (codebook first_year)."""
    _refused_year(tmp, "itip_2007.csv", "2007")


def respondent_year_zero(tmp: Path) -> None:
    from itip.respondents.check import check_respondents

    path = tmp / "itip_0000_respondents.csv"
    path.write_text(respondents(40, 20), encoding="utf-8")
    result = check_respondents(path, codebook_open(), 0, KEY)
    assert [p.check for p in result.problems] == ["year_range"] and result.estimates.empty


def share_of_one(tmp: Path) -> None:
    """47 % of n = 1 loaded (one respondent's share is 0 or 100 %)."""
    from itip.release import check_release

    path = tmp / "itip_2024.csv"
    path.write_text(published("47", "1"), encoding="utf-8")
    result = check_release(path, load_codebook())
    assert [(p.row, p.column, p.check) for p in result.problems] == [(2, "n", "n_minimum")]
    assert "n = 1 respondents is below the minimum of 10" in result.problems[0].message


def respondent_formula_without_result(tmp: Path) -> None:
    """A respondent workbook written by a program: a formula answer with no saved result read
    as a missing answer, so the respondent silently left the base."""
    from itip.respondents.check import check_respondents

    def setup(wb: openpyxl.Workbook) -> None:
        ws = wb.active
        assert ws is not None
        ws.title = "data"
        ws.append(RESPONDENT_HEADER.split(","))
        for i in range(40):
            ws.append([f"R{i:05d}", "citizens", 1 + i % 4, 1, 5 if i < 20 else 1])
        ws["E7"] = "=2+3"  # openpyxl saves formulas without a result, as many exporters do

    path = tmp / "itip_2024_respondents.xlsx"
    path.write_bytes(workbook_bytes(setup))
    result = check_respondents(path, codebook_open(), 2024, KEY)
    assert [(p.row, p.column, p.check) for p in result.problems] == [(7, "E", "formula_without_result")]
    assert result.estimates.empty


# --- weights whose squares underflow -------------------------------------------------------


def tiny_weights(tmp: Path) -> None:
    """Weights of 1e-200 passed "positive" and then divided by zero (a 60-line traceback)."""
    from itip.respondents.check import check_respondents

    path = tmp / "itip_2024_respondents.csv"
    path.write_text(respondents(40, 20, weight="1e-200"), encoding="utf-8")
    result = check_respondents(path, codebook_open(), 2024, KEY)
    assert not result.ok and result.estimates.empty
    assert {p.check for p in result.problems} == {"weight_range"}
    assert result.problems[0].row == 2 and result.problems[0].column == "weight"


# --- the run around a file (real flow runs) ------------------------------------------------


def _ingest(raw: Path, warehouse: Path, **kw: object) -> dict[str, object]:
    from flows.ingest import ingest

    return {o.file: o for o in ingest(raw_dir=raw, warehouse=warehouse, **kw)}


def replaced_after_planning(tmp: Path) -> None:
    """The hash was taken when the run planned and the file read later: a file replaced in
    between loaded under the old hash, and putting the old file back then said "unchanged"
    while the new values stayed."""
    import itip.ingest as lib

    raw, warehouse = tmp / "raw", tmp / "wh" / "itip.duckdb"
    raw.mkdir()
    path = raw / "itip_2016.csv"
    old, new = published("47").encode(), published("12").encode()
    path.write_bytes(old)
    planned = lib.plan_all

    def plan_then_replace(*args: object, **kw: object) -> list[lib.Plan]:
        plans = planned(*args, **kw)  # type: ignore[arg-type]
        tmp_new = raw / ".swap"
        tmp_new.write_bytes(new)
        os.replace(tmp_new, path)  # a colleague saves a corrected file now
        return plans

    lib.plan_all = plan_then_replace  # type: ignore[assignment]
    try:
        outcomes = _ingest(raw, warehouse)
    finally:
        lib.plan_all = planned  # type: ignore[assignment]
    assert outcomes["itip_2016.csv"].status == lib.LOADED  # type: ignore[attr-defined]
    assert loaded_values(warehouse, 2016) == [12.0] and current_sha(warehouse, 2016) == sha(new)
    path.write_bytes(old)  # the old file back: it must load again, not be "unchanged"
    outcomes = _ingest(raw, warehouse)
    assert outcomes["itip_2016.csv"].status == lib.SUPERSEDED  # type: ignore[attr-defined]
    assert loaded_values(warehouse, 2016) == [47.0] and current_sha(warehouse, 2016) == sha(old)


def missing_for_a_moment(tmp: Path) -> None:
    """A file gone for a moment during a run was remembered as rejected; put back, it stayed
    "still rejected" on every run."""
    import itip.ingest as lib

    raw, warehouse = tmp / "raw", tmp / "wh" / "itip.duckdb"
    raw.mkdir()
    path = raw / "itip_2016.csv"
    path.write_text(published("47"), encoding="utf-8")
    aside = tmp / "aside.csv"
    planned = lib.plan_all

    def plan_then_move(*args: object, **kw: object) -> list[lib.Plan]:
        plans = planned(*args, **kw)  # type: ignore[arg-type]
        shutil.move(path, aside)  # being re-saved by a sync client
        return plans

    lib.plan_all = plan_then_move  # type: ignore[assignment]
    try:
        first = _ingest(raw, warehouse)["itip_2016.csv"]
    finally:
        lib.plan_all = planned  # type: ignore[assignment]
    assert first.failed  # type: ignore[attr-defined]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM releases").fetchone() == (0,), "nothing remembered"
    shutil.move(aside, path)
    assert _ingest(raw, warehouse)["itip_2016.csv"].status == lib.LOADED  # type: ignore[attr-defined]


def alias_added_after_rejection(tmp: Path) -> None:
    """README step 3: after the alias is pasted into the codebook, `itip check` says ok but every
    ingest answered "still rejected" (a rejection was remembered by file hash alone)."""
    import itip.ingest as lib

    raw, warehouse = tmp / "raw", tmp / "wh" / "itip.duckdb"
    raw.mkdir()
    wording = "Hvor trygg er du på at dine personopplysninger er sikret (SYNTHETIC)?"
    (raw / "itip_2024.csv").write_text(
        f"survey;question;value;source\ninnbyggere;{wording};47;{SRC}\n", encoding="utf-8"
    )
    first = _ingest(raw, warehouse)["itip_2024.csv"]
    assert first.status == lib.REJECTED  # type: ignore[attr-defined]
    text = CODEBOOK.read_text(encoding="utf-8")
    anchor = "  trust_personal_data_safe:\n"
    assert anchor in text
    head, tail = text.split(anchor, 1)
    aliases = "    aliases:\n"
    before, after = tail.split(aliases, 1)
    edited = head + anchor + before + aliases + f'    - {{year: 2024, text: "{wording}"}}\n' + after
    parse_codebook(edited, CODEBOOK)  # the edit is a valid codebook
    book = tmp / "codebook.yaml"
    book.write_text(edited, encoding="utf-8")
    second = _ingest(raw, warehouse, codebook_path=book)["itip_2024.csv"]
    assert second.status == lib.LOADED, second  # type: ignore[attr-defined]
    assert loaded_values(warehouse, 2024) == [47.0]


def tiny_weights_in_a_run(tmp: Path) -> None:
    """Weights of 1e-200: a traceback ended the run and later years never loaded, on every run."""
    import itip.ingest as lib

    raw, warehouse = tmp / "raw", tmp / "wh" / "itip.duckdb"
    raw.mkdir()
    (raw / "itip_2023_respondents.csv").write_text(respondents(60, 30, weight="1e-200"), encoding="utf-8")
    (raw / "itip_2024_respondents.csv").write_text(respondents(60, 30), encoding="utf-8")
    outcomes = _ingest(raw, warehouse)
    bad = outcomes["itip_2023_respondents.csv"]
    assert bad.status == lib.REJECTED  # type: ignore[attr-defined]
    assert {p.check for p in bad.problems} == {"weight_range"}  # type: ignore[attr-defined]
    assert outcomes["itip_2024_respondents.csv"].status == lib.LOADED  # type: ignore[attr-defined]


_KILLED_SESSION = textwrap.dedent(
    """
    import os, signal, sys
    import duckdb
    con = duckdb.connect(sys.argv[1])  # read-write, the DuckDB CLI's default
    con.execute("CREATE TABLE analyst_notes AS SELECT 'SYNTHETIC note' AS note")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def stale_wal(tmp: Path) -> None:
    """A read-write session killed while open left itip.duckdb.wal; the next ingest swapped a new
    file in beside it and from then on every command failed on a WAL that did not match."""
    import itip.ingest as lib

    raw, warehouse = tmp / "raw", tmp / "wh" / "itip.duckdb"
    raw.mkdir()
    (raw / "itip_2016.csv").write_text(published("47"), encoding="utf-8")
    _ingest(raw, warehouse)
    killed = subprocess.run([sys.executable, "-c", _KILLED_SESSION, str(warehouse)], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert warehouse.with_name("itip.duckdb.wal").exists(), "the killed session left its log"
    (raw / "itip_2017.csv").write_text(published("52"), encoding="utf-8")
    assert _ingest(raw, warehouse)["itip_2017.csv"].status == lib.LOADED  # type: ignore[attr-defined]
    assert not warehouse.with_name("itip.duckdb.wal").exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:  # every later open works
        assert con.execute("SELECT count(*) FROM releases WHERE status = 'loaded'").fetchone() == (2,)
        assert con.execute("SELECT note FROM analyst_notes").fetchone() == ("SYNTHETIC note",)
    assert loaded_values(warehouse, 2017) == [52.0]


def report_stale_after_failure(tmp: Path) -> None:
    """When the report step failed after the swap (or the run was killed there), later runs found
    nothing new and the report stayed stale for good."""
    import itip.ingest as lib

    raw, warehouse, site = tmp / "raw", tmp / "wh" / "itip.duckdb", tmp / "site"
    raw.mkdir()
    (raw / "itip_2016.csv").write_text(published("47"), encoding="utf-8")
    site.write_text("not a folder: the report cannot be written", encoding="utf-8")
    assert _ingest(raw, warehouse, report_dir=site)["itip_2016.csv"].status == lib.LOADED  # type: ignore[attr-defined]
    site.unlink()
    assert _ingest(raw, warehouse, report_dir=site)["itip_2016.csv"].status == lib.UNCHANGED  # type: ignore[attr-defined]
    assert (site / "index.html").is_file(), "the next run rebuilds a report older than the warehouse"


# --- locks and links (library level: the same code the flow runs) ------------------------


def lock_file_deleted(tmp: Path) -> None:
    """Deleting the lock file during a run admitted a second writer."""
    import itip.ingest as lib

    warehouse = tmp / "wh" / "itip.duckdb"
    with lib.ingest_lock(warehouse, wait_seconds=0):
        lib.lock_path(warehouse).unlink()
        try:
            with lib.ingest_lock(warehouse, wait_seconds=0.5):
                admitted = True
        except lib.Busy as exc:
            admitted = False
            assert "another ingest is still running" in str(exc)
    assert not admitted, "a second writer got in"


def symlinked_warehouse(tmp: Path) -> None:
    """With a symlinked warehouse path the swap replaced the link instead of the file."""
    from itip.db import open_warehouse
    from itip.ingest import ingest_lock, prepare
    from itip.warehouse_file import write_snapshot

    real = tmp / "storage" / "itip.duckdb"
    real.parent.mkdir()
    link = tmp / "itip.duckdb"
    link.symlink_to(real)
    codebook = load_codebook()
    with ingest_lock(link, wait_seconds=0):
        prepare(link, codebook)
        with write_snapshot(link) as wh:
            wh.con.execute("INSERT INTO meta (key, value) VALUES ('hdata', 'SYNTHETIC')")
    assert link.is_symlink() and os.readlink(link) == str(real)
    with open_warehouse(real, read_only=True) as wh:
        assert wh.get_meta("hdata") == "SYNTHETIC"
    assert not (tmp / "itip.duckdb.next").exists()


ATTACKS: list[Attack] = [
    Attack("respondent-path-with-brackets-read-as-glob", glob_brackets),
    Attack("respondent-path-with-star-merges-folders", glob_star),
    Attack("xlsx-percent-sign-in-quotes-is-literal", percent_in_quotes),
    Attack("xlsx-escaped-percent-sign-is-literal", percent_escaped),
    Attack("xlsx-very-hidden-sheet-named-tall", very_hidden_sheet),
    Attack("xlsx-hidden-first-sheet", hidden_first_sheet),
    Attack("year-0000", year_zero),
    Attack("year-9999", year_9999),
    Attack("year-before-first-edition", year_before_first_edition),
    Attack("respondent-file-year-0000", respondent_year_zero),
    Attack("respondent-xlsx-formula-without-result", respondent_formula_without_result),
    Attack("share-of-one-respondent", share_of_one),
    Attack("respondent-weights-1e-200", tiny_weights),
    Attack("lock-file-deleted-during-run", lock_file_deleted),
    Attack("symlinked-warehouse-path", symlinked_warehouse),
    Attack("file-replaced-between-plan-and-read", replaced_after_planning, flow=True),
    Attack("file-missing-for-a-moment", missing_for_a_moment, flow=True),
    Attack("alias-added-after-rejection", alias_added_after_rejection, flow=True),
    Attack("tiny-weights-later-years-still-load", tiny_weights_in_a_run, flow=True),
    Attack("stale-wal-of-killed-read-write-session", stale_wal, flow=True),
    Attack("report-stale-after-failed-report-step", report_stale_after_failure, flow=True),
]
