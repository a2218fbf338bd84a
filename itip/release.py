"""Release files: which files in raw/ are releases, and checking a published-figure file.

`check_release` is the whole pure pipeline for one published-figure file (read, stage,
validate, harmonise, validate again): the published side of the check contract that
`itip check` and the Prefect flow both reach through `itip.check.check`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from itip.checked import Checked
from itip.codebook import Codebook
from itip.problems import FileProblems, Problem
from itip.reading import Table, read_table
from itip.settings import DEFAULTS, Settings
from itip.staging import is_header, stage

# Pandera is imported where files are checked:
# a scheduled run that finds nothing new never loads them.

#: Published-figure release files: itip_<YEAR>.csv or itip_<YEAR>.xlsx.
RELEASE_NAME = re.compile(r"itip_(?P<year>[0-9]{4})\.(?P<ext>csv|xlsx)", re.IGNORECASE | re.ASCII)
KIND = "published"
#: Respondent-level files: itip_<YEAR>_respondents.csv, .xlsx or .sav (see itip.respondents).
RESPONDENT_NAME = re.compile(r"itip_(?P<year>[0-9]{4})_respondents\.(?P<ext>csv|xlsx|sav)", re.IGNORECASE | re.ASCII)
RESPONDENTS_KIND = "respondents"


@dataclass(frozen=True)
class ReleaseFile:
    path: Path
    #: None for the editions file, which covers every edition.
    year: int | None
    kind: str = KIND


@dataclass
class Discovery:
    releases: list[ReleaseFile]
    #: Files that look like releases but cannot be one (two files for a year, a link out of raw/).
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def release_year(path: Path) -> int | None:
    m = RELEASE_NAME.fullmatch(path.name)
    return int(m["year"]) if m else None


def _link_refusal(path: Path, root: Path) -> str | None:
    """Why a link in raw/ cannot be a release, or None. raw/ is the immutable input:
    a link may only point at a regular file inside it (a dangling link, a loop or a
    pipe would crash or block the run later)."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "is a link to a file that does not exist (or to itself)"
    if root not in target.parents:
        return "is a link to a file outside the release folder; copy the file in instead"
    if not target.is_file():
        return "is a link to something that is not a regular file"
    return None


def discover(raw_dir: Path) -> Discovery:
    """Release files in raw/, oldest year first: published-figure files and
    respondent-level files (kind `respondents`). Other files (notes, PDFs,
    backups) are ignored. Two files of one kind for one year are both refused:
    which one is meant cannot be guessed."""
    if not raw_dir.is_dir():
        return Discovery([], [Problem(str(raw_dir), None, None, "raw_dir", None, "release folder does not exist")])
    from itip.editions import EDITIONS_KIND, editions_file

    by_year: dict[tuple[int | None, str], list[Path]] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    root = raw_dir.resolve()
    for path in sorted(raw_dir.iterdir()):
        year, kind = release_year(path), KIND
        respondents = RESPONDENT_NAME.fullmatch(path.name)
        if respondents:
            year, kind = int(respondents["year"]), RESPONDENTS_KIND
        editions = editions_file(path)
        if editions:
            kind = EDITIONS_KIND
        if (year is None and not editions) or not (path.is_file() or path.is_symlink()):
            ignored.append(path.name)
            continue
        if path.is_symlink():
            refusal = _link_refusal(path, root)
            if refusal:
                problems.append(Problem(path.name, None, None, "symlink", None, refusal))
                continue
        by_year.setdefault((year, kind), []).append(path)
    releases = []

    def order(item: tuple[tuple[int | None, str], list[Path]]) -> tuple[bool, int, str]:
        (year, kind), _ = item
        return year is None, year or 0, kind  # the editions file (no year) after the yearly files

    for (year, kind), paths in sorted(by_year.items(), key=order):
        if len(paths) > 1:
            names = ", ".join(p.name for p in paths)
            what = f"{year} has more than one release file" if year is not None else "more than one editions file"
            for p in paths:
                problems.append(
                    Problem(
                        p.name,
                        None,
                        None,
                        "one_file_per_year",
                        None,
                        f"{what} ({names}); keep one",
                    )
                )
            continue
        releases.append(ReleaseFile(paths[0], year, kind))
    return Discovery(releases, problems, ignored)


def last_plausible_year() -> int:
    """Next year: an edition can be announced ahead, never further."""
    return datetime.now(UTC).year + 1


def plausible_years(codebook: Codebook, settings: Settings = DEFAULTS) -> tuple[int, int]:
    """(first, last) year a release file may have: the codebook's first_year to next year, or
    the settings' year_range (ITIP_YEAR_RANGE, `FIRST-LAST`) where set, for synthetic
    benchmarks that need more years than the survey has had."""
    if settings.year_range is None:
        return codebook.first_year, last_plausible_year()
    return settings.year_range


def year_refusal(file: str, year: int | None, codebook: Codebook, settings: Settings = DEFAULTS) -> Problem | None:
    """A file whose year cannot be an edition of the survey: before its first edition (the
    codebook's `first_year`) or after next year. itip_0000.csv and itip_9999.csv would
    otherwise load and get changes against year 0."""
    if year is None:
        return None
    first, last = plausible_years(codebook, settings)
    if first <= year <= last:
        return None
    return Problem(
        file,
        None,
        None,
        "year_range",
        str(year),
        f"year {year} in the file name is outside the survey's years {first}-{last} "
        "(first edition: codebook first_year; at most next year; ITIP_YEAR_RANGE to change); "
        "rename the file to its edition year",
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_release(path: Path, settings: Settings = DEFAULTS) -> Table:
    return read_table(path, is_header, settings)


def validate_release(table: Table, year: int) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """Stage and validate the file layer (types, ranges, year, source)."""
    from itip.validate import run_schema, staged_schema

    staged, problems = stage(table, year)
    warnings = [f"{table.file}: column {c!r} is not used" for c in staged.attrs.get("unknown_columns", [])]
    if staged.empty:
        return staged, problems, warnings
    problems = problems + run_schema(staged_schema(year), staged, table.file, year)
    from itip.advice import fraction_warnings

    return staged, problems, warnings + fraction_warnings(staged, table.file)


def harmonise_release(
    staged: pd.DataFrame, codebook: Codebook, file: str, year: int
) -> tuple[pd.DataFrame, list[Problem]]:
    """Map onto the codebook and validate the estimate layer (ids, duplicates, distributions)."""
    from itip.harmonise import harmonise
    from itip.validate import estimate_schema, run_schema

    if staged.empty:
        return staged, []
    estimates, problems = harmonise(staged, codebook, file)
    problems = problems + run_schema(estimate_schema(codebook), estimates, file, year, codebook)
    return estimates, problems


def merge_problems(*groups: list[Problem]) -> list[Problem]:
    """All problems once each, in file order; a cell already reported as unreadable
    is not reported again by a later check of the same cell."""
    seen: set[tuple[int | None, str | None]] = set()
    merged: list[Problem] = []
    for group in groups:
        for p in group:
            key = (p.row, p.column)
            if p.row is not None and p.column is not None and key in seen:
                continue
            seen.add(key)
            merged.append(p)
    return sorted(merged, key=lambda p: (p.row or 0, p.column or "", p.check))


def check_release(path: Path, codebook: Codebook, year: int | None = None, settings: Settings = DEFAULTS) -> Checked:
    """Every check of one published-figure file, without touching the warehouse."""
    file = path.name
    file_year = year if year is not None else release_year(path)
    if file_year is None:
        problem = Problem(file, None, None, "file_name", None, "file name must be itip_<YEAR>.csv or itip_<YEAR>.xlsx")
        return Checked(file, 0, pd.DataFrame(), [problem])
    refusal = year_refusal(file, file_year, codebook, settings)
    if refusal is not None:
        return Checked(file, file_year, pd.DataFrame(), [refusal])
    try:
        table = read_release(path, settings)
    except FileProblems as exc:
        return Checked(file, file_year, pd.DataFrame(), exc.problems)
    staged, staged_problems, warnings = validate_release(table, file_year)
    estimates, estimate_problems = harmonise_release(staged, codebook, file, file_year)
    problems = merge_problems(staged_problems, estimate_problems)
    good = estimates if not problems else pd.DataFrame()
    return Checked(file, file_year, good, problems, warnings, len(table.rows))
