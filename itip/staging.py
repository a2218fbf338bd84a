"""Staging: a file's text cells, renamed to stable columns and cast to types.

Every cell that cannot be read as what its column means becomes a problem that
names file, row and column; the cell itself becomes NULL so the remaining checks
still run and the user sees every problem of the file at once.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Callable

import pandas as pd

from itip.problems import Problem
from itip.reading import Table

#: Accepted header names per stable column (compared case-insensitively).
HEADERS: dict[str, tuple[str, ...]] = {
    "year": ("year", "år", "aar", "årgang"),
    "survey": ("survey", "undersøkelse", "undersokelse"),
    "segment": ("segment", "gruppe"),
    "indicator": ("indicator", "indikator"),
    "question": ("question", "spørsmål", "sporsmal"),
    "answer": ("answer", "svar", "svaralternativ"),
    "value": ("value", "andel", "verdi", "prosent"),
    "qualifier": ("qualifier", "merknad"),
    "n": ("n", "antall", "antall svar"),
    "source": ("source", "kilde"),
    "note": ("note", "notat", "kommentar"),
    "inferred": ("inferred", "utledet"),
    "preferred": ("preferred", "foretrukket"),
}
COLUMNS = tuple(HEADERS)
_BY_NAME = {name: col for col, names in HEADERS.items() for name in names}

#: SSB's symbols for a value cell that holds no number, and the status stored.
VALUE_SYMBOLS = {":": "suppressed", "..": "missing", "...": "missing", ".": "not_applicable", "-": "nil"}

# Digits are 0-9 only (re.ASCII): Python's \d and float() also take Arabic-Indic or
# full-width digits, which no Norwegian publisher writes and a reader would not see as 47.
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$", re.ASCII)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_COUNT = re.compile(r"\d{1,3}( \d{3})+|\d+", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)
#: Separators a row may have been written with (as in itip.reading).
_SEPARATORS = ";\t,"
_SPELLED = {";": "';'", ",": "','", "\t": "tab"}

#: Spellings of a yes/no cell (columns inferred and preferred); an empty cell is no.
FLAG_WORDS = {
    **dict.fromkeys(("yes", "ja", "true", "sann", "1", "x"), True),
    **dict.fromkeys(("no", "nei", "false", "usann", "0", ""), False),
}

#: Largest plausible number of respondents (Norway has about 5.6 million people).
MAX_N = 100_000_000


def header_key(name: str) -> str | None:
    """The stable column for a header cell; Unicode-normalised, since macOS writes å as a + ring."""
    return _BY_NAME.get(_SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold())


def is_header(cells: list[str]) -> bool:
    """A row is the header when it names the value column and at least two other known columns."""
    keys = {header_key(c) for c in cells if c}
    return "value" in keys and len(keys - {None}) >= 3


def parse_percent(text: str) -> tuple[float | None, str, str | None]:
    """(value, status, error) for a value cell: `47`, `47 %`, `36,4`, `36.4`, or an SSB symbol."""
    cleaned = _SPACES.sub(" ", text).strip()
    if cleaned in VALUE_SYMBOLS:
        status = VALUE_SYMBOLS[cleaned]
        return (0.0 if status == "nil" else None), status, None
    if cleaned == "":
        return None, "invalid", "value is empty (use '..' for missing, ':' for suppressed)"
    number = cleaned.removesuffix("%").rstrip()
    if not _NUMBER.match(number):
        return None, "invalid", "value is not a percentage (expected e.g. 47, 47 %, 36,4)"
    value = float(number.replace(",", ".")) + 0.0  # + 0.0: `-0` is 0, not -0.0
    if not math.isfinite(value):
        return None, "invalid", "value is not a finite number"
    return value, "published", None


def parse_count(text: str) -> tuple[int | None, str | None]:
    """(n, error) for a respondent count: a positive whole number; `1 000` (thousands
    separated by a space, as Norwegian texts write them) is allowed, `1 00` is not."""
    cleaned = _SPACES.sub(" ", text).strip()
    if cleaned == "":
        return None, None
    if not _COUNT.fullmatch(cleaned):
        return None, "n must be a positive whole number of respondents"
    n = int(cleaned.replace(" ", ""))
    if n <= 0:
        return None, "n must be a positive whole number of respondents"
    if n > MAX_N:
        return None, f"n is larger than any survey could have (at most {MAX_N:,})".replace(",", " ")
    return n, None


def parse_flag(text: str) -> tuple[bool, str | None]:
    """(flag, error) for a yes/no cell: `yes`/`ja`/`x`/`1` or `no`/`nei`/`0`/empty."""
    flag = FLAG_WORDS.get(_SPACES.sub(" ", text).strip().casefold())
    if flag is None:
        return False, "must be yes/ja or no/nei (or empty for no)"
    return flag, None


def other_separator(cells: list[str], delimiter: str | None, width: int) -> str | None:
    """The separator a short row was written with when it is not the file's: a
    `,` row in a `;` file reads as one cell, and would otherwise be reported as
    an unknown survey, an empty value and an empty source."""
    if delimiter is None or len(cells) >= width:
        return None
    line = delimiter.join(cells)
    for other in _SEPARATORS:
        if other != delimiter:
            split = next(csv.reader([line], delimiter=other), [])
            if len(split) > len(cells) and len(split) >= width - 1:
                return other
    return None


def header_positions(
    table: Table, key_of: Callable[[str], str | None]
) -> tuple[dict[str, int], list[str], list[Problem]]:
    """Where each known column is (`key_of` names a header cell's column, None if unknown),
    the header cells no column fits, and a problem for each column that appears twice.
    Shared by published-figure files and the editions file, which name columns differently."""
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for i, name in enumerate(table.header):
        key = key_of(name)
        if key is None:
            if name:
                unknown.append(name)
        elif key in positions:
            message = f"column {key!r} appears twice"
            problems.append(Problem(table.file, table.header_row, name, "header", name, message))
        else:
            positions[key] = i
    return positions, unknown, problems


def stage(table: Table, file_year: int) -> tuple[pd.DataFrame, list[Problem]]:
    """Rename, cast and parse a table. File-level problems (missing columns) stop here."""
    file = table.file
    positions, unknown, problems = header_positions(table, header_key)
    missing = [c for c in ("survey", "value", "source") if c not in positions]
    if "indicator" not in positions and "question" not in positions:
        missing.append("indicator or question")
    for col in missing:
        names = (
            " / ".join(HEADERS.get(col, (col,))[:2]) if col in HEADERS else "indicator/indikator or question/spørsmål"
        )
        problems.append(
            Problem(file, table.header_row, None, "missing_column", None, f"required column {names} is missing")
        )
    if problems:
        return pd.DataFrame(), problems

    width = len(table.header)
    text: dict[str, list[str]] = {col: [] for col in COLUMNS}
    numbers: list[int] = []
    values: list[float | None] = []
    statuses: list[str] = []
    counts: list[int | None] = []
    years: list[int | None] = []
    flags: dict[str, list[bool]] = {"inferred": [], "preferred": []}

    def bad(row: int, column: str | None, check: str, value: str | None, message: str) -> None:
        problems.append(Problem(file, row, column, check, value, message))

    for number, cells in table.rows:
        other = other_separator(cells, table.delimiter, width)
        if other is not None:
            message = (
                f"row is separated by {_SPELLED[other]} but the file (header row {table.header_row}) by "
                f"{_SPELLED.get(table.delimiter or '')}; use one separator throughout"
            )
            bad(number, None, "separator", None, message)
            continue  # its cells are not the columns they would be read as
        if len(cells) > width and any(cells[width:]):
            bad(number, None, "row_width", None, f"row has {len(cells)} cells but the header has {width}")
        numbers.append(number)
        for col in COLUMNS:
            pos = positions.get(col)
            text[col].append(cells[pos] if pos is not None and pos < len(cells) else "")
        value, status, err = parse_percent(text["value"][-1])
        if err:
            bad(number, "value", "value_format", text["value"][-1], err)
        values.append(value)
        statuses.append(status)
        n, err = parse_count(text["n"][-1])
        if err:
            bad(number, "n", "n_format", text["n"][-1], err)
        counts.append(n)
        for col, flag_values in flags.items():
            flag, err = parse_flag(text[col][-1])
            if err:
                bad(number, col, "flag_format", text[col][-1], f"{col} {err}")
            flag_values.append(flag)
        year_text = _SPACES.sub(" ", text["year"][-1]).strip()  # `20 20` is a typo, not 2020
        if year_text == "":
            years.append(file_year)
        elif _YEAR.fullmatch(year_text):
            years.append(int(year_text))
        else:
            bad(number, "year", "year_format", text["year"][-1], "year is not a four-digit year")
            years.append(None)

    staged = pd.DataFrame(
        {
            "source_row": pd.Series(numbers, dtype="int64"),
            "year": pd.array(years, dtype="Int64"),
            "survey": pd.Series(text["survey"], dtype="string"),
            "segment": pd.Series(text["segment"], dtype="string"),
            "indicator": pd.Series(text["indicator"], dtype="string"),
            "question": pd.Series(text["question"], dtype="string"),
            "answer": pd.Series(text["answer"], dtype="string"),
            "value": pd.array(values, dtype="Float64"),
            "value_status": pd.array(statuses, dtype="string"),
            "qualifier": pd.Series(text["qualifier"], dtype="string"),
            "n": pd.array(counts, dtype="Int64"),
            "source": pd.Series(text["source"], dtype="string"),
            "note": pd.Series(text["note"], dtype="string"),
            "inferred": pd.Series(flags["inferred"], dtype="bool"),
            "preferred": pd.Series(flags["preferred"], dtype="bool"),
        }
    )
    staged.attrs["unknown_columns"] = unknown
    return staged, problems
