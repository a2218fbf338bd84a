"""The `itip` command line.

Exit codes: 0 success; 1 a file was rejected or a check found problems, or the
warehouse could not be used; 2 usage error (unknown option, missing argument).
Expected failures print one line per problem and no traceback.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core
from typer._click.core import Context
from typer.exceptions import TyperException

from itip.problems import ItipError
from itip.server_cli import StateOpt, prefect_api, server_app
from itip.settings import Settings, given_or_env

if TYPE_CHECKING:
    import duckdb

    from itip.ingest import FileOutcome
    from itip.lake import Lake

#: Exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: Exit code when the reader of the output went away (`itip sql --csv ... | head`): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 141
#: Set by `itip -v` (and `itip ingest -v`): failures end with their traceback.
_verbose = False
#: The settings of the command being run: built once from the environment where every
#: command starts (`_Guarded.invoke`), then handed down from here.
_run: Settings | None = None


def _run_settings() -> Settings:
    """The settings this command runs with; the environment's when a function here is
    called outside a command."""
    return _run if _run is not None else given_or_env(None)


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first


class _Guarded(typer.core.TyperGroup):
    """Every command's last word: an expected failure (ItipError, a full disk, an unwritable
    target, Ctrl-C, a closed pipe, a damaged warehouse) ends as one `itip: ...` line with
    its documented exit code; anything else as one line saying it is unexpected. A
    traceback only with `itip -v`."""

    def invoke(self, ctx: Context) -> object:
        from itip.failpoints import check_failpoint
        from itip.render import visible

        global _run
        try:
            # Every ITIP_* variable is read here, once; an unusable one is a ConfigError (exit 2).
            _run = ctx.obj = Settings.from_env()
            check_failpoint()
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk or closed pipe shows here, not at interpreter exit
            return result
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except ItipError as exc:
            if _verbose:
                raise
            typer.echo(f"itip: {visible(str(exc).strip())}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            if _verbose:
                raise
            typer.echo("itip: interrupted (Ctrl-C)", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            # nobody reads any more: say nothing, and keep Python from failing to flush at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except OSError as exc:
            if _verbose:
                raise
            where = f"{exc.filename}: " if exc.filename else "cannot write the output: "
            if not exc.filename:  # the unwritten rest must not fail again when Python exits
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            why = exc.strerror or _one_line(str(exc)) or type(exc).__name__
            hint = " (disk full?)" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
            typer.echo(f"itip: {visible(where + why)}{hint}", err=True)
            raise typer.Exit(1) from None
        except Exception as exc:
            if _verbose:
                raise
            import duckdb

            if isinstance(exc, duckdb.Error):
                hint = ""
                if isinstance(exc, duckdb.CatalogException):
                    hint = " (not an itip warehouse, or one from an older itip: itip ingest builds or updates it)"
                elif "No space left" in str(exc) or "File too large" in str(exc):
                    hint = " (disk full?)"
                typer.echo(f"itip: DuckDB failed: {visible(_one_line(str(exc)))}{hint}", err=True)
                raise typer.Exit(1) from None
            line = visible(_one_line(str(exc)) or "no message")
            typer.echo(f"itip: unexpected error: {type(exc).__name__}: {line} (itip -v ... shows where)", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="itip",
    help="IT i praksis releases -> validated DuckDB trend warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Guarded,
)


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="On a failure, show the traceback after the one-line message.")
    ] = False,
) -> None:
    """IT i praksis releases -> validated DuckDB trend warehouse.

    Exit codes: 0 success; 1 a file rejected, problems found, a query failed or the
    warehouse or a target could not be used; 2 usage error (an option, argument or
    ITIP_* variable that cannot be used); 3 a query stopped at its time limit; 130
    stopped by Ctrl-C; 141 the reader of the output went away.
    """
    global _verbose
    _verbose = verbose


WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        "-w",
        help="DuckDB file, or a lake as ducklake:<catalog> (default: $ITIP_WAREHOUSE or warehouse/itip.duckdb).",
    ),
]
LakeDataOpt = Annotated[
    str | None,
    typer.Option("--lake-data", help="Data path of a new lake: folder or object store URL (default: $ITIP_LAKE_DATA)."),
]


def _where(warehouse: str | None, lake_data: str | None = None) -> Path | Lake:
    """The warehouse file or lake a command works on."""
    from itip.lake import target

    try:
        return target(warehouse, lake_data, _run_settings())
    except ItipError as exc:
        raise _fail(str(exc), 2) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    from itip.render import visible

    typer.echo(f"itip: {visible(message)}", err=True)
    return typer.Exit(code)


def _say(line: str) -> None:
    """Print a line that may hold text from a file (a problem, a warning): what a terminal
    would act on is shown escaped (itip.render.visible)."""
    from itip.render import visible

    typer.echo(visible(line))


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
    else:
        _options(verbose=True)
    raw_dir = raw or _run_settings().raw
    if not raw_dir.is_dir():
        raise _fail(f"{raw_dir}: release folder does not exist", 2)
    try:
        prefect_api(settings=_run_settings())  # before Prefect is imported: it reads PREFECT_API_URL once
    except ItipError as exc:
        raise _fail(str(exc)) from None
    from flows.ingest import ingest as ingest_flow
    from itip.privacy import check_key
    from itip.progress import Reporter

    try:
        check_key(_where(warehouse, lake_data))  # a bad pseudonymisation key: one line before the run
        with Reporter(), _quiet_prefect_failures(not verbose):
            outcomes = ingest_flow(raw_dir=raw_dir, warehouse=_where(warehouse, lake_data), verify=verify)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # Prefect or the machine failed, not the input: say so in one line
        if verbose:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"ingest failed: {first} (run with --verbose for details)") from None
    _say(summary(outcomes, raw_dir))
    if any(o.failed for o in outcomes):
        raise typer.Exit(1)


class _NoEngineTracebacks(logging.Filter):
    """Drops what Prefect's engine logs about a failed run (its traceback, "Finished in state
    Failed"): the command says it in one line. The flow's own warnings and errors stay."""

    ENGINE = ("Encountered exception", "Finished in state Failed", "Finished in state Crashed", "Task run failed")

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None and not str(record.msg).startswith(self.ENGINE)


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
    cron: Annotated[str, typer.Option("--cron", help="When to run (cron syntax).")] = "0 6 * * *",
    timezone: Annotated[str, typer.Option("--timezone", help="Time zone of the cron schedule.")] = "Europe/Oslo",
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
def check(files: Annotated[list[Path], typer.Argument(help="Release files to check.", show_default=False)]) -> None:
    """Check release files against the schema and codebook without touching the warehouse.

    Prints every problem (file, row, column, what is wrong); exits 1 if any.

    Example: itip check raw/itip_2024.csv
    """
    from itip.check import check as check_file
    from itip.check import kind_of
    from itip.codebook import load_codebook
    from itip.release import RESPONDENTS_KIND

    try:
        codebook = load_codebook()
    except ItipError as exc:
        raise _fail(str(exc)) from None
    settings = _run_settings()
    failed = False
    for path in files:
        if not path.is_file():
            _say(f"{path}: no such file")
            failed = True
            continue
        key = _respondent_key() if kind_of(path) == RESPONDENTS_KIND else None
        result = check_file(path, codebook, settings, key=key)
        for warning in result.warnings:
            _say(f"warning: {warning}")
        if result.ok:
            _say(result.ok_line())
            continue
        failed = True
        for problem in result.problems:
            _say(str(problem))
            for line in _reworded_advice(problem, codebook, result.year or 0):
                _say(line)
    if failed:
        raise typer.Exit(1)


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


@app.command()
def trend(
    indicator: Annotated[str, typer.Argument(help="Indicator id from the codebook.")],
    segment: Annotated[
        str | None, typer.Option("--segment", "-s", help="Only this segment (id or a codebook alias such as alle).")
    ] = None,
    warehouse: WarehouseOpt = None,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Show one indicator's series: value, n, interval, change and comparability per year.

    An unknown id is answered with the closest ids; --segment accepts the
    spellings release files may use (alle, kommuner, statlige, ...).

    Example: itip trend trust_personal_data_safe --segment alle
    """
    from itip.codebook import load_codebook
    from itip.db import open_warehouse
    from itip.render import table_csv, table_text, trend_table

    try:
        if segment is not None:
            codebook = load_codebook()
            resolved = codebook.resolve("segment", segment)
            if resolved is None:
                spellings = [s for key, e in codebook.segments.items() for s in [key, *(e.get("aliases") or [])]]
                listing = "segments: " + ", ".join(codebook.segments)
                raise _fail(f"unknown segment {segment!r}; {_closest(segment, spellings, listing)}")
            segment = resolved
        with open_warehouse(_where(warehouse), read_only=True) as wh:
            if not wh.has_indicator(indicator):
                listing = 'list them with: itip sql "SELECT indicator FROM indicators"'
                raise _fail(f"unknown indicator {indicator!r}; {_closest(indicator, wh.indicator_ids(), listing)}")
            frame = wh.trend(indicator, segment)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    if frame.empty:
        typer.echo(f"no figures for {indicator}" + (f" in segment {segment}" if segment else ""))
        return
    columns, rows = _with_se(frame, *trend_table(frame))
    typer.echo(table_csv(columns, rows) if csv_out else table_text(columns, rows), nl=not csv_out)


#: What `itip trend` shows for trend.interval_basis (see warehouse/sql/90_trend.sql).
_BASIS = {"n": "n", "respondents": "design", "edition_n": "edition n (approx.)"}


def _with_se(frame: object, columns: list[str], rows: list[list[object]]) -> tuple[list[str], list[list[object]]]:
    """The standard error (percentage points) and what the interval rests on, after `ci_95`:
    a reader judging a change needs both, and `≈` alone does not say which basis it is."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    at = columns.index("ci_95") + 1
    out = [*columns[:at], "se", "ci_basis", *columns[at:]]
    shown = []
    for row, rec in zip(rows, frame.to_dict("records"), strict=True):
        se = rec.get("se")
        se_text = "" if se is None or pd.isna(se) else f"{se:.2f}"
        basis = rec.get("interval_basis")
        basis_text = _BASIS.get(basis, str(basis)) if isinstance(basis, str) else ""
        shown.append([*row[:at], se_text, basis_text, *row[at:]])
    return out, shown


def _closest(given: str, known: list[str], listing: str) -> str:
    """`did you mean: a, b?` from the closest known names (rapidfuzz), else `listing`."""
    from rapidfuzz import fuzz, process

    found = process.extract(given.lower(), known, scorer=fuzz.WRatio, limit=3, score_cutoff=60)
    if not found:
        return listing
    return "did you mean: " + ", ".join(str(match[0]) for match in found) + "?"


TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=0,
        help="Seconds a query may run before it is stopped (exit 3); 0 for no limit.",
    ),
]
MaxRowsOpt = Annotated[
    int | None,
    typer.Option(
        "--max-rows",
        min=0,
        help="Rows shown at most; the rest is left unread and a note says so (default 10000 for the table, "
        "no limit for --csv, which streams); 0 for no limit.",
    ),
]


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="SQL to run; read from stdin when omitted.")] = None,
    warehouse: WarehouseOpt = None,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table (streamed).")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Lake only: read the warehouse as it was at this time or snapshot id."),
    ] = None,
    timeout: TimeoutOpt = 60.0,
    max_rows: MaxRowsOpt = None,
) -> None:
    """Run SQL on a read-only connection to the warehouse.

    The connection cannot write the warehouse, read or write other files, or
    change its own settings. A query is stopped at the time limit (exit 3) or by
    Ctrl-C (exit 130) within a second; the table shows at most --max-rows rows,
    and --csv streams any number of rows without holding them in memory.

    Example: itip sql "SELECT year, value FROM trend WHERE indicator = 'trust_personal_data_safe' ORDER BY year"
    """
    from itip.db import open_reader
    from itip.query import DEFAULT_MAX_ROWS

    text = query if query is not None else _stdin_text()
    if not text.strip():
        raise _fail("no query given (as an argument or on stdin)", 2)
    limit = max_rows if max_rows is not None else (0 if csv_out else DEFAULT_MAX_ROWS)
    where = _where(warehouse)
    with open_reader(where, as_of) as wh:
        if not isinstance(where, Path):
            from itip.lake import refuse_writes

            refuse_writes(wh.con, text)  # the lake's data path is reachable: no COPY TO into it
        _run_sql(wh.con, text, timeout, csv_out, limit)


def _run_sql(con: duckdb.DuckDBPyConnection, text: str, timeout: float, csv_out: bool, limit: int) -> None:
    """`itip sql` on an open connection: the table or streamed CSV, and a note when rows were left."""
    from itip.query import guarded_query
    from itip.render import table_text, write_csv

    with guarded_query(con, text, timeout) as result:
        if result is None:
            return
        if csv_out:
            shown = write_csv(sys.stdout, result.columns, result.batches(limit or None))
            sys.stdout.flush()
        else:
            rows = [row for batch in result.batches(limit or None) for row in batch]
            shown = len(rows)
            typer.echo(table_text(result.columns, rows))
        if limit and shown == limit and result.more():
            typer.echo(
                f"itip: showed the first {limit:,} rows; there are more (--max-rows N to change, 0 for all"
                + ("" if csv_out else "; --csv streams any number")
                + ")",
                err=True,
            )


def _stdin_text() -> str:
    """The query from stdin; bytes that are not UTF-8 are a one-line error, not a traceback."""
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(f"the query on stdin is not UTF-8 text (byte {exc.start + 1})", 2) from None


@app.command()
def shell(warehouse: WarehouseOpt = None, timeout: TimeoutOpt = 60.0, max_rows: MaxRowsOpt = None) -> None:
    """Interactive SQL on the read-only warehouse: one start-up, history and Tab completion.

    Statements end with ';'. `.tables` lists tables and views, `.columns NAME`
    their columns with comments, `.quit` or Ctrl-D leaves. The connection is the
    one `itip sql` uses: it cannot write, read other files or change settings.
    Piped input runs as a script; then the exit code is 1 if a statement failed.
    Each statement has the time limit of itip sql; Ctrl-C stops the statement
    running and returns to the prompt.

    Example: itip shell
    """
    from itip.shell import run_shell

    try:
        where = _where(warehouse)
        if not isinstance(where, Path):
            raise ItipError("itip shell works on a warehouse file; on a lake use: itip sql")
        from itip.query import DEFAULT_MAX_ROWS

        rows = DEFAULT_MAX_ROWS if max_rows is None else max_rows
        code = run_shell(where, timeout=timeout, max_rows=rows, settings=_run_settings())
    except ItipError as exc:
        raise _fail(str(exc)) from None
    if code:
        raise typer.Exit(code)


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    xlsx = "xlsx"


@app.command()
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="parquet, csv or xlsx.")] = ExportFormat.parquet,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write into (default: export/ beside the warehouse).")
    ] = None,
    plain_csv: Annotated[
        bool, typer.Option("--plain-csv", help="CSV for programs (`,`, decimal point, no BOM) instead of for Excel.")
    ] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write every table and view of the warehouse as files, plus _columns with every column's description.

    parquet: one .parquet per table and view (DuckDB, pandas, Power BI, Datasette);
    csv: one .csv each, for Norwegian Excel (`;`, decimal comma, UTF-8 with BOM)
    unless --plain-csv; xlsx: one workbook itip.xlsx with a sheet per table and view
    and the column descriptions as notes on the header cells.

    Example: itip export --format csv --out /tmp/itip-csv
    """
    from itip.export import export as export_files

    wh_path = _where(warehouse)
    if not isinstance(wh_path, Path):
        raise _fail("itip export works on a warehouse file; a lake's data are Parquet files already", 2)
    target = out or wh_path.parent / "export"
    if plain_csv and fmt is not ExportFormat.csv:
        raise _fail("--plain-csv goes with --format csv", 2)
    try:
        written = export_files(wh_path, target, fmt.value, plain_csv=plain_csv)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{target}: cannot write the export: {exc.strerror or exc}") from None
    typer.echo(f"{target}: {len(written)} file(s) ({fmt.value}{', plain' if plain_csv else ''})")


class Lang(StrEnum):
    no = "no"
    en = "en"


@app.command()
def report(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for index.html and charts/ (default: report/ beside the warehouse)."),
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of labels and text: no (Norwegian) or en.")] = Lang.no,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the key-figures report: one offline HTML page and one PNG chart per figure.

    Per topic, one card per indicator and segment: latest value, change since the
    previous comparable year, significance, good or bad, and a chart of the whole
    series with intervals, breaks and sources. Opens without network.

    Example: itip report --out report --lang en
    """
    from itip.codebook import load_codebook
    from itip.report import write_report
    from itip.settings import Settings

    wh_path = _where(warehouse)
    target = out or wh_path.parent / "report"
    try:
        result = write_report(
            wh_path, target, lang=lang.value, codebook=load_codebook(), chart_cache=Settings.from_env().chart_cache
        )
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{target}: cannot write the report: {exc.strerror or exc}") from None
    typer.echo(f"{result.path} ({len(result.cards)} cards, {len(result.charts)} charts, {result.charts_drawn} redrawn)")


lake_app = typer.Typer(help="Create a DuckLake warehouse, or move a file warehouse into one.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")
app.add_typer(server_app, name="server")


@lake_app.command("init")
def lake_init(
    warehouse: WarehouseOpt = None,
    lake_data: LakeDataOpt = None,
    source: Annotated[
        Path | None, typer.Option("--from", help="A DuckDB file warehouse whose releases and rejections to copy in.")
    ] = None,
) -> None:
    """Create the lake's catalog and data path, load the schema and codebook, and
    optionally copy every release, estimate and rejection of a file warehouse.

    Example: itip lake init -w "ducklake:postgres:dbname=itip host=db" --lake-data s3://itip/lake/
    --from warehouse/itip.duckdb
    """
    from itip.codebook import load_codebook
    from itip.lake import Lake, migrate, open_lake, retry_conflicts

    where = _where(warehouse, lake_data)
    if not isinstance(where, Lake):
        raise _fail(f"{where}: not a lake; give --warehouse ducklake:<catalog> (or set ITIP_WAREHOUSE)", 2)
    try:
        codebook = load_codebook()
        if source is not None:
            counts = migrate(source, where, codebook)
            typer.echo(f"{where.name}: copied " + ", ".join(f"{n} {t}" for t, n in counts.items()) + f" from {source}")
            return
        with open_lake(where) as wh:
            retry_conflicts(lambda: wh.sync_codebook(codebook), where)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{where.name}: ready")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
