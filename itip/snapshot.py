"""A private copy of a release file: the bytes that are hashed are the bytes that are read.

An ingest used to hash a file when it planned and read it later: a file replaced or
appended to in between was loaded under the old file's hash, and putting the old file
back then said "nothing new" while the wrong values stayed (issue 14). Here a file is
read once, into a private folder (mode 0700) while its SHA-256 is computed over the same
bytes; every reader (published figures, editions, respondent files that DuckDB reads by
path) then reads the copy, and the release records the copy's hash. What happens to the
file in raw/ afterwards cannot change what is loaded.

The copy also gives DuckDB's `read_csv` a path it cannot take for a glob pattern: the
folder is made here and the name is a release name (`itip_<YEAR>_respondents.csv`), so
`--raw 'r[a]w'` or `raw*` never reach DuckDB.

The stat of the file (size, mtime, inode, ctime) is taken before and after the copy; when
they differ the file was being written while it was read, and the copy is not trusted.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from itip.problems import ItipError
from itip.settings import DEFAULTS, Settings

#: Characters DuckDB's file readers expand as a glob (and `{a,b}` alternatives).
GLOB_CHARACTERS = frozenset("*?[]{}")
_CHUNK = 1 << 20


class Unreadable(ItipError):
    """The file could not be read now (gone, no permission, being written): retried next run,
    never remembered as a rejection."""


@dataclass(frozen=True)
class FileStat:
    """What the stat cache compares (as git's index does): a file whose five fields are the
    same as when its hash was recorded, and whose mtime was older than that moment, is taken
    to be unchanged without reading it."""

    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileStat:
        return cls(status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)


@dataclass(frozen=True)
class Copied:
    """A private copy of a release file and the SHA-256 of exactly its bytes."""

    path: Path
    sha256: str
    stat: FileStat
    #: time.time_ns() when the file was stat'ed before reading: the stat cache's "recorded at".
    recorded_ns: int


def has_glob(path: Path | str) -> bool:
    return any(c in GLOB_CHARACTERS for c in str(path))


def _open_regular(path: Path) -> tuple[int, os.stat_result]:
    """Open for reading without blocking on a pipe, and refuse anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(f"cannot be read now: {exc.strerror or exc}") from None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise Unreadable("is not a regular file now (a folder, pipe or device)")
    return fd, status


def hash_file(path: Path) -> tuple[str, FileStat]:
    """SHA-256 and stat of a file, read once (the planning hash when the stat cache misses)."""
    fd, status = _open_regular(path)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "rb", closefd=True) as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
    except OSError as exc:
        raise Unreadable(f"cannot be read now: {exc.strerror or exc}") from None
    return digest.hexdigest(), FileStat.of(status)


@contextmanager
def private_copy(path: Path, limit: int | None = None, settings: Settings = DEFAULTS) -> Iterator[Copied]:
    """Copy `path` into a private temporary folder, hashing the bytes as they are copied.

    At most `limit + 1` bytes are copied (the reader then refuses the file as too large
    without the copy filling the disk). Raises Unreadable when the file cannot be read or
    changed while it was copied. The copy is deleted when the block ends. The folder is
    made under the settings' read_tmpdir (ITIP_READ_TMPDIR, read where the run started),
    else the system's.
    """
    tmpdir = settings.read_tmpdir
    recorded = time.time_ns()
    fd, before = _open_regular(path)
    src = os.fdopen(fd, "rb", closefd=True)
    folder = Path(tempfile.mkdtemp(prefix="itip-read-", dir=tmpdir or None))
    try:
        folder.chmod(0o700)
        copy = folder / path.name
        digest = hashlib.sha256()
        remaining = None if limit is None else limit + 1
        try:
            with src, open(copy, "xb") as dst:
                os.chmod(copy, 0o600)
                while remaining is None or remaining > 0:
                    chunk = src.read(_CHUNK if remaining is None else min(_CHUNK, remaining))
                    if not chunk:
                        break
                    digest.update(chunk)
                    dst.write(chunk)
                    if remaining is not None:
                        remaining -= len(chunk)
                after = os.fstat(src.fileno())
                if remaining == 0 and after.st_size > dst.tell():
                    # Over the limit: the copy gets the original's size as a sparse tail (no disk
                    # used, never read), so the reader's size check names the file's real size.
                    dst.truncate(after.st_size)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise
            raise Unreadable(f"cannot be read now: {exc.strerror or exc}") from None
        first, last = FileStat.of(before), FileStat.of(after)
        if first != last:
            raise Unreadable("changed while it was being read (someone is writing it); it is read again next run")
        yield Copied(copy, digest.hexdigest(), first, recorded)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
