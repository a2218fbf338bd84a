"""`itip shell`: an interactive SQL session on the locked-down read-only connection.

One connection for the whole session, so the start-up is paid once instead of
for every `itip sql`. On a terminal it uses readline (history kept between
sessions, Tab completes SQL words, tables, views and columns); piped input is
read statement by statement, so scripts work the same way. A failed statement
prints DuckDB's whole message and the session goes on. Each statement runs under
the time limit of `itip sql` and Ctrl-C stops it and returns to the prompt
(itip.query); a table shows at most `max_rows` rows.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import duckdb

from itip.db import open_warehouse
from itip.problems import ItipError
from itip.query import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_S, QueryInterrupted, guarded_query
from itip.render import table_text
from itip.settings import DEFAULTS, Settings
from itip.terminal import visible

PROMPT, MORE = "itip> ", "  ...> "
#: Yielded for Ctrl-C at the prompt: drops the statement being typed, as in psql.
CANCEL = "\x18"
HELP = """Statements end with ';' and may span lines. Read-only: the warehouse, no other files.
  .tables        tables and views with what they hold
  .columns NAME  columns of a table or view with their comments
  .help          this text
  .quit          leave (also Ctrl-D)"""


def history_file(settings: Settings = DEFAULTS) -> Path:
    """Where readline keeps the session history: the settings' history ($ITIP_HISTORY),
    else the XDG state folder ($XDG_STATE_HOME is the desktop's, not an itip setting)."""
    if settings.history is not None:
        return settings.history
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "itip" / "history"


def statements(lines: Iterable[str]) -> Iterator[str]:
    """Complete statements (ending with ';') and dot-commands from lines as they come."""
    buffer: list[str] = []
    for line in lines:
        if line == CANCEL:
            buffer = []
            continue
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            yield stripped
            continue
        if not stripped and not buffer:
            continue
        buffer.append(line.rstrip("\n"))
        if stripped.endswith(";"):
            yield "\n".join(buffer)
            buffer = []
    if buffer and "\n".join(buffer).strip():
        yield "\n".join(buffer)


class Session:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        out: TextIO,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_rows: int = DEFAULT_MAX_ROWS,
        interactive: bool = False,
    ):
        self.con = con
        self.out = out
        self.failed = 0
        self.timeout = timeout
        self.max_rows = max_rows
        #: At a terminal Ctrl-C stops the statement and the session goes on; a script ends.
        self.interactive = interactive

    def names(self) -> list[str]:
        """What Tab completes: tables, views, columns and DuckDB's SQL keywords."""
        rows = self.con.execute(
            "SELECT DISTINCT table_name FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal "
            "UNION SELECT DISTINCT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal "
            "UNION SELECT upper(keyword_name) FROM duckdb_keywords()"
        ).fetchall()
        return sorted(str(r[0]) for r in rows)

    def _print(self, text: str) -> None:
        self.out.write(visible(text) + "\n")
        self.out.flush()

    def run(self, statement: str) -> bool:
        """Run one statement or dot-command; False when the session should end."""
        if statement.startswith("."):
            return self._dot(statement)
        limit = self.max_rows or None
        try:
            with guarded_query(self.con, statement, self.timeout) as result:
                if result is None:
                    return True
                rows = [row for batch in result.batches(limit) for row in batch]
                more = limit is not None and len(rows) == limit and result.more()
        except QueryInterrupted:
            if not self.interactive:
                raise
            self.failed += 1
            self._print("error: interrupted (Ctrl-C)")
            return True
        except ItipError as exc:
            self.failed += 1
            self._print(f"error: {str(exc).strip().removeprefix('query failed: ')}")
            return True
        self._print(table_text(result.columns, rows))
        shown = f"({len(rows)} row{'s' if len(rows) != 1 else ''}"
        self._print(shown + (" shown; there are more: itip shell --max-rows N, or itip sql --csv)" if more else ")"))
        return True

    def _dot(self, command: str) -> bool:
        name, _, arg = command.partition(" ")
        if name in (".quit", ".exit", ".q"):
            return False
        if name == ".help":
            self._print(HELP)
        elif name == ".tables":
            rows = self.con.execute(
                "SELECT table_name, 'table', comment FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal "
                "AND table_name <> 'meta' UNION ALL SELECT view_name, 'view', comment FROM duckdb_views() "
                "WHERE schema_name = 'main' AND NOT internal ORDER BY 2, 1"
            ).fetchall()
            self._print(table_text(["name", "kind", "what it holds"], rows))
        elif name == ".columns" and arg.strip():
            rows = self.con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = 'main' "
                "AND table_name = ? ORDER BY column_index",
                [arg.strip()],
            ).fetchall()
            if rows:
                self._print(table_text(["column", "type", "meaning"], rows))
            else:
                self.failed += 1
                self._print(f"error: no table or view {arg.strip()!r} (see .tables)")
        else:
            self.failed += 1
            self._print(f"error: unknown command {command!r} (see .help)")
        return True


def _completer(words: list[str]) -> Callable[[str, int], str | None]:
    def complete(text: str, state: int) -> str | None:
        lower = text.lower()
        matches = [w for w in words if w.lower().startswith(lower)]
        return matches[state] if state < len(matches) else None

    return complete


def _interactive_lines(session: Session, history: Path) -> Iterator[str]:
    """Lines typed at the terminal, with readline history (kept in `history`) and completion."""
    import readline

    try:
        history.parent.mkdir(parents=True, exist_ok=True)
        readline.read_history_file(history)
    except OSError:
        pass
    readline.set_completer(_completer(session.names()))
    readline.set_completer_delims(" \t\n,;()=<>.'\"")
    readline.parse_and_bind("tab: complete")
    pending = False
    try:
        while True:
            try:
                line = input(MORE if pending else PROMPT)
            except EOFError:
                print()
                return
            except KeyboardInterrupt:
                print()
                pending = False
                yield CANCEL
                continue
            stripped = line.strip()
            pending = bool(stripped) and not stripped.endswith(";") and not (not pending and stripped.startswith("."))
            yield line
    finally:
        try:
            readline.set_history_length(1000)
            readline.write_history_file(history)
        except OSError:
            pass


def run_shell(
    warehouse: Path,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_rows: int = DEFAULT_MAX_ROWS,
    settings: Settings = DEFAULTS,
) -> int:
    """The session; its exit code: 0, or 1 when a statement failed in piped input. The
    history file at a terminal is the settings' (history_file)."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin.isatty() and out.isatty()
    with open_warehouse(warehouse, read_only=True) as wh:
        session = Session(wh.con, out, timeout, max_rows, interactive)
        if interactive:
            session._print(f"itip shell on {warehouse} (read-only). .help for help, .quit or Ctrl-D to leave.")
        lines = _interactive_lines(session, history_file(settings)) if interactive else iter(stdin)
        for statement in statements(lines):
            if not session.run(statement):
                break
    return 1 if session.failed and not interactive else 0
