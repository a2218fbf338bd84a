"""Respondent-level files: weighted estimates, intervals and tests of change, through the real flow."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats as scipy_stats

from flows.ingest import ingest
from itip import ingest as lib
from itip.respondents.check import check_respondents
from tests.conftest import REPO, write

HEADER = (
    "respondent_id,survey,sector,size_class,kommunenummer,age_group,weight,q_tillit_opplysninger,q_gevinster_realisert"
)


def citizens(year: int, answers: list[tuple[int, float]], start: int = 1) -> str:
    """A respondent file of citizens answering the 2021+ trust question: (code, weight) per respondent."""
    rows = [HEADER]
    for i, (code, weight) in enumerate(answers, start=start):
        rows.append(f"R{year}-{i:06d},citizens,,,,{1 + i % 4},{weight},{code},")
    return "\n".join(rows) + "\n"


def trend_rows(wh: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(wh), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_weighted_share_effective_n_and_interval_match_a_hand_computation(tmp_path: Path, codebook) -> None:
    """Share = Σw·y/Σw, n_eff = (Σw)²/Σw²; without a declared design every respondent is a PSU
    of one stratum: V = m/(m-1)·Σ z², z = w(y - p)/Σw over the survey's m respondents, and the
    interval is Korn-Graubard (Clopper-Pearson on p(1-p)/V, df = n - 1 so no t scaling);
    'vet ikke' (8) and not asked (9) leave the denominator."""
    answers = [(5, 1.0), (4, 2.0), (3, 0.5), (2, 1.5), (1, 1.0), (8, 3.0), (9, 1.0), (3, 1.0), (1, 2.0), (4, 0.5)]
    path = write(tmp_path, "itip_2024_respondents.csv", citizens(2024, answers))
    # 8 answers would be suppressed (tests/integration/test_disclosure.py); this test is about the arithmetic
    spec = dataclasses.replace(codebook.respondents, min_cell_n=1, min_cell_n_extreme=1)
    result = check_respondents(path, dataclasses.replace(codebook, respondents=spec), 2024, b"test-key")
    assert result.ok, result.problems
    row = result.estimates.query("indicator == 'trust_personal_data_safe' and segment == 'all'").iloc[0]
    codes = np.array([c for c, _ in answers])
    w = np.array([w for _, w in answers])
    valid = codes <= 5  # 8 and 9 leave the denominator
    yes = np.isin(codes, [3, 4, 5])  # 'noen eller høy grad' counts toward the share
    share = (w * (yes & valid)).sum() / w[valid].sum()
    n_eff = w[valid].sum() ** 2 / (w[valid] ** 2).sum()
    z = np.where(valid, w * (yes - share), 0.0) / w[valid].sum()
    variance = len(z) / (len(z) - 1) * (z**2).sum()
    m = share * (1 - share) / variance
    low = scipy_stats.beta.ppf(0.025, m * share, m * (1 - share) + 1)
    high = scipy_stats.beta.ppf(0.975, m * share + 1, m * (1 - share))
    assert row["n"] == 8
    assert row["value"] == pytest.approx(100 * share)
    assert row["n_effective"] == pytest.approx(n_eff)
    assert row["se"] == pytest.approx(100 * variance**0.5)
    assert row["design_effect"] == pytest.approx(variance / (share * (1 - share) / 8))
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(100 * low), pytest.approx(100 * high))
    # organisations were not in the file: no organisation estimate at all, not a 0 %
    assert set(result.estimates["survey"]) == {"citizens"}


def test_equal_weights_give_the_unweighted_share_and_n_eff_equal_to_n(tmp_path: Path, codebook) -> None:
    answers = [(4, 1.0)] * 30 + [(1, 1.0)] * 70
    result = check_respondents(
        write(tmp_path, "itip_2024_respondents.csv", citizens(2024, answers)), codebook, 2024, b"k"
    )
    row = result.estimates.query("indicator == 'trust_personal_data_safe' and segment == 'all'").iloc[0]
    assert (row["value"], row["n"], row["n_effective"]) == (pytest.approx(30.0), 100, pytest.approx(100.0))


@pytest.mark.usefixtures("prefect_harness")
def test_hand_checked_significance_of_a_change(tmp_path: Path) -> None:
    """50 % of 1,000 in 2024 and 45 % of 1,000 in 2025 (weights 1, no declared design): the
    design variances are p(1-p)/(n-1) (each respondent a PSU, n/(n-1) correction), so
    SE = sqrt(0.25/999 + 0.2475/999) = 0.022316, t = -0.05/0.022316 = -2.2405; each year's
    design df is 1000 - 1 = 999 (every respondent a PSU, one stratum), so the two-sided
    p = 2·P(T_999 > 2.2405) = 0.0253: a significant fall of 5 points."""
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "itip_2024_respondents.csv", citizens(2024, [(4, 1.0)] * 500 + [(2, 1.0)] * 500))
    write(raw, "itip_2025_respondents.csv", citizens(2025, [(5, 1.0)] * 450 + [(1, 1.0)] * 550))
    wh = tmp_path / "itip.duckdb"
    outcomes = ingest(raw_dir=raw, warehouse=wh)
    assert [o.status for o in outcomes] == [lib.LOADED, lib.LOADED], [o.problems for o in outcomes]
    [(value, n, change, p, comparable, kind)] = trend_rows(
        wh,
        "SELECT value, n, change_pp, change_p_value, comparable_with_prev, kind FROM trend "
        "WHERE indicator = 'trust_personal_data_safe' AND segment = 'all' AND year = 2025",
    )
    assert (value, n, change, comparable, kind) == (pytest.approx(45.0), 1000, pytest.approx(-5.0), True, "respondents")
    assert p == pytest.approx(0.0253, abs=5e-5)
    z = -0.05 / math.sqrt(0.25 / 999 + 0.2475 / 999)
    assert p == pytest.approx(2 * scipy_stats.t.sf(abs(z), 999))
    [(df,)] = trend_rows(
        wh, "SELECT df FROM trend WHERE indicator = 'trust_personal_data_safe' AND segment = 'all' AND year = 2024"
    )
    assert df == 999
    # itip trend shows the standard error and the interval's basis, in the table and in CSV
    from typer.testing import CliRunner

    from itip.cli import app

    args = ["trend", "trust_personal_data_safe", "--segment", "all", "--warehouse", str(wh)]
    result = CliRunner().invoke(app, [*args, "--csv"])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    names = header.split(",")
    assert names[names.index("ci_95") + 1 : names.index("ci_95") + 3] == ["se", "ci_basis"]
    got = {line.split(",")[0]: line.split(",") for line in lines}
    assert got["2024"][names.index("se")] == f"{100 * math.sqrt(0.25 / 999):.2f}" == "1.58"
    assert got["2025"][names.index("se")] == f"{100 * math.sqrt(0.2475 / 999):.2f}" == "1.57"
    assert got["2025"][names.index("ci_basis")] == "design"
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0 and " se " in table.output and "1.57" in table.output and "design" in table.output


@pytest.mark.usefixtures("prefect_harness")
def test_a_bad_file_is_rejected_whole_with_every_problem_while_others_load(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write(raw, "itip_2024_respondents.csv", citizens(2024, [(4, 1.0)] * 20))
    bad = [
        HEADER,
        "R2025-000001,citizens,,,,1,1,4,",
        "R2025-000001,citizens,,,,2,1,4,",  # row 3: id repeats row 2
        "R2025-000003,innbyggerne,,,,1,1,4,",  # row 4: unknown survey
        "R2025-000004,citizens,,,,1,-2,4,",  # row 5: weight not positive
        "R2025-000005,citizens,,,,1,1,7,",  # row 6: 7 is not on the scale
        "R2025-000006,organisations,2,9,301,,1,,4",  # row 7: size class 9, kommunenummer without leading zero
        "R2025-000007,citizens,,,,1,1,x,",  # row 8: not a code
    ]
    write(raw, "itip_2025_respondents.csv", "\n".join(bad) + "\n")
    wh = tmp_path / "itip.duckdb"
    outcomes = {o.file: o for o in ingest(raw_dir=raw, warehouse=wh)}
    assert outcomes["itip_2024_respondents.csv"].status == lib.LOADED
    rejected = outcomes["itip_2025_respondents.csv"]
    assert rejected.status == lib.REJECTED
    where = {(p.row, p.column, p.check) for p in rejected.problems}
    assert where >= {
        (2, "respondent_id", "id_duplicate"),
        (3, "respondent_id", "id_duplicate"),
        (4, "survey", "survey_known"),
        (5, "weight", "weight_positive"),
        (6, "q_tillit_opplysninger", "answer_code"),
        (7, "size_class", "segment_code"),
        (7, "kommunenummer", "format"),
        (8, "q_tillit_opplysninger", "answer_number"),
    }
    assert all(p.file == "itip_2025_respondents.csv" for p in rejected.problems)
    assert trend_rows(wh, "SELECT DISTINCT year FROM trend") == [(2024,)]
    stored = trend_rows(wh, "SELECT count(*) FROM rejections WHERE file_name = 'itip_2025_respondents.csv'")
    assert stored[0][0] == len(rejected.problems)


@pytest.mark.usefixtures("prefect_harness")
def test_small_cells_are_suppressed_before_storage_with_a_sibling(tmp_path: Path) -> None:
    """A small age group is stored without value or n (not only hidden in trend), and the
    smallest other age group goes with it, so `all` minus the shown groups reveals nothing."""
    raw = tmp_path / "raw"
    raw.mkdir()
    # 40 citizens: age group 1 + i % 4 gives 10 per group; one group shrinks to 4 answers with 'vet ikke'
    answers = [((4 if (i // 4) % 2 == 0 else 1), 1.0) if (1 + i % 4) != 2 or i < 10 else (8, 1.0) for i in range(1, 41)]
    write(raw, "itip_2024_respondents.csv", citizens(2024, answers))
    wh = tmp_path / "itip.duckdb"
    assert [o.status for o in ingest(raw_dir=raw, warehouse=wh)] == [lib.LOADED]
    rows = trend_rows(
        wh,
        "SELECT segment, value, value_status, n, ci_low FROM trend "
        "WHERE indicator = 'trust_personal_data_safe' ORDER BY segment",
    )
    shown = {seg: (value, status, n, low) for seg, value, status, n, low in rows}
    small = sorted(seg for seg, (_, status, _, _) in shown.items() if status == "suppressed")
    assert len(small) == 2 and ("age_45_66" in small or "age_25_44" in small)
    for seg in small:
        assert shown[seg][0] is None and shown[seg][2] is None and shown[seg][3] is None
        kept = trend_rows(
            wh,
            "SELECT n, value, n_effective, ci_low, ci_high, value_status FROM estimates "
            f"WHERE indicator = 'trust_personal_data_safe' AND segment = '{seg}'",
        )
        assert kept == [(None, None, None, None, None, "suppressed")]
    assert shown["all"][1] == "estimated"


@pytest.mark.usefixtures("prefect_harness")
def test_respondent_estimate_wins_over_a_published_figure_for_the_same_year(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "raw" / "itip_2020.csv", raw)
    shutil.copy(REPO / "raw" / "itip_2021.csv", raw)
    write(raw, "itip_2021_respondents.csv", citizens(2021, [(4, 1.0)] * 60 + [(1, 1.0)] * 40))
    wh = tmp_path / "itip.duckdb"
    assert {o.status for o in ingest(raw_dir=raw, warehouse=wh)} == {lib.LOADED}
    rows = trend_rows(
        wh,
        "SELECT year, value, kind, prev_value FROM trend "
        "WHERE indicator = 'trust_personal_data_safe' AND segment = 'all' ORDER BY year",
    )
    assert rows == [(2020, 50.0, "published", None), (2021, pytest.approx(60.0), "respondents", 50.0)]
    # the published 47 % stays in estimates as history
    assert trend_rows(
        wh, "SELECT value FROM estimates WHERE indicator = 'trust_personal_data_safe' AND year = 2021 AND n IS NULL"
    ) == [(47.0,)]
    dupes = trend_rows(
        wh,
        "SELECT count(*) FROM (SELECT 1 FROM trend "
        "GROUP BY indicator, survey, segment, answer, year HAVING count(*) > 1)",
    )
    assert dupes == [(0,)]


def test_a_reworded_question_under_its_old_column_name_is_rejected(tmp_path: Path, codebook) -> None:
    """In 2021 the trust question was reworded and got a new column; the old name is caught, not dropped."""
    text = "respondent_id,survey,age_group,q_tillit_personvern\nR2021-000001,citizens,1,4\n"
    result = check_respondents(write(tmp_path, "itip_2021_respondents.csv", text), codebook, 2021, b"k")
    [problem] = result.problems
    assert problem.column == "q_tillit_personvern" and "q_tillit_opplysninger" in problem.message
    before = check_respondents(
        write(tmp_path, "itip_2020_respondents.csv", text.replace("2021", "2020")), codebook, 2020, b"k"
    )
    assert before.ok and len(before.estimates) > 0


@pytest.mark.usefixtures("prefect_harness")
def test_published_2023_to_respondents_2024_with_identical_answers_shows_no_change(tmp_path: Path) -> None:
    """Issue 8: the published 2023 benefits_realised shares (10 / 71 / 13 %, n = 251) keep
    'vet ikke' in the base. A 2024 respondent file with exactly those answers (of 200: 20 high,
    142 some, 26 low, 12 'vet ikke') must show no change: the codebook's answer base
    (`base: with_dont_know`) keeps code 8 in the denominator of respondent files too. With the
    old rule (8 dropped) 'high' would read 10.6 % and 'some' 75.5 %, a change of +4.5 pp."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "raw" / "itip_2023.csv", raw / "itip_2023.csv")
    codes = [4] * 20 + [3] * 142 + [2] * 26 + [8] * 12
    rows = [HEADER] + [f"O{i:04d},organisations,1,3,,,1,,{code}" for i, code in enumerate(codes, start=1)]
    write(raw, "itip_2024_respondents.csv", "\n".join(rows) + "\n")
    wh = tmp_path / "itip.duckdb"
    outcomes = ingest(raw_dir=raw, warehouse=wh)
    assert {o.status for o in outcomes} == {lib.LOADED}, [o.problems for o in outcomes]
    got = trend_rows(
        wh,
        "SELECT answer, prev_year, prev_value, value, change_pp, comparable_with_prev, change_significant "
        "FROM trend WHERE indicator = 'benefits_realised' AND segment = 'all' AND year = 2024 ORDER BY answer",
    )
    assert [(a, py, pv) for a, py, pv, *_ in got] == [("high", 2023, 10.0), ("low", 2023, 13.0), ("some", 2023, 71.0)]
    for answer, _, prev, value, change, comparable, significant in got:
        assert value == pytest.approx(prev, abs=1e-9), answer
        assert change == pytest.approx(0.0, abs=1e-9), answer
        assert comparable is True and significant is False, answer


@pytest.mark.usefixtures("prefect_harness")
def test_a_series_whose_answer_base_changes_is_not_compared_and_says_why(tmp_path: Path) -> None:
    """The same splice as above, but with a codebook copy whose respondent base drops 'vet ikke'
    (`base: answered`): 2023 (published, with_dont_know) and 2024 (answered) are different
    bases, so trend records both bases, marks the pair not comparable with the reason, and
    tests nothing. The unchanged base of the published years before still compares."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "raw" / "itip_2023.csv", raw / "itip_2023.csv")
    codes = [4] * 20 + [3] * 142 + [2] * 26 + [8] * 12
    rows = [HEADER] + [f"O{i:04d},organisations,1,3,,,1,,{code}" for i, code in enumerate(codes, start=1)]
    write(raw, "itip_2024_respondents.csv", "\n".join(rows) + "\n")
    text = (REPO / "schemas" / "codebook.yaml").read_text(encoding="utf-8")
    declared = "    base: with_dont_know\n    # The report's own practice"
    assert text.count(declared) == 1
    codebook_path = tmp_path / "codebook.yaml"
    codebook_path.write_text(text.replace(declared, "    base: answered\n    # The report's own practice"), "utf-8")
    wh = tmp_path / "itip.duckdb"
    outcomes = ingest(raw_dir=raw, warehouse=wh, codebook_path=codebook_path)
    assert {o.status for o in outcomes} == {lib.LOADED}, [o.problems for o in outcomes]
    got = trend_rows(
        wh,
        "SELECT answer, year, base, prev_year, change_pp, comparable_with_prev, change_p_value, "
        "change_significant, break_reason FROM trend "
        "WHERE indicator = 'benefits_realised' AND segment = 'all' AND year = 2024 ORDER BY answer",
    )
    assert [r[0] for r in got] == ["high", "low", "some"]
    for answer, _, base, prev_year, change, comparable, p, significant, reason in got:
        assert base == "answered" and prev_year == 2023, answer
        assert change is not None  # the difference is shown ...
        assert comparable is False and p is None and significant is None, answer  # ... never tested
        assert reason == "Answer base differs: with_dont_know in 2023, answered in 2024", answer
    published = trend_rows(
        wh, "SELECT DISTINCT base FROM trend WHERE indicator = 'benefits_realised' AND kind = 'published'"
    )
    assert published == [("with_dont_know",)]
    # the report draws the break and says why
    from itip.codebook import load_codebook
    from itip.report.build import write_report
    from tests.integration.test_report import card, parse, squash

    report = write_report(wh, tmp_path / "report-en", lang="en", codebook=load_codebook(codebook_path))
    notes = card(parse(report.path.read_text(encoding="utf-8")), "benefits_realised", answer="high").find(
        "p", "breaknote"
    )
    assert any("Answer base differs: with_dont_know in 2023, answered in 2024" in squash(n.text) for n in notes)
