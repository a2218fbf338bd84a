"""What an ingest decides for each release file, apart from orchestration.

The Prefect flow in flows/ingest.py only calls these functions, so the rules
(skip unchanged files, supersede corrected ones, reject bad ones whole) are
plain Python that tests can call directly. Just over 400 lines because the rules and the
locking they need (the ingest lock, the stat cache's racy-timestamp rule, the swap) are one
decision per file: split, each half would need the other's state to read.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from itip.codebook import Codebook
from itip.db import Warehouse, open_warehouse
from itip.db_schema import schema_sha
from itip.failpoints import failpoint
from itip.lake import Lake, one_writer, open_lake, retry_conflicts
from itip.paths import PROJECT_ROOT
from itip.problems import ItipError, Problem, reraise_interrupt
from itip.release import ReleaseFile
from itip.settings import DEFAULTS, Settings
from itip.snapshot import FileStat, Unreadable, hash_file
from itip.warehouse_file import real_path, remove_snapshot, settle_wal, write_snapshot

log = logging.getLogger("itip.ingest")

#: Outcomes of one file in one run.
LOADED, SUPERSEDED, UNCHANGED, REJECTED, STILL_REJECTED = (
    "loaded",
    "superseded",
    "unchanged",
    "rejected",
    "still rejected",
)
#: The run did nothing because another ingest held the warehouse.
BUSY = "busy"
#: The file could not be read this time (gone for a moment, no permission, being written):
#: reported, never recorded as a rejection, and read again on the next run.
UNREADABLE = "unreadable"
#: Reading or checking the file failed unexpectedly (a bug): reported, not recorded, tried again.
FAILED = "failed"

#: Bumped whenever a check changes what it accepts: a rejection decided by older checks is
#: not remembered (see `decided_by`).
CHECKS_VERSION = 2
#: Files whose content decides what the checks accept, besides the codebook.
_CHECK_SOURCES = ("schemas/models.py",)


class Busy(ItipError):
    """Another ingest holds the warehouse beyond the wait allowed."""


@dataclass
class FileOutcome:
    file: str
    year: int | None
    status: str
    rows: int = 0
    release_id: int | None = None
    message: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in (REJECTED, STILL_REJECTED, BUSY, UNREADABLE, FAILED)

    def line(self) -> str:
        year = "" if self.year is None else str(self.year)
        detail = self.message or _rows(self.rows)
        return f"{self.status:<15} {year:<5} {self.file:<24} {detail}".rstrip()


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


#: One stat cache row: (path, size, mtime_ns, inode, ctime_ns, sha256, recorded_ns).
StatEntry = tuple[str, int, int, int, int, str, int]


@dataclass(frozen=True)
class Plan:
    release: ReleaseFile
    sha256: str
    #: None when the file must be processed; otherwise the outcome without processing it.
    outcome: FileOutcome | None
    #: Stat cache rows to record with the next write (files hashed by this plan or read by the load).
    stats: tuple[StatEntry, ...] = ()
    #: Fingerprint of the codebook and checks this plan judged by (see `decided_by`).
    judge: str | None = None


def decided_by(codebook: Codebook) -> str:
    """What decides whether a file is rejected: the codebook, the checks' models, the warehouse
    schema and CHECKS_VERSION. A rejection is remembered only while this is the same, so an
    alias added to the codebook (README, Adding a year, step 3) gets the file checked again."""
    digest = hashlib.sha256()
    digest.update(codebook.sha256.encode())
    digest.update(schema_sha().encode())
    digest.update(str(CHECKS_VERSION).encode())
    for name in _CHECK_SOURCES:
        try:
            digest.update((PROJECT_ROOT / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return f"checks {CHECKS_VERSION}; codebook {codebook.sha256[:12]}; {digest.hexdigest()[:16]}"


def lock_path(warehouse: Path) -> Path:
    warehouse = real_path(warehouse)
    return warehouse.with_name(warehouse.name + ".lock")


def _lock_folder(folder: Path, wait: float, warehouse: Path) -> int | None:
    """Lock the warehouse's folder itself (flock on the directory), which, unlike the lock file,
    cannot be deleted from under a running ingest while the warehouse is in it. Returns the
    descriptor to close, or None where folders cannot be locked (some network filesystems:
    then only the lock file guards, see docs/operations.md)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise Busy(
                    f"{warehouse}: another ingest is still running after {wait:.0f} s (it holds the lock on "
                    f"the folder {folder}); nothing was changed, try again later"
                ) from None
            time.sleep(0.1)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EBADF, errno.EINVAL, errno.EOPNOTSUPP):
                log.warning("%s: folders cannot be locked here (%s); relying on the lock file", folder, exc.strerror)
                return None
            raise


@contextmanager
def ingest_lock(
    warehouse: Path | Lake, wait_seconds: float | None = None, settings: Settings = DEFAULTS
) -> Iterator[None]:
    """One ingest per warehouse at a time. A second one waits (bounded: `wait_seconds`, else
    the settings' lock_wait_seconds, ITIP_LOCK_WAIT_SECONDS) and then gives up with a
    message; the lock is the operating system's, so a killed ingest never leaves it held.
    Holding it, leftovers of a killed run are removed. A lake takes no lock: its writers
    commit DuckLake transactions concurrently."""
    if isinstance(warehouse, Lake):
        yield
        return
    wait = settings.lock_wait_seconds if wait_seconds is None else wait_seconds
    warehouse = real_path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    lock = FileLock(str(lock_path(warehouse)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another ingest is running on %s; waiting up to %.0f s", warehouse, wait)
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise Busy(
                f"{warehouse}: another ingest is still running after {wait:.0f} s "
                f"(lock {lock_path(warehouse).name}); nothing was changed, try again later"
            ) from None
    folder_fd: int | None = None
    try:
        folder_fd = _lock_folder(warehouse.parent, max(0.0, wait - (time.monotonic() - started)), warehouse)
        remove_snapshot(warehouse)
        if settle_wal(warehouse):
            log.warning("%s: replayed the write-ahead log a read-write session had left", warehouse)
        failpoint("after_lock")
        yield
    finally:
        if folder_fd is not None:
            os.close(folder_fd)
        lock.release()


def one_connection(warehouse: Path | Lake) -> AbstractContextManager[None]:
    """A run's writes to a lake share one connection (itip.lake.one_writer); a file warehouse
    is written through private copies (itip.warehouse_file), one per file."""
    return one_writer(warehouse) if isinstance(warehouse, Lake) else nullcontext()


def prepare(warehouse: Path | Lake, codebook: Codebook) -> bool:
    """Create or migrate the warehouse and apply codebook changes; True if anything changed.

    Checked read-only first, so a run with nothing new writes nothing."""
    if isinstance(warehouse, Lake):
        with open_lake(warehouse) as lake_wh:  # creates catalog and schema when missing
            return retry_conflicts(lambda: lake_wh.sync_codebook(codebook), warehouse)
    if warehouse.exists():
        with open_warehouse(warehouse, read_only=True) as wh:
            if wh.is_current(codebook.sha256):
                return False
    with write_snapshot(warehouse) as wh:
        wh.sync_codebook(codebook)
    return True


def plan_all(
    warehouse: Path | Lake,
    releases: list[ReleaseFile],
    codebook: Codebook | None = None,
    verify: bool = False,
    settings: Settings = DEFAULTS,
) -> list[Plan]:
    """Plans for every file, on one read-only connection. `verify` ignores the stat cache and
    hashes every file (itip ingest --verify)."""
    judge = None if codebook is None else decided_by(codebook)
    with open_warehouse(warehouse, read_only=True) as wh:
        return [plan(wh, release, judge, verify, settings) for release in releases]


def cache_key(path: Path) -> str:
    return os.path.abspath(path)


def cached_sha(wh: Warehouse, path: Path, status: FileStat, settings: Settings = DEFAULTS) -> str | None:
    """The recorded hash of a file whose stat is unchanged since, as git's index decides: size,
    mtime, inode and ctime equal, and mtime and ctime older than the moment they were recorded
    by more than the racy-timestamp margin (settings.stat_cache_racy_seconds).

    File timestamps come from a coarse clock (a few ms on Linux, 2 s on FAT, whatever the
    server says on a network mount): a file written again within that tick after its stat
    keeps the same mtime and ctime, so a younger file is hashed again (as git's index does)."""
    racy_ns = int(settings.stat_cache_racy_seconds * 1e9)
    entry = wh.file_stat(cache_key(path))
    if entry is None:
        return None
    size, mtime_ns, inode, ctime_ns, sha, recorded_ns = entry
    if (size, mtime_ns, inode, ctime_ns) != (status.size, status.mtime_ns, status.inode, status.ctime_ns):
        return None
    if max(status.mtime_ns, status.ctime_ns) >= recorded_ns - racy_ns:  # the racy-timestamp rule
        return None
    return sha


def plan(
    wh: Warehouse, release: ReleaseFile, judge: str | None = None, verify: bool = False, settings: Settings = DEFAULTS
) -> Plan:
    """Skip a file whose content is already current, or already rejected as it is (by the same
    codebook and checks). Its hash comes from the stat cache when the file's stat is unchanged,
    else from reading it; a file that cannot be read now is `unreadable` (tried again next run)."""
    recorded = time.time_ns()
    try:
        status = FileStat.of(os.stat(release.path))
    except OSError as exc:
        return _unreadable_plan(release, Unreadable(f"cannot be read now: {exc.strerror or exc}"))
    sha = None if verify else cached_sha(wh, release.path, status, settings)
    stats: tuple[StatEntry, ...] = ()
    if sha is None:
        try:
            sha, status = hash_file(release.path)
        except Unreadable as exc:
            return _unreadable_plan(release, exc)
        stats = ((cache_key(release.path), status.size, status.mtime_ns, status.inode, status.ctime_ns, sha, recorded),)
    return replace(decide(wh, release, sha, judge), stats=stats)


def _unreadable_plan(release: ReleaseFile, exc: Unreadable) -> Plan:
    outcome = unreadable(release, exc)
    return Plan(release, "", outcome)


def unreadable(release: ReleaseFile, exc: Unreadable) -> FileOutcome:
    """A file that could not be read this time: reported, not recorded, read again next run."""
    name = release.path.name
    message = f"{exc}; not recorded, read again on the next run"
    problem = Problem(name, None, None, "unreadable_now", None, message)
    return FileOutcome(name, release.year, UNREADABLE, message=message, problems=[problem])


def decide(wh: Warehouse, release: ReleaseFile, sha: str, judge: str | None = None) -> Plan:
    """The plan for a file with this content, from what the warehouse holds now. `judge`
    (see `decided_by`): a rejection by another codebook or other checks is not remembered."""
    current = wh.current_release(release.year, release.kind)
    if current is not None and current.sha256 == sha:
        outcome = FileOutcome(release.path.name, release.year, UNCHANGED, current.rows, current.release_id)
        return Plan(release, sha, outcome, judge=judge)
    rejected = wh.rejected_release(release.year, release.kind, sha, judge)
    if rejected is not None:
        problems = wh.rejections(rejected.release_id)
        outcome = FileOutcome(
            release.path.name,
            release.year,
            STILL_REJECTED,
            0,
            rejected.release_id,
            f"unchanged since rejected as release {rejected.release_id}; {len(problems)} problem(s)",
            problems,
        )
        return Plan(release, sha, outcome, judge=judge)
    return Plan(release, sha, None, judge=judge)


def store(
    warehouse: Path | Lake,
    plan_: Plan,
    estimates: pd.DataFrame,
    problems: list[Problem],
    rows: int,
    codebook: Codebook,
    flow_run_id: str | None,
    note: str | None = None,
) -> FileOutcome:
    """Load a good file or record a rejected one, each in one transaction.
    `note` is stored with a loaded release (e.g. the number of respondents)."""
    write = _Write(plan_, estimates, problems, rows, codebook, flow_run_id, note)
    if isinstance(warehouse, Lake):
        return _store_lake(warehouse, write)
    with write_snapshot(warehouse) as wh:
        # The plan was made before the file was read; the sha256 here is of the bytes read (see
        # itip.snapshot). Decided again on them: content put back to a loaded or rejected version
        # meanwhile is that version, not a new release.
        again = decide(wh, plan_.release, plan_.sha256, plan_.judge or decided_by(codebook))
        wh.record_file_stats(list(plan_.stats))
        if again.outcome is not None:
            return again.outcome
        return _write(wh, write)


def record_stats(warehouse: Path | Lake, entries: list[StatEntry]) -> None:
    """Record stat cache rows on their own (only in a run that writes anyway)."""
    if not entries:
        return
    if isinstance(warehouse, Lake):
        with open_lake(warehouse) as wh:
            retry_conflicts(lambda: wh.record_file_stats(entries), warehouse)
        return
    with write_snapshot(warehouse) as wh:
        wh.record_file_stats(entries)


@dataclass(frozen=True)
class _Write:
    """What `store` writes, handed whole to the file and the lake paths (which may retry it)."""

    plan: Plan
    estimates: pd.DataFrame
    problems: list[Problem]
    rows: int
    codebook: Codebook
    flow_run_id: str | None
    note: str | None


def _store_lake(lake: Lake, write: _Write) -> FileOutcome:
    """One DuckLake transaction that re-checks the plan and writes. Another writer may have
    loaded or rejected the same content since the plan was made: then this one reports
    it as unchanged / still rejected and writes nothing. A lost conflict is retried."""
    with open_lake(lake) as wh:

        def attempt() -> FileOutcome:
            with wh.transaction():
                again = decide(wh, write.plan.release, write.plan.sha256, write.plan.judge)
                wh.record_file_stats(list(write.plan.stats))
                if again.outcome is not None:
                    return again.outcome
                return _write(wh, write)

        return retry_conflicts(attempt, lake)


def _write(wh: Warehouse, write: _Write) -> FileOutcome:
    plan_, estimates, problems = write.plan, write.estimates, write.problems
    release = plan_.release
    name = release.path.name
    if problems:
        release_id = wh.reject_release(
            year=release.year,
            kind=release.kind,
            file_name=name,
            sha256=plan_.sha256,
            rows=write.rows,
            problems=problems,
            flow_run_id=write.flow_run_id,
            decided_by=plan_.judge or decided_by(write.codebook),
        )
        return FileOutcome(name, release.year, REJECTED, 0, release_id, f"{len(problems)} problem(s)", problems)
    release_id, previous = wh.load_release(
        year=release.year,
        kind=release.kind,
        file_name=name,
        sha256=plan_.sha256,
        estimates=estimates,
        codebook=write.codebook,
        flow_run_id=write.flow_run_id,
        note=write.note,
    )
    status = LOADED if previous is None else SUPERSEDED
    message = _rows(len(estimates)) + ("" if previous is None else f"; replaces release {previous.release_id}")
    return FileOutcome(name, release.year, status, len(estimates), release_id, message)


def report_fingerprint(warehouse: Path | Lake, codebook: Codebook) -> str | None:
    """What the key-figures report shows: the current releases and the codebook (labels,
    breaks). None when nothing is loaded (no report to build) or the warehouse cannot be read."""
    try:
        with open_warehouse(warehouse, read_only=True) as wh:
            row = wh.con.execute(
                "SELECT count(*), string_agg(CAST(release_id AS VARCHAR), ',' ORDER BY release_id) "
                "FROM releases WHERE status = 'loaded'"
            ).fetchone()
    except Exception as exc:  # best effort: a warehouse that cannot be read has no report to refresh
        reraise_interrupt(exc)
        return None
    if row is None or not row[0]:
        return None
    return hashlib.sha256(f"{row[1]}|{codebook.sha256}".encode()).hexdigest()
