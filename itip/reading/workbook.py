"""Spreadsheets: an .xlsx is inspected as a zip archive before any XML parser sees it
(zip bombs, encryption, XML document type declarations), then read with openpyxl,
which parses its XML through defusedxml."""

from __future__ import annotations

import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path

from itip.problems import FileProblems, Problem
from itip.reading.bounds import Budget, Limits
from itip.reading.bounds import fail as _fail

#: zipfile reads an archive's whole directory into memory when it opens it; a
#: workbook's directory lists a few dozen parts in a few kB.
MAX_XLSX_DIRECTORY_BYTES = 1024 * 1024
#: Parts smaller than this are not judged by their compression ratio: small
#: repetitive XML packs well without being a bomb.
RATIO_MIN_BYTES = 1024 * 1024

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: A document type declaration is how XML declares entities (billion laughs,
#: external entities); no part of a workbook needs one. Looked for in the
#: encodings XML parsers detect on their own.
_DTD_MARKERS = tuple(
    marker.encode(codec) for marker in ("<!DOCTYPE", "<!ENTITY") for codec in ("ascii", "utf-16-le", "utf-16-be")
)


def scales_by_100(number_format: str | None) -> bool:
    """Whether Excel shows a cell with this number format multiplied by 100: only when the
    format has a percent sign that is a format code. A `%` inside quotes (`0.0" %"`) or after
    a backslash (`0\\%`) is literal text, shown as is: 0.5 formatted `0.0" %"` reads "0.5 %",
    not 50 %; `[...]` (colours, conditions, locales), `_x` (a space as wide as x) and `*x`
    (fill) are skipped too."""
    if not number_format or "%" not in number_format:
        return False
    i, text = 0, number_format
    while i < len(text):
        c = text[i]
        if c == '"':
            end = text.find('"', i + 1)
            i = len(text) if end < 0 else end + 1
            continue
        if c in "\\_*":
            i += 2
            continue
        if c == "[":
            end = text.find("]", i + 1)
            i = len(text) if end < 0 else end + 1
            continue
        if c == "%":
            return True
        i += 1
    return False


def _cell_text(value: object, number_format: str | None) -> str:
    """A spreadsheet cell as the text a person reads. A cell formatted as a
    percentage holds 0.47 for 47 %, so it is scaled back to percent (only for a
    real percent format: see `scales_by_100`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float):
        if scales_by_100(number_format):
            value = round(float(value) * 100, 10)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    return str(value)


def _zip_directory_bytes(path: Path) -> int | None:
    """The size of a zip archive's directory, from its end record (None if not found)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - 22 - 0xFFFF))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    return int.from_bytes(tail[at + 12 : at + 16], "little")


def _declares_dtd(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    overlap = max(len(m) for m in _DTD_MARKERS) - 1
    tail = b""
    with archive.open(info) as fh:
        while chunk := fh.read(1 << 20):
            window = tail + chunk
            if any(m in window for m in _DTD_MARKERS):
                return True
            tail = window[-overlap:]
    return False


def inspect_xlsx(path: Path, limits: Limits) -> None:
    """Refuse a workbook that is not safe to open, before any XML parser sees it:
    not a zip (or cut off), encrypted, a zip directory or unpacked size far beyond
    any workbook's, a part that unpacks more than `limits.xlsx_compression_ratio`-fold,
    or a part with an XML document type declaration (entity expansion). zipfile
    never unpacks more than a part's declared size (it stops and fails the CRC),
    so judging the declared sizes is sound."""
    file = path.name
    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            head = fh.read(8)
        if head.startswith(_OLE):
            if "EncryptedPackage".encode("utf-16-le") in path.read_bytes():
                raise _fail(file, "format", "is password-protected (encrypted); remove the password and save it again")
            raise _fail(
                file,
                "format",
                "is an encrypted (password-protected) or old-style .xls workbook; save it as an unprotected .xlsx",
            )
        if head.startswith(b"PK\x03\x04"):
            raise _fail(file, "format", "is cut off or damaged: it starts like an .xlsx but its end is missing")
        raise _fail(file, "format", "is not an .xlsx workbook (not a zip archive)")
    directory = _zip_directory_bytes(path)
    if directory is None or directory > MAX_XLSX_DIRECTORY_BYTES:
        shown = "cannot be found" if directory is None else f"is {directory:,} bytes"
        message = f"its zip directory {shown}; a workbook's is a few kB (limit {MAX_XLSX_DIRECTORY_BYTES:,})"
        raise _fail(file, "size", message)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            encrypted = [i.filename for i in infos if i.flag_bits & 0x1]
            if encrypted:
                raise _fail(
                    file, "format", f"is encrypted (part {encrypted[0]!r}); remove the password and save it again"
                )
            total = sum(i.file_size for i in infos)
            if total > limits.xlsx_uncompressed_bytes:
                raise _fail(
                    file,
                    "size",
                    f"unpacks to {total:,} bytes, over the limit of {limits.xlsx_uncompressed_bytes:,} "
                    f"({limits.xlsx_size_setting}): a zip bomb, or not {limits.xlsx_kind}",
                )
            most = limits.xlsx_compression_ratio
            for i in infos:
                if i.file_size > RATIO_MIN_BYTES and i.file_size > most * max(i.compress_size, 1):
                    ratio = i.file_size / max(i.compress_size, 1)
                    message = (
                        f"part {i.filename!r} unpacks {ratio:,.0f}-fold ({i.compress_size:,} to {i.file_size:,} "
                        f"bytes), over the limit of {most}-fold "
                        "(ITIP_MAX_XLSX_COMPRESSION_RATIO): a zip bomb?"
                    )
                    raise _fail(file, "size", message)
            for i in infos:
                if _declares_dtd(archive, i):
                    raise _fail(
                        file,
                        "format",
                        f"part {i.filename!r} has an XML document type declaration (<!DOCTYPE or <!ENTITY), "
                        "which no workbook needs and which can hide an entity-expansion attack; refused",
                    )
    except FileProblems:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
        raise _fail(file, "format", f"is a damaged .xlsx workbook ({_reason(exc, path)})") from None


def _reason(exc: BaseException, path: Path) -> str:
    """An exception as one line for a message, with the file's name instead of its path."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text.replace(str(path), path.name)}".rstrip(": ")


def _entity_attack(exc: BaseException) -> bool:
    """Whether defusedxml refused the XML somewhere below this exception."""
    from defusedxml import DefusedXmlException

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _xlsx_failure(file: str, exc: Exception, path: Path, doing: str) -> FileProblems:
    if _entity_attack(exc):
        return _fail(file, "format", "declares XML entities, which are refused (an entity-expansion attack?)")
    return _fail(file, "format", f"cannot be {doing} as an .xlsx workbook ({_reason(exc, path)})")


def read_xlsx(path: Path, limits: Limits) -> tuple[list[tuple[int, list[str]]], str]:
    """Rows of the sheet named `data` or `tall`, else the first sheet, after
    `inspect_xlsx`. openpyxl parses the XML through defusedxml (installed; see
    openpyxl.xml.DEFUSEDXML), so entity declarations that got past the
    inspection are refused too. A formula cell reads as its saved result."""
    import openpyxl  # slow import; only spreadsheet users pay for it

    file = path.name
    inspect_xlsx(path, limits)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise _xlsx_failure(file, exc, path, "opened") from None
    budget = Budget(file, limits)
    try:
        sheet_name = choose_sheet(wb, ("data", "tall"), file)
        ws = wb[sheet_name]
        if hasattr(ws, "reset_dimensions"):
            # Some exporters record the sheet size as just A1; read-only mode trusts it.
            ws.reset_dimensions()
        rows: list[tuple[int, list[str]]] = []
        for row in ws.iter_rows():
            number = row[0].row if row and getattr(row[0], "row", None) else len(rows) + 1
            budget.add(int(number), len(row))
            cells = [_cell_text(c.value, getattr(c, "number_format", None)) for c in row]
            rows.append((int(number), cells))
    except FileProblems:
        raise
    except Exception as exc:
        raise _xlsx_failure(file, exc, path, "read") from None
    finally:
        wb.close()
    refuse_uncalculated(file, path, sheet_name, {(n, i) for n, cells in rows for i, c in enumerate(cells) if c == ""})
    return rows, sheet_name


def refuse_uncalculated(file: str, path: Path, sheet_name: str, empty: set[tuple[int, int]]) -> None:
    """Raise FileProblems naming every formula cell saved without its result among `empty`
    ((row, 0-based column) cells that read as empty), for published and respondent workbooks alike."""
    uncalculated = formulas_without_result(path, sheet_name, empty)
    if uncalculated:
        raise FileProblems(
            [
                Problem(
                    file,
                    row,
                    column,
                    "formula_without_result",
                    formula,
                    # the formula itself stays in `value` (neutralised wherever values are written out);
                    # in the message it would reach a spreadsheet or page as live text
                    f"cell {column}{row} is a formula saved without its result (the workbook was "
                    "never calculated, e.g. written by a program); open it in a spreadsheet and save it "
                    "again, or paste the values",
                )
                for row, column, formula in uncalculated
            ]
        )


def choose_sheet(wb: object, preferred: tuple[str, ...], file: str) -> str:
    """The sheet to read: the first visible one named as `preferred`, else the first visible
    one. A hidden or very hidden sheet (invisible in Excel: nobody checked what is in it) is
    never read, even when it has the preferred name."""
    sheets = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]  # type: ignore[attr-defined]
    if not sheets:
        raise _fail(file, "format", "has no visible sheet (every sheet is hidden)")
    by_name = {str(ws.title).strip().lower(): str(ws.title) for ws in reversed(sheets)}
    for name in preferred:
        if name in by_name:
            return by_name[name]
    return str(sheets[0].title)


def formulas_without_result(path: Path, sheet_name: str, empty: set[tuple[int, int]]) -> list[tuple[int, str, str]]:
    """(row, column letter, formula) of formula cells with no saved result among the cells that
    read as empty. openpyxl gives such a cell as empty (None) with data_only, so it would be
    read as "not asked" or a missing value; the formulas are only visible without data_only."""
    if not empty:
        return []
    import openpyxl
    from openpyxl.utils import get_column_letter

    found: list[tuple[int, str, str]] = []
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb[sheet_name]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
        for row in ws.iter_rows():
            for i, cell in enumerate(row):
                value = getattr(cell, "value", None)
                number = getattr(cell, "row", None)
                formula = isinstance(value, str) and value.startswith("=") and getattr(cell, "data_type", None) == "f"
                if formula and number is not None and (int(number), i) in empty:
                    found.append((int(number), get_column_letter(i + 1), str(value)))
    finally:
        wb.close()
    return found
