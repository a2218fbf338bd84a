"""The warehouse file: every write goes to a private copy swapped in by one rename.

Readers (the DuckDB CLI, BI tools, `itip sql`) may hold the file open at any time, and a
crash may strike at any point. So an ingest never writes the file others read: it copies
it (`<file>.next`), writes and checkpoints the copy, flushes it and renames it over the
file (`write_snapshot`). A write-ahead log left by someone else's read-write session is
replayed first (`settle_wal`), a copy left by a killed ingest is removed
(`remove_snapshot`), and a file whose deleted values must not survive in freed blocks is
rewritten whole (`_rewrite`). The statements inside are itip.db's; only files are handled
here. Callers hold the ingest lock (itip.ingest).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from itip.db import BASE_CONFIG, Warehouse, _open, ident
from itip.failpoints import failpoint
from itip.problems import ItipError


def real_path(path: Path) -> Path:
    """The warehouse file itself when `path` is a symbolic link to it: the swap must replace
    the file the link points to, not the link (which would then be a plain file beside a
    target nobody updates). Links in the folders above are fine as they are."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log of a database file."""
    return path.with_name(path.name + ".wal")


def settle_wal(path: Path) -> bool:
    """Replay and checkpoint a write-ahead log that a read-write session left beside the warehouse.

    A session that opened the warehouse read-write (the DuckDB CLI's default) and was killed
    leaves `itip.duckdb.wal` holding its last writes. Swapping a new file in beside it would
    pair the new file with a log that does not belong to it, and every later open would fail.
    So, under the ingest lock and before anything is copied, the warehouse is opened
    read-write once, which replays the log into the file and removes it. When the session is
    still alive (DuckDB refuses the open), the ingest stops with a clear message instead.
    Returns True when a log was replayed. Callers must hold the ingest lock."""
    path = real_path(path)
    wal = wal_path(path)
    if not wal.exists() or not path.exists():
        return False
    try:
        con = duckdb.connect(str(path), read_only=False, config=BASE_CONFIG)
    except duckdb.IOException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ItipError(
            f"{path}: another process has the warehouse open while a write-ahead log ({wal.name}) of a "
            f"read-write session exists ({first}); close that session (open the warehouse read-only) "
            "and run the ingest again: nothing was changed"
        ) from None
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ItipError(
            f"{path}: its write-ahead log {wal.name} cannot be replayed ({first}); it was left by a "
            f"read-write session. Move {wal.name} aside (its writes are lost) and run the ingest again"
        ) from None
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return True


def snapshot_path(path: Path) -> Path:
    """The private working copy an ingest writes before swapping it in."""
    return path.with_name(path.name + ".next")


def remove_snapshot(path: Path) -> None:
    """Delete a working copy left by a killed ingest (call only while holding the ingest lock)."""
    work = snapshot_path(real_path(path))
    fresh = _fresh_path(work)
    for leftover in (work, work.with_name(work.name + ".wal"), fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _fresh_path(work: Path) -> Path:
    return work.with_name(work.name + ".fresh")


def _rewrite(work: Path) -> None:
    """Copy every table of `work` into a new file and put that in its place.

    DuckDB reuses the blocks an UPDATE or DELETE frees but does not wipe them: the old bytes
    stay in the file, readable by anyone with the file (tests/integration/test_disclosure.py searches
    for them). A new file holds only the current rows. Tables go through Arrow, so no
    path is written into SQL."""
    fresh = _fresh_path(work)
    fresh.unlink(missing_ok=True)
    old = _open(work, read_only=True)
    new = _open(fresh, read_only=False)
    try:
        Warehouse(new, fresh).ensure_schema()  # tables, views and comments from warehouse/sql
        tables = [
            str(r[0])
            for r in old.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary"
            ).fetchall()
        ]
        known = {str(r[0]) for r in new.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        new.begin()
        for table in tables:
            data = old.execute(f"SELECT * FROM {ident(table)}").arrow()  # names from the file's own catalog
            new.register("_copy", data)
            if table in known:
                new.execute(f"DELETE FROM {ident(table)}")
                new.execute(f"INSERT INTO {ident(table)} BY NAME SELECT * FROM _copy")
            else:
                new.execute(f"CREATE TABLE {ident(table)} AS SELECT * FROM _copy")
            new.unregister("_copy")
        new.commit()
        new.execute("CHECKPOINT")
    except BaseException:
        new.close()
        old.close()
        fresh.unlink(missing_ok=True)
        raise
    new.close()
    old.close()
    os.replace(fresh, work)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def write_snapshot(path: Path) -> Iterator[Warehouse]:
    """Change the warehouse without ever touching the file others have open.

    The block writes a private copy (`<file>.next`); when it succeeds the copy is
    checkpointed, flushed to disk and renamed over the warehouse in one atomic
    step. Sessions that had the old file open keep reading it unchanged; the
    next session opens the new one. A crash at any point leaves the warehouse as
    it was before the block or as it is after it, never in between; the next
    ingest removes the orphaned copy. Callers must hold the ingest lock. When `path` is a
    symbolic link, the file it points to is replaced and the link stays.
    """
    path = real_path(path)
    work = snapshot_path(path)
    remove_snapshot(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        shutil.copyfile(path, work)
    failpoint("after_copy")
    con = _open(work, read_only=False)
    try:
        warehouse = Warehouse(con, work)
        warehouse.ensure_schema()
        yield warehouse
        con.execute("CHECKPOINT")
        failpoint("after_checkpoint")
    except BaseException:
        con.close()
        remove_snapshot(path)
        raise
    con.close()
    if warehouse.rewrite_needed:
        try:
            _rewrite(work)
        except BaseException:
            remove_snapshot(path)
            raise
    _fsync(work)
    failpoint("before_swap")
    os.replace(work, path)
    _fsync(path.parent)
    failpoint("after_swap")
