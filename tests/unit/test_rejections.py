"""Every rejection rule: the user is told the exact row, column and rule, and nothing of the file loads."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import openpyxl
import pytest

from itip.checked import Checked
from itip.codebook import Codebook, load_codebook
from itip.problems import Problem
from itip.release import check_release

SRC = "https://example.org/itip"
BENEFITS = {
    "high": "lykkes i å realisere planlagte gevinster i stor eller svært stor grad",
    "some": "lykkes i å realisere planlagte gevinster i noen grad",
    "low": "lykkes i å realisere planlagte gevinster i liten eller svært liten grad",
}


@functools.cache
def _codebook() -> Codebook:
    return load_codebook()


def check(folder: Path, name: str, content: str | bytes) -> Checked:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return check_release(path, _codebook())


def rejected(folder: Path, name: str, content: str | bytes) -> list[Problem]:
    """Check a file that must be refused as a whole; return its problems."""
    result = check(folder, name, content)
    assert not result.ok
    assert result.estimates.empty, "nothing of a rejected file may load"
    return result.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def row(value: str = "47", indicator: str = "trust_personal_data_safe", survey: str = "innbyggere") -> str:
    """A one-figure file with a value cell of our choosing (semicolon-separated)."""
    return f"year;survey;indicator;value;source\n2020;{survey};{indicator};{value};{SRC}\n"


# --- value and n -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["101", "-1", "100,5", "470 %"])
def test_value_outside_0_to_100(tmp_path: Path, value: str) -> None:
    """A share above 100 % or below 0 % is refused at its cell."""
    p = only(rejected(tmp_path, "itip_2020.csv", row(value)))
    assert (p.row, p.column, p.check) == (2, "value", "in_range(0, 100)")
    assert "is outside 0-100" in p.message


@pytest.mark.parametrize("value", ["abc", "47 prosent", "ca. 47", "1e3", "47,5,1"])
def test_value_not_a_number(tmp_path: Path, value: str) -> None:
    """Text where a percentage belongs is refused with the accepted spellings."""
    p = only(rejected(tmp_path, "itip_2020.csv", row(value)))
    assert (p.row, p.column, p.check, p.value) == (2, "value", "value_format", value)
    assert "not a percentage" in p.message


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-inf", "Infinity"])
def test_value_nan_or_infinity_text(tmp_path: Path, value: str) -> None:
    """`NaN` or `inf` written by a program is not a published figure."""
    p = only(rejected(tmp_path, "itip_2020.csv", row(value)))
    assert (p.row, p.column, p.check) == (2, "value", "value_format")


def test_empty_value_cell(tmp_path: Path) -> None:
    """An empty value cell is refused and the user is pointed at SSB's symbols instead."""
    p = only(rejected(tmp_path, "itip_2020.csv", row("")))
    assert (p.row, p.column, p.check) == (2, "value", "value_format")
    assert "value is empty" in p.message and "'..'" in p.message


@pytest.mark.parametrize("n", ["0", "-5", "2,5", "2.5", "mange", "1 00", "10 0000"])
def test_n_not_a_positive_whole_number(tmp_path: Path, n: str) -> None:
    """A respondent count must be a positive whole number."""
    text = f"survey;indicator;value;n;source\ninnbyggere;trust_personal_data_safe;47;{n};{SRC}\n"
    p = only(rejected(tmp_path, "itip_2020.csv", text))
    assert (p.row, p.column, p.check, p.value) == (2, "n", "n_format", n)
    assert "positive whole number" in p.message


# --- codebook ----------------------------------------------------------------------------


def test_unknown_indicator_names_the_closest_codebook_entry(tmp_path: Path) -> None:
    """A misspelt indicator id is refused with the id the user probably meant."""
    p = only(rejected(tmp_path, "itip_2020.csv", row(indicator="trust_personal_dta_safe")))
    assert (p.row, p.column, p.check, p.value) == (2, "indicator", "indicator_known", "trust_personal_dta_safe")
    assert "closest codebook entry: 'trust_personal_data_safe'" in p.message


def test_unmatched_question_names_the_closest_wording(tmp_path: Path) -> None:
    """A wording the codebook does not know is refused with the nearest known wording and its indicator."""
    text = (
        "survey;question;value;source\n"
        "innbyggere;I hvilken grad har du tillit til at digitale løsninger ivaretar dine opplysninger;47;"
        f"{SRC}\n"
    )
    p = only(rejected(tmp_path, "itip_2021.csv", text))
    assert (p.row, p.column, p.check) == (2, "question", "question_unmatched")
    assert "trust_personal_data_safe" in p.message
    assert "i hvilken grad har du tillit til at digitale løsninger fra offentlige myndigheter" in p.message
    assert "add it as an alias" in p.message


def test_question_and_indicator_disagree(tmp_path: Path) -> None:
    """A row whose question is the wording of another indicator is refused at the question."""
    text = (
        "survey;indicator;question;value;source\n"
        f"virksomheter;good_information_security;opplever at de har sikret sine data godt nok;60;{SRC}\n"
    )
    p = only(rejected(tmp_path, "itip_2020.csv", text))
    assert (p.row, p.column, p.check) == (2, "question", "question_indicator")
    assert "'data_secured_well_enough'" in p.message and "'good_information_security'" in p.message


def test_survey_contradicts_the_indicators_survey(tmp_path: Path) -> None:
    """A citizen indicator filed under the organisation survey is refused."""
    p = only(rejected(tmp_path, "itip_2020.csv", row(survey="virksomheter")))
    assert (p.row, p.column, p.check) == (2, "survey", "survey_matches_indicator")
    assert "does not match the indicator's survey" in p.message


@pytest.mark.parametrize(
    ("column", "cell", "check_name", "phrase"),
    [
        ("survey", "foretak", "survey_known", "unknown survey 'foretak'"),
        ("segment", "fylker", "segment_known", "unknown segment 'fylker'"),
        ("qualifier", "nesten", "qualifier_known", "unknown qualifier 'nesten'"),
    ],
)
def test_unknown_vocabulary(tmp_path: Path, column: str, cell: str, check_name: str, phrase: str) -> None:
    """A survey, segment or qualifier the codebook does not know is refused with the word as written."""
    cells = {"survey": "innbyggere", "segment": "alle", "qualifier": "ca.", column: cell}
    text = (
        "survey;segment;indicator;value;qualifier;source\n"
        f"{cells['survey']};{cells['segment']};trust_personal_data_safe;47;{cells['qualifier']};{SRC}\n"
    )
    p = only(rejected(tmp_path, "itip_2020.csv", text))
    assert (p.row, p.column, p.check, p.value) == (2, column, check_name, cell)
    assert phrase in p.message


def test_answer_not_an_option_of_the_indicator(tmp_path: Path) -> None:
    """An answer id the indicator does not have is refused."""
    text = f"survey;indicator;answer;value;source\nvirksomheter;benefits_realised;medium;40;{SRC}\n"
    p = only(rejected(tmp_path, "itip_2023.csv", text))
    assert (p.row, p.column, p.check) == (2, "answer", "answer_known")


def test_answer_contradicts_the_wording(tmp_path: Path) -> None:
    """An answer column that says `high` next to the wording for `some` is refused."""
    text = f"survey;question;answer;value;source\nvirksomheter;{BENEFITS['some']};high;71;{SRC}\n"
    p = only(rejected(tmp_path, "itip_2023.csv", text))
    assert (p.row, p.column, p.check) == (2, "answer", "answer_question")
    assert "'some'" in p.message


# --- keys and file-level consistency -----------------------------------------------------


def test_duplicate_key_reports_both_rows(tmp_path: Path) -> None:
    """The same figure twice is ambiguous: both rows are named, each pointing at the other."""
    text = row("47") + f"2020;innbyggere;trust_personal_data_safe;48;{SRC}\n"
    problems = rejected(tmp_path, "itip_2020.csv", text)
    assert [(p.row, p.column, p.check) for p in problems] == [(2, None, "duplicate_key"), (3, None, "duplicate_key")]
    assert "repeat row 3" in problems[0].message
    assert "repeat row 2" in problems[1].message


def test_empty_segment_and_alle_are_the_same_key(tmp_path: Path) -> None:
    """An empty segment means `all`, so it collides with a row that says `alle`."""
    text = (
        "survey;segment;indicator;value;source\n"
        f"innbyggere;;trust_personal_data_safe;47;{SRC}\n"
        f"innbyggere;alle;trust_personal_data_safe;48;{SRC}\n"
    )
    problems = rejected(tmp_path, "itip_2020.csv", text)
    assert [(p.row, p.check) for p in problems] == [(2, "duplicate_key"), (3, "duplicate_key")]


def test_year_contradicts_the_file_name(tmp_path: Path) -> None:
    """A 2019 row in itip_2020.csv is refused: the file name decides the edition."""
    text = f"year;survey;indicator;value;source\n2019;innbyggere;trust_personal_data_safe;47;{SRC}\n"
    p = only(rejected(tmp_path, "itip_2020.csv", text))
    assert (p.row, p.column, p.check, p.value) == (2, "year", "year_matches_file", "2019")
    assert "contradicts the year in the file name (2020)" in p.message


def test_empty_source(tmp_path: Path) -> None:
    """Every figure must cite its publication."""
    text = "year;survey;indicator;value;source\n2020;innbyggere;trust_personal_data_safe;47;\n"
    p = only(rejected(tmp_path, "itip_2020.csv", text))
    assert (p.row, p.column, p.check) == (2, "source", "str_length(1, None)")
    assert p.message == "source is empty"


@pytest.mark.parametrize(
    ("header", "cells", "phrase"),
    [
        ("year;indicator;value;source", "2020;trust_personal_data_safe;47;x", "survey / undersøkelse"),
        ("year;survey;indicator;value", "2020;innbyggere;trust_personal_data_safe;47", "source / kilde"),
        ("year;survey;value;source", "2020;innbyggere;47;x", "indicator/indikator or question/spørsmål"),
    ],
    ids=["survey", "source", "indicator-or-question"],
)
def test_missing_required_column(tmp_path: Path, header: str, cells: str, phrase: str) -> None:
    """A file without a required column is refused at its header row, naming the column in both languages."""
    p = only(rejected(tmp_path, "itip_2020.csv", f"Tittel\n{header}\n{cells}\n"))
    assert (p.row, p.column, p.check) == (2, None, "missing_column")
    assert f"required column {phrase} is missing" in p.message


def test_missing_value_column_means_no_header_is_found(tmp_path: Path) -> None:
    """Without a value/andel column no row looks like a header; the message names the columns expected."""
    text = "year;survey;indicator;source\n2020;innbyggere;trust_personal_data_safe;x\n"
    p = only(rejected(tmp_path, "itip_2020.csv", text))
    assert (p.row, p.column, p.check) == (None, None, "header")
    assert "value/andel" in p.message


# --- published distributions -------------------------------------------------------------


def distribution(high: float, some: float, low: float, segment: str = "alle") -> str:
    return "".join(
        f"virksomheter;{segment};{BENEFITS[answer]};{str(value).replace('.', ',')};{SRC}\n"
        for answer, value in [("high", high), ("some", some), ("low", low)]
    )


HEADER = "survey;segment;question;value;source\n"


@pytest.mark.parametrize(("shares", "total"), [((40, 50, 20), "110"), ((34, 34, 34), "102"), ((34.5, 34, 34), "102.5")])
def test_distribution_summing_over_100_beyond_rounding(tmp_path: Path, shares: tuple[float, ...], total: str) -> None:
    """Shares of one distribution that add up to more than 100 % (plus 0.5 per share) are all refused."""
    problems = rejected(tmp_path, "itip_2023.csv", HEADER + distribution(*shares))
    assert [(p.row, p.column, p.check) for p in problems] == [(r, "value", "distribution_sum") for r in (2, 3, 4)]
    assert f"the shares of benefits_realised (all) sum to {total} %" in problems[0].message


@pytest.mark.parametrize("shares", [(10, 71, 13), (34, 33, 34), (33.5, 33.5, 33.5)], ids=["94", "101", "100.5"])
def test_distribution_within_rounding_is_accepted(tmp_path: Path, shares: tuple[float, ...]) -> None:
    """Shares below 100 % (don't know) or over it only by rounding load."""
    result = check(tmp_path, "itip_2023.csv", HEADER + distribution(*shares))
    assert result.problems == []
    assert result.estimates["answer"].tolist() == ["high", "some", "low"]


def test_distribution_sum_is_per_segment(tmp_path: Path) -> None:
    """Only the segment whose shares overflow is refused; the rows are those of that segment."""
    text = HEADER + distribution(10, 71, 13) + distribution(40, 50, 20, segment="kommuner")
    problems = rejected(tmp_path, "itip_2023.csv", text)
    assert [(p.row, p.check) for p in problems] == [
        (5, "distribution_sum"),
        (6, "distribution_sum"),
        (7, "distribution_sum"),
    ]
    assert "(municipalities) sum to 110 %" in problems[0].message


# --- files that cannot be read -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "row_number", "phrase"),
    [
        ("", None, "is empty"),
        ("\n \n\n", None, "has no content"),
        ("year;survey;indicator;value;source\n", 1, "has a header but no data rows"),
        ("IT i praksis 2020\nyear;survey;indicator;value;source\n\n\n", 2, "has a header but no data rows"),
    ],
    ids=["zero-bytes", "blank-lines", "header-only", "title-and-header-only"],
)
def test_file_without_figures(tmp_path: Path, content: str, row_number: int | None, phrase: str) -> None:
    """An empty or header-only file is refused, not loaded as an edition with no figures."""
    p = only(rejected(tmp_path, "itip_2020.csv", content))
    assert (p.row, p.column, p.check) == (row_number, None, "empty")
    assert phrase in p.message


def test_binary_junk_named_csv(tmp_path: Path) -> None:
    """A binary file with a .csv name is refused as not being text."""
    p = only(rejected(tmp_path, "itip_2020.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))))
    assert (p.row, p.column, p.check) == (None, None, "format")
    assert "looks binary" in p.message


def test_spreadsheet_saved_with_a_csv_name(tmp_path: Path) -> None:
    """An .xlsx renamed to .csv is refused with a hint to save it as .xlsx."""
    wb = openpyxl.Workbook()
    wb.active.append(["survey", "indicator", "value", "source"])
    buffer = io.BytesIO()
    wb.save(buffer)
    p = only(rejected(tmp_path, "itip_2020.csv", buffer.getvalue()))
    assert (p.row, p.column, p.check) == (None, None, "format")
    assert "zip archive" in p.message and ".xlsx" in p.message


def test_text_file_with_an_xlsx_name(tmp_path: Path) -> None:
    """A CSV renamed to .xlsx is refused as not being a workbook."""
    p = only(rejected(tmp_path, "itip_2020.xlsx", row()))
    assert (p.row, p.column, p.check) == (None, None, "format")
    assert "not an .xlsx workbook" in p.message


@pytest.mark.parametrize(
    "name", ["itip2020.csv", "itip_20.csv", "itip_2020.txt", "release_2020.csv", "itip_2020 (1).csv"]
)
def test_file_name_not_itip_year(tmp_path: Path, name: str) -> None:
    """Only itip_<YEAR>.csv / .xlsx are releases: the year comes from the name."""
    result = check(tmp_path, name, row())
    assert result.estimates.empty
    p = only(result.problems)
    assert (p.file, p.row, p.column, p.check) == (name, None, None, "file_name")
    assert "itip_<YEAR>.csv or itip_<YEAR>.xlsx" in p.message


# --- all at once -------------------------------------------------------------------------


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    """One round of fixes: one problem per bad cell, in file order, none hidden behind another."""
    text = (
        "year;survey;segment;indicator;value;qualifier;n;source\n"
        f"2020;innbyggere;alle;trust_personal_data_safe;101;;;{SRC}\n"
        f"2020;innbyggere;kommuner;trust_personal_data_safe;abc;;;{SRC}\n"
        f"2020;innbyggere;statlige;trust_personal_data_safe;47;;0;{SRC}\n"
        f"2020;innbyggere;alle;trust_personal_dta_safe;47;;;{SRC}\n"
        "2020;innbyggere;16-24;trust_personal_data_safe;47;;;\n"
        f"2019;innbyggere;67+;trust_personal_data_safe;47;;;{SRC}\n"
        f"2020;foretak;alle;trust_rights_safeguarded;47;;;{SRC}\n"
        f"2020;innbyggere;fylker;trust_rights_safeguarded;150;nesten;-3;{SRC}\n"
        f"2020;innbyggere;kommuner;trust_rights_safeguarded;:;;;{SRC}\n"
    )
    problems = rejected(tmp_path, "itip_2020.csv", text)
    assert [(p.row, p.column, p.check) for p in problems] == [
        (2, "value", "in_range(0, 100)"),
        (3, "value", "value_format"),
        (4, "n", "n_format"),
        (5, "indicator", "indicator_known"),
        (6, "source", "str_length(1, None)"),
        (7, "year", "year_matches_file"),
        (8, "survey", "survey_known"),
        (9, "n", "n_format"),
        (9, "qualifier", "qualifier_known"),
        (9, "segment", "segment_known"),
        (9, "value", "in_range(0, 100)"),
    ]
    assert all(p.file == "itip_2020.csv" for p in problems)


# --- known bugs --------------------------------------------------------------------------


def test_absurdly_large_n_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """A respondent count too large for any survey is reported at its cell, not a traceback."""
    text = f"survey;indicator;value;n;source\ninnbyggere;trust_personal_data_safe;47;99999999999999999999;{SRC}\n"
    p = only(rejected(tmp_path, "itip_2020.csv", text))
    assert (p.row, p.column, p.check) == (2, "n", "n_format")


def test_distribution_message_gives_the_real_total_when_the_year_is_unreadable(tmp_path: Path) -> None:
    """Next to an unreadable year, an overflowing distribution still reports what its shares add up to."""
    text = "year;survey;question;value;source\n" + "".join(
        f"20x3;virksomheter;{wording};60;{SRC}\n" for wording in BENEFITS.values()
    )
    problems = rejected(tmp_path, "itip_2023.csv", text)
    assert [(p.row, p.check) for p in problems if p.column == "year"] == [(r, "year_format") for r in (2, 3, 4)]
    sums = [p.message for p in problems if p.check == "distribution_sum"]
    assert all("sum to 180 %" in m for m in sums), sums


@pytest.mark.parametrize("value", ["4 7", "3 6,4"])
def test_spaces_inside_a_value_are_not_ignored(tmp_path: Path, value: str) -> None:
    """'4 7' is a typo, not 47."""
    p = only(rejected(tmp_path, "itip_2020.csv", row(value)))
    assert (p.row, p.column, p.check) == (2, "value", "value_format")


def test_distribution_row_without_answer(tmp_path: Path) -> None:
    """A figure of a distribution indicator must say which answer option it is."""
    text = f"survey;indicator;value;n;source\nvirksomheter;benefits_realised;10;251;{SRC}\n"
    p = only(rejected(tmp_path, "itip_2023.csv", text))
    assert (p.row, p.column, p.check) == (2, "answer", "answer_known")
    assert "high, some, low" in p.message
