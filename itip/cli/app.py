"""The `itip` command line: the app, its error handler and what every command shares.

The commands live beside it by what a person does with them: load.py (ingest, serve,
check, synth), ask.py (trend, sql, shell), publish.py (export, report, lake init).

Exit codes: 0 success; 1 a file was rejected or a check found problems, or the
warehouse could not be used; 2 usage error (unknown option, missing argument).
Expected failures print one line per problem and no traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
import typer.core
from typer._click.core import Context
from typer.exceptions import TyperException

from itip.problems import ItipError, interrupted
from itip.settings import Settings

if TYPE_CHECKING:
    from itip.lake import Lake


#: Exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: Exit code when the reader of the output went away (`itip sql --csv ... | head`): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 141
#: Set by `itip -v` (and `itip ingest -v`): failures end with their traceback.
_verbose = False


def _run_settings() -> Settings:
    """The settings this command runs with: built once from the environment where every
    command starts (`_Guarded.invoke`) and kept in Click's context object (`ctx.obj`, which
    every sub-command's context inherits); the environment's when called outside a command."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Settings) if ctx is not None else None
    return found if found is not None else Settings.from_env()


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first


def _interrupted() -> typer.Exit:
    """Ctrl-C, wherever it landed: one line, exit 130 (itip.entry says the same before this)."""
    typer.echo("itip: interrupted (Ctrl-C)", err=True)
    return typer.Exit(EXIT_INTERRUPTED)


class _Guarded(typer.core.TyperGroup):
    """Every command's last word: an expected failure (ItipError, a full disk, an unwritable
    target, Ctrl-C, a closed pipe, a damaged warehouse) ends as one `itip: ...` line with
    its documented exit code; anything else as one line saying it is unexpected. A
    traceback only with `itip -v`."""

    def make_context(self, *args: Any, **kwargs: Any) -> Context:
        # Ctrl-C while the arguments are parsed: Typer would exit 130 without a word
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise _interrupted() from None

    def invoke(self, ctx: Context) -> object:
        try:
            from itip.failpoints import check_failpoint
            from itip.terminal import visible

            # Every ITIP_* variable is read here, once; an unusable one is a ConfigError (exit 2).
            ctx.obj = Settings.from_env()
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
            raise _interrupted() from None
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
            if interrupted(exc):  # Ctrl-C while DuckDB ran a query (see itip.problems.interrupted)
                raise _interrupted() from None
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
    from itip.terminal import visible

    typer.echo(f"itip: {visible(message)}", err=True)
    return typer.Exit(code)


def _say(line: str) -> None:
    """Print a line that may hold text from a file (a problem, a warning): what a terminal
    would act on is shown escaped (itip.terminal.visible)."""
    from itip.terminal import visible

    typer.echo(visible(line))
