"""One respondent file from path to estimates: the respondents' side of the check contract
(itip.check.check), composed of read, checks and estimate; the warehouse is never touched."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from itip import disclosure, replicates
from itip.checked import Checked
from itip.codebook import Codebook
from itip.problems import FileProblems, Problem, reraise_interrupt
from itip.respondents import read
from itip.respondents.checks import check_table, label_problems, problem
from itip.respondents.estimate import design_problems, estimates, validate_estimates
from itip.settings import DEFAULTS, Settings

KIND = "respondents"
TRUE_TEXT = {"true", "1", "ja", "yes", "t", "sann"}


def _checked(
    file: str,
    year: int,
    problems: list[Problem],
    warnings: list[str] | None = None,
    respondents: int = 0,
    dropped: list[str] | None = None,
    synthetic: bool = False,
    frame: pd.DataFrame | None = None,
) -> Checked:
    """The result, with the note the release row keeps (no column names, no values)."""
    parts = [f"{respondents} respondents"]
    if dropped:
        parts.append(f"{len(dropped)} undeclared column(s) dropped unread")
    if synthetic:
        parts.append("SYNTHETIC data (itip synth)")
    good = frame if frame is not None and not problems else pd.DataFrame()
    return Checked(file, year, good, problems, warnings or [], respondents, "; ".join(parts), KIND)


def check_respondents(
    path: Path,
    codebook: Codebook,
    year: int,
    key: bytes,
    *,
    private: bool = False,
    settings: Settings = DEFAULTS,
) -> Checked:
    """Read, check and aggregate one respondent file without touching the warehouse.

    The file is read from a private copy (itip.snapshot): DuckDB reads files by path and
    would take `[`, `*` or `?` in a folder name for a glob, and a file written while it is
    read must not be half read. `private` says `path` is such a copy already (the ingest
    flow makes it, to hash exactly the bytes it loads)."""
    from itip.release import year_refusal
    from itip.snapshot import Unreadable, private_copy

    refusal = year_refusal(path.name, year, codebook, settings)
    if refusal is not None:  # refused by its name alone: the release row gets no note
        return Checked(path.name, year, pd.DataFrame(), [refusal], kind=KIND)
    if private:
        return _check_respondents(path, codebook, year, key, settings)
    try:
        with private_copy(path, settings.max_respondent_bytes, settings) as copied:
            return _check_respondents(copied.path, codebook, year, key, settings)
    except Unreadable as exc:
        return _checked(path.name, year, [problem(path.name, None, None, "unreadable", None, str(exc))])


def _check_respondents(path: Path, codebook: Codebook, year: int, key: bytes, settings: Settings) -> Checked:
    file = path.name
    spec = codebook.respondents
    listed = settings.problem_rows_listed
    if spec is None:
        return _checked(
            file, year, [problem(file, None, None, "codebook", None, "the codebook declares no respondent-level files")]
        )
    size = path.stat().st_size
    if size > settings.max_respondent_bytes:
        refused = problem(
            file, None, None, "file_size", str(size), f"is {size} bytes, more than ITIP_MAX_RESPONDENT_BYTES"
        )
        return _checked(file, year, [refused])
    if size == 0:
        return _checked(file, year, [problem(file, None, None, "empty", None, "file is empty")])
    ext = path.suffix.lower()
    problems: list[Problem] = []
    sav_meta: read.SavMeta | None = None
    try:
        if ext == ".csv":
            keep, dropped = read.declared_map(read.csv_header(path), spec)
            reader = read.respondent_csv(path, keep, read.csv_types(spec, keep))
        elif ext == ".sav":
            frame, dropped, sav_meta = read.read_sav(path, spec)
            keep = {c: c for c in frame.columns}
            reader = read.respondent_frame(read.frame_for_duckdb(frame, spec), row_offset=1)
        else:
            frame, dropped = read.read_xlsx(path, spec, settings)
            keep = {c: c for c in frame.columns}
            reader = read.respondent_frame(read.frame_for_duckdb(frame, spec), row_offset=2)
    except FileProblems as exc:  # refused before reading (an .xlsx zip bomb, encrypted, entities)
        return _checked(file, year, exc.problems)
    except Exception as exc:  # DuckDB, pyreadstat and openpyxl each raise their own types for damaged files
        reraise_interrupt(exc)  # Ctrl-C while DuckDB read it: not a damaged file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = f"cannot be read as a respondent file: {first}"
        return _checked(file, year, [problem(file, None, None, "unreadable", None, message)])
    if not keep:
        refused = problem(
            file, None, None, "columns", None, "has no column the codebook declares (respondent_id, survey, questions)"
        )
        return _checked(file, year, [refused], [], 0, dropped)
    warnings = (
        [f"{file}: {len(dropped)} column(s) not declared in the codebook dropped unread: {', '.join(dropped)}"]
        if dropped
        else []
    )
    try:
        with reader as table:
            rows = table.rows()
            if rows == 0:
                problems.append(problem(file, None, None, "empty", None, "has a header but no respondents"))
                return _checked(file, year, problems, warnings, 0, dropped)
            if sav_meta is not None:
                for q in spec.questions.values():
                    column = q.column(year)
                    if column in table.columns:
                        problems += label_problems(file, column, q.indicator, spec.scales[q.scale], sav_meta)
            row_problems, more, use = check_table(table, spec, file, year, key, listed)
            problems += row_problems
            warnings += more
            synthetic = spec.synthetic_column in table.columns and any(
                v in TRUE_TEXT for v in table.values_of(spec.synthetic_column)
            )
            if problems:
                return _checked(file, year, problems, warnings, rows, dropped, synthetic)
            # Disclosure control before anything leaves this function: the true values of
            # suppressed cells never reach the warehouse (itip.disclosure).
            design, strata = design_problems(table, spec, file, listed)
            design += replicates.problems(table, spec.design.replicates, file)
            if design:
                return _checked(file, year, design, warnings, rows, dropped, synthetic)
            frame = disclosure.apply(estimates(table, spec, file, year, use, synthetic, strata), spec)
    except duckdb.Error as exc:
        reraise_interrupt(exc)  # DuckDB's InterruptException is one of its errors
        first = str(exc).strip().splitlines()[0]
        message = f"cannot be read as a respondent file: {first}"
        return _checked(file, year, [problem(file, None, None, "unreadable", None, message)], warnings, 0, dropped)
    problems = validate_estimates(frame, codebook, file, listed)
    return _checked(file, year, problems, warnings, rows, dropped, synthetic, frame)
