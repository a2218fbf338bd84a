"""The published history: conflicting sources, true duplicates, inferred figures (through
to the report) and the editions file. Library functions on tiny files written here and
a real DuckDB file; the Prefect flow on the bundled files is in test_flow.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from itip import ingest as lib
from itip.codebook import Codebook
from itip.editions import EDITIONS_KIND, check_editions
from itip.ingest import plan_all, prepare, store
from itip.release import ReleaseFile, check_release, discover
from itip.report.build import write_report
from tests.conftest import REPO, write
from tests.integration.test_report import card, parse, squash

HEADER = "year,survey,segment,indicator,answer,value,n,source,note,inferred,preferred\n"
PAGE = "https://www.digdir.no/rikets-digitale-tilstand/mal-6/3520"


def load_all(raw: Path, warehouse: Path, codebook: Codebook) -> dict[str, lib.FileOutcome]:
    """Every release of `raw` through the same library calls the flow makes."""
    prepare(warehouse, codebook)
    found = discover(raw)
    outcomes = {}
    for plan in plan_all(warehouse, found.releases):
        if plan.outcome is not None:
            outcomes[plan.release.path.name] = plan.outcome
            continue
        if plan.release.kind == EDITIONS_KIND:
            ed = check_editions(plan.release.path, codebook)
            outcome = store(warehouse, plan, ed.estimates, ed.problems, ed.rows, codebook, None)
        else:
            result = check_release(plan.release.path, codebook)
            outcome = store(warehouse, plan, result.estimates, result.problems, 1, codebook, None)
        outcomes[outcome.file] = outcome
    return outcomes


def query(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


# --- conflicting sources ---------------------------------------------------------------------
def test_a_conflict_is_kept_whole_and_trend_shows_the_preferred_figure(tmp_path: Path, codebook: Codebook) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write(
        raw,
        "itip_2021.csv",
        HEADER
        + f"2021,organisations,all,benefits_realised,high,19,,{PAGE} (2021 and 2022 versions),,,no\n"
        + f"2021,organisations,all,benefits_realised,high,20,,{PAGE} (a later version),,,yes\n"
        + f"2021,organisations,all,benefits_realised,low,18,,{PAGE},,,\n",
    )
    write(raw, "itip_2022.csv", HEADER + f"2022,organisations,all,benefits_realised,high,30,,{PAGE},,,\n")
    wh = tmp_path / "itip.duckdb"
    outcomes = load_all(raw, wh, codebook)
    assert {o.status for o in outcomes.values()} == {lib.LOADED}

    assert query(
        wh, "SELECT year, answer, value, conflict FROM trend WHERE indicator = 'benefits_realised' ORDER BY ALL"
    ) == [(2021, "high", 20.0, True), (2021, "low", 18.0, False), (2022, "high", 30.0, False)]
    # The change is measured from the figure trend shows, not the one it does not.
    assert query(wh, "SELECT prev_value, change_pp FROM trend WHERE year = 2022") == [(20.0, 10.0)]
    assert query(
        wh, "SELECT value, shown, why_shown IS NOT NULL, source, source_row FROM conflicts ORDER BY value"
    ) == [
        (19.0, False, False, f"{PAGE} (2021 and 2022 versions)", 2),
        (20.0, True, True, f"{PAGE} (a later version)", 3),
    ]
    # Both alternatives stay in estimates.
    assert query(wh, "SELECT count(*) FROM estimates WHERE year = 2021 AND answer = 'high'") == [(2,)]
    # The report links the URL of a source that carries a version note, and says the sources disagree.
    report = write_report(wh, tmp_path / "report", codebook=codebook)
    view = card(parse(report.path.read_text(encoding="utf-8")), "benefits_realised", answer="high")
    year_2021 = next(e for e in view.find("tr") if e.attrs.get("data-year") == "2021")
    assert "kildene spriker" in year_2021.text
    assert PAGE in [a.attrs["href"] for a in view.find("a")]
    assert "(a later version)" in view.text


def test_the_same_figure_from_the_same_source_is_still_a_duplicate(tmp_path: Path, codebook: Codebook) -> None:
    path = write(
        tmp_path,
        "itip_2021.csv",
        HEADER
        + f"2021,organisations,all,benefits_realised,high,19,,{PAGE},,,no\n"
        + f"2021,organisations,all,benefits_realised,high,20,,{PAGE},,,yes\n",
    )
    result = check_release(path, codebook)
    assert [(p.row, p.check) for p in result.problems] == [(2, "duplicate_key"), (3, "duplicate_key")]
    assert "repeat row 3 with the same source" in result.problems[0].message
    assert result.estimates.empty


@pytest.mark.parametrize("marks", [("", ""), ("yes", "yes")], ids=["none-preferred", "both-preferred"])
def test_a_conflict_needs_exactly_one_preferred_figure(
    tmp_path: Path, codebook: Codebook, marks: tuple[str, str]
) -> None:
    path = write(
        tmp_path,
        "itip_2021.csv",
        HEADER
        + f"2021,organisations,all,benefits_realised,high,19,,{PAGE} (first version),,,{marks[0]}\n"
        + f"2021,organisations,all,benefits_realised,high,20,,{PAGE} (later version),,,{marks[1]}\n",
    )
    result = check_release(path, codebook)
    assert [(p.row, p.column, p.check) for p in result.problems] == [
        (2, "preferred", "conflict_preferred"),
        (3, "preferred", "conflict_preferred"),
    ]
    assert "more than one source (rows 2, 3)" in result.problems[0].message


def test_a_conflict_counts_once_toward_a_distribution(tmp_path: Path, codebook: Codebook) -> None:
    """Two alternatives of one share are not two shares: 60 + 55 (+ 30) is no sum over 100."""
    path = write(
        tmp_path,
        "itip_2021.csv",
        HEADER
        + "2021,organisations,all,benefits_realised,high,60,,source A,,,yes\n"
        + "2021,organisations,all,benefits_realised,high,55,,source B,,,\n"
        + "2021,organisations,all,benefits_realised,low,30,,source A,,,\n",
    )
    assert check_release(path, codebook).problems == []
    path.write_text(path.read_text().replace(",30,", ",45,"), encoding="utf-8")
    assert [p.check for p in check_release(path, codebook).problems] == ["distribution_sum"] * 2


def test_a_bad_flag_is_named_with_row_and_column(tmp_path: Path, codebook: Codebook) -> None:
    path = write(tmp_path, "itip_2022.csv", HEADER + "2022,organisations,all,uses_ai,,50,,s,,maybe,\n")
    problems = check_release(path, codebook).problems
    assert [(p.row, p.column, p.check, p.value) for p in problems] == [(2, "inferred", "flag_format", "maybe")]


# --- inferred provenance, through to the report ------------------------------------------------
def test_an_inferred_figure_is_flagged_in_trend_and_marked_in_the_report(tmp_path: Path, codebook: Codebook) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write(
        raw,
        "itip_2024.csv",
        "År;Undersøkelse;Gruppe;Indikator;Andel;Merknad;Kilde;Notat;Utledet\n"
        "2024;virksomheter;alle;ai_well_underway;20 %;ca.;https://innomag.no/ki;medium confidence; year inferred;ja\n"
        "2024;virksomheter;alle;ai_insight_lacking_barrier;80 %;over;https://innomag.no/ki;;nei\n".replace(
            "medium confidence; year inferred", '"medium confidence; year inferred"'
        ),
        encoding="cp1252",
    )
    wh = tmp_path / "itip.duckdb"
    assert load_all(raw, wh, codebook)["itip_2024.csv"].status == lib.LOADED
    assert query(wh, "SELECT indicator, inferred FROM trend ORDER BY indicator") == [
        ("ai_insight_lacking_barrier", False),
        ("ai_well_underway", True),
    ]
    for lang, word in (("no", "utledet"), ("en", "inferred")):
        report = write_report(wh, tmp_path / f"report-{lang}", lang=lang, codebook=codebook)
        page = parse(report.path.read_text(encoding="utf-8"))
        marked = card(page, "ai_well_underway")
        tags = marked.find("span", "inferred")  # at the latest figure and in its table row
        assert len(tags) == 2
        assert all(squash(t.text) == f"{word}*" and t.attrs["data-inferred"] == "true" for t in tags)
        assert next(e for e in marked.find("tr") if e.attrs.get("data-year") == "2024").attrs["data-inferred"] == "true"
        assert f"({word})" in marked.one("img").attrs["alt"]
        assert marked.find("p", "inferrednote")
        plain = card(page, "ai_insight_lacking_barrier")
        assert not plain.find("span", "inferred") and not plain.find("p", "inferrednote")


# --- editions --------------------------------------------------------------------------------
EDITIONS_HEADER = (
    "year,survey,respondents,respondents_qualifier,respondents_municipalities,respondents_state_regional,"
    "response_rate,response_rate_qualifier,population_note,source\n"
)


def test_the_bundled_editions_file_is_valid(codebook: Codebook) -> None:
    result = check_editions(REPO / "raw" / "itip_editions.csv", codebook)
    assert result.ok, result.problems
    got = result.estimates.set_index(["year", "survey"])
    assert len(got) == 6
    assert got.loc[(2021, "organisations"), ["respondents", "respondents_municipalities"]].tolist() == [255, 176]
    assert got.loc[(2021, "organisations"), ["response_rate_low", "response_rate_high"]].tolist() == [45.0, 50.0]
    assert got.loc[(2021, "organisations"), "response_rate_qualifier"] == "approx"
    assert got.loc[(2017, "organisations"), "respondents_qualifier"] == "above"


def test_a_bad_editions_file_lists_every_problem(tmp_path: Path, codebook: Codebook) -> None:
    path = write(
        tmp_path,
        "itip_editions.csv",
        EDITIONS_HEADER
        + "2021,virksomheter,255,,176,90,45-50,ca.,,s\n"  # 176 + 90 > 255
        + "2021,organisations,251,,,,67,,,s\n"  # the same edition again
        + "2022,citizens,1000,,,,sixty,,,s\n"
        + "2007,citizens,-3,,,,50-40,,,\n"
        + "2023,foretak,300,,,,50,,,s\n",  # a survey the codebook does not have
    )
    problems = check_editions(path, codebook).problems
    (unknown,) = [p for p in problems if p.row == 6]
    assert (unknown.column, unknown.message) == ("survey", "unknown survey 'foretak'")
    assert {(p.row, p.column, p.check) for p in problems} >= {
        (2, "respondents", "segments_within_total"),
        (2, None, "one_row_per_edition"),
        (3, None, "one_row_per_edition"),
        (4, "response_rate", "rate_format"),
        (5, "respondents", "n_format"),
        (5, "year", "greater_than_or_equal_to(2008)"),
        (5, "response_rate", "rate_range_ordered"),
        (5, "source", "str_length(1, None)"),
    }
    assert all(str(p).startswith("itip_editions.csv, row ") for p in problems)


def test_editions_load_once_and_a_correction_supersedes(tmp_path: Path, codebook: Codebook) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "raw" / "itip_2023.csv", raw)
    shutil.copy(REPO / "raw" / "itip_editions.csv", raw)
    wh = tmp_path / "itip.duckdb"
    first = load_all(raw, wh, codebook)
    assert first["itip_editions.csv"].status == lib.LOADED and first["itip_editions.csv"].year is None
    assert query(wh, "SELECT count(*) FROM current_editions") == [(6,)]
    assert query(
        wh, "SELECT DISTINCT edition_respondents FROM trend WHERE year = 2023 AND survey = 'organisations'"
    ) == [(251,)]
    assert load_all(raw, wh, codebook)["itip_editions.csv"].status == lib.UNCHANGED

    path = raw / "itip_editions.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("2023,organisations,251", "2023,organisations,252"))
    assert load_all(raw, wh, codebook)["itip_editions.csv"].status == lib.SUPERSEDED
    assert query(wh, "SELECT count(*) FROM editions") == [(12,)]  # history kept
    assert query(wh, "SELECT respondents FROM current_editions WHERE year = 2023") == [(252,)]
    assert query(wh, "SELECT year, kind, status FROM releases WHERE kind = 'editions' ORDER BY release_id") == [
        (None, "editions", "superseded"),
        (None, "editions", "loaded"),
    ]

    # A bad editions file is rejected whole; the loaded one stays.
    path.write_text(EDITIONS_HEADER + "2023,organisations,0,,,,,,,s\n", encoding="utf-8")
    outcome = load_all(raw, wh, codebook)["itip_editions.csv"]
    assert outcome.status == lib.REJECTED
    assert [(p.row, p.column) for p in outcome.problems] == [(2, "respondents")]
    assert query(wh, "SELECT respondents FROM current_editions WHERE year = 2023") == [(252,)]
    assert load_all(raw, wh, codebook)["itip_editions.csv"].status == lib.STILL_REJECTED


def test_two_editions_files_are_both_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "raw" / "itip_editions.csv", raw)
    shutil.copy(REPO / "raw" / "itip_editions.csv", raw / "itip_editions.xlsx")
    found = discover(raw)
    assert found.releases == []
    assert {p.file for p in found.problems} == {"itip_editions.csv", "itip_editions.xlsx"}
    assert "more than one editions file (itip_editions.csv, itip_editions.xlsx)" in found.problems[0].message


def test_discovery_puts_the_editions_file_after_the_years(tmp_path: Path) -> None:
    found = discover(REPO / "raw")
    assert [r.year for r in found.releases][-1] is None
    assert found.releases[-1] == ReleaseFile(REPO / "raw" / "itip_editions.csv", None, EDITIONS_KIND)
    assert [r.year for r in found.releases[:-1]] == [
        2010,
        2011,
        2014,
        2015,
        2016,
        2017,
        2020,
        2021,
        2022,
        2023,
        2024,
        2025,
    ]


def test_itip_check_checks_the_editions_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from itip.cli import app

    runner = CliRunner()
    good = runner.invoke(app, ["check", str(REPO / "raw" / "itip_editions.csv")])
    assert (good.exit_code, good.output.strip()) == (0, "itip_editions.csv: ok, 6 editions")
    bad = write(tmp_path, "itip_editions.csv", EDITIONS_HEADER + "2021,citizens,1000,,,,120,,,s\n")
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert result.output.strip() == "itip_editions.csv, row 2, column response_rate: response_rate 120 is outside 0-100"


def test_a_figure_without_n_gets_an_interval_from_its_edition_only_flagged_approximate(
    tmp_path: Path, codebook: Codebook
) -> None:
    """SYNTHETIC figures and editions. A published share without its own n gets the Wilson
    interval on the edition's respondents (all: respondents; municipalities and state: their
    counts), flagged interval_basis = edition_n and shown with '≈' in `itip trend` and the
    report; never a test of change. A count published as a bound ('over 500'), a qualified
    value or an edition without respondents gives no interval; an own n is used as it is."""
    from itip.db import open_warehouse
    from itip.db_read import trend
    from itip.render import trend_table
    from itip.stats import wilson_interval

    raw = tmp_path / "raw"
    raw.mkdir()
    row = "{y},organisations,{seg},ai_insight_lacking_barrier,,{v},{n},https://example.org/synthetic,SYNTHETIC,,\n"
    write(raw, "itip_2017.csv", HEADER + row.format(y=2017, seg="all", v=70, n=""))
    write(raw, "itip_2020.csv", HEADER + row.format(y=2020, seg="all", v=60, n=""))
    qualified = "2021,organisations,all,ai_well_underway,,20,approx,,https://example.org/synthetic,SYNTHETIC,,\n"
    write(
        raw,
        "itip_2021.csv",
        HEADER.replace("value,n", "value,qualifier,n")
        + row.format(y=2021, seg="all", v=52, n="").replace(",52,", ",52,,")
        + row.format(y=2021, seg="municipalities", v=50, n="").replace(",50,", ",50,,")
        + row.format(y=2021, seg="state", v=40, n=70).replace(",40,", ",40,,")
        + qualified,
    )
    write(raw, "itip_2022.csv", HEADER + row.format(y=2022, seg="all", v=55, n=""))
    write(
        raw,
        "itip_editions.csv",
        EDITIONS_HEADER
        + "2017,organisations,500,above,,,,,SYNTHETIC,https://example.org/synthetic\n"
        + "2020,organisations,300,,,,,,SYNTHETIC,https://example.org/synthetic\n"
        + "2021,organisations,255,,176,79,,,SYNTHETIC,https://example.org/synthetic\n"
        + "2022,organisations,,,,,67,,SYNTHETIC,https://example.org/synthetic\n",
    )
    wh = tmp_path / "itip.duckdb"
    assert {o.status for o in load_all(raw, wh, codebook).values()} == {lib.LOADED}
    got = {
        (r[0], r[1], r[2]): r[3:]
        for r in query(
            wh,
            "SELECT indicator, year, segment, interval_basis, ci_low, ci_high, n, change_pp, change_p_value, "
            "comparable_with_prev FROM trend",
        )
    }
    basis, low, high, n, change, p, comparable = got[("ai_insight_lacking_barrier", 2021, "all")]
    assert basis == "edition_n" and n is None
    assert (low, high) == pytest.approx(wilson_interval(52, 255), abs=1e-9)
    assert got[("ai_insight_lacking_barrier", 2021, "municipalities")][1:3] == pytest.approx(
        wilson_interval(50, 176), abs=1e-9
    )
    assert got[("ai_insight_lacking_barrier", 2021, "municipalities")][0] == "edition_n"
    own = got[("ai_insight_lacking_barrier", 2021, "state")]
    assert own[0] == "n" and own[1:3] == pytest.approx(wilson_interval(40, 70), abs=1e-9)
    # an approximate n never makes a test: the change is shown, untested, still comparable
    assert change == pytest.approx(-8) and p is None and comparable is True
    for key in (("ai_insight_lacking_barrier", 2017, "all"), ("ai_insight_lacking_barrier", 2022, "all")):
        assert got[key][:3] == (None, None, None), key  # a bound ('over 500'), or no respondents published
    assert got[("ai_well_underway", 2021, "all")][:3] == (None, None, None)  # 'ca. 20' is not an exact share

    with open_warehouse(wh, read_only=True) as con:
        columns, rows = trend_table(trend(con, "ai_insight_lacking_barrier"))
    shown = {(r[0], r[1]): r[columns.index("ci_95")] for r in rows}
    assert shown[(2021, "all")] == f"≈{low:.1f}-{high:.1f}"
    assert shown[(2021, "state")] == f"{own[1]:.1f}-{own[2]:.1f}"

    report = write_report(wh, tmp_path / "report", lang="en", codebook=codebook)
    page = parse(report.path.read_text(encoding="utf-8"))
    text = squash(card(page, "ai_insight_lacking_barrier").text)
    assert "≈ 45.9–58.0" in text or "≈ 45.9–58" in text, text


def test_a_warehouse_whose_changes_is_a_table_is_migrated_to_the_view(tmp_path: Path, codebook: Codebook) -> None:
    """Contract version 6: `changes` became a view and the tests of change a table. A version 5
    warehouse (changes a table) is brought up to date by the next ingest, with the same numbers."""
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "itip_2020.csv", HEADER + f"2020,citizens,all,trust_personal_data_safe,,50,1000,{PAGE},,,\n")
    write(raw, "itip_2021.csv", HEADER + f"2021,citizens,all,trust_personal_data_safe,,44,1000,{PAGE},,,\n")
    wh = tmp_path / "itip.duckdb"
    load_all(raw, wh, codebook)
    columns = (
        "prev_year, prev_value, change_pp, change_p_value, comparable_with_prev, change_q_value, change_significant"
    )
    before = query(wh, f"SELECT year, {columns} FROM trend ORDER BY year")
    assert before[1][:4] == (2021, 2020, 50.0, -6.0) and before[1][4] < 0.01 and before[1][7] is True
    with duckdb.connect(str(wh)) as con:  # as version 5 left it: changes a table, no change_tests
        con.execute("CREATE TABLE old_changes AS SELECT * FROM changes")
        con.execute("DROP VIEW changes")
        con.execute("DROP TABLE change_tests")
        con.execute("ALTER TABLE old_changes RENAME TO changes")
        con.execute("UPDATE meta SET value = 'version 5' WHERE key = 'schema_sha256'")
    load_all(raw, wh, codebook)  # nothing new to load; the schema is brought up to date
    kinds = query(wh, "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'change%'")
    assert kinds == [("change_tests",)]
    assert query(wh, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'changes'") == [(1,)]
    assert query(wh, f"SELECT year, {columns} FROM trend ORDER BY year") == before
