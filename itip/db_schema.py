"""The warehouse's schema: the SQL files of warehouse/sql, applied in order when they changed,
and the migrations that bring a warehouse of an older contract version to this one first
(docs/warehouse-changelog.md). Split from itip.db, whose `Warehouse.ensure_schema` calls
`ensure_schema` here; names in these statements are constants, never input."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from itip.paths import SQL_DIR

if TYPE_CHECKING:
    from itip.db import Warehouse

#: Columns renamed in contract version 2 (docs/warehouse-changelog.md): old name, new name.
_REJECTION_RENAMES = (("row", "source_row"), ("column", "source_column"), ("check", "check_id"))

#: Which tables exist, in the database and schema the connection uses (a file, or the lake).
HAS_META = (
    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta' "
    "AND database_name = current_database() AND schema_name = current_schema()"
)


def schema_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def schema_sha() -> str:
    digest = hashlib.sha256()
    for path in schema_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_schema(wh: Warehouse) -> None:
    """Create or update tables and views when the SQL in warehouse/sql changed."""
    sha = schema_sha()
    has_meta = wh.con.execute(HAS_META).fetchone()
    if has_meta and has_meta[0] and wh.get_meta("schema_sha256") == sha:
        return
    with wh.transaction():
        migrate(wh)
        for path in schema_files():
            apply(wh, path.read_text(encoding="utf-8"))
        wh.set_meta("schema_sha256", sha)
        # The tests of change (change_tests) are recomputed by the next codebook sync.
        wh.con.execute("DELETE FROM meta WHERE key = 'codebook_sha256'")
        wh.mark_write()


def migrate(wh: Warehouse) -> None:
    """Bring a warehouse of an older contract version to this one before the SQL files run
    (docs/warehouse-changelog.md). Names here are constants, never input."""
    # Version 6: changes became a view over change_pairs, breaks and change_tests.
    if wh.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'changes' "
        "AND database_name = current_database()"
    ).fetchone() != (0,):
        wh.con.execute("DROP TABLE changes")
    columns = {
        str(r[0])
        for r in wh.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'rejections'"
        ).fetchall()
    }
    for old, new in _REJECTION_RENAMES:
        if old in columns and new not in columns:
            wh.con.execute(f'ALTER TABLE rejections RENAME COLUMN "{old}" TO {new}')


def apply(wh: Warehouse, sql: str) -> None:
    """Run one schema file. DuckLake keeps comments on tables, views and table
    columns but not on view columns: on a lake those statements are skipped
    (the view's own comment and the underlying tables' columns are kept)."""
    if not wh.lake:
        wh.con.execute(sql)
        return
    for statement in wh.con.extract_statements(sql):
        try:
            wh.con.execute(statement)
        except duckdb.BinderException as exc:
            if "Cannot comment on columns" not in str(exc):
                raise
