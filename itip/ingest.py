"""What an ingest decides for each release file, apart from orchestration.

The Prefect flow in flows/ingest.py only calls these functions, so the rules
(skip unchanged files, supersede corrected ones, reject bad ones whole) are
plain Python that tests can call directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from itip.codebook import Codebook
from itip.db import open_warehouse
from itip.problems import Problem
from itip.release import ReleaseFile, sha256_file

#: Outcomes of one file in one run.
LOADED, SUPERSEDED, UNCHANGED, REJECTED, STILL_REJECTED = (
    "loaded",
    "superseded",
    "unchanged",
    "rejected",
    "still rejected",
)


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
        return self.status in (REJECTED, STILL_REJECTED)

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


def prepare(warehouse: Path, codebook: Codebook) -> bool:
    """Create or migrate the warehouse and apply codebook changes; True if the codebook changed."""
    with open_warehouse(warehouse) as wh:
        return wh.sync_codebook(codebook)


def plan(warehouse: Path, release: ReleaseFile) -> Plan:
    """Skip a file whose content is already current, or already rejected as it is."""
    sha = sha256_file(release.path)
    with open_warehouse(warehouse) as wh:
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
    warehouse: Path,
    plan_: Plan,
    estimates: pd.DataFrame,
    problems: list[Problem],
    rows: int,
    codebook: Codebook,
    flow_run_id: str | None,
) -> FileOutcome:
    """Load a good file or record a rejected one, each in one transaction."""
    release = plan_.release
    name = release.path.name
    with open_warehouse(warehouse) as wh:
        if problems:
            release_id = wh.reject_release(
                year=release.year,
                kind=release.kind,
                file_name=name,
                sha256=plan_.sha256,
                rows=rows,
                problems=problems,
                flow_run_id=flow_run_id,
            )
            return FileOutcome(name, release.year, REJECTED, 0, release_id, f"{len(problems)} problem(s)", problems)
        release_id, previous = wh.load_release(
            year=release.year,
            kind=release.kind,
            file_name=name,
            sha256=plan_.sha256,
            estimates=estimates,
            codebook=codebook,
            flow_run_id=flow_run_id,
        )
    status = LOADED if previous is None else SUPERSEDED
    message = _rows(len(estimates)) + ("" if previous is None else f"; replaces release {previous.release_id}")
    return FileOutcome(name, release.year, status, len(estimates), release_id, message)
