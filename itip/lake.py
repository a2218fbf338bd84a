"""The warehouse on DuckLake: a catalog database plus Parquet files, for many machines.

A file warehouse is one DuckDB file guarded by a lock and replaced by copy-and-swap;
that suits one analyst on one machine. A lake (`ducklake:<catalog>`) keeps the same
tables and views (the same warehouse/sql files) in a DuckLake catalog (PostgreSQL,
SQLite or a DuckDB file) with the data as Parquet under a data path (a folder or
object storage). There is no lock and no copy: every write is one DuckLake
transaction, writers on different machines commit concurrently, and a writer that
loses a conflict re-checks and retries (`retry_conflicts`). Every commit is a
snapshot that `open_lake(as_of=...)` reads back.

The DuckDB extensions come from the `duckdb-extension-*` wheels and are loaded by
file path; nothing is ever installed or fetched at run time.

ATTACH takes no bound parameters, so the catalog and data path are the one place
where input reaches SQL text: `_literal` quotes them and refuses control characters.
"""

from __future__ import annotations

import importlib.util
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from itip.paths import DEFAULT_WAREHOUSE, WAREHOUSE_DIR
from itip.problems import ConfigError, ItipError
from itip.settings import DEFAULTS, Settings

if TYPE_CHECKING:
    import duckdb

    from itip.db import Warehouse

# duckdb and itip.db (pandas) are imported where used: parsing a target stays cheap for the CLI.

log = logging.getLogger("itip.lake")

PREFIX = "ducklake:"
#: Name the lake is attached under; `USE lake` makes the shared SQL work unqualified.
ALIAS = "lake"
#: Tables an ingest writes; a migration copies them from a file warehouse.
FACT_TABLES = ("releases", "estimates", "rejections", "editions")
T = TypeVar("T")


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse: `catalog` as DuckLake's ATTACH takes it after `ducklake:`
    (`postgres:dbname=... host=...`, `sqlite:/path/meta.sqlite`, `/path/meta.ducklake`)
    and the data path for new files (None: the one stored in the catalog). `retries`: how
    often a writer tries a commit that loses a conflict to another writer (the settings'
    lake_retries, ITIP_LAKE_RETRIES, given by `target`); not part of which lake it is."""

    catalog: str
    data_path: str | None = None
    retries: int = field(default=DEFAULTS.lake_retries, compare=False, repr=False)

    @property
    def name(self) -> str:
        """How the lake is shown in messages and the report (passwords hidden)."""
        return PREFIX + re.sub(r"(password\s*=\s*)\S+", r"\1***", self.catalog, flags=re.IGNORECASE)

    def __str__(self) -> str:
        return self.name

    @property
    def kind(self) -> str:
        head = self.catalog.split(":", 1)[0].lower()
        return head if head in ("postgres", "sqlite", "mysql") else "duckdb"

    @property
    def catalog_file(self) -> Path | None:
        """The catalog's file for a DuckDB or SQLite catalog; None for a database server."""
        if self.kind == "duckdb":
            return Path(self.catalog)
        if self.kind == "sqlite":
            return Path(self.catalog.split(":", 1)[1])
        return None

    @property
    def parent(self) -> Path:
        """The local folder for what lives beside a warehouse (report/, the id key file):
        beside a file catalog, else the project's warehouse/ folder."""
        file = self.catalog_file
        return file.parent if file is not None else WAREHOUSE_DIR

    def with_name(self, name: str) -> Path:
        return self.parent / name


def is_lake(value: object) -> bool:
    return isinstance(value, Lake) or (isinstance(value, str) and value.startswith(PREFIX))


def target(
    value: str | Path | Lake | None = None, lake_data: str | Path | None = None, settings: Settings = DEFAULTS
) -> Path | Lake:
    """The warehouse a command works on: `value`, else the settings' warehouse
    ($ITIP_WAREHOUSE, else the default file). `ducklake:...` is a lake, with its data path
    from `lake_data` or the settings' lake_data ($ITIP_LAKE_DATA) and its retries from
    lake_retries. The settings are the run's, built where the command or flow started."""
    if isinstance(value, Lake):
        return value
    raw = str(value) if value is not None else settings.warehouse
    if not raw:
        return DEFAULT_WAREHOUSE
    if not raw.startswith(PREFIX):
        return Path(raw)
    catalog = raw[len(PREFIX) :]
    if not catalog.strip():
        raise ItipError(f"{raw!r}: no catalog after 'ducklake:' (e.g. ducklake:postgres:dbname=itip host=db)")
    data = lake_data if lake_data is not None else settings.lake_data
    return Lake(catalog, str(data) if data else None, settings.lake_retries)


# --- connections ---------------------------------------------------------------------


def _literal(text: str) -> str:
    if any(ord(ch) < 32 for ch in text):
        raise ItipError(f"{text!r}: control characters are not allowed in a catalog or data path")
    return "'" + text.replace("'", "''") + "'"


def extension_file(name: str) -> Path:
    """The `.duckdb_extension` file shipped in the `duckdb-extension-<name>` wheel."""
    import duckdb

    module = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ItipError(
            f"the DuckDB extension {name!r} is not installed (package duckdb-extension-{name.replace('_', '-')}); "
            "itip never downloads extensions"
        )
    path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ItipError(f"{path}: the {name} extension for DuckDB {duckdb.__version__} is missing")
    return path


def _as_of_option(as_of: str) -> str:
    """SNAPSHOT_VERSION n for a snapshot id, SNAPSHOT_TIME for a time (UTC unless it says)."""
    text = as_of.strip()
    if text.isdigit():
        return f"SNAPSHOT_VERSION {int(text)}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(  # a usage error: exit 2
            f"--as-of {as_of!r}: not a snapshot id or a time (e.g. 12, 2026-03-01, '2026-03-01 12:00:00+01:00')"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"SNAPSHOT_TIME {_literal(moment.isoformat())}"


def connect(lake: Lake, *, read_only: bool, as_of: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `lake` and in use.

    Read-only connections attach the lake READ_ONLY (at a snapshot for `as_of`) and
    then turn off file access except to the lake's data path and lock the configuration,
    as `itip sql` does for a file warehouse. (Files under the data path stay reachable, so
    analysts' storage credentials must be read-only: see docs/scaling.md.)"""
    import duckdb

    from itip.db import BASE_CONFIG

    if lake.kind == "duckdb" and read_only and not Path(lake.catalog).exists():
        raise ItipError(f"{lake.name}: no lake yet; run 'itip lake init' or 'itip ingest' first")
    con = duckdb.connect(":memory:", config=BASE_CONFIG)
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"LOAD {_literal(str(extension_file('ducklake')))}")
        if lake.kind == "postgres":
            con.execute(f"LOAD {_literal(str(extension_file('postgres_scanner')))}")
        elif lake.kind == "sqlite":
            con.execute(f"LOAD {_literal(str(extension_file('sqlite_scanner')))}")
        if "://" in (lake.data_path or ""):
            # s3://, gs://, https://: DuckDB reaches object stores through httpfs (credentials as
            # DuckDB secrets or the usual AWS_* variables; see docs/scaling.md).
            con.execute(f"LOAD {_literal(str(extension_file('httpfs')))}")
        options = []
        if lake.data_path and not read_only:
            options.append(f"DATA_PATH {_literal(lake.data_path)}")
        if read_only:
            options.append("READ_ONLY")
        if as_of is not None:
            options.append(_as_of_option(as_of))
        suffix = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH {_literal(PREFIX + lake.catalog)} AS {ALIAS}{suffix}")
        con.execute(f"USE {ALIAS}")
        if read_only:
            # The lake's own Parquet files stay readable; every other file and URL does not.
            row = con.execute(
                "SELECT value FROM ducklake_options(?) WHERE option_name = 'data_path'", [ALIAS]
            ).fetchone()
            if row and row[0]:
                con.execute(f"SET allowed_directories = [{_literal(str(row[0]))}]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
    except ItipError:
        con.close()
        raise
    except duckdb.Error as exc:
        con.close()
        raise ItipError(f"{lake.name}: cannot open the lake: {_first_line(exc)}") from None
    return con


#: Statement types an analyst may run on a read-only lake. Its Parquet files must stay
#: readable, so the file lockdown allows the lake's data path, and DuckDB's allowed
#: directories are for writing as well as reading: COPY ... TO, EXPORT DATABASE or ATTACH
#: of a new file there would write beside (or over) the lake's own files. Those are refused
#: by statement type before anything runs; only queries pass.
READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL", "RELATION"})


def refuse_writes(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise ItipError unless every statement of `sql` only reads (see READ_STATEMENTS)."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise ItipError(f"query failed: {str(exc).strip()}") from None
    for statement in statements:
        kind = statement.type.name
        if kind not in READ_STATEMENTS:
            raise ItipError(
                f"query failed: {kind} statements are not allowed on a read-only lake (queries only: SELECT, "
                "EXPLAIN, DESCRIBE, SHOW, SUMMARIZE)"
            )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: The writing connection each lake's run shares while `one_writer` holds it.
_shared: dict[Lake, Warehouse] = {}


@contextmanager
def one_writer(lake: Lake) -> Iterator[None]:
    """Inside this block every writing `open_lake(lake)` gets one connection, opened once.

    An ingest writes each file in a transaction of its own; opening a connection for each
    (loading the extension, attaching the catalog, checking the schema) cost 0.3 s a file,
    half of what a lake ingest took beyond a file warehouse's. The transactions stay one per
    file: a kill between files loses nothing committed, and a lost conflict is retried alone."""
    if lake in _shared:
        yield
        return
    with open_lake(lake) as warehouse:
        _shared[lake] = warehouse
        try:
            yield
        finally:
            _shared.pop(lake, None)


@contextmanager
def open_lake(lake: Lake, read_only: bool = False, as_of: str | None = None) -> Iterator[Warehouse]:
    """The lake as a `Warehouse`. Writing connections create the catalog and schema when
    missing; a reader of a lake without the schema is told to ingest first. Inside
    `one_writer` the run's own reads and writes get the shared connection (a DuckDB-file
    catalog cannot be attached twice in one process)."""
    from itip.db import Warehouse

    shared = None if as_of is not None else _shared.get(lake)
    if shared is not None:
        yield shared
        if shared.rewrite_needed:  # as a connection of its own would, when it closed
            forget_history(shared.con)
            shared.rewrite_needed = False
        return
    if lake.data_path and not read_only and "://" not in lake.data_path:
        Path(lake.data_path).mkdir(parents=True, exist_ok=True)
    con = connect(lake, read_only=read_only, as_of=as_of)
    try:
        warehouse = Warehouse(con, lake)
        if read_only:
            has = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'releases' "
                "AND database_name = current_database()"
            ).fetchone()
            if not (has and has[0]):
                when = "" if as_of is None else f" at {as_of}"
                raise ItipError(f"{lake.name}: no warehouse tables in this lake{when}; run 'itip lake init' first")
        else:
            retry_conflicts(warehouse.ensure_schema, lake)
        yield warehouse
        if warehouse.rewrite_needed:
            forget_history(con)
    finally:
        con.close()


def forget_history(con: duckdb.DuckDBPyConnection) -> None:
    """Expire every snapshot but the newest and delete the files only they used.

    Called after stored values were suppressed (tighter disclosure rules, or a lake migrated
    from a warehouse older than disclosure control): DuckLake keeps every snapshot, so
    `itip sql --as-of` would otherwise still read the values the rules now hide. Suppression
    outranks time travel; the snapshots before this one are gone (docs/scaling.md)."""
    con.execute("CALL ducklake_expire_snapshots(?, older_than => now())", [ALIAS])
    con.execute("CALL ducklake_cleanup_old_files(?, cleanup_all => true)", [ALIAS])


def is_conflict(exc: BaseException) -> bool:
    """A DuckLake commit lost to another writer's (the transaction was rolled back)."""
    import duckdb

    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


def retry_conflicts(work: Callable[[], T], lake: Lake, attempts: int | None = None) -> T:
    """Run `work` (one whole transaction, re-reading what it decides on) until it commits,
    at most `attempts` times (default: the lake's `retries`; at least once).

    DuckLake checks conflicts at commit: the loser's transaction is rolled back whole,
    so running the same work again on the new snapshot is always safe."""
    import duckdb

    limit = max(1, lake.retries if attempts is None else attempts)
    for attempt in range(1, limit + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if not is_conflict(exc) or attempt == limit:
                if is_conflict(exc):
                    raise ItipError(
                        f"{lake.name}: still conflicting with other writers after {limit} attempts; "
                        "nothing of this file was written, try again"
                    ) from None
                raise
            pause = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
            log.info("lake commit conflicted with another writer (attempt %d); retrying in %.2f s", attempt, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")


def snapshots(lake: Lake) -> list[tuple[int, datetime]]:
    """(snapshot id, commit time) of every snapshot of the lake, oldest first."""
    con = connect(lake, read_only=True)
    try:
        rows = con.execute(
            "SELECT snapshot_id, snapshot_time FROM ducklake_snapshots(?) ORDER BY snapshot_id", [ALIAS]
        ).fetchall()
    finally:
        con.close()
    return [(int(r[0]), r[1]) for r in rows]


# --- migration from a file warehouse --------------------------------------------------


def migrate(source: Path, lake: Lake, codebook: object) -> dict[str, int]:
    """Copy every release, estimate and rejection of a DuckDB file warehouse into an
    empty lake, in one transaction, and recompute the changes there. Returns rows per table."""
    import duckdb

    from itip.codebook import Codebook
    from itip.db_codebook import refresh_change_tests

    assert isinstance(codebook, Codebook)
    if not source.is_file():
        raise ItipError(f"{source}: no such warehouse file to migrate")
    with open_lake(lake) as wh:
        wh.sync_codebook(codebook)

        try:
            wh.con.execute(f"ATTACH {_literal(str(source))} AS source (READ_ONLY)")
        except duckdb.Error as exc:
            raise ItipError(f"{source}: not a DuckDB warehouse or damaged: {_first_line(exc)}") from None

        def copy() -> dict[str, int]:
            counts: dict[str, int] = {}
            with wh.transaction():
                row = wh.con.execute("SELECT count(*) FROM releases").fetchone()
                if row and row[0]:
                    raise ItipError(f"{lake.name}: the lake already has {row[0]} releases; migrate into an empty lake")
                for table in FACT_TABLES:
                    # table names are the constants above; rows go over BY NAME
                    wh.con.execute(f"INSERT INTO {ALIAS}.main.{table} BY NAME SELECT * FROM source.main.{table}")
                    got = wh.con.execute(f"SELECT count(*) FROM source.main.{table}").fetchone()
                    counts[table] = int(got[0]) if got else 0
                cell = wh.con.execute("SELECT value FROM source.main.meta WHERE key = 'min_cell_n'").fetchone()
                if cell is not None:
                    wh.set_meta("min_cell_n", str(cell[0]))
                refresh_change_tests(wh.con)
                wh.mark_write()
            return counts

        try:
            return retry_conflicts(copy, lake)
        finally:
            wh.con.execute("DETACH source")
