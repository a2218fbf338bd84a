"""Reading release files as people really send them.

Norwegian statistics files arrive as UTF-8 (with or without BOM), UTF-16 or
Windows-1252; separated by `,`, `;` or tab; and as spreadsheets with title rows
above the header. This module turns any of them into one shape: a header and
rows of text, each row with the number a person sees in their editor, so every
later message can point at it. Nothing is interpreted here.

Files also arrive broken or hostile, so reading is bounded: a file is refused
(as a problem, never a traceback) before it can take much memory or time. The
limits come from the run's settings (itip.settings, ITIP_MAX_* variables); an
.xlsx is inspected as a zip archive before any XML parser sees it (zip bombs,
encryption, XML document type declarations), and openpyxl parses its XML
through defusedxml.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from itip.problems import FileProblems
from itip.reading.bounds import Limits
from itip.reading.bounds import fail as _fail
from itip.reading.delimited import DELIMITERS, HEADER_SEARCH_ROWS, _CsvError, parse_csv, read_csv, sniff_delimiter
from itip.reading.workbook import read_xlsx
from itip.settings import DEFAULTS, Settings

__all__ = [
    "Table",
    "check_name",
    "read_table",
]


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


def check_name(file: str) -> None:
    """Refuse a file name with control, invisible or non-ASCII characters. A
    release is itip_<YEAR>.csv: a line break or right-to-left mark in a name
    would forge lines in logs and reports, and `\\d` would read non-Latin digits
    (itip_٢٠٢٠.csv) as a year."""
    if file.isascii() and file.isprintable():
        return
    shown = file.encode("unicode_escape").decode("ascii")
    raise _fail(
        shown,
        "file_name",
        "file name has characters other than printable ASCII (a line break, an invisible or "
        "right-to-left mark, non-Latin digits); rename it itip_<YEAR>.csv or itip_<YEAR>.xlsx",
    )


def _table(
    file: str,
    rows: list[tuple[int, list[str]]],
    is_header: Callable[[list[str]], bool],
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table | None:
    """The table below the header row; None when no header is found."""
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
    return None


def _no_header(file: str) -> FileProblems:
    return _fail(
        file,
        "header",
        f"no header row found in the first {HEADER_SEARCH_ROWS} rows "
        "(expected columns such as survey/undersøkelse, value/andel and source/kilde)",
    )


def read_table(path: Path, is_header: Callable[[list[str]], bool], settings: Settings = DEFAULTS) -> Table:
    """Read a release file. `is_header` recognises the header row, so title rows
    above it (common in spreadsheets and SSB exports) are skipped. In a CSV file
    the header row also decides the separator: the sniffed one is tried first,
    then the others, so rows written with another separator than the header's
    are reported row by row (staging) instead of hiding the header.

    The file is read under the limits of `settings`: the run's, built from the ITIP_MAX_*
    variables where the command or flow started; the documented defaults without them."""
    limits = Limits.of(settings)
    file = path.name
    check_name(file)
    try:
        status = path.stat()
    except OSError as exc:
        raise _fail(file, "unreadable", f"cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(status.st_mode):  # a pipe would block the read, a device never end
        raise _fail(file, "unreadable", "is not a regular file (a folder, pipe or device)")
    size = status.st_size
    if size > settings.max_release_bytes:
        limit = settings.max_release_bytes
        raise _fail(file, "size", f"is {size:,} bytes, over the limit of {limit:,} (ITIP_MAX_RELEASE_BYTES)")
    if size == 0:
        raise _fail(file, "empty", "is empty")
    try:
        if path.suffix.lower() == ".xlsx":
            rows, sheet = read_xlsx(path, limits)
            table = _table(file, rows, is_header, sheet=sheet)
            if table is None:
                raise _no_header(file)
            return table
        text, encoding = read_csv(path, path.read_bytes())
    except OSError as exc:
        raise _fail(file, "unreadable", f"cannot be read: {exc.strerror}") from None
    sniffed = sniff_delimiter(text)
    outcome: FileProblems | None = None
    for delimiter in (sniffed, *(d for d in DELIMITERS if d != sniffed)):
        try:
            rows = parse_csv(text, delimiter, file, limits)
        except _CsvError as exc:
            outcome = outcome or exc
            continue
        table = _table(file, rows, is_header, encoding, delimiter)
        if table is not None:
            return table
        outcome = outcome or _no_header(file)
    assert outcome is not None
    raise outcome
