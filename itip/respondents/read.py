"""Reading a respondent file (CSV, XLSX, SPSS .sav) into a `RespondentTable`: the declared
columns only, each undeclared column named and dropped unread.

CSV goes straight into DuckDB (its sniffer, typed columns, text when a cell does not fit);
XLSX and SPSS are read by openpyxl and pyreadstat into a data frame first, which DuckDB
then holds as the same table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from itip.db import BASE_CONFIG
from itip.db import ident as _ident
from itip.problems import ItipError
from itip.respondents.spec import RespondentSpec
from itip.respondents.table import RespondentTable
from itip.settings import DEFAULTS, Settings


def text_column(series: pd.Series) -> pd.Series:
    """Cells as text the way a person reads them: 4.0 -> '4', empty -> None."""

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None

    return series.map(one).astype("object")


def declared_map(names: list[str], spec: RespondentSpec) -> tuple[dict[str, str], list[str]]:
    """(file column -> codebook name for declared columns, undeclared column names)."""
    declared = spec.declared()
    keep: dict[str, str] = {}
    dropped: list[str] = []
    for name in names:
        canon = name.strip().lower()
        if canon in declared and canon not in keep.values():
            keep[name] = canon
        else:
            dropped.append(name)
    return keep, dropped


def csv_types(spec: RespondentSpec, columns: dict[str, str]) -> dict[str, str]:
    questions = set(spec.question_columns())
    types = {}
    for canon in columns.values():
        if canon in questions:
            types[canon] = "INTEGER"
        elif canon == spec.weight_column:
            types[canon] = "DOUBLE"
        else:
            types[canon] = "VARCHAR"
    return types


@dataclass
class SavMeta:
    labels: dict[str, dict[float, str]]
    user_missing: dict[str, list[float]]


def read_sav(path: Path, spec: RespondentSpec) -> tuple[pd.DataFrame, list[str], SavMeta]:
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    keep, dropped = declared_map(list(meta.column_names), spec)
    frame, meta = pyreadstat.read_sav(str(path), usecols=list(keep), user_missing=True)
    frame = frame.rename(columns=keep)
    labels = {keep[c]: dict(v) for c, v in (meta.variable_value_labels or {}).items() if c in keep}
    missing: dict[str, list[float]] = {}
    for c, values in (getattr(meta, "missing_user_values", None) or {}).items():
        if c in keep:
            missing.setdefault(keep[c], []).extend(float(v) for v in values if isinstance(v, int | float))
    for c, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        if c in keep:
            for r in ranges:
                lo, hi = r.get("lo"), r.get("hi")
                if isinstance(lo, int | float) and isinstance(hi, int | float) and hi - lo < 100:
                    missing.setdefault(keep[c], []).extend(float(x) for x in range(math.ceil(lo), math.floor(hi) + 1))
    return frame, dropped, SavMeta(labels, missing)


def read_xlsx(path: Path, spec: RespondentSpec, settings: Settings = DEFAULTS) -> tuple[pd.DataFrame, list[str]]:
    """The declared columns of the respondent sheet, after the zip-bomb, encryption and
    entity inspection published workbooks get (raises FileProblems when refused)."""
    from itip.reading.bounds import Limits
    from itip.reading.workbook import choose_sheet, inspect_xlsx, refuse_uncalculated

    limits = Limits(
        0,
        0,
        settings.max_respondent_xlsx_uncompressed_bytes,
        settings.max_xlsx_compression_ratio,
        "ITIP_MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES",
        "a respondent file",
    )
    inspect_xlsx(path, limits)
    sheets = pd.ExcelFile(path, engine="openpyxl")
    # never a hidden sheet, even one named data (itip.reading.workbook.choose_sheet)
    sheet = choose_sheet(sheets.book, ("data", "respondenter"), path.name)
    header = pd.read_excel(sheets, sheet_name=sheet, nrows=0)
    keep, dropped = declared_map([str(c) for c in header.columns], spec)
    frame = pd.read_excel(sheets, sheet_name=sheet, usecols=list(keep), dtype=object)
    # A formula saved without its result reads as empty: a missing answer that was never one.
    position = {str(c): i for i, c in enumerate(header.columns)}
    empty = {(int(i) + 2, position[str(c)]) for c in frame.columns for i in frame.index[frame[c].isna()]}
    refuse_uncalculated(path.name, path, str(sheet), empty)
    return frame.rename(columns=keep), dropped


def frame_for_duckdb(frame: pd.DataFrame, spec: RespondentSpec) -> pd.DataFrame:
    """Codes and ids as text, weights and answers as numbers where they are numbers."""
    questions = set(spec.question_columns())
    out = {}
    for col in frame.columns:
        series = frame[col]
        if (col in questions or col == spec.weight_column) and pd.api.types.is_numeric_dtype(series):
            out[col] = series.astype("float64")
        else:
            out[col] = text_column(series)
    return pd.DataFrame(out)


def _memory_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=BASE_CONFIG)
    con.execute("SET enable_progress_bar = false")
    return con


def _exact_path(path: Path) -> str:
    """A path DuckDB's readers take as exactly that file: they expand `*`, `?`, `[...]` and
    `{a,b}` as globs (`--raw 'r[a]w'` read the sibling folder raw/). Respondent files are read
    from a private copy whose path has none of them (itip.snapshot); anything else is refused."""
    from itip.snapshot import has_glob

    if has_glob(path):
        raise ItipError(
            f"{path.name}: its path has a character DuckDB reads as a pattern (* ? [ ] {{ }}); "
            "set TMPDIR (or ITIP_READ_TMPDIR) to a folder without them"
        )
    return str(path)


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file, as DuckDB's sniffer reads them."""
    con = _memory_connection()
    try:
        rows = con.execute(
            "DESCRIBE SELECT * FROM read_csv($path, all_varchar = true)", {"path": _exact_path(path)}
        ).fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]


@contextmanager
def respondent_csv(path: Path, columns: dict[str, str], types: dict[str, str]) -> Iterator[RespondentTable]:
    """Read the declared columns of a respondent CSV into an in-memory table.

    `columns` maps the file's header name onto the codebook name (undeclared
    columns are not in it and are never read into the table); `types` gives
    the DuckDB type of each codebook name. A cell that does not fit its type
    makes the whole file be read as text instead, so the checks can report every
    such cell with its row. Raises duckdb.Error when the file cannot be parsed.
    """
    select = ", ".join(f"{_ident(src)} AS {_ident(dst)}" for src, dst in columns.items())
    file_types = {src: types[dst] for src, dst in columns.items() if dst in types}
    con = _memory_connection()
    try:
        try:
            con.execute(
                f"CREATE TABLE raw AS SELECT {select} FROM read_csv($path, header = true, types = $types)",
                {"path": _exact_path(path), "types": file_types},
            )
        except duckdb.ConversionException:
            con.execute(
                f"CREATE OR REPLACE TABLE raw AS SELECT {select} "
                "FROM read_csv($path, header = true, all_varchar = true)",
                {"path": _exact_path(path)},
            )
        yield RespondentTable(con, row_offset=2)
    finally:
        con.close()


@contextmanager
def respondent_frame(frame: pd.DataFrame, row_offset: int) -> Iterator[RespondentTable]:
    """A respondent file already read by pandas (XLSX, SPSS), as the same in-memory table."""
    con = _memory_connection()
    try:
        con.register("_frame", frame)
        con.execute("CREATE TABLE raw AS SELECT * FROM _frame")
        con.unregister("_frame")
        yield RespondentTable(con, row_offset=row_offset)
    finally:
        con.close()


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a data frame as UTF-8 CSV with a header, fast (used by `itip synth`)."""
    con = _memory_connection()
    try:
        con.from_df(frame).write_csv(str(path), header=True)
    finally:
        con.close()
