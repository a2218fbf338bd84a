"""What an ingest decides for each release file, apart from orchestration.

The Prefect flow in flows/ingest.py only calls these functions, so the rules
(skip unchanged files, supersede corrected ones, reject bad ones whole) are
plain Python that tests can call directly.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from itip.codebook import Codebook
from itip.db import Warehouse, open_warehouse, remove_snapshot, write_snapshot
from itip.failpoints import failpoint
from itip.lake import Lake, open_lake, retry_conflicts
from itip.problems import ItipError, Problem
from itip.release import ReleaseFile, sha256_file

log = logging.getLogger("itip.ingest")

#: How long an ingest waits for another one on the same warehouse before giving up.
LOCK_WAIT_SECONDS = float(os.environ.get("ITIP_LOCK_WAIT_SECONDS", "60"))

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
        return self.status in (REJECTED, STILL_REJECTED, BUSY)

    def line(self) -> str:
        year = "" if self.year is None else str(self.year)
        detail = self.message or _rows(self.rows)
        return f"{self.status:<15} {year:<5} {self.file:<24} {detail}".rstrip()


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


@dataclass(frozen=True)
class Plan:
    release: ReleaseFile
    sha256: str
    #: None when the file must be processed; otherwise the outcome without processing it.
    outcome: FileOutcome | None


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def ingest_lock(warehouse: Path | Lake, wait_seconds: float | None = None) -> Iterator[None]:
    """One ingest per warehouse at a time. A second one waits (bounded) and then
    gives up with a message; the lock is the operating system's, so a killed
    ingest never leaves it held. Holding it, leftovers of a killed run are removed.
    A lake takes no lock: its writers commit DuckLake transactions concurrently."""
    if isinstance(warehouse, Lake):
        yield
        return
    wait = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    warehouse.parent.mkdir(parents=True, exist_ok=True)
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
    try:
        remove_snapshot(warehouse)
        failpoint("after_lock")
        yield
    finally:
        lock.release()


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


def plan_all(warehouse: Path | Lake, releases: list[ReleaseFile]) -> list[Plan]:
    """Plans for every file, on one read-only connection."""
    with open_warehouse(warehouse, read_only=True) as wh:
        return [plan(wh, release) for release in releases]


def plan(wh: Warehouse, release: ReleaseFile) -> Plan:
    """Skip a file whose content is already current, or already rejected as it is."""
    return decide(wh, release, sha256_file(release.path))


def decide(wh: Warehouse, release: ReleaseFile, sha: str) -> Plan:
    """The plan for a file with this content, from what the warehouse holds now."""
    current = wh.current_release(release.year, release.kind)
    if current is not None and current.sha256 == sha:
        outcome = FileOutcome(release.path.name, release.year, UNCHANGED, current.rows, current.release_id)
        return Plan(release, sha, outcome)
    rejected = wh.rejected_release(release.year, release.kind, sha)
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
        return Plan(release, sha, outcome)
    return Plan(release, sha, None)


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
        return _write(wh, write)


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
                again = decide(wh, write.plan.release, write.plan.sha256)
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
