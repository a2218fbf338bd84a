"""Every table and view of the warehouse contract as files: Parquet, CSV or Excel.

Analysts' tools read files more easily than a database they must not lock: BI
tools and Datasette-style publishing read Parquet, Norwegian Excel reads a CSV
only when it has `;` between cells, a decimal comma and a UTF-8 byte-order mark.
Each export also writes `_columns` (object, column, type, comment) from the
warehouse's own COMMENTs, so the files carry their documentation.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from itip.problems import ItipError

FORMATS = ("parquet", "csv", "xlsx")

#: Internal tables that are not part of the contract (schema and codebook hashes).
INTERNAL = frozenset({"meta", "file_stats", "change_pairs"})

#: Name of the listing of every column with its comment, written with every export.
COLUMNS_NAME = "_columns"


@dataclass(frozen=True)
class ContractObject:
    name: str
    kind: str  # table or view
    comment: str


def contract_objects(con: duckdb.DuckDBPyConnection) -> list[ContractObject]:
    """Tables and views of the warehouse contract, tables first, from DuckDB's catalog."""
    rows = con.execute(
        "SELECT table_name, 'table', coalesce(comment, '') FROM duckdb_tables() "
        "WHERE schema_name = 'main' AND database_name = current_database() AND NOT internal AND NOT temporary "
        "UNION ALL "
        "SELECT view_name, 'view', coalesce(comment, '') FROM duckdb_views() "
        "WHERE schema_name = 'main' AND database_name = current_database() AND NOT internal AND NOT temporary "
        "ORDER BY 2, 1"
    ).fetchall()
    return [ContractObject(str(r[0]), str(r[1]), str(r[2])) for r in rows if str(r[0]) not in INTERNAL]


def column_listing(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """object, kind, column, type and comment of every contract column, in column order."""
    frame = con.execute(
        "SELECT c.table_name AS object, CASE WHEN v.view_name IS NULL THEN 'table' ELSE 'view' END AS kind, "
        "c.column_name AS column_name, c.data_type AS data_type, coalesce(c.comment, '') AS comment "
        "FROM duckdb_columns() AS c "
        "LEFT JOIN duckdb_views() AS v ON v.view_name = c.table_name AND v.schema_name = c.schema_name "
        "AND v.database_name = c.database_name "
        "WHERE c.schema_name = 'main' AND c.database_name = current_database() AND NOT c.internal "
        "ORDER BY kind, object, c.column_index"
    ).df()
    return frame[~frame["object"].isin(INTERNAL)].reset_index(drop=True)


def _open(warehouse: Path) -> duckdb.DuckDBPyConnection:
    from itip.db import BASE_CONFIG

    if not warehouse.exists():
        raise ItipError(f"{warehouse}: no warehouse yet; run 'itip ingest' first")
    try:
        return duckdb.connect(str(warehouse), read_only=True, config=BASE_CONFIG)
    except duckdb.Error as exc:
        raise ItipError(f"{warehouse}: cannot open the warehouse: {str(exc).splitlines()[0]}") from None


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists as `a | b` text and times without a zone (as Oslo-independent UTC), for CSV and Excel."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif series.dtype == object and series.map(_is_list).any():
            out[column] = series.map(lambda v: " | ".join(map(str, v)) if _is_list(v) else v)
    return out


def _guard(frame: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet would run as a formula gets a leading `'` (wordings come from outside)."""
    from itip.render import _safe

    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: _safe(v) if isinstance(v, str) else v).astype(object)
    return out


def write_excel_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV as Norwegian Excel opens it by double-click: `;`, decimal comma, UTF-8 with BOM, CRLF."""
    _guard(_flat(frame)).to_csv(path, sep=";", decimal=",", encoding="utf-8-sig", index=False, lineterminator="\r\n")


def write_plain_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV for programs: `,`, decimal point, UTF-8 without BOM, cells as stored (no formula guard)."""
    _flat(frame).to_csv(path, sep=",", decimal=".", encoding="utf-8", index=False, lineterminator="\n")


def write_xlsx(frames: dict[str, pd.DataFrame], listing: pd.DataFrame, path: Path) -> None:
    """One sheet per table or view, each header cell with its column comment as a note,
    and the sheet `_columns` first with every column's description."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    comments = {(r.object, r.column_name): r.comment for r in listing.itertuples()}
    for name, frame in {COLUMNS_NAME: listing, **frames}.items():
        sheet = book.create_sheet(title=name[:31])
        flat = _flat(frame)
        for col, header in enumerate(flat.columns, start=1):
            cell = sheet.cell(row=1, column=col, value=str(header))
            cell.font = Font(bold=True)
            note = comments.get((name, str(header)))
            if note:
                cell.comment = Comment(note, "itip")
        for row_number, values in enumerate(flat.itertuples(index=False), start=2):
            for col, value in enumerate(values, start=1):
                if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
                    continue
                cell = sheet.cell(row=row_number, column=col, value=value)
                if isinstance(value, str) and cell.data_type == "f":
                    cell.data_type = "s"  # a wording starting with '=' stays text, never a formula
        sheet.freeze_panes = "A2"
    book.save(path)


def _rows(con: duckdb.DuckDBPyConnection, name: str) -> duckdb.DuckDBPyRelation:
    """A table or view in a stable row order (every column, left to right): the same
    warehouse gives byte-identical files, so a diff of two exports shows only what changed."""
    return con.table(name).order("ALL")


def export(warehouse: Path, out: Path, fmt: str, plain_csv: bool = False) -> list[Path]:
    """Write every contract table and view of `warehouse` into the folder `out`; the written files.

    parquet and csv: one file per object plus `_columns`; xlsx: one workbook `itip.xlsx`.
    """
    if fmt not in FORMATS:
        raise ItipError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    con = _open(warehouse)
    try:
        objects = contract_objects(con)
        listing = column_listing(con)
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        if fmt == "parquet":
            for obj in objects:
                target = out / f"{obj.name}.parquet"
                _rows(con, obj.name).write_parquet(str(target))
                written.append(target)
            target = out / f"{COLUMNS_NAME}.parquet"
            con.from_df(listing).write_parquet(str(target))
            written.append(target)
        elif fmt == "csv":
            writer = write_plain_csv if plain_csv else write_excel_csv
            for name, frame in [(o.name, _rows(con, o.name).df()) for o in objects] + [(COLUMNS_NAME, listing)]:
                target = out / f"{name}.csv"
                writer(frame, target)
                written.append(target)
        else:
            target = out / "itip.xlsx"
            write_xlsx({o.name: _rows(con, o.name).df() for o in objects}, listing, target)
            written.append(target)
        return written
    finally:
        con.close()


def parquet_snapshot_dir(warehouse: Path) -> Path:
    """Where the ingest keeps the Parquet copy of the warehouse: `<name>.parquet/` beside it."""
    return warehouse.with_name(warehouse.stem + ".parquet")


def write_parquet_snapshot(warehouse: Path) -> Path:
    """Replace the Parquet snapshot beside the warehouse with one of its current state.

    Written into a fresh folder first, then swapped in by renames, so a reader sees the
    old set or the new set of files, never a half-written file."""
    final = parquet_snapshot_dir(warehouse)
    work = Path(tempfile.mkdtemp(prefix=final.name + ".", suffix=".next", dir=final.parent))
    os.chmod(work, 0o755)  # readable like the warehouse beside it (mkdtemp makes it private)
    try:
        export(warehouse, work, "parquet")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(work, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


#: Tables and views offered as downloads beside the key-figures report.
REPORT_DOWNLOADS = ("trend", "latest")
DOWNLOAD_DIR = "data"


def write_report_downloads(warehouse: Path, report_dir: Path) -> list[Path]:
    """The figures behind the report as CSV for Norwegian Excel in `data/` beside it, so a
    reader of the page can take the numbers without the warehouse."""
    con = _open(warehouse)
    try:
        names = {o.name for o in contract_objects(con)}
        folder = report_dir / DOWNLOAD_DIR
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in REPORT_DOWNLOADS:
            if name in names:
                target = folder / f"{name}.csv"
                tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
                write_excel_csv(_rows(con, name).df(), tmp)
                os.replace(tmp, target)
                written.append(target)
        return written
    finally:
        con.close()
