"""Release files as Norwegian publishers really write them: every convention here must load."""

from __future__ import annotations

import functools
import io
import math
import re
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from itip.codebook import Codebook, load_codebook
from itip.release import check_release

SRC = "https://example.org/itip"
TRUST_2021 = (
    "I hvilken grad har du tillit til at digitale løsninger fra offentlige myndigheter "
    "ivaretar dine opplysninger på en trygg måte?"
)
BENEFITS = "lykkes i å realisere planlagte gevinster i {} grad"


@functools.cache
def _codebook() -> Codebook:
    return load_codebook()


def load(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> pd.DataFrame:
    """Write a release file, check it, insist it is clean and return its estimates."""
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    result = check_release(path, _codebook())
    assert result.problems == []
    assert result.ok
    return result.estimates


def workbook(sheets: dict[str, list[list[object]]]) -> openpyxl.Workbook:
    """An .xlsx with the given sheets in order; returned unsaved so cells can be formatted."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    return wb


# --- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["utf8", "utf8-bom"])
def test_utf8_with_or_without_bom_loads(tmp_path: Path, bom: str) -> None:
    """Excel's 'CSV UTF-8' adds a BOM, other tools do not; both load and the first header is found."""
    text = f"{bom}year,survey,indicator,value,source\n2020,citizens,trust_personal_data_safe,47,{SRC}\n"
    est = load(tmp_path, "itip_2020.csv", text)
    assert est[["year", "survey", "indicator", "value"]].to_dict("records") == [
        {"year": 2020, "survey": "citizens", "indicator": "trust_personal_data_safe", "value": 47.0}
    ]


def test_windows_1252_with_norwegian_headers_and_letters_loads(tmp_path: Path) -> None:
    """A Norwegian Excel 'CSV (semikolondelt)' export in Windows-1252 reads æøå and the en dash correctly."""
    text = (
        "År;Undersøkelse;Gruppe;Indikator;Andel;Merknad;Antall;Kilde\n"
        f"2020;virksomheter;statlige;data_secured_well_enough;36,4;ca.;1 000;Rambøll for {SRC}\n"
        f"2020;innbyggere;16–24 år;trust_personal_data_safe;47;;;{SRC}\n"
    )
    est = load(tmp_path, "itip_2020.csv", text, encoding="cp1252")
    first, second = est.to_dict("records")
    assert (first["survey"], first["segment"], first["value"]) == ("organisations", "state", 36.4)
    assert (first["qualifier"], first["n"]) == ("approx", 1000)
    assert first["source"] == f"Rambøll for {SRC}"
    assert (second["survey"], second["segment"]) == ("citizens", "age_16_24")


def test_utf16_excel_unicode_text_loads(tmp_path: Path) -> None:
    """Excel's 'Unicode text' (UTF-16 with BOM, tab-separated, CRLF) loads."""
    text = (
        f"År\tUndersøkelse\tIndikator\tAndel\tKilde\r\n2020\tvirksomheter\tdata_secured_well_enough\t36,4 %\t{SRC}\r\n"
    )
    est = load(tmp_path, "itip_2020.csv", text, encoding="utf-16")
    assert est.loc[0, "survey"] == "organisations"
    assert est.loc[0, "value"] == 36.4


# --- separators and numbers --------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_any_common_separator_loads(tmp_path: Path, sep: str) -> None:
    """Comma, semicolon and tab separated files all load the same figures."""
    rows = [
        ["year", "survey", "segment", "indicator", "value", "source"],
        ["2020", "virksomheter", "kommuner", "data_secured_well_enough", "60", SRC],
        ["2020", "virksomheter", "statlige", "good_information_security", "84", SRC],
    ]
    est = load(tmp_path, "itip_2020.csv", "".join(sep.join(r) + "\n" for r in rows))
    assert est[["segment", "indicator", "value"]].values.tolist() == [
        ["municipalities", "data_secured_well_enough", 60.0],
        ["state", "good_information_security", 84.0],
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("36,4", 36.4), ("36.4", 36.4), ("47 %", 47.0), ("47%", 47.0), ("47\u00a0%", 47.0), ("0", 0.0), ("100", 100.0)],
)
def test_percent_spellings_are_read_as_numbers(tmp_path: Path, cell: str, expected: float) -> None:
    """Decimal comma, decimal point and a trailing per cent sign are all the same number."""
    text = f"survey;indicator;value;source\ncitizens;trust_personal_data_safe;{cell};{SRC}\n"
    est = load(tmp_path, "itip_2020.csv", text)
    assert est.loc[0, "value"] == expected
    assert est.loc[0, "value_status"] == "published"


def test_decimal_comma_quoted_in_a_comma_separated_file(tmp_path: Path) -> None:
    """`"36,4"` in a comma-separated file is one cell holding 36.4."""
    text = f'survey,indicator,value,source\ncitizens,trust_personal_data_safe,"36,4",{SRC}\n'
    assert load(tmp_path, "itip_2020.csv", text).loc[0, "value"] == 36.4


def test_respondent_count_with_thousands_space_gives_a_wilson_interval(tmp_path: Path) -> None:
    """`1 000` respondents is n = 1000, and a published share with n gets a 95 % interval around it."""
    text = (
        "survey;indicator;value;n;source\n"
        f"citizens;trust_personal_data_safe;47;1 000;{SRC}\n"
        f"citizens;trust_rights_safeguarded;52;;{SRC}\n"
    )
    with_n, without_n = load(tmp_path, "itip_2020.csv", text).to_dict("records")
    assert with_n["n"] == 1000
    assert with_n["ci_low"] < with_n["value"] < with_n["ci_high"]
    assert with_n["ci_low"] == pytest.approx(43.92, abs=0.01)
    assert with_n["ci_high"] == pytest.approx(50.10, abs=0.01)
    assert pd.isna(without_n["n"])
    assert math.isnan(without_n["ci_low"]) and math.isnan(without_n["ci_high"])


# --- headers and vocabulary --------------------------------------------------------------


def test_header_names_ignore_case_and_surrounding_spaces(tmp_path: Path) -> None:
    """` YEAR `, `Survey`, `INDIKATOR` and `  Andel ` are the columns they name."""
    text = f" YEAR , Survey ,INDIKATOR,  Andel ,KILDE \n2020,innbyggere,trust_personal_data_safe,36.4,{SRC}\n"
    est = load(tmp_path, "itip_2020.csv", text)
    assert est.loc[0, ["year", "survey", "indicator", "value", "source"]].tolist() == [
        2020,
        "citizens",
        "trust_personal_data_safe",
        36.4,
        SRC,
    ]


def test_norwegian_vocabulary_maps_to_codebook_ids(tmp_path: Path) -> None:
    """innbyggere/virksomheter, alle/kommuner and `i underkant av`/`ca.` resolve to codebook ids."""
    text = (
        "survey;segment;indicator;value;qualifier;source\n"
        f"innbyggere;alle;trust_personal_data_safe;47;i underkant av;{SRC}\n"
        f"virksomheter;kommuner;data_secured_well_enough;60;ca.;{SRC}\n"
        f"Virksomheter;Alle;data_secured_well_enough;55;CA;{SRC}\n"
    )
    est = load(tmp_path, "itip_2020.csv", text)
    assert est[["survey", "segment", "qualifier"]].values.tolist() == [
        ["citizens", "all", "below"],
        ["organisations", "municipalities", "approx"],
        ["organisations", "all", "approx"],
    ]


@pytest.mark.parametrize(
    "text",
    [
        f"survey,indicator,value,source\ncitizens,trust_personal_data_safe,47,{SRC}\n",
        f"survey,segment,indicator,value,source\ncitizens,,trust_personal_data_safe,47,{SRC}\n",
    ],
    ids=["no-segment-column", "empty-segment-cell"],
)
def test_segment_defaults_to_all(tmp_path: Path, text: str) -> None:
    """A figure with no respondent group is the figure for everyone (`all`)."""
    assert load(tmp_path, "itip_2020.csv", text).loc[0, "segment"] == "all"


@pytest.mark.parametrize(
    "question",
    [
        TRUST_2021,
        TRUST_2021.upper(),
        TRUST_2021.rstrip("?"),
        "  " + TRUST_2021.replace(" ", "   ") + "  ",
        TRUST_2021 + "??",
    ],
    ids=["exact", "upper-case", "no-question-mark", "extra-spaces", "extra-question-marks"],
)
def test_question_only_row_is_mapped_by_codebook_alias(tmp_path: Path, question: str) -> None:
    """A file that gives only the published wording lands on the indicator, whatever the case or spacing."""
    text = f'survey,question,value,source\ninnbyggere,"{question}",47,{SRC}\n'
    est = load(tmp_path, "itip_2021.csv", text)
    assert est.loc[0, "indicator"] == "trust_personal_data_safe"
    assert pd.isna(est.loc[0, "answer"])


def test_distribution_wording_implies_the_answer(tmp_path: Path) -> None:
    """Each wording of a published distribution names its answer option (high/some/low)."""
    text = "survey;question;value;n;source\n" + "".join(
        f"virksomheter;{BENEFITS.format(degree)};{value};251;{SRC}\n"
        for degree, value in [("stor eller svært stor", 10), ("noen", 71), ("liten eller svært liten", 13)]
    )
    est = load(tmp_path, "itip_2023.csv", text)
    assert est[["indicator", "answer", "value"]].values.tolist() == [
        ["benefits_realised", "high", 10.0],
        ["benefits_realised", "some", 71.0],
        ["benefits_realised", "low", 13.0],
    ]
    assert (est["year"] == 2023).all()


# --- SSB symbols -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "value", "status"),
    [
        (":", None, "suppressed"),
        ("..", None, "missing"),
        ("...", None, "missing"),
        (".", None, "not_applicable"),
        ("-", 0.0, "nil"),
    ],
)
def test_ssb_symbols_in_value_cells(tmp_path: Path, symbol: str, value: float | None, status: str) -> None:
    """SSB's symbols load with their meaning; only `-` (nil) is a zero, a suppressed figure never is."""
    text = f"survey;indicator;value;n;source\nvirksomheter;data_secured_well_enough;{symbol};200;{SRC}\n"
    row = load(tmp_path, "itip_2020.csv", text).iloc[0]
    assert row["value_status"] == status
    if value is None:
        assert math.isnan(row["value"])
        assert math.isnan(row["ci_low"])
    else:
        assert row["value"] == value


# --- row numbers -------------------------------------------------------------------------


def test_csv_row_numbers_count_title_blank_and_multiline_rows(tmp_path: Path) -> None:
    """source_row is the line a person sees: title, blank and header lines count, as do a note's line breaks."""
    text = (
        "IT i praksis 2020\n"  # 1
        "Tabell 3\n"  # 2
        "\n"  # 3
        "year,survey,indicator,value,source,note\n"  # 4
        f'2020,innbyggere,trust_personal_data_safe,47,{SRC},"first line\nsecond line"\n'  # 5-6
        f"2020,innbyggere,trust_rights_safeguarded,52,{SRC},\n"  # 7
    )
    est = load(tmp_path, "itip_2020.csv", text)
    assert est["source_row"].tolist() == [5, 7]
    assert est.loc[0, "note"] == "first line\nsecond line"


# --- spreadsheets ------------------------------------------------------------------------


def test_xlsx_reads_the_tall_sheet_below_its_title_rows(tmp_path: Path) -> None:
    """A workbook with a cover sheet first, title rows above the header and a 47 % cell formatted 0% loads."""
    path = tmp_path / "itip_2022.xlsx"
    wb = workbook(
        {
            "Forside": [["IT i praksis 2022"], ["Se arket 'tall'"]],
            "tall": [
                ["IT i praksis 2022"],  # 1
                ["Kilde: Rambøll"],  # 2
                [],  # 3
                ["Undersøkelse", "Indikator", "Andel", "Antall", "Kilde"],  # 4
                ["innbyggere", "digital_skills_medium_or_better", 0.47, 1000, SRC],  # 5
                ["innbyggere", "digital_skills_below_medium", 12, None, SRC],  # 6
            ],
        },
    )
    wb["tall"]["C5"].number_format = "0%"
    wb.save(path)
    est = load(tmp_path, path.name, path.read_bytes())
    assert est[["source_row", "indicator", "value"]].values.tolist() == [
        [5, "digital_skills_medium_or_better", 47.0],
        [6, "digital_skills_below_medium", 12.0],
    ]
    assert (est["year"] == 2022).all()


def test_xlsx_reads_the_data_sheet(tmp_path: Path) -> None:
    """A sheet named `data` is the one read, even when another sheet comes first."""
    path = tmp_path / "itip_2021.xlsx"
    wb = workbook(
        {
            "Notater": [["Tallene er hentet fra rapporten"]],
            "data": [["survey", "indicator", "value", "source"], ["virksomheter", "data_reuse_high", 0.364, SRC]],
        },
    )
    wb["data"]["C2"].number_format = "0.0%"
    wb.save(path)
    est = load(tmp_path, path.name, path.read_bytes())
    assert est[["source_row", "survey", "indicator", "value"]].values.tolist() == [
        [2, "organisations", "data_reuse_high", 36.4]
    ]


def test_xlsx_with_a_wrong_sheet_dimension_still_loads(tmp_path: Path) -> None:
    """A workbook from an exporter that writes the sheet size as just `A1` loads all its rows."""
    path = tmp_path / "itip_2022.xlsx"
    workbook(
        {
            "tall": [
                ["survey", "indicator", "value", "source"],
                ["innbyggere", "digital_skills_medium_or_better", 55, SRC],
            ]
        }
    ).save(path)
    original = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                content, count = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1"/>', content)
                assert count == 1
            dst.writestr(item, content)
    est = load(tmp_path, path.name, path.read_bytes())
    assert est["source_row"].tolist() == [2]


def test_decomposed_unicode_header_names_are_recognised(tmp_path: Path) -> None:
    """`Spørsmål` written with a decomposed å (NFD) is still the question column."""
    text = f"Undersøkelse;Spørsmål;Andel;Kilde\ninnbyggere;vurderer ferdighetene som under middels;12;{SRC}\n"
    est = load(tmp_path, "itip_2022.csv", unicodedata.normalize("NFD", text))
    assert est.loc[0, "indicator"] == "digital_skills_below_medium"
