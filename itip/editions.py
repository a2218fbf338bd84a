"""The editions file: what is known about each edition of the survey.

`raw/itip_editions.csv` (or `.xlsx`) holds one row per edition (year and
survey): how many answered, per segment where published, the response rate and
who was asked. It is a release file like the yearly ones (read by the same
hardened reader, checked whole by the Pandera model `Edition`, rejected with
every problem listed, superseded by a corrected version), but it covers every
edition, so its release has no year. `trend` reads the respondents of an
edition from it; intervals are never derived from it silently.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from itip.checked import Checked
from itip.codebook import Codebook
from itip.problems import FileProblems, Problem
from itip.reading import Table, read_table
from itip.settings import DEFAULTS, Settings
from itip.staging import header_positions, parse_count, parse_percent

#: Editions files: itip_editions.csv or itip_editions.xlsx.
EDITIONS_NAME = re.compile(r"itip_editions\.(?P<ext>csv|xlsx)", re.IGNORECASE | re.ASCII)
EDITIONS_KIND = "editions"

#: Accepted header names per column (compared case-insensitively).
HEADERS: dict[str, tuple[str, ...]] = {
    "year": ("year", "år", "aar"),
    "survey": ("survey", "undersøkelse", "undersokelse"),
    "respondents": ("respondents", "respondenter", "antall svar"),
    "respondents_qualifier": ("respondents_qualifier", "respondenter merknad"),
    "respondents_municipalities": ("respondents_municipalities", "respondenter kommuner"),
    "respondents_state_regional": ("respondents_state_regional", "respondenter statlige og regionale"),
    "response_rate": ("response_rate", "svarprosent", "svarandel"),
    "response_rate_qualifier": ("response_rate_qualifier", "svarprosent merknad"),
    "population_note": ("population_note", "populasjon", "utvalg"),
    "source": ("source", "source_url", "kilde"),
}
REQUIRED = ("year", "survey", "source")
COUNTS = ("respondents", "respondents_municipalities", "respondents_state_regional")
QUALIFIERS = ("respondents_qualifier", "response_rate_qualifier")
_BY_NAME = {name: col for col, names in HEADERS.items() for name in names}
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
#: A response rate published as a range: `45-50`, `45–50 %`.
_RANGE = re.compile(r"^(?P<low>[^-–]+)[-–](?P<high>[^-–]+)$")

#: Messages per failed check of the Edition model; {value} is the cell as written.
MESSAGES = {
    "greater_than_or_equal_to(2008)": "year {value} is before the first edition (2008)",
    "less_than_or_equal_to(2100)": "year {value} is not a survey year",
    "isin": "unknown {column} {value!r}",
    "greater_than(0)": "{column} must be a positive whole number",
    "in_range(0, 100)": "{column} {value} is outside 0-100",
    "str_length(1, None)": "{column} is empty",
    "not_nullable": "{column} is empty",
    "segments_within_total": "respondents per segment add up to more than respondents",
    "rate_range_ordered": "response rate range runs backwards (low end above high end)",
    "one_row_per_edition": "the edition (year and survey) appears more than once",
}
CHECK_COLUMN = {
    "segments_within_total": "respondents",
    "rate_range_ordered": "response_rate",
    "one_row_per_edition": None,
}


#: Table columns that come from one column of the file (a range `45-50` is two numbers).
FILE_COLUMN = {"response_rate_low": "response_rate", "response_rate_high": "response_rate"}


def _as_text(value: object) -> str | None:
    """A failing cell as the user wrote it: 120 rather than 120.0; None for NULL."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def header_key(name: str) -> str | None:
    return _BY_NAME.get(_SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip().casefold())


def is_header(cells: list[str]) -> bool:
    keys = {header_key(c) for c in cells if c}
    return {"year", "survey", "source"} <= keys


def editions_file(path: Path) -> bool:
    return EDITIONS_NAME.fullmatch(path.name) is not None


def _rate(text: str) -> tuple[float | None, float | None, str | None]:
    """(low, high, error) for a response rate: `67`, `67 %`, `45-50`."""
    cleaned = _SPACES.sub(" ", text).strip()
    if cleaned == "":
        return None, None, None
    match = _RANGE.match(cleaned.removesuffix("%").strip())
    parts = [match["low"], match["high"]] if match else [cleaned]
    values = []
    for part in parts:
        value, status, err = parse_percent(part)
        if err or status != "published":
            return None, None, "response rate must be a percentage (67, 67 %) or a range (45-50)"
        values.append(value)
    return values[0], values[-1], None


def stage_editions(table: Table, codebook: Codebook) -> tuple[pd.DataFrame, list[Problem]]:
    """Rename, cast and resolve (survey and qualifiers through the codebook)."""
    file = table.file
    positions, unknown, problems = header_positions(table, header_key)
    for col in REQUIRED:
        if col not in positions:
            problems.append(
                Problem(file, table.header_row, None, "missing_column", None, f"required column {col} is missing")
            )
    if problems:
        return pd.DataFrame(), problems
    records = []
    for number, cells in table.rows:

        def cell(col: str, cells: list[str] = cells) -> str:
            pos = positions.get(col)
            return cells[pos].strip() if pos is not None and pos < len(cells) else ""

        rec: dict[str, object] = {"source_row": number}
        year_text = cell("year")
        rec["year"] = int(year_text) if re.fullmatch(r"[0-9]{4}", year_text) else None
        if rec["year"] is None:
            problems.append(Problem(file, number, "year", "year_format", year_text, "year is not a four-digit year"))
        survey = cell("survey")
        rec["survey"] = codebook.resolve("survey", survey) or survey
        for col in COUNTS:
            n, err = parse_count(cell(col))
            if err:
                problems.append(Problem(file, number, col, "n_format", cell(col), f"{col}: {err}"))
            rec[col] = n
        for col in QUALIFIERS:
            text = cell(col)
            rec[col] = None if not text else (codebook.resolve("qualifier", text) or text)
        low, high, err = _rate(cell("response_rate"))
        if err:
            problems.append(Problem(file, number, "response_rate", "rate_format", cell("response_rate"), err))
        rec["response_rate_low"], rec["response_rate_high"] = low, high
        rec["population_note"] = cell("population_note") or None
        rec["source"] = cell("source")
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    for col in ("year", *COUNTS):
        frame[col] = frame[col].astype("Int64")
    for col in ("response_rate_low", "response_rate_high"):
        frame[col] = frame[col].astype("float64")
    frame.attrs["unknown_columns"] = unknown
    return frame, problems


def validate_editions(frame: pd.DataFrame, file: str, codebook: Codebook) -> list[Problem]:
    """The Edition model with the codebook's surveys, lazily: every failure as a problem
    naming row and column."""
    import pandera.pandas as pa
    from pandera.errors import SchemaErrors

    from schemas.models import Edition, validation_schema

    if frame.empty:
        return []
    checked = frame.dropna(subset=["year"]).astype({"year": "int64"})
    try:
        schema = validation_schema(Edition).update_columns(
            {"survey": {"checks": [pa.Check.isin(list(codebook.surveys))]}}
        )
        schema.validate(checked, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
    else:
        return []
    problems: set[Problem] = set()
    for case in cases.itertuples(index=False):
        check = str(case.check)
        base = check.split("(")[0] if check.startswith("isin") else check
        column = CHECK_COLUMN.get(check, case.column)
        column = FILE_COLUMN.get(column, column) if column else column
        index = case.index
        row = None if index is None or pd.isna(index) else int(checked["source_row"].loc[index])
        value = _as_text(case.failure_case)
        if check in CHECK_COLUMN:
            value = None
        message = MESSAGES.get(base, f"failed check {check}").format(value=value, column=column)
        problems.add(Problem(file, row, column, check, value, message))
    return sorted(problems, key=lambda p: (p.row or 0, p.column or "", p.check))


def check_editions(path: Path, codebook: Codebook, settings: Settings = DEFAULTS) -> Checked:
    """Every check of an editions file, without touching the warehouse: the editions side of
    the check contract (itip.check.check); its rows are in `estimates`, the frame the load
    step stores (in table editions)."""
    file = path.name
    try:
        table = read_table(path, is_header, settings)
    except FileProblems as exc:
        return Checked(file, None, pd.DataFrame(), exc.problems, kind=EDITIONS_KIND)
    frame, problems = stage_editions(table, codebook)
    warnings = [f"{file}: column {c!r} is not used" for c in frame.attrs.get("unknown_columns", [])]
    problems = problems + validate_editions(frame, file, codebook)
    if problems:
        return Checked(file, None, pd.DataFrame(), problems, warnings, len(table.rows), kind=EDITIONS_KIND)
    from schemas.models import EDITION_COLUMNS

    rows = frame.loc[:, list(EDITION_COLUMNS)]
    return Checked(file, None, rows, [], warnings, len(table.rows), kind=EDITIONS_KIND)
