"""The `ingest` flow: raw/ release files -> validated, harmonised rows in DuckDB.

A thin Prefect wrapper in five steps, one shape for every kind of release file:
discover, plan, check, load, report. Each task calls one library function; *check* is
`itip.check.check`, the same call `itip check` makes, so the two agree by construction.
Tasks exchange paths and data frames, never DuckDB connections (those cannot be pickled or
hashed); each task that touches the warehouse opens and closes it itself.
"""

# No `from __future__ import annotations` here: Prefect validates flow parameters with a
# pydantic model built from the annotations, and a scheduled run gets the flow by value
# (cloudpickle) with only the globals its body uses. String annotations such as "Lake" then
# cannot be resolved and every scheduled run fails before it starts (tests/integration/test_serve.py).
import json
from dataclasses import replace
from pathlib import Path
from typing import TypeVar, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from itip import ingest as lib
from itip import progress
from itip.check import check
from itip.checked import Checked
from itip.codebook import Codebook, load_codebook
from itip.editions import EDITIONS_KIND
from itip.failpoints import failpoint
from itip.lake import Lake, target
from itip.paths import CODEBOOK
from itip.privacy import load_key
from itip.problems import ItipError, Problem, reraise_interrupt
from itip.release import RESPONDENTS_KIND, Discovery, ReleaseFile, discover
from itip.settings import Settings
from itip.snapshot import Unreadable, private_copy

T = TypeVar("T")


def _whole(value: T) -> T:
    """Pass `value` to a task as it is. Prefect otherwise walks every argument of every task
    run, item by item, looking for futures to wait on; for the codebook that is about 0.6 s of
    a bundled ingest's 7 s (30 task runs). The codebook never holds a future."""
    return cast(T, quote(value))


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(raw_dir: Path) -> Discovery:
    return discover(raw_dir)


@task(name="plan", cache_policy=NO_CACHE)
def plan_task(
    warehouse: Path | Lake, releases: list[ReleaseFile], codebook: Codebook, settings: Settings, verify: bool = False
) -> list[lib.Plan]:
    """One task for all files: a run with nothing new costs one task, not one per year."""
    return lib.plan_all(warehouse, releases, codebook, verify, settings)


def _check(release: ReleaseFile, codebook: Codebook, settings: Settings, warehouse: Path | Lake) -> Checked:
    """Every check of one file of any kind (itip.check.check, as `itip check`); `release.path`
    is the private copy the run hashed (itip.snapshot). A respondent file gets the
    warehouse's key for its ids."""
    key = load_key(warehouse) if release.kind == RESPONDENTS_KIND else None
    return check(release.path, codebook, settings, key=key, private=True)


def _load(warehouse: Path | Lake, plan: lib.Plan, checked: Checked, codebook: Codebook) -> lib.FileOutcome:
    """The checked file's rows, or its problems as the rejection, in one transaction."""
    return lib.store(
        warehouse, plan, checked.estimates, checked.problems, checked.rows, codebook, flow_run.get_id(), checked.note
    )


@task(name="report", cache_policy=NO_CACHE)
def report_task(warehouse: Path | Lake, report_dir: Path, codebook: Codebook, settings: Settings) -> Path:
    """Build the key-figures report and publish its headline changes as an artifact."""
    from itip.report.build import headline_markdown, write_report  # matplotlib: only when something changed

    report = write_report(warehouse, report_dir, codebook=codebook, chart_cache=settings.chart_cache)
    create_markdown_artifact(
        key="key-figures",
        markdown=headline_markdown(report, codebook),
        description=f"itip key figures from {warehouse.name}: {len(report.cards)} cards",
    )
    get_run_logger().info(
        "report: %d charts redrawn, %d unchanged and reused",
        report.charts_drawn,
        len(report.charts) - report.charts_drawn,
    )
    return report.path


@task(name="parquet snapshot", cache_policy=NO_CACHE)
def parquet_task(warehouse: Path) -> Path:
    """Every table and view as Parquet beside the warehouse, for tools that read files, not databases."""
    from itip.export import write_parquet_snapshot

    return write_parquet_snapshot(warehouse)


def _process_copy(warehouse: Path | Lake, plan: lib.Plan, codebook: Codebook, settings: Settings) -> lib.FileOutcome:
    """Read the file once into a private copy, hashing exactly those bytes, and process the copy:
    what is loaded is what the release records (issue 14). A file that cannot be read now is
    reported as unreadable and not recorded; it is read again on the next run."""
    release = plan.release
    limit = settings.max_respondent_bytes if release.kind == RESPONDENTS_KIND else settings.max_release_bytes
    try:
        with private_copy(release.path, limit, settings) as copied:
            failpoint("after_read")
            entry = (
                lib.cache_key(release.path),
                copied.stat.size,
                copied.stat.mtime_ns,
                copied.stat.inode,
                copied.stat.ctime_ns,
                copied.sha256,
                copied.recorded_ns,
            )
            stats = (*(e for e in plan.stats if e[0] != entry[0]), entry)
            local = replace(plan, release=replace(release, path=copied.path), sha256=copied.sha256, stats=stats)
            return _process(warehouse, local, codebook, settings)
    except Unreadable as exc:
        return lib.unreadable(release, exc)


#: What the progress display says while a file of each kind is checked.
CHECKING = {
    RESPONDENTS_KIND: "reading, checking and aggregating respondents",
    EDITIONS_KIND: "reading and checking editions",
}


def _process(warehouse: Path | Lake, plan: lib.Plan, codebook: Codebook, settings: Settings) -> lib.FileOutcome:
    """Check, then load: the same two calls for every kind of file, inside the file's task."""
    name = plan.release.path.name
    progress.stage(name, CHECKING.get(plan.release.kind, "reading, validating and harmonising"))
    checked = _check(plan.release, codebook, settings, warehouse)
    for warning in checked.warnings:
        get_run_logger().warning(warning)
    # the crash-safety points of the former read/validate/harmonise tasks: the file is checked
    failpoint("after_validate")
    failpoint("after_harmonise")
    progress.stage(name, "loading" if checked.ok else "recording rejection")
    return _load(warehouse, plan, checked, codebook)


@task(name="file", task_run_name="{plan.release.path.name}", cache_policy=NO_CACHE)
def file_task(warehouse: Path | Lake, plan: lib.Plan, codebook: Codebook, settings: Settings) -> lib.FileOutcome:
    """One file, read, checked and loaded (or its rejection recorded): one task run per file,
    named after it in the Prefect UI. Check and load were two task runs; each costs about
    0.04 s of the server's CPU and as much of this process's, a seventh of a bundled ingest."""
    return _process_copy(warehouse, plan, codebook, settings)


def _guarded(warehouse: Path | Lake, plan: lib.Plan, codebook: Codebook, settings: Settings) -> lib.FileOutcome:
    """One file; an unexpected failure while reading or checking it (a bug, not the file's fault)
    ends that file with one line and the run goes on, so later years still load. Nothing is
    recorded for it: it is tried again on the next run."""
    try:
        return file_task(warehouse, plan, _whole(codebook), settings)
    except (lib.Busy, ItipError, OSError, KeyboardInterrupt):
        raise
    except Exception as exc:
        reraise_interrupt(exc)  # Ctrl-C during a DuckDB query: the run stops, not this file alone
        name, year = plan.release.path.name, plan.release.year
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = f"could not be processed ({type(exc).__name__}: {first}); not recorded, tried again next run"
        get_run_logger().error("%s: %s", name, message, exc_info=exc)
        problem = Problem(name, None, None, "internal_error", None, message)
        return lib.FileOutcome(name, year, lib.FAILED, message=message, problems=[problem])


def _with_pending(plans: list[lib.Plan]) -> list[lib.Plan]:
    """Stat cache rows of files hashed while planning but not processed (unchanged, still
    rejected) ride along with the first write of the run: a run with nothing new writes nothing."""
    pending = tuple(e for p in plans if p.outcome is not None for e in p.stats)
    if not pending:
        return plans
    out, given = [], False
    for p in plans:
        if p.outcome is None and not given:
            p, given = replace(p, stats=p.stats + pending), True
        out.append(p)
    return out


def _ingest_locked(
    raw_dir: Path, warehouse: Path | Lake, codebook: Codebook, settings: Settings, verify: bool = False
) -> list[lib.FileOutcome]:
    """Everything that needs the warehouse to itself: one writer at a time."""
    logger = get_run_logger()
    with lib.ingest_lock(warehouse, settings=settings), lib.one_connection(warehouse):
        prepared = lib.prepare(warehouse, codebook)
        if prepared:
            logger.info("schema and codebook applied to %s", warehouse)
        found = discover_task(raw_dir)
        failpoint("after_discover")
        progress.run_started(len(found.releases) + len(found.problems))
        outcomes = [
            lib.FileOutcome(p.file, None, lib.REJECTED, message=p.message, problems=[p]) for p in found.problems
        ]
        for outcome in outcomes:
            progress.file_done(outcome.line(), [str(p) for p in outcome.problems])
        for plan in _with_pending(plan_task(warehouse, found.releases, _whole(codebook), settings, verify)):
            outcome = plan.outcome or _guarded(warehouse, plan, codebook, settings)
            logger.info(outcome.line())
            progress.file_done(outcome.line(), [str(p) for p in outcome.problems])
            outcomes.append(outcome)
        if isinstance(warehouse, Path):  # a lake's tables are Parquet files already
            _snapshot(warehouse, prepared, outcomes)
    return outcomes


def _snapshot(warehouse: Path, prepared: bool, outcomes: list[lib.FileOutcome]) -> None:
    """Refresh the Parquet snapshot (still under the ingest lock) when this run changed the
    warehouse; a failure is logged and the files stay loaded. A run with nothing new writes nothing."""
    changed = prepared or any(o.status in (lib.LOADED, lib.SUPERSEDED, lib.REJECTED) for o in outcomes)
    if not changed or not warehouse.exists():
        return
    try:
        path = parquet_task(warehouse)
    except Exception as exc:
        reraise_interrupt(exc)
        get_run_logger().error("Parquet snapshot not written: %s (retry with: itip export --format parquet)", exc)
    else:
        get_run_logger().info("Parquet snapshot written to %s", path)


@flow(name="ingest", log_prints=False)
def ingest(
    raw_dir: Path | None = None,
    warehouse: Path | str | Lake | None = None,
    codebook_path: Path | None = None,
    report_dir: Path | None = None,
    lake_data: str | None = None,
    verify: bool = False,
) -> list[lib.FileOutcome]:
    """Load every new or changed release file in raw/ into the warehouse.

    Unchanged files are skipped by content hash; a corrected file supersedes the
    year's current release; a bad file is rejected whole and recorded while the
    other files still load. When anything was loaded or superseded, the last step
    builds the key-figures report (default: report/ next to the warehouse).
    `warehouse` may be a lake (`ducklake:<catalog>`, data path `lake_data`): no lock
    there, every file is one DuckLake transaction. `verify` hashes every file instead of
    trusting the stat cache for files whose stat is unchanged (itip ingest --verify).
    """
    settings = Settings.from_env()  # once, at the flow's entry; passed down from here
    raw_dir = Path(raw_dir or settings.raw)
    warehouse = target(warehouse, lake_data, settings)
    codebook = load_codebook(Path(codebook_path or CODEBOOK))
    logger = get_run_logger()
    try:
        outcomes = _ingest_locked(raw_dir, warehouse, codebook, settings, verify)
    except lib.Busy as exc:
        # Another run holds the warehouse: an expected situation, reported, not a crash.
        logger.warning(str(exc))
        outcome = lib.FileOutcome(warehouse.name, None, lib.BUSY, message=str(exc))
        progress.file_done(outcome.line(), [])
        return [outcome]
    create_table_artifact(
        key="ingest-summary",
        table=[
            {
                "file": o.file,
                "year": o.year,
                "status": o.status,
                "rows": o.rows,
                "first errors": "; ".join(str(p) for p in o.problems[:3]),
            }
            for o in outcomes
        ],
        description=f"itip ingest into {warehouse.name}: "
        f"{sum(o.status in (lib.LOADED, lib.SUPERSEDED) for o in outcomes)} loaded, "
        f"{sum(o.failed for o in outcomes)} rejected, {sum(o.status == lib.UNCHANGED for o in outcomes)} unchanged",
    )
    target_dir = Path(report_dir or warehouse.parent / "report")
    built_from = lib.report_fingerprint(warehouse, codebook)
    changed = any(o.status in (lib.LOADED, lib.SUPERSEDED) for o in outcomes)
    if changed or _report_stale(target_dir, built_from):
        try:
            path = report_task(warehouse, target_dir, _whole(codebook), settings)
        except Exception as exc:  # the files are loaded all the same; say so instead of failing the run
            reraise_interrupt(exc)
            logger.error("key-figures report not built: %s (retry with: itip report)", exc)
        else:
            _mark_report(target_dir, built_from)
            logger.info("key-figures report written to %s", path)
    return outcomes


#: Written beside the report after it is built: which warehouse state it shows.
REPORT_STATE = ".itip-report-state.json"


def _report_stale(report_dir: Path, built_from: str | None) -> bool:
    """True when the report was built from another warehouse state than the one there is now
    (a run killed after its swap, before the report): the next run rebuilds it even when it
    finds nothing new. A warehouse with nothing loaded has nothing to report."""
    if built_from is None:
        return False
    try:
        state = json.loads((report_dir / REPORT_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return not isinstance(state, dict) or state.get("built_from") != built_from


def _mark_report(report_dir: Path, built_from: str | None) -> None:
    if built_from is None:
        return
    try:
        (report_dir / REPORT_STATE).write_text(json.dumps({"built_from": built_from}), encoding="utf-8")
    except OSError as exc:
        get_run_logger().warning("report state not recorded (%s); the next run rebuilds the report", exc.strerror)
