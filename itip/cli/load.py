"""Commands that put releases in: ingest, serve, check, synth."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core

from itip.problems import ItipError, reraise_interrupt
from itip.server_cli import StateOpt, prefect_api
from itip.settings import DEFAULT_CRON, DEFAULT_TIMEZONE

if TYPE_CHECKING:
    from itip.codebook import Codebook
    from itip.ingest import FileOutcome
    from itip.settings import Settings


from itip.cli.app import LakeDataOpt, WarehouseOpt, _fail, _options, _run_settings, _say, _where, app


def summary(outcomes: list[FileOutcome], raw_dir: Path) -> str:
    """The last line of a run: what changed, or that nothing did."""
    if not outcomes:
        return f"no release files (itip_<YEAR>.csv or .xlsx) in {raw_dir}"
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    if set(counts) == {"unchanged"}:
        return f"nothing new: all {counts['unchanged']} release files are already loaded"
    return ", ".join(f"{n} {status}" for status, n in counts.items())


@app.command()
def ingest(
    raw: Annotated[Path | None, typer.Option("--raw", help="Folder of release files (default: raw/).")] = None,
    warehouse: WarehouseOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own log lines.")] = False,
    lake_data: LakeDataOpt = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Hash every file instead of trusting the stat cache for unchanged ones.")
    ] = False,
) -> None:
    """Load new and changed release files into the warehouse, as a Prefect flow run.

    Prints one line per file: loaded, superseded, unchanged, rejected or still
    rejected, and every problem of a rejected file. Exits 1 when any file is
    rejected (on every run while it stays in raw/) or could not be read this time
    (unreadable: not recorded, read again next run), else 0. Unchanged files are
    recognised by a stat cache; --verify hashes every file.

    Example: itip ingest --raw raw --warehouse warehouse/itip.duckdb
    """
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        quiet_event_drain()
    else:
        _options(verbose=True)
    raw_dir = raw or _run_settings().raw
    if not raw_dir.is_dir():
        raise _fail(f"{raw_dir}: release folder does not exist", 2)
    try:
        # before Prefect is imported (it reads PREFECT_API_URL once); the flow's imports overlap a first start
        url = prefect_api(settings=_run_settings(), warm=lambda: importlib.import_module("flows.ingest"))
    except ItipError as exc:
        raise _fail(str(exc)) from None
    from prefect.settings import temporary_settings

    from flows import run_settings
    from flows.ingest import ingest as ingest_flow
    from itip.privacy import check_key
    from itip.progress import Reporter

    try:
        check_key(_where(warehouse, lake_data))  # a bad pseudonymisation key: one line before the run
        with (
            temporary_settings(updates=run_settings.in_process(url)),  # the server's final URL; no heartbeat
            Reporter(),
            _quiet_prefect_failures(not verbose),
        ):
            outcomes = ingest_flow(raw_dir=raw_dir, warehouse=_where(warehouse, lake_data), verify=verify)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # Prefect or the machine failed, not the input: say so in one line
        reraise_interrupt(exc)
        if verbose:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"ingest failed: {first} (run with --verbose for details)") from None
    _say(summary(outcomes, raw_dir))
    if any(o.failed for o in outcomes):
        raise typer.Exit(1)


class _NoEngineTracebacks(logging.Filter):
    """Drops what Prefect's engine logs about a failed or interrupted run (its traceback,
    "Finished in state Failed", "Crash detected!" after Ctrl-C): the command says it in one
    line. The flow's own warnings and errors stay."""

    ENGINE = (
        "Encountered exception",
        "Finished in state Failed",
        "Finished in state Crashed",
        "Task run failed",
        "Crash detected!",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None and not str(record.msg).startswith(self.ENGINE)


class _NoDrainProgress(logging.Filter):
    """Drops Prefect's "EventsWorker - Still processing items: N items remaining..." WARNING.

    Prefect sends a run's events over a websocket in the background and, at process exit,
    waits for the ones still queued; when any are, it logs this at its first check. It came
    after about one no-op `itip ingest` in four, below the summary, and read as if something
    had gone wrong. The events are delivered all the same; --verbose keeps the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Still processing items")


def quiet_event_drain() -> None:
    """For the rest of the process: no progress line from Prefect's exit drain of events."""
    logger = logging.getLogger("EventsWorker")  # Prefect's name: the service's class name
    if not any(isinstance(f, _NoDrainProgress) for f in logger.filters):
        logger.addFilter(_NoDrainProgress())


@contextmanager
def _quiet_prefect_failures(quiet: bool) -> Iterator[None]:
    if not quiet:
        yield
        return
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    drop = _NoEngineTracebacks()
    for logger in loggers:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


@app.command()
def serve(
    cron: Annotated[str, typer.Option("--cron", help="When to run (cron syntax).")] = DEFAULT_CRON,
    timezone: Annotated[str, typer.Option("--timezone", help="Time zone of the cron schedule.")] = DEFAULT_TIMEZONE,
    raw: Annotated[Path | None, typer.Option("--raw", help="Folder of release files (default: raw/).")] = None,
    warehouse: WarehouseOpt = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=1, max=65535, help="Port of the local Prefect server, if one is started (default 4200)."
        ),
    ] = None,
    state: StateOpt = None,
) -> None:
    """Run the ingest on a schedule until stopped (Ctrl-C), default daily at 06:00 Oslo time.

    Uses the Prefect server in PREFECT_API_URL when set; otherwise the local background
    server that itip ingest also uses (started on 127.0.0.1 if it is not running; it keeps
    running after Ctrl-C: itip server stop).

    Example: itip serve --cron "0 6 * * *" --timezone Europe/Oslo
    """
    from flows.serve import run_hint
    from flows.serve import serve as serve_flow

    raw_dir = raw or _run_settings().raw
    if not raw_dir.is_dir():
        raise _fail(f"{raw_dir}: release folder does not exist", 2)
    _check_timezone(timezone)
    try:
        from prefect.schedules import Cron

        Cron(cron, timezone=timezone)
    except Exception as exc:
        raise _fail(f"invalid schedule {cron!r} ({timezone}): {str(exc).splitlines()[0]}", 2) from None
    target = _where(warehouse)
    try:
        configured = bool(os.environ.get("PREFECT_API_URL"))
        real = _run_settings().replace(prefect_server="")  # a schedule needs a real server, never the temporary one
        url = prefect_api(state, port, real)
        assert url is not None
        where = "the Prefect server in PREFECT_API_URL" if configured else "the local Prefect server"
        typer.echo(f"using {where}: UI at {url.removesuffix('/api')}  schedule: {cron} ({timezone}); Ctrl-C stops")
        typer.echo("\n".join(run_hint(url)))
        serve_flow(raw_dir, target, cron, timezone, api_url=url)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    typer.echo("stopped" + ("" if configured else " (the Prefect server keeps running: itip server stop)"))


def _check_timezone(name: str) -> None:
    """Refuse a time zone the IANA database does not know, before any server is started
    (Prefect accepts any text and fails later inside the served flow)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown time zone {name!r} (--timezone takes an IANA name such as Europe/Oslo or UTC)"
        raise _fail(message, 2) from None


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Release files to check.", show_default=False)],
    watch: Annotated[
        bool,
        typer.Option("--watch", "-w", help="Check again whenever a file or the codebook is saved, until Ctrl-C."),
    ] = False,
) -> None:
    """Check release files against the schema and codebook without touching the warehouse.

    Prints every problem (file, row, column, what is wrong); exits 1 if any. With --watch
    it stays up and checks a file again each time it (or schemas/codebook.yaml) is saved,
    in a fraction of a second; Ctrl-C ends it with the exit code of the last check.

    Example: itip check raw/itip_2024.csv

    Example: itip check --watch raw/itip_2024.csv
    """
    from itip.codebook import load_codebook

    try:
        codebook = load_codebook()
    except ItipError as exc:
        raise _fail(str(exc)) from None
    settings = _run_settings()
    passed: dict[Path, bool] = {}
    if watch:
        _watch(files, codebook, settings, passed)
    else:
        _check_all(files, codebook, settings, passed)
    if not all(passed.values()):
        raise typer.Exit(1)


def _check_one(path: Path, codebook: Codebook, settings: Settings) -> tuple[bool, list[str]]:
    """Check one file: whether it passed, and the lines to print (its problems, or its `ok`
    line). Printed by the caller after it has recorded the result: Ctrl-C while the lines
    are printed must not leave `--watch` with the result of the check before."""
    from itip.check import check as check_file
    from itip.check import kind_of
    from itip.release import RESPONDENTS_KIND

    if not path.is_file():
        return False, [f"{path}: no such file"]
    key = _respondent_key() if kind_of(path) == RESPONDENTS_KIND else None
    result = check_file(path, codebook, settings, key=key)
    lines = [f"warning: {warning}" for warning in result.warnings]
    if result.ok:
        return True, [*lines, result.ok_line()]
    for problem in result.problems:
        lines.append(str(problem))
        lines.extend(_reworded_advice(problem, codebook, result.year or 0))
    return False, lines


def _check_all(files: list[Path], codebook: Codebook, settings: Settings, passed: dict[Path, bool]) -> None:
    """Check each file, record in `passed` whether it did, and print what it found."""
    for path in files:
        passed[path], lines = _check_one(path, codebook, settings)
        for line in lines:
            _say(line)


def _watch(files: list[Path], codebook: Codebook, settings: Settings, passed: dict[Path, bool]) -> None:
    """Check every file, then a file again when it is saved, and every file when the codebook
    is (an alias or a break pasted there changes what a file's wordings mean); a codebook saved
    broken is reported and nothing is checked until it is fixed. Ctrl-C ends it, with each
    file's last complete check in `passed`."""
    from datetime import datetime

    from itip.codebook import load_codebook
    from itip.paths import CODEBOOK
    from itip.watch import changes, signature

    watched = [*files, CODEBOOK]
    before = {path: signature(path) for path in watched}
    _check_all(files, codebook, settings, passed)
    current: Codebook | None = codebook
    ready = False
    try:
        for changed in changes(watched, before):
            if not ready:
                ready = True
                _say(f"watching {len(files)} file(s) and {CODEBOOK.name}; Ctrl-C stops")
                if not changed:
                    continue
            _say(f"-- {datetime.now():%H:%M:%S} {', '.join(sorted(p.name for p in changed))} saved")
            if CODEBOOK in changed:
                try:
                    current = load_codebook()
                except ItipError as exc:
                    current = None
                    _say(f"{exc} (nothing is checked until it is fixed)")
            if current is None:
                if CODEBOOK not in changed:
                    _say("not checked: the codebook is broken (see above)")
                passed.update(dict.fromkeys(files, False))
                continue
            _check_all(files if CODEBOOK in changed else [p for p in files if p in changed], current, settings, passed)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        pass  # the normal end of watching: the exit code says how the last check went


def _reworded_advice(problem: object, codebook: object, year: int) -> list[str]:
    """Under a wording that matches no alias: the lines to paste, alias or break."""
    from itip.advice import reworded_question_advice
    from itip.problems import Problem

    assert isinstance(problem, Problem)
    if problem.check != "question_unmatched" or not problem.value:
        return []
    near = codebook.closest_question(problem.value)  # type: ignore[attr-defined]
    return reworded_question_advice(problem, near[0] if near else None, year)


def _respondent_key() -> bytes:
    """The warehouse's key for respondent ids (shown only as keyed hashes)."""
    from itip.privacy import load_key

    try:
        return load_key(_where(None))
    except ItipError as exc:
        raise _fail(str(exc)) from None


@app.command()
def synth(
    years: Annotated[str, typer.Option("--years", help="Years: 2008-2027, 2024 or 2020,2022.")] = "2008-2027",
    respondents: Annotated[
        int, typer.Option("--respondents", "-n", min=1, max=100_000_000, help="Respondents per year.")
    ] = 1000,
    out: Annotated[Path, typer.Option("--out", help="Folder to write into (never raw/).")] = Path("synthetic"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 2026,
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or sav.")] = "csv",
    design: Annotated[
        bool,
        typer.Option(
            "--design",
            help="Add a sampling design: strata, clustered citizens and a near-census municipal stratum "
            "(columns named by the codebook's respondents.design).",
        ),
    ] = False,
) -> None:
    """Write synthetic respondent-level files (itip_<YEAR>_respondents.*), one per year, for tests and benchmarks.

    Both surveys, weights, "vet ikke" and not-asked codes, question columns named
    per year as the codebook says, and undeclared columns (name, e-mail, phone,
    free text) that the ingest drops. Every file is marked synthetic (column
    `synthetic`, and the file label in .sav). Refuses to write into raw/.

    Example: itip synth --years 2008-2027 --respondents 1000 --out /tmp/synth [--design]
    """
    from itip.codebook import load_codebook
    from itip.synth import parse_years, write_synthetic

    if out.exists() and not out.is_dir():
        raise _fail(f"{out}: exists and is not a folder; --out takes a folder to write the files into", 2)
    try:
        written = write_synthetic(load_codebook(), parse_years(years), respondents, out, seed, fmt, design)
    except ItipError as exc:
        raise _fail(str(exc), 2) from None
    typer.echo(f"wrote {len(written)} synthetic file(s) with {respondents} respondents each to {out}")
