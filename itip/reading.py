"""Reading release files as people really send them.

Norwegian statistics files arrive as UTF-8 (with or without BOM), UTF-16 or
Windows-1252; separated by `,`, `;` or tab; and as spreadsheets with title rows
above the header. This module turns any of them into one shape: a header and
rows of text, each row with the number a person sees in their editor, so every
later message can point at it. Nothing is interpreted here.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import charset_normalizer

from itip.paths import MAX_RELEASE_BYTES
from itip.problems import FileProblems, Problem

#: How far down a file the header row is looked for (title rows above it).
HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True)
class Table:
    """A file's header and data rows as text, with the row numbers a user sees."""

    file: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


def _fail(file: str, check: str, message: str, row: int | None = None) -> FileProblems:
    return FileProblems([Problem(file, row, None, check, None, message)])


def decode(data: bytes, file: str) -> tuple[str, str]:
    """Text and encoding name. UTF-8 is tried first because it is never a false
    positive on Norwegian text; the rest is left to charset-normalizer, limited
    to the encodings Norwegian files use so short files are not misread as
    e.g. Cyrillic."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _fail(file, "encoding", "starts like UTF-16 but is not valid UTF-16") from None
    if b"\x00" in data:
        raise _fail(file, "format", "looks binary (contains NUL bytes), not a text CSV file")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15"]).best()
    if best is None:
        raise _fail(file, "encoding", "cannot tell the text encoding (tried UTF-8, UTF-16, Windows-1252, ISO-8859-1)")
    return str(best), best.encoding


def sniff_delimiter(text: str) -> str:
    """The separator, judged on the first lines. csv.Sniffer does the work; when
    it cannot decide (one column, title rows), the most frequent candidate of the
    busiest line wins."""
    sample = "\n".join(text.splitlines()[: HEADER_SEARCH_ROWS + 5])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        counts = {d: max((line.count(d) for line in sample.splitlines()), default=0) for d in ";\t,"}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv(path: Path, data: bytes) -> tuple[list[tuple[int, list[str]]], str, str]:
    file = path.name
    if data.startswith(b"PK\x03\x04"):
        raise _fail(
            file, "format", "is a zip archive (a spreadsheet?) with a .csv name; save it as .xlsx or export to CSV"
        )
    text, encoding = decode(data, file)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            rows.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _fail(file, "format", f"is not valid CSV: {exc}", row=start) from None
    return rows, encoding, delimiter


def _cell_text(value: object, number_format: str | None) -> str:
    """A spreadsheet cell as the text a person reads. A cell formatted as a
    percentage holds 0.47 for 47 %, so it is scaled back to percent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        if number_format and "%" in number_format:
            value = round(float(value) * 100, 10)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    return str(value)


def read_xlsx(path: Path) -> tuple[list[tuple[int, list[str]]], str]:
    """Rows of the sheet named `data` or `tall`, else the first sheet. openpyxl
    parses the XML through defusedxml (installed), so entity tricks are refused."""
    import openpyxl  # slow import; only spreadsheet users pay for it

    file = path.name
    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            head = fh.read(8)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise _fail(
                file,
                "format",
                "is an encrypted (password-protected) or old-style .xls workbook; save it as an unprotected .xlsx",
            )
        raise _fail(file, "format", "is not an .xlsx workbook (not a zip archive)")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise _fail(file, "format", f"cannot be opened as an .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        names = {name.strip().lower(): name for name in wb.sheetnames}
        sheet_name = names.get("data") or names.get("tall") or wb.sheetnames[0]
        ws = wb[sheet_name]
        if hasattr(ws, "reset_dimensions"):
            # Some exporters record the sheet size as just A1; read-only mode trusts it.
            ws.reset_dimensions()
        rows: list[tuple[int, list[str]]] = []
        for row in ws.iter_rows():
            cells = [_cell_text(c.value, getattr(c, "number_format", None)) for c in row]
            number = row[0].row if row and getattr(row[0], "row", None) else len(rows) + 1
            rows.append((int(number), cells))
    except Exception as exc:
        raise _fail(file, "format", f"cannot be read as an .xlsx workbook ({type(exc).__name__}: {exc})") from None
    finally:
        wb.close()
    return rows, sheet_name


def read_table(path: Path, is_header: Callable[[list[str]], bool]) -> Table:
    """Read a release file. `is_header` recognises the header row, so title rows
    above it (common in spreadsheets and SSB exports) are skipped."""
    file = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(file, "unreadable", f"cannot be read: {exc.strerror}") from None
    if size > MAX_RELEASE_BYTES:
        raise _fail(
            file, "size", f"is {size:,} bytes, over the limit of {MAX_RELEASE_BYTES:,} (ITIP_MAX_RELEASE_BYTES)"
        )
    if size == 0:
        raise _fail(file, "empty", "is empty")
    encoding = delimiter = sheet = None
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            rows, sheet = read_xlsx(path)
        else:
            rows, encoding, delimiter = read_csv(path, path.read_bytes())
    except OSError as exc:
        raise _fail(file, "unreadable", f"cannot be read: {exc.strerror}") from None
    rows = [(n, [c.strip() for c in cells]) for n, cells in rows]
    nonblank = [(n, cells) for n, cells in rows if any(cells)]
    if not nonblank:
        raise _fail(file, "empty", "has no content")
    for n, cells in nonblank[:HEADER_SEARCH_ROWS]:
        if is_header(cells):
            data = [(m, c) for m, c in nonblank if m > n]
            if not data:
                raise _fail(file, "empty", "has a header but no data rows", row=n)
            return Table(file, cells, n, data, encoding, delimiter, sheet)
    raise _fail(
        file,
        "header",
        f"no header row found in the first {HEADER_SEARCH_ROWS} rows "
        "(expected columns such as survey/undersøkelse, value/andel and source/kilde)",
    )
