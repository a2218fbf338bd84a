"""Reading the warehouse: the contract's fixed queries (`itip trend`, the report) and
analysts' own SQL (`itip sql`, `itip shell`) on a connection that cannot write, reach files
or change settings. Like itip.db, every fixed statement is a constant with bound parameters.
Writing, the schema and its migrations are itip.db."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from itip.db import Warehouse, open_warehouse
from itip.problems import ConfigError, ItipError

if TYPE_CHECKING:
    import pandas as pd

    from itip.lake import Lake


def trend(wh: Warehouse, indicator: str, segment: str | None = None) -> pd.DataFrame:
    return wh.con.execute(
        "SELECT year, segment, answer, value, qualifier, value_status, n, ci_low, ci_high, prev_year, "
        "change_pp, change_p_value, change_q_value, change_significant, comparable_with_prev, source, "
        "interval_basis, break_reason, se, df FROM trend WHERE indicator = ? AND (? IS NULL OR segment = ?) "
        "ORDER BY segment, answer NULLS FIRST, year",
        [indicator, segment, segment],
    ).df()


def indicator_ids(wh: Warehouse) -> list[str]:
    return [str(r[0]) for r in wh.con.execute("SELECT indicator FROM indicators ORDER BY indicator").fetchall()]


def has_indicator(wh: Warehouse, indicator: str) -> bool:
    row = wh.con.execute("SELECT count(*) FROM indicators WHERE indicator = ?", [indicator]).fetchone()
    return bool(row and row[0])


# --- for the key-figures report (itip/report) ----------------------------------------------
def report_trend(wh: Warehouse) -> pd.DataFrame:
    """Every current figure with its change, for the report."""
    return wh.con.execute(
        "SELECT indicator, survey, segment, answer, year, value, qualifier, value_status, n, ci_low, ci_high, "
        "prev_year, prev_value, change_pp, change_p_value, change_q_value, change_significant, "
        "comparable_with_prev, source, release_id, inferred, conflict, edition_respondents, interval_basis, "
        "break_reason FROM trend "
        "ORDER BY indicator, segment, answer NULLS FIRST, year"
    ).df()


def report_breaks(wh: Warehouse) -> pd.DataFrame:
    """Comparability breaks: a break at year Y means not comparable across Y."""
    return wh.con.execute("SELECT indicator, year, scope, reason FROM breaks ORDER BY indicator, year").df()


def loaded_releases(wh: Warehouse) -> pd.DataFrame:
    """The current release of each year: what the report was built from."""
    return wh.con.execute(
        "SELECT release_id, year, kind, file_name, sha256, rows, loaded_at FROM releases "
        "WHERE status = ? ORDER BY year, kind",
        ["loaded"],
    ).df()


# --- analysts' SQL ------------------------------------------------------------------------
def open_reader(path: Path | Lake, as_of: str | None = None) -> contextlib.AbstractContextManager[Warehouse]:
    """The locked-down read-only connection of `itip sql` and `itip shell`. `as_of` (a
    snapshot id or a time) reads a lake as it was then; a file has no history."""
    if as_of is not None and isinstance(path, Path):
        raise ConfigError(  # a usage error: exit 2
            f"{path}: --as-of needs a DuckLake warehouse (ducklake:...); a DuckDB file keeps no history"
        )
    if not isinstance(path, Path):
        from itip.lake import open_lake

        return open_lake(path, read_only=True, as_of=as_of)
    return open_warehouse(path, read_only=True)


def run_query(path: Path | Lake, sql: str, as_of: str | None = None) -> tuple[list[str], list[tuple[object, ...]]]:
    """Run an analyst's SQL on a read-only connection that cannot reach files or settings.
    `as_of` (a snapshot id or a time) reads a lake as it was then; a file has no history."""
    with open_reader(path, as_of) as wh:
        if not isinstance(path, Path):
            from itip.lake import refuse_writes

            refuse_writes(wh.con, sql)  # the data path is reachable: no COPY TO into it
        try:
            cursor = wh.con.execute(sql)
        except duckdb.Error as exc:
            # the whole message: DuckDB's hints ("Candidate bindings: ...", "LINE 1: ...") follow the first line
            raise ItipError(f"query failed: {str(exc).strip()}") from None
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()
