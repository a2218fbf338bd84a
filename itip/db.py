"""All access to the DuckDB warehouse.

Every statement is either a `.sql` file from warehouse/sql or a constant string
here with bound parameters; no SQL is built from input. Data frames are passed
to DuckDB by registering them, never by formatting values into SQL.

The warehouse only: respondent files are read in itip.respondents, and the warehouse
*file* (the private copy every write goes to, its atomic swap, the write-ahead log) is
itip.warehouse_file; the contract's reads and analysts' SQL are itip.db_read. The
`Warehouse` class is the one place every write of the contract starts: loading and
rejecting releases here, the schema and its migrations in itip.db_schema, the codebook and
what follows from it (disclosure rules, answer bases, tests of change) in itip.db_codebook.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from itip import db_codebook, db_schema
from itip.codebook import Codebook
from itip.failpoints import failpoint
from itip.problems import ItipError, Problem

#: The storage format new warehouse files are written in, chosen explicitly so that every
#: DuckDB 1.x client (CLI, DBeaver, ODBC behind Excel and Power BI, older notebooks) opens
#: them: "v1.0.0" writes storage version 64, which DuckDB 1.0 through 1.5 read. Without
#: it a later DuckDB would write its own newest format and lock those clients out
#: (issue 13: a file written by DuckDB 2.0 has version 69). An existing file keeps the
#: version it was created with; tests/integration/test_reach.py opens the result with the newest
#: DuckDB 1.x wheel.
STORAGE_VERSION = "v1.0.0"

# pandas is imported by the methods that write with it: `itip sql`, `itip server status` and
# every `--help` read through this module without it (tests/integration/test_lean.py).
if TYPE_CHECKING:
    import pandas as pd

    from itip.lake import Lake

#: Settings for every connection: nothing is fetched or loaded from the network.
BASE_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "storage_compatibility_version": STORAGE_VERSION,
}

#: Settings for sessions that only read: no file access outside the warehouse
#: (COPY ... TO, read_csv, ATTACH) and no way to change settings back.
READ_ONLY_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    **BASE_CONFIG,
    "enable_external_access": False,
    "lock_configuration": True,
}

#: Estimate columns only some kinds of release have (respondent-level: n_effective;
#: published: the file's inferred and preferred marks).
OPTIONAL_ESTIMATE_COLUMNS = ("n_effective", "se", "design_effect", "df", "inferred", "preferred", "base")


def ident(name: str) -> str:
    """A table or column name quoted for SQL, refused unless it is a plain identifier: the
    few statements that cannot bind a name (a table copied by name, a respondent file's
    declared columns) build it from this."""
    if not name.replace("_", "a").isalnum() or not name[:1].isalpha() or not name.isascii():
        raise ItipError(f"not a safe column name: {name!r}")
    return '"' + name + '"'


@dataclass(frozen=True)
class ReleaseRow:
    release_id: int
    year: int
    kind: str
    file_name: str
    sha256: str
    rows: int
    status: str


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config=READ_ONLY_CONFIG if read_only else BASE_CONFIG)
    except duckdb.IOException as exc:
        raise ItipError(f"{path}: cannot open the warehouse: {exc}") from None
    except duckdb.Error as exc:
        raise ItipError(f"{path}: not a DuckDB warehouse or damaged: {exc}") from None


class Warehouse:
    """A connection to the warehouse with the operations the pipeline needs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | Lake):
        self.con = con
        self.path = path
        #: True on a DuckLake catalog (see itip.lake): some DDL differs there.
        self.lake = not isinstance(path, Path)
        self._in_transaction = False
        #: Set when values were removed from the file (see itip.db_codebook.suppress_stored): freed blocks keep
        #: their old bytes, so `write_snapshot` copies the data into a new file.
        self.rewrite_needed = False

    # --- setup ---------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create or update tables and views when the SQL in warehouse/sql changed (itip.db_schema)."""
        db_schema.ensure_schema(self)

    def is_current(self, codebook_sha: str) -> bool:
        """True when schema and codebook applied to this file are the ones in this checkout."""
        has_meta = self.con.execute(db_schema.HAS_META).fetchone()
        if not (has_meta and has_meta[0]):
            return False
        return (
            self.get_meta("schema_sha256") == db_schema.schema_sha()
            and self.get_meta("codebook_sha256") == codebook_sha
            and self.get_meta(db_codebook.DISCLOSURE_META) is not None  # written with the codebook since contract 4
        )

    def get_meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        # UPDATE, else INSERT: meta has no primary key to replace on (DuckLake has none).
        updated = self.con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, key]).fetchone()
        if not (updated and updated[0]):
            self.con.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])

    def mark_write(self) -> None:
        """Count this write in meta.writes. Every writing transaction updates that one row,
        so on a lake two concurrent writers always conflict and one retries (DuckLake lets
        plain appends to the same table both commit, which would duplicate a release)."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'writes'").fetchone()
        self.set_meta("writes", str(int(row[0]) + 1 if row else 1))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; a nested block joins the outer one (a lake writer re-checks
        its plan and writes in the same transaction)."""
        if self._in_transaction:
            yield
            return
        self._in_transaction = True
        try:
            self.con.begin()
            try:
                yield
            except BaseException:
                self.con.rollback()
                raise
            self.con.commit()
        finally:
            self._in_transaction = False

    def _next_release_id(self) -> int:
        # No sequence (DuckLake has none): the next number inside the writing transaction.
        row = self.con.execute("SELECT coalesce(max(release_id), 0) + 1 FROM releases").fetchone()
        assert row is not None
        return int(row[0])

    # --- codebook ------------------------------------------------------------------
    def sync_codebook(self, codebook: Codebook) -> bool:
        """Replace indicators and breaks when the codebook changed, with what follows from it
        (itip.db_codebook); True if it did."""
        return db_codebook.sync_codebook(self, codebook)

    # --- releases ------------------------------------------------------------------
    def _release(self, sql: str, params: list[object]) -> ReleaseRow | None:
        row = self.con.execute(sql, params).fetchone()
        return None if row is None else ReleaseRow(*row)

    def current_release(self, year: int | None, kind: str) -> ReleaseRow | None:
        # year is NULL for the editions file
        return self._release(
            "SELECT release_id, year, kind, file_name, sha256, rows, status FROM releases "
            "WHERE year IS NOT DISTINCT FROM ? AND kind = ? AND status = 'loaded'",
            [year, kind],
        )

    def rejected_release(
        self, year: int | None, kind: str, sha256: str, decided_by: str | None = None
    ) -> ReleaseRow | None:
        """The rejection of this exact content, if it was rejected before and not loaded since,
        by the same judge (`decided_by`: codebook and checks; see itip.ingest.decided_by). A
        rejection by another codebook (say, before an alias was added) is not remembered."""
        return self._release(
            "SELECT release_id, year, kind, file_name, sha256, rows, status FROM releases "
            "WHERE year IS NOT DISTINCT FROM ? AND kind = ? AND sha256 = ? AND status = 'rejected' "
            "AND (? IS NULL OR decided_by = ?) "
            "AND release_id > coalesce((SELECT max(release_id) FROM releases "
            "WHERE year IS NOT DISTINCT FROM ? AND kind = ? AND status = 'loaded'), 0) "
            "ORDER BY release_id DESC LIMIT 1",
            [year, kind, sha256, decided_by, decided_by, year, kind],
        )

    # --- the stat cache (issue 9) --------------------------------------------------------
    def file_stat(self, path: str) -> tuple[int, int, int, int, str, int] | None:
        """(size, mtime_ns, inode, ctime_ns, sha256, recorded_ns) recorded for a release file path."""
        if not self._has_table("file_stats"):  # a warehouse not yet migrated (read-only planning)
            return None
        row = self.con.execute(
            "SELECT size, mtime_ns, inode, ctime_ns, sha256, recorded_ns FROM file_stats WHERE path = ?", [path]
        ).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]), int(row[3]), str(row[4]), int(row[5]))

    def record_file_stats(self, entries: list[tuple[str, int, int, int, int, str, int]]) -> None:
        """Replace the stat cache rows of these paths: (path, size, mtime_ns, inode, ctime_ns, sha256, recorded_ns)."""
        if not entries:
            return
        import pandas as pd

        frame = pd.DataFrame.from_records(
            entries, columns=["path", "size", "mtime_ns", "inode", "ctime_ns", "sha256", "recorded_ns"]
        )
        with self.transaction():
            self.con.register("_stats", frame)
            self.con.execute("DELETE FROM file_stats WHERE path IN (SELECT path FROM _stats)")
            self.con.execute("INSERT INTO file_stats BY NAME SELECT * FROM _stats")
            self.con.unregister("_stats")

    def _has_table(self, name: str) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
            "AND database_name = current_database() AND schema_name = current_schema()",
            [name],
        ).fetchone()
        return bool(row and row[0])

    def rejections(self, release_id: int) -> list[Problem]:
        rows = self.con.execute(
            "SELECT file_name, source_row, source_column, check_id, value, message FROM rejections "
            "WHERE release_id = ? ORDER BY source_row NULLS FIRST, source_column",
            [release_id],
        ).fetchall()
        return [Problem(*r) for r in rows]

    def load_release(
        self,
        *,
        year: int | None,
        kind: str,
        file_name: str,
        sha256: str,
        estimates: pd.DataFrame,
        codebook: Codebook,
        flow_run_id: str | None,
        note: str | None = None,
    ) -> tuple[int, ReleaseRow | None]:
        """Load a good file in one transaction: the release, its estimates, the
        supersession of the previous version, and the recomputed changes.
        `note` (e.g. how many respondents) goes into releases.message."""
        from itip.editions import EDITIONS_KIND
        from schemas.models import EDITION_COLUMNS, ESTIMATE_COLUMNS  # Pandera: only when loading

        if kind == EDITIONS_KIND:  # the editions file: its rows go to table editions
            frame, table = estimates.loc[:, list(EDITION_COLUMNS)].copy(), "editions"
        else:
            columns = [c for c in ESTIMATE_COLUMNS if c not in OPTIONAL_ESTIMATE_COLUMNS]
            optional = [c for c in OPTIONAL_ESTIMATE_COLUMNS if c in estimates.columns]
            frame, table = estimates.loc[:, [*columns, *optional]].copy(), "estimates"
        with self.transaction():
            previous = self.current_release(year, kind)
            message = None if previous is None else f"supersedes release {previous.release_id} ({previous.file_name})"
            if note:
                message = note if message is None else f"{note}; {message}"
            release_id = self._next_release_id()
            self.con.execute(
                "INSERT INTO releases "
                "(release_id, year, kind, file_name, sha256, rows, status, loaded_at, flow_run_id, message) "
                "VALUES (?, ?, ?, ?, ?, ?, 'loaded', now(), ?, ?)",
                [release_id, year, kind, file_name, sha256, len(frame), flow_run_id, message],
            )
            failpoint("after_release_insert")
            if previous is not None:
                self.con.execute(
                    "UPDATE releases SET status = 'superseded', "
                    "message = concat_ws('; ', message, 'superseded by release ' || ?) WHERE release_id = ?",
                    [release_id, previous.release_id],
                )
            frame.insert(0, "release_id", release_id)
            self.con.register("_estimates", frame)
            # the table name is one of two constants, never input
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _estimates")
            self.con.unregister("_estimates")
            failpoint("after_estimates_insert")
            db_codebook.refresh_change_tests(self.con)
            self.mark_write()
            failpoint("before_commit")
        failpoint("after_commit")
        return release_id, previous

    def reject_release(
        self,
        *,
        year: int | None,
        kind: str,
        file_name: str,
        sha256: str,
        rows: int,
        problems: list[Problem],
        flow_run_id: str | None,
        decided_by: str | None = None,
    ) -> int:
        """Record a rejected file and every problem, in one transaction. Current data stays.
        `decided_by` records what judged it (the rejection is only remembered while that holds)."""
        import pandas as pd

        summary = f"{len(problems)} problem(s); first: {problems[0].message}" if problems else "rejected"
        records = pd.DataFrame.from_records(
            [
                {
                    "file_name": p.file,
                    "source_row": p.row,
                    "source_column": p.column,
                    "check_id": p.check,
                    "value": p.value,
                    "message": p.message,
                }
                for p in problems
            ],
            columns=["file_name", "source_row", "source_column", "check_id", "value", "message"],
        )
        records["source_row"] = records["source_row"].astype("Int64")
        with self.transaction():
            release_id = self._next_release_id()
            self.con.execute(
                "INSERT INTO releases (release_id, year, kind, file_name, sha256, rows, status, loaded_at, "
                "flow_run_id, message, decided_by) "
                "VALUES (?, ?, ?, ?, ?, ?, 'rejected', now(), ?, ?, ?)",
                [release_id, year, kind, file_name, sha256, rows, flow_run_id, summary, decided_by],
            )
            records.insert(0, "release_id", release_id)
            self.con.register("_rejections", records)
            self.con.execute("INSERT INTO rejections BY NAME SELECT * FROM _rejections")
            self.con.unregister("_rejections")
            self.mark_write()
        return release_id


@contextmanager
def open_warehouse(path: Path | Lake, read_only: bool = False) -> Iterator[Warehouse]:
    """Open the warehouse file itself. Read-only for sessions and checks; writing
    in place is only for private copies (see `write_snapshot`). A DuckLake target
    (itip.lake) is opened as a lake: there every write is a transaction of its own."""
    if not isinstance(path, Path):
        from itip.lake import open_lake

        with open_lake(path, read_only=read_only) as lake_wh:
            yield lake_wh
        return
    if read_only and not path.exists():
        raise ItipError(f"{path}: no warehouse yet; run 'itip ingest' first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only)
    try:
        warehouse = Warehouse(con, path)
        if not read_only:
            warehouse.ensure_schema()
        yield warehouse
    finally:
        con.close()
