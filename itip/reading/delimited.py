"""CSV text to rows: the separator sniffed, each row with the line it starts on, parsed
strictly and bounded (a row longer than MAX_ROW_CHARS is refused before it is split)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from itip.problems import FileProblems, Problem
from itip.reading.bounds import Budget, Limits
from itip.reading.bounds import fail as _fail
from itip.reading.encoding import decode

#: How far down a file the header row is looked for (title rows above it).
HEADER_SEARCH_ROWS = 20
#: CSV separators, in the order tried when the sniffer cannot decide.
DELIMITERS = ";\t,"
#: A CSV row longer than this is refused before it is split into cells: a row of
#: a published-figure file is a few hundred characters, and one 20 MB line of
#: two-character cells would otherwise become millions of Python strings.
MAX_ROW_CHARS = 1_000_000

_EOL = re.compile(r"\r\n?|\n")


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


def parse_csv(text: str, delimiter: str, file: str, limits: Limits) -> list[tuple[int, list[str]]]:
    """Rows of a CSV text with the line each starts on. Parsed strictly: an
    unclosed quote would otherwise swallow every row below it without a word."""
    lines = _Lines(text, file)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    budget = Budget(file, limits)
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
