"""Commands that ask the warehouse: trend, sql, shell."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core

from itip.problems import ItipError

if TYPE_CHECKING:
    import duckdb


from itip.cli.app import WarehouseOpt, _fail, _run_settings, _where, app


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
    from itip import db_read as reads
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
            if not reads.has_indicator(wh, indicator):
                listing = 'list them with: itip sql "SELECT indicator FROM indicators"'
                raise _fail(f"unknown indicator {indicator!r}; {_closest(indicator, reads.indicator_ids(wh), listing)}")
            frame = reads.trend(wh, indicator, segment)
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
    from itip.db_read import open_reader
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
