"""The `ingest` Prefect flow end to end, on real files and a real DuckDB file."""

from __future__ import annotations

import asyncio
import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from itip import ingest as lib
from tests.conftest import REPO, Bundled, write

pytestmark = pytest.mark.usefixtures("prefect_harness")

#: The reference files as collected: figures of both sweeps, the conflicting figure and the editions.
REFERENCES = (
    "itip_published_figures.csv",
    "itip_published_figures_more.csv",
    "itip_conflicting_figures.csv",
    "itip_editions.csv",
)


def read_reference(name: str) -> list[dict[str, str]]:
    with (REPO / "docs" / "sources" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to compare warehouse states."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def statuses(outcomes: list[lib.FileOutcome]) -> dict[str, str]:
    return {o.file: o.status for o in outcomes}


def test_bundled_history_end_to_end(bundled_run: Bundled, tmp_path: Path) -> None:
    """A fresh warehouse from the bundled files answers the headline question and holds every published
    figure of the three reference files (docs/sources/) and every edition (the session's one ingest
    of them, tests/conftest.py)."""
    wh = bundled_run.copy_to(tmp_path)
    outcomes = list(bundled_run.outcomes)
    assert set(statuses(outcomes).values()) == {lib.LOADED}
    assert len(outcomes) == 13  # 12 editions of figures and the editions file

    with duckdb.connect(str(wh), read_only=True) as con:
        trust = con.execute(
            "SELECT year, value FROM trend WHERE indicator = 'trust_personal_data_safe' ORDER BY year"
        ).fetchall()
        assert trust == [(2020, 50.0), (2021, 47.0)]
        change = con.execute(
            "SELECT change_pp, comparable_with_prev FROM trend "
            "WHERE indicator = 'trust_personal_data_safe' AND year = 2021"
        ).fetchone()
        assert change == (pytest.approx(-3.0), True)
        rows = con.execute(
            "SELECT year, survey, segment, indicator, coalesce(answer, ''), value, coalesce(qualifier, ''), n, "
            "split_part(source, ' ', 1), inferred, conflict FROM trend"
        ).fetchall()
        conflicts = con.execute(
            "SELECT value, shown, source FROM conflicts WHERE indicator = 'benefits_realised' AND year = 2021 "
            "AND answer = 'high' ORDER BY value"
        ).fetchall()
        editions = con.execute(
            "SELECT year, survey, respondents, respondents_municipalities, respondents_state_regional, "
            "response_rate_low, response_rate_high, coalesce(response_rate_qualifier, ''), source FROM editions"
        ).fetchall()
        answered = con.execute(
            "SELECT DISTINCT edition_respondents FROM trend WHERE year = 2023 AND survey = 'organisations'"
        ).fetchall()

    def figure(r: dict[str, str], conflict: bool = False) -> tuple[object, ...]:
        return (
            int(r["year"]),
            r["survey"],
            r["segment"],
            r["indicator"],
            r["answer"],
            float(r["value"]),
            r.get("qualifier", ""),
            int(r["n"]) if r.get("n") else None,
            r["source_url"],
            "medium confidence" in r["note"],
            conflict,
        )

    first, more, conflicting, known = (read_reference(name) for name in REFERENCES)
    assert (len(first), len(more), len(conflicting), len(known)) == (41, 76, 1, 6)
    # The conflict: trend shows the later version of Digdir's page (20, marked preferred), conflicts lists both.
    (alternative,) = conflicting
    key = ("2021", "organisations", "all", "benefits_realised", "high")
    (shown_before,) = [r for r in more if (r["year"], r["survey"], r["segment"], r["indicator"], r["answer"]) == key]
    expected = {figure(r) for r in first} | {figure(r) for r in more if r is not shown_before}
    expected.add(figure({**shown_before, "value": alternative["value"]}, conflict=True))
    assert len(rows) == len(first) + len(more) == 117
    assert set(rows) == expected
    assert [(v, s) for v, s, _ in conflicts] == [(19.0, False), (20.0, True)]
    assert all(source.startswith(alternative["source_url"] + " (") for _, _, source in conflicts)
    # Every edition, with its respondents and response rate.
    assert len(editions) == len(known) == 6
    as_published = {(y, s, n, m, st, lo, hi, q, src) for y, s, n, m, st, lo, hi, q, src in editions}
    for r in known:
        low, _, high = r["response_rate"].partition("-")
        row = (
            int(r["year"]),
            r["survey"],
            int(r["respondents"]) if r["respondents"] else None,
            int(r["respondents_municipalities"]) if r["respondents_municipalities"] else None,
            int(r["respondents_state_regional"]) if r["respondents_state_regional"] else None,
            float(low) if low else None,
            float(high or low) if low else None,
            r["response_rate_qualifier"],
            r["source_url"],
        )
        assert row in as_published, row
    assert answered == [(251,)]


def test_second_run_changes_nothing(raw_copy: Path, tmp_path: Path) -> None:
    wh = tmp_path / "itip.duckdb"
    ingest(raw_dir=raw_copy, warehouse=wh)
    before = snapshot(wh)
    outcomes = ingest(raw_dir=raw_copy, warehouse=wh)
    assert set(statuses(outcomes).values()) == {lib.UNCHANGED}
    assert snapshot(wh) == before


def test_bad_file_is_rejected_whole_and_others_load(raw_copy: Path, tmp_path: Path) -> None:
    wh = tmp_path / "itip.duckdb"
    write(
        raw_copy,
        "itip_2019.csv",
        "survey,indicator,value,source\ncitizens,trust_personal_data_safe,147,s\ncitizens,nope,5,s\n",
    )
    outcomes = ingest(raw_dir=raw_copy, warehouse=wh)
    by_file = {o.file: o for o in outcomes}
    assert by_file["itip_2019.csv"].status == lib.REJECTED
    assert [(p.row, p.column) for p in by_file["itip_2019.csv"].problems] == [(2, "value"), (3, "indicator")]
    assert sum(o.status == lib.LOADED for o in outcomes) == 13

    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM estimates WHERE year = 2019").fetchone() == (0,)
        assert con.execute("SELECT status FROM releases WHERE year = 2019").fetchall() == [("rejected",)]
        rejected = "SELECT source_row, source_column, check_id FROM rejections ORDER BY source_row"
        assert con.execute(rejected).fetchall() == [
            (2, "value", "in_range(0, 100)"),
            (3, "indicator", "indicator_known"),
        ]

    # Every run while the file stays in raw/ reports it again, without recording it again.
    before = snapshot(wh)
    again = {o.file: o for o in ingest(raw_dir=raw_copy, warehouse=wh)}
    assert again["itip_2019.csv"].status == lib.STILL_REJECTED
    assert len(again["itip_2019.csv"].problems) == 2
    assert snapshot(wh) == before


def test_corrected_file_supersedes_and_keeps_history(raw_copy: Path, tmp_path: Path, bundled_run: Bundled) -> None:
    wh = bundled_run.copy_to(tmp_path)  # the bundled files loaded (the session's one ingest of them)
    path = raw_copy / "itip_2021.csv"
    text = path.read_bytes().decode("cp1252").replace(";47 %;", ";46 %;")
    path.write_bytes(text.encode("cp1252"))

    outcomes = {o.file: o for o in ingest(raw_dir=raw_copy, warehouse=wh)}
    assert outcomes["itip_2021.csv"].status == lib.SUPERSEDED
    assert outcomes["itip_2020.csv"].status == lib.UNCHANGED
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute(
            "SELECT value, change_pp FROM trend WHERE indicator = 'trust_personal_data_safe' AND year = 2021"
        ).fetchall() == [(46.0, pytest.approx(-4.0))]
        history = con.execute(
            "SELECT r.status, e.value FROM estimates e JOIN releases r USING (release_id) "
            "WHERE e.indicator = 'trust_personal_data_safe' AND e.year = 2021 ORDER BY r.release_id"
        ).fetchall()
        assert history == [("superseded", 47.0), ("loaded", 46.0)]
        assert con.execute("SELECT count(*) FROM trend WHERE year = 2021").fetchone() == (32,)


def test_bad_correction_keeps_current_release(raw_copy: Path, tmp_path: Path, bundled_run: Bundled) -> None:
    """Nothing already loaded is lost when a corrected file turns out to be bad."""
    wh = bundled_run.copy_to(tmp_path)  # the bundled files loaded (the session's one ingest of them)
    (raw_copy / "itip_2023.csv").write_text(
        "survey,question,value,source\ncitizens,ukjent spørsmål,59,s\n", encoding="utf-8"
    )
    outcomes = {o.file: o for o in ingest(raw_dir=raw_copy, warehouse=wh)}
    assert outcomes["itip_2023.csv"].status == lib.REJECTED
    assert "closest codebook wording" in outcomes["itip_2023.csv"].problems[0].message
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM trend WHERE year = 2023").fetchone() == (14,)


def test_two_files_for_one_year_are_both_refused(raw_copy: Path, tmp_path: Path) -> None:
    wh = tmp_path / "itip.duckdb"
    shutil.copy(raw_copy / "itip_2020.csv", raw_copy / "itip_2020.xlsx")
    outcomes = statuses(ingest(raw_dir=raw_copy, warehouse=wh))
    assert outcomes["itip_2020.csv"] == outcomes["itip_2020.xlsx"] == lib.REJECTED
    assert outcomes["itip_2021.csv"] == lib.LOADED


def test_other_files_in_raw_are_ignored(raw_copy: Path, tmp_path: Path) -> None:
    wh = tmp_path / "itip.duckdb"
    write(raw_copy, "notes.txt", "not a release")
    write(raw_copy, "itip_2021.csv.bak", "junk")
    write(raw_copy, "itip_2021_respondents.txt", "id,survey\n1,citizens\n")
    (raw_copy / "report.pdf").write_bytes(b"%PDF-1.4 junk")
    outcomes = ingest(raw_dir=raw_copy, warehouse=wh)
    assert len(outcomes) == 13 and not any(o.failed for o in outcomes)


def test_every_table_view_and_column_is_documented(bundled_run: Bundled, tmp_path: Path) -> None:
    """The warehouse is the public interface for ad-hoc SQL: DuckDB's COMMENT says what each name means."""
    wh = bundled_run.copy_to(tmp_path)  # the bundled files loaded (the session's one ingest of them)
    with duckdb.connect(str(wh), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name, comment FROM duckdb_tables() UNION ALL "
            "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        assert {t for t, _ in tables} >= {"releases", "indicators", "estimates", "rejections", "trend"}
        assert [t for t, c in tables if not c] == []
        undocumented = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND (comment IS NULL OR comment = '')"
        ).fetchall()
        assert undocumented == []


def test_artifact_lists_each_file(raw_copy: Path, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    write(raw_copy, "itip_2019.csv", "survey,indicator,value,source\ncitizens,trust_personal_data_safe,147,s\n")
    ingest(raw_dir=raw_copy, warehouse=tmp_path / "itip.duckdb")

    async def latest() -> object:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-summary"])),
                sort="CREATED_DESC",
                limit=1,
            )
            return found[0].data

    data = asyncio.run(latest())
    rows = data if isinstance(data, list) else __import__("json").loads(str(data))
    by_file = {r["file"]: r for r in rows}
    assert by_file["itip_2019.csv"]["status"] == "rejected"
    assert "outside 0-100" in by_file["itip_2019.csv"]["first errors"]
    assert by_file["itip_2022.xlsx"]["rows"] == 26
