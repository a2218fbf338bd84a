"""Reading release files as people really send them.

Norwegian statistics files arrive as UTF-8 (with or without BOM), UTF-16 or
Windows-1252; separated by `,`, `;` or tab; and as spreadsheets with title rows
above the header. This module turns any of them into one shape: a header and
rows of text, each row with the number a person sees in their editor, so every
later message can point at it. Nothing is interpreted here.

Files also arrive broken or hostile, so reading is bounded: a file is refused
(as a problem, never a traceback) before it can take much memory or time. The
limits are in itip.paths; an .xlsx is inspected as a zip archive before any XML
parser sees it (zip bombs, encryption, XML document type declarations), and
openpyxl parses its XML through defusedxml.
"""

from __future__ import annotations

import csv
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import charset_normalizer

from itip.paths import (
    MAX_RELEASE_BYTES,
    MAX_RELEASE_CELLS,
    MAX_RELEASE_ROWS,
    MAX_XLSX_COMPRESSION_RATIO,
    MAX_XLSX_UNCOMPRESSED_BYTES,
)
from itip.problems import FileProblems, Problem

#: How far down a file the header row is looked for (title rows above it).
HEADER_SEARCH_ROWS = 20
#: CSV separators, in the order tried when the sniffer cannot decide.
DELIMITERS = ";\t,"
#: A CSV row longer than this is refused before it is split into cells: a row of
#: a published-figure file is a few hundred characters, and one 20 MB line of
#: two-character cells would otherwise become millions of Python strings.
MAX_ROW_CHARS = 1_000_000
#: zipfile reads an archive's whole directory into memory when it opens it; a
#: workbook's directory lists a few dozen parts in a few kB.
MAX_XLSX_DIRECTORY_BYTES = 1024 * 1024
#: Parts smaller than this are not judged by their compression ratio: small
#: repetitive XML packs well without being a bomb.
RATIO_MIN_BYTES = 1024 * 1024
#: How many rows of a file that mixes encodings are named one by one.
MIXED_ENCODING_ROWS = 20

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_NON_ASCII = re.compile(rb"[\x80-\xff]+")
_EOL = re.compile(r"\r\n?|\n")
#: C0 control characters other than tab, line breaks and form feeds: text never
#: has more than a stray one, binary data has them everywhere.
_CONTROL = re.compile(rb"[\x01-\x08\x0e-\x1f\x7f]")
#: A document type declaration is how XML declares entities (billion laughs,
#: external entities); no part of a workbook needs one. Looked for in the
#: encodings XML parsers detect on their own.
_DTD_MARKERS = tuple(
    marker.encode(codec) for marker in ("<!DOCTYPE", "<!ENTITY") for codec in ("ascii", "utf-16-le", "utf-16-be")
)


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


class _Budget:
    """Rows and cells read so far; reading stops with a `size` problem past the limits."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rows = 0
        self.cells = 0

    def add(self, row: int, cells: int) -> None:
        self.rows += 1
        self.cells += cells
        if self.rows > MAX_RELEASE_ROWS:
            message = f"has more than {MAX_RELEASE_ROWS:,} rows, over the limit (ITIP_MAX_RELEASE_ROWS)"
            raise _fail(self.file, "size", message, row)
        if self.cells > MAX_RELEASE_CELLS:
            message = f"has more than {MAX_RELEASE_CELLS:,} cells, over the limit (ITIP_MAX_RELEASE_CELLS)"
            raise _fail(self.file, "size", message, row)


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


# --- text files --------------------------------------------------------------------------


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: every other byte of Latin text is NUL."""
    sample = data[:4096]
    half = len(sample) // 2
    return half >= 2 and max(sample[0::2].count(0), sample[1::2].count(0)) >= 0.8 * half


def _row_list(rows: list[int], count: int) -> str:
    shown = ", ".join(str(r) for r in rows[:3])
    more = count - min(len(rows), 3)
    return shown + (f" and {more:,} more" if more > 0 else "")


def _utf8_evidence(run: bytes) -> bool | None:
    """Whether a run of non-ASCII bytes is UTF-8 (True), not UTF-8 (False), or
    cannot tell (None): Windows-1252 text may happen to form a valid sequence
    (`«NÅ»` holds the bytes of `Ż`). Real UTF-8 in a Norwegian file decodes to
    letters Windows-1252 also has (æøå, é, –) or to a character outside the Basic
    Multilingual Plane (four bytes, never a coincidence); anything else (`Ż`, but
    also Sámi `ŋ`) is left out. Windows-1252 still looks like UTF-8 where `Å` is
    followed directly by a no-break space, ’, “, ¡, ¸, ½ or ¾ (the bytes of Š, Œ, Ÿ...)."""
    try:
        text = run.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any(ord(c) > 0xFFFF or c == "\ufeff" for c in text):  # or a UTF-8 byte-order mark
        return True
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return None
    return True


def refuse_mixed_encodings(data: bytes, file: str) -> None:
    """Refuse text that is UTF-8 on some lines and another encoding on others (rows
    pasted from two sources, or a UTF-8 byte-order mark on a Windows-1252 file).
    Decoded either way, part of the file would be mojibake (`RambÃ¸ll`), so the
    rows in the minority are named instead. Non-ASCII runs are judged on their own:
    UTF-8's multi-byte characters consist of non-ASCII bytes only."""
    first: dict[bool, list[int]] = {True: [], False: []}
    count = {True: 0, False: 0}
    last = {True: 0, False: 0}
    line, pos = 1, 0
    for m in _NON_ASCII.finditer(data):
        line += data.count(b"\n", pos, m.start())
        pos = m.start()
        utf8 = _utf8_evidence(m.group())
        if utf8 is None:
            continue
        if last[utf8] != line:
            last[utf8] = line
            count[utf8] += 1
            if len(first[utf8]) < MIXED_ENCODING_ROWS:
                first[utf8].append(line)
    if not count[True] or not count[False]:
        return
    odd = count[True] < count[False]  # the minority is named; on a tie the rows that are not UTF-8
    usual = _row_list(first[not odd], count[not odd])
    if odd:
        message = f"is UTF-8 but row(s) {usual} are not (Windows-1252?)"
    else:
        message = f"is not UTF-8 (Windows-1252?) but row(s) {usual} are"
    message += ": the file mixes two text encodings; save it again in one (UTF-8)"
    problems = [Problem(file, r, None, "encoding", None, message) for r in first[odd]]
    if count[odd] > len(first[odd]):
        more = count[odd] - len(first[odd])
        problems.append(Problem(file, None, None, "encoding", None, f"{more:,} more row(s) mix encodings the same way"))
    raise FileProblems(problems)


def decode(data: bytes, file: str) -> tuple[str, str]:
    """Text and encoding name. UTF-8 is tried first because it is never a false
    positive on Norwegian text; the rest is left to charset-normalizer, limited
    to the encodings Norwegian files use so short files are not misread as
    e.g. Cyrillic. A file that is only partly UTF-8 is refused."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise _fail(file, "encoding", "is UTF-32, which is not accepted; save it as UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _fail(file, "encoding", "starts like UTF-16 but is not valid UTF-16") from None
    if b"\x00" in data:
        if _looks_utf16(data):
            raise _fail(
                file,
                "encoding",
                "looks like UTF-16 without a byte-order mark; save it as UTF-8 "
                "(or as Excel's 'Unicode text', which has one)",
            )
        raise _fail(file, "format", "looks binary (contains NUL bytes), not a text CSV file")
    sample = data[:65536]
    if len(_CONTROL.findall(sample)) > len(sample) / 100:
        raise _fail(file, "format", "looks binary (full of control characters), not a text CSV file")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        refuse_mixed_encodings(data, file)
    best = charset_normalizer.from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15"]).best()
    if best is None:
        raise _fail(file, "encoding", "cannot tell the text encoding (tried UTF-8, UTF-16, Windows-1252, ISO-8859-1)")
    return str(best), best.encoding


def sniff_delimiter(text: str) -> str:
    """The separator, judged on the first lines. csv.Sniffer does the work; when
    it cannot decide (one column, title rows), the most frequent candidate of the
    busiest line wins."""
    # Only the head is split: the sample is a few lines, the text may be 20 MB.
    sample = "\n".join(text[:MAX_ROW_CHARS].splitlines()[: HEADER_SEARCH_ROWS + 5])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: max((line.count(d) for line in sample.splitlines()), default=0) for d in DELIMITERS}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


class _Lines:
    """The physical lines of a text, one at a time, for csv.reader (which pulls only
    as many as one row needs). A row that grows past MAX_ROW_CHARS is refused
    before csv splits it into cells. Lines end at \\r\\n, \\n or \\r, as with
    `newline=""`."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.pos = 0
        self.lines = 0
        self.row_start = 1
        self.row_chars = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.text):
            raise StopIteration
        m = _EOL.search(self.text, self.pos)
        end = m.end() if m else len(self.text)
        self.row_chars += end - self.pos
        if self.row_chars > MAX_ROW_CHARS:
            raise _fail(self.file, "size", f"row is longer than {MAX_ROW_CHARS:,} characters", self.row_start)
        line = self.text[self.pos : end]
        self.pos = end
        self.lines += 1
        return line

    def row_done(self) -> None:
        self.row_start = self.lines + 1
        self.row_chars = 0


class _CsvError(FileProblems):
    """The text cannot be split into rows with one separator; another may work."""


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if text == "unexpected end of data":
        return 'a quoted cell (starting with ") begins in this row and is never closed'
    if text.endswith("expected after '\"'"):
        return 'a quote (") ends a quoted cell in the middle of it; write a quote inside a cell as ""'
    if text.startswith("line contains NUL"):
        return "contains a NUL character; it is not a text CSV file"
    if text.startswith("field larger than field limit"):
        return f"has a cell longer than {csv.field_size_limit():,} characters"
    return f"is not valid CSV: {text}"


def parse_csv(text: str, delimiter: str, file: str) -> list[tuple[int, list[str]]]:
    """Rows of a CSV text with the line each starts on. Parsed strictly: an
    unclosed quote would otherwise swallow every row below it without a word."""
    lines = _Lines(text, file)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    budget = _Budget(file)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            budget.add(start, len(record))
            rows.append((start, record))
            start = reader.line_num + 1
            lines.row_done()
    except csv.Error as exc:
        raise _CsvError([Problem(file, start, None, "format", None, _csv_message(exc))]) from None
    return rows


def read_csv(path: Path, data: bytes) -> tuple[str, str]:
    """The text of a CSV file and its encoding."""
    file = path.name
    if data.startswith(b"PK\x03\x04"):
        raise _fail(
            file, "format", "is a zip archive (a spreadsheet?) with a .csv name; save it as .xlsx or export to CSV"
        )
    return decode(data, file)


# --- spreadsheets ------------------------------------------------------------------------


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


def inspect_xlsx(path: Path) -> None:
    """Refuse a workbook that is not safe to open, before any XML parser sees it:
    not a zip (or cut off), encrypted, a zip directory or unpacked size far beyond
    any workbook's, a part that unpacks more than MAX_XLSX_COMPRESSION_RATIO-fold,
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
            if total > MAX_XLSX_UNCOMPRESSED_BYTES:
                raise _fail(
                    file,
                    "size",
                    f"unpacks to {total:,} bytes, over the limit of {MAX_XLSX_UNCOMPRESSED_BYTES:,} "
                    "(ITIP_MAX_XLSX_UNCOMPRESSED_BYTES): a zip bomb, or not a published-figure workbook",
                )
            for i in infos:
                if i.file_size > RATIO_MIN_BYTES and i.file_size > MAX_XLSX_COMPRESSION_RATIO * max(i.compress_size, 1):
                    ratio = i.file_size / max(i.compress_size, 1)
                    message = (
                        f"part {i.filename!r} unpacks {ratio:,.0f}-fold ({i.compress_size:,} to {i.file_size:,} "
                        f"bytes), over the limit of {MAX_XLSX_COMPRESSION_RATIO}-fold "
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


def read_xlsx(path: Path) -> tuple[list[tuple[int, list[str]]], str]:
    """Rows of the sheet named `data` or `tall`, else the first sheet, after
    `inspect_xlsx`. openpyxl parses the XML through defusedxml (installed; see
    openpyxl.xml.DEFUSEDXML), so entity declarations that got past the
    inspection are refused too. A formula cell reads as its saved result."""
    import openpyxl  # slow import; only spreadsheet users pay for it

    file = path.name
    inspect_xlsx(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise _xlsx_failure(file, exc, path, "opened") from None
    budget = _Budget(file)
    try:
        names = {name.strip().lower(): name for name in wb.sheetnames}
        sheet_name = names.get("data") or names.get("tall") or wb.sheetnames[0]
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
    return rows, sheet_name


# --- any release file --------------------------------------------------------------------


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


def read_table(path: Path, is_header: Callable[[list[str]], bool]) -> Table:
    """Read a release file. `is_header` recognises the header row, so title rows
    above it (common in spreadsheets and SSB exports) are skipped. In a CSV file
    the header row also decides the separator: the sniffed one is tried first,
    then the others, so rows written with another separator than the header's
    are reported row by row (staging) instead of hiding the header."""
    file = path.name
    check_name(file)
    try:
        status = path.stat()
    except OSError as exc:
        raise _fail(file, "unreadable", f"cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(status.st_mode):  # a pipe would block the read, a device never end
        raise _fail(file, "unreadable", "is not a regular file (a folder, pipe or device)")
    size = status.st_size
    if size > MAX_RELEASE_BYTES:
        raise _fail(
            file, "size", f"is {size:,} bytes, over the limit of {MAX_RELEASE_BYTES:,} (ITIP_MAX_RELEASE_BYTES)"
        )
    if size == 0:
        raise _fail(file, "empty", "is empty")
    try:
        if path.suffix.lower() == ".xlsx":
            rows, sheet = read_xlsx(path)
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
            rows = parse_csv(text, delimiter, file)
        except _CsvError as exc:
            outcome = outcome or exc
            continue
        table = _table(file, rows, is_header, encoding, delimiter)
        if table is not None:
            return table
        outcome = outcome or _no_header(file)
    assert outcome is not None
    raise outcome
