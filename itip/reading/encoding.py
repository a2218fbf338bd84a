"""Which text encoding a file is in: UTF-8 (with or without BOM), UTF-16 or
Windows-1252, and a clear refusal for binary data, UTF-32 and files that mix two."""

from __future__ import annotations

import re

import charset_normalizer

from itip.problems import FileProblems, Problem
from itip.reading.bounds import fail as _fail

MIXED_ENCODING_ROWS = 20

_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_NON_ASCII = re.compile(rb"[\x80-\xff]+")
#: C0 control characters other than tab, line breaks and form feeds: text never
#: has more than a stray one, binary data has them everywhere.
_CONTROL = re.compile(rb"[\x01-\x08\x0e-\x1f\x7f]")


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
