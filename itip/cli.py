"""The `itip` command line.

Exit codes: 0 success; 1 a file was rejected or a check found problems, or the
warehouse could not be used; 2 usage error (unknown option, missing argument).
Expected failures print one line per problem and no traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from itip.paths import default_raw, default_warehouse
from itip.problems import ItipError

app = typer.Typer(
    name="itip",
    help="IT i praksis releases -> validated DuckDB trend warehouse.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", "-w", help="DuckDB file (default: $ITIP_WAREHOUSE or warehouse/itip.duckdb)."),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"itip: {message}", err=True)
    return typer.Exit(code)


@app.command()
def ingest(
    raw: Annotated[Path | None, typer.Option("--raw", help="Folder of release files (default: raw/).")] = None,
    warehouse: WarehouseOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own log lines.")] = False,
) -> None:
    """Load new and changed release files into the warehouse, as a Prefect flow run.

    Prints one line per file: loaded, superseded, unchanged, rejected or still
    rejected, and every problem of a rejected file. Exits 1 when any file is
    rejected (on every run while it stays in raw/), else 0.

    Example: itip ingest --raw raw --warehouse warehouse/itip.duckdb
    """
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.ingest import ingest as ingest_flow

    raw_dir = raw or default_raw()
    if not raw_dir.is_dir():
        raise _fail(f"{raw_dir}: release folder does not exist", 2)
    try:
        outcomes = ingest_flow(raw_dir=raw_dir, warehouse=warehouse or default_warehouse())
    except ItipError as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # Prefect or the machine failed, not the input: say so in one line
        if verbose:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(f"ingest failed: {first} (run with --verbose for details)") from None
    for outcome in outcomes:
        typer.echo(outcome.line())
        for problem in outcome.problems:
            typer.echo(f"    {problem}")
    if not outcomes:
        typer.echo(f"no release files (itip_<YEAR>.csv or .xlsx) in {raw_dir}")
    if any(o.failed for o in outcomes):
        raise typer.Exit(1)


@app.command()
def check(files: Annotated[list[Path], typer.Argument(help="Release files to check.", show_default=False)]) -> None:
    """Check release files against the schema and codebook without touching the warehouse.

    Prints every problem (file, row, column, what is wrong); exits 1 if any.

    Example: itip check raw/itip_2024.csv
    """
    from itip.codebook import load_codebook
    from itip.release import check_release

    try:
        codebook = load_codebook()
    except ItipError as exc:
        raise _fail(str(exc)) from None
    failed = False
    for path in files:
        if not path.is_file():
            typer.echo(f"{path}: no such file")
            failed = True
            continue
        result = check_release(path, codebook)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}")
        if result.ok:
            typer.echo(f"{path.name}: ok, {len(result.estimates)} rows")
        else:
            failed = True
            for problem in result.problems:
                typer.echo(str(problem))
    if failed:
        raise typer.Exit(1)


@app.command()
def trend(
    indicator: Annotated[str, typer.Argument(help="Indicator id from the codebook.")],
    segment: Annotated[str | None, typer.Option("--segment", "-s", help="Only this segment.")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Show one indicator's series: value, n, interval, change and comparability per year.

    Example: itip trend trust_personal_data_safe --segment all
    """
    from itip.db import open_warehouse
    from itip.render import table_text, trend_table

    try:
        with open_warehouse(warehouse or default_warehouse(), read_only=True) as wh:
            if not wh.has_indicator(indicator):
                raise _fail(
                    f'unknown indicator {indicator!r}; list them with: itip sql "SELECT indicator FROM indicators"'
                )
            frame = wh.trend(indicator, segment)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    if frame.empty:
        typer.echo(f"no figures for {indicator}" + (f" in segment {segment}" if segment else ""))
        return
    typer.echo(table_text(*trend_table(frame)))


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="SQL to run; read from stdin when omitted.")] = None,
    warehouse: WarehouseOpt = None,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Run SQL on a read-only connection to the warehouse.

    The connection cannot write the warehouse, read or write other files, or
    change its own settings.

    Example: itip sql "SELECT year, value FROM trend WHERE indicator = 'trust_personal_data_safe' ORDER BY year"
    """
    from itip.db import run_query
    from itip.render import table_csv, table_text

    text = query if query is not None else sys.stdin.read()
    if not text.strip():
        raise _fail("no query given (as an argument or on stdin)", 2)
    try:
        columns, rows = run_query(warehouse or default_warehouse(), text)
    except ItipError as exc:
        raise _fail(str(exc)) from None
    if columns:
        typer.echo(table_csv(columns, rows) if csv_out else table_text(columns, rows), nl=not csv_out)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
