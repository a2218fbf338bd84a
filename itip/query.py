"""Analysts' SQL with a time limit, an answer to Ctrl-C and a bounded result.

DuckDB runs a statement in C++ with Python's signal handlers unable to get in: a
`count(*)` over `range(1e13)` ignores Ctrl-C for as long as it runs. So every call
into DuckDB (the statement, and each batch fetched from its streaming result) runs
in a worker thread while this thread waits in short steps; at the time limit or on
Ctrl-C it calls `connection.interrupt()`, which DuckDB checks between vectors, and
the statement ends within a fraction of a second with DuckDB's InterruptException.

Results stream: `execute` returns at once and rows are produced batch by batch as
they are fetched, so a table view stops reading after `max_rows` and a CSV export
never holds more than one batch (both checked by tests/integration/test_hostile_hcli.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import duckdb

from itip.problems import ItipError

T = TypeVar("T")

#: Seconds a query may run in DuckDB before it is stopped (`--timeout`; 0 = no limit).
DEFAULT_TIMEOUT_S = 60.0
#: Rows a table view shows before it stops reading (`--max-rows`; 0 = no limit).
DEFAULT_MAX_ROWS = 10_000
#: Rows fetched from DuckDB at a time while streaming.
BATCH_ROWS = 2048
#: How often the waiting thread looks at the clock (and lets Python run a signal handler).
_STEP_S = 0.05


class QueryTimeout(ItipError):
    """The statement ran into the time limit and was stopped."""

    exit_code = 3


class QueryInterrupted(ItipError):
    """Ctrl-C (SIGINT) stopped the statement."""

    exit_code = 130


@dataclass
class Guard:
    """Runs calls into one connection with a shared budget of DuckDB time.

    Only time spent inside DuckDB counts: a CSV piped into a slow reader (`| less`) is
    not stopped while the reader waits."""

    con: duckdb.DuckDBPyConnection
    timeout: float | None
    used: float = field(default=0.0)

    def __call__(self, work: Callable[[], T]) -> T:
        box: dict[str, object] = {}

        def run() -> None:
            try:
                box["value"] = work()
            except BaseException as exc:  # carried over to the waiting thread
                box["error"] = exc

        worker = threading.Thread(target=run, name="itip-query", daemon=True)
        start = time.monotonic()
        worker.start()
        try:
            while worker.is_alive():
                if self.timeout and self.used + time.monotonic() - start >= self.timeout:
                    self._stop(worker)
                    raise QueryTimeout(
                        f"query stopped at the time limit of {self.timeout:g} s "
                        "(--timeout SECONDS to change it, 0 for none)"
                    )
                worker.join(_STEP_S)
        except KeyboardInterrupt:
            self._stop(worker)
            raise QueryInterrupted("query interrupted (Ctrl-C)") from None
        finally:
            self.used += time.monotonic() - start
        error = box.get("error")
        if isinstance(error, duckdb.InterruptException):
            raise QueryInterrupted("query interrupted") from None
        if isinstance(error, BaseException):
            raise error
        return box["value"]  # type: ignore[return-value]

    def _stop(self, worker: threading.Thread) -> None:
        """Interrupt DuckDB and wait for the worker to leave it (the connection is then free)."""
        self.con.interrupt()
        worker.join(5.0)


@dataclass
class Result:
    """A statement's column names and its rows, fetched in batches under the guard."""

    columns: list[str]
    cursor: duckdb.DuckDBPyConnection
    guard: Guard

    def batches(self, limit: int | None = None, size: int = BATCH_ROWS) -> Iterator[list[tuple[object, ...]]]:
        """Rows in batches, at most `limit` in all (None: every row)."""
        left = limit
        while left is None or left > 0:
            want = size if left is None else min(size, left)
            rows: list[tuple[object, ...]] = self.guard(lambda n=want: self.cursor.fetchmany(n))  # type: ignore[misc]
            if not rows:
                return
            if left is not None:
                left -= len(rows)
            yield rows

    def more(self) -> bool:
        """Whether a row is left after the ones fetched."""
        return bool(self.guard(lambda: self.cursor.fetchmany(1)))


@contextmanager
def guarded_query(con: duckdb.DuckDBPyConnection, sql: str, timeout: float | None) -> Iterator[Result | None]:
    """Run `sql` on `con` under the time limit; None for a statement without a result."""
    guard = Guard(con, timeout or None)
    try:
        cursor = guard(lambda: con.execute(sql))
    except duckdb.Error as exc:
        # the whole message: DuckDB's hints ("Candidate bindings: ...", "LINE 1: ...") follow the first line
        raise ItipError(f"query failed: {str(exc).strip()}") from None
    if cursor.description is None:
        yield None
        return
    try:
        yield Result([d[0] for d in cursor.description], cursor, guard)
    except duckdb.Error as exc:
        raise ItipError(f"query failed: {str(exc).strip()}") from None
