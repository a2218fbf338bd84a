"""All access to the DuckDB warehouse.

Every statement is either a `.sql` file from warehouse/sql or a constant string
here with bound parameters; no SQL is built from input. Data frames are passed
to DuckDB by registering them, never by formatting values into SQL.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from itip.codebook import Codebook
from itip.failpoints import failpoint
from itip.paths import SQL_DIR
from itip.problems import ItipError, Problem
from itip.stats import compute_changes

#: Settings for every connection: nothing is fetched or loaded from the network.
BASE_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

#: Settings for sessions that only read: no file access outside the warehouse
#: (COPY ... TO, read_csv, ATTACH) and no way to change settings back.
READ_ONLY_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    **BASE_CONFIG,
    "enable_external_access": False,
    "lock_configuration": True,
}

ESTIMATE_COLUMNS = (
    "source_row",
    "year",
    "survey",
    "segment",
    "indicator",
    "answer",
    "question",
    "value",
    "value_status",
    "qualifier",
    "n",
    "ci_low",
    "ci_high",
    "source",
    "note",
)


def schema_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def _schema_sha() -> str:
    digest = hashlib.sha256()
    for path in schema_files():
        digest.update(path.read_bytes())
    return digest.hexdigest()


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

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path):
        self.con = con
        self.path = path

    # --- setup ---------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create or update tables and views when the SQL in warehouse/sql changed."""
        sha = _schema_sha()
        has_meta = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta' AND schema_name = 'main'"
        ).fetchone()
        if has_meta and has_meta[0] and self.get_meta("schema_sha256") == sha:
            return
        with self.transaction():
            for path in schema_files():
                self.con.execute(path.read_text(encoding="utf-8"))
            self._set_meta("schema_sha256", sha)

    def is_current(self, codebook_sha: str) -> bool:
        """True when schema and codebook applied to this file are the ones in this checkout."""
        has_meta = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta' AND schema_name = 'main'"
        ).fetchone()
        if not (has_meta and has_meta[0]):
            return False
        return self.get_meta("schema_sha256") == _schema_sha() and self.get_meta("codebook_sha256") == codebook_sha

    def get_meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.begin()
        try:
            yield
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    # --- codebook ------------------------------------------------------------------
    def sync_codebook(self, codebook: Codebook) -> bool:
        """Replace indicators and breaks when the codebook changed; True if it did."""
        if self.get_meta("codebook_sha256") == codebook.sha256:
            return False
        indicators = pd.DataFrame.from_records(
            [
                {
                    "indicator": i.id,
                    "survey": i.survey,
                    "topic": i.topic,
                    "label_no": i.label_no,
                    "label_en": i.label_en,
                    "unit": i.unit,
                    "better": i.better,
                    "answers": [a.id for a in i.answers],
                    "aliases": [f"{year}: {text}" for year, text, _ in i.aliases],
                    "note": i.note,
                }
                for i in codebook.indicators.values()
            ]
        )
        breaks = pd.DataFrame.from_records(
            [
                {
                    "indicator": ind,
                    "year": b.year,
                    "scope": "indicator" if b.indicator else "survey",
                    "reason": b.reason,
                }
                for ind in codebook.indicators
                for b in codebook.breaks_for(ind)
            ],
            columns=["indicator", "year", "scope", "reason"],
        )
        with self.transaction():
            self.con.execute("DELETE FROM indicators")
            self.con.register("_indicators", indicators)
            self.con.execute("INSERT INTO indicators BY NAME SELECT * FROM _indicators")
            self.con.unregister("_indicators")
            self.con.execute("DELETE FROM breaks")
            self.con.register("_breaks", breaks)
            self.con.execute("INSERT INTO breaks BY NAME SELECT * FROM _breaks")
            self.con.unregister("_breaks")
            self._refresh_changes(codebook)
            self._set_meta("codebook_sha256", codebook.sha256)
        return True

    # --- releases ------------------------------------------------------------------
    def _release(self, sql: str, params: list[object]) -> ReleaseRow | None:
        row = self.con.execute(sql, params).fetchone()
        return None if row is None else ReleaseRow(*row)

    def current_release(self, year: int, kind: str) -> ReleaseRow | None:
        return self._release(
            "SELECT release_id, year, kind, file_name, sha256, rows, status FROM releases "
            "WHERE year = ? AND kind = ? AND status = 'loaded'",
            [year, kind],
        )

    def rejected_release(self, year: int, kind: str, sha256: str) -> ReleaseRow | None:
        """The rejection of this exact content, if it was rejected before and not loaded since."""
        return self._release(
            "SELECT release_id, year, kind, file_name, sha256, rows, status FROM releases "
            "WHERE year = ? AND kind = ? AND sha256 = ? AND status = 'rejected' "
            "AND release_id > coalesce((SELECT max(release_id) FROM releases "
            "WHERE year = ? AND kind = ? AND status = 'loaded'), 0) "
            "ORDER BY release_id DESC LIMIT 1",
            [year, kind, sha256, year, kind],
        )

    def rejections(self, release_id: int) -> list[Problem]:
        rows = self.con.execute(
            'SELECT file_name, "row", "column", "check", value, message FROM rejections '
            'WHERE release_id = ? ORDER BY "row" NULLS FIRST, "column"',
            [release_id],
        ).fetchall()
        return [Problem(*r) for r in rows]

    def load_release(
        self,
        *,
        year: int,
        kind: str,
        file_name: str,
        sha256: str,
        estimates: pd.DataFrame,
        codebook: Codebook,
        flow_run_id: str | None,
    ) -> tuple[int, ReleaseRow | None]:
        """Load a good file in one transaction: the release, its estimates, the
        supersession of the previous version, and the recomputed changes."""
        frame = estimates.loc[:, list(ESTIMATE_COLUMNS)].copy()
        with self.transaction():
            previous = self.current_release(year, kind)
            message = None if previous is None else f"supersedes release {previous.release_id} ({previous.file_name})"
            row = self.con.execute(
                "INSERT INTO releases (year, kind, file_name, sha256, rows, status, loaded_at, flow_run_id, message) "
                "VALUES (?, ?, ?, ?, ?, 'loaded', now(), ?, ?) RETURNING release_id",
                [year, kind, file_name, sha256, len(frame), flow_run_id, message],
            ).fetchone()
            assert row is not None
            release_id = int(row[0])
            failpoint("after_release_insert")
            if previous is not None:
                self.con.execute(
                    "UPDATE releases SET status = 'superseded', "
                    "message = concat_ws('; ', message, 'superseded by release ' || ?) WHERE release_id = ?",
                    [release_id, previous.release_id],
                )
            frame.insert(0, "release_id", release_id)
            self.con.register("_estimates", frame)
            self.con.execute("INSERT INTO estimates BY NAME SELECT * FROM _estimates")
            self.con.unregister("_estimates")
            failpoint("after_estimates_insert")
            self._refresh_changes(codebook)
            failpoint("before_commit")
        failpoint("after_commit")
        return release_id, previous

    def reject_release(
        self,
        *,
        year: int,
        kind: str,
        file_name: str,
        sha256: str,
        rows: int,
        problems: list[Problem],
        flow_run_id: str | None,
    ) -> int:
        """Record a rejected file and every problem, in one transaction. Current data stays."""
        summary = f"{len(problems)} problem(s); first: {problems[0].message}" if problems else "rejected"
        records = pd.DataFrame.from_records(
            [
                {
                    "file_name": p.file,
                    "row": p.row,
                    "column": p.column,
                    "check": p.check,
                    "value": p.value,
                    "message": p.message,
                }
                for p in problems
            ],
            columns=["file_name", "row", "column", "check", "value", "message"],
        )
        records["row"] = records["row"].astype("Int64")
        with self.transaction():
            row = self.con.execute(
                "INSERT INTO releases (year, kind, file_name, sha256, rows, status, loaded_at, flow_run_id, message) "
                "VALUES (?, ?, ?, ?, ?, 'rejected', now(), ?, ?) RETURNING release_id",
                [year, kind, file_name, sha256, rows, flow_run_id, summary],
            ).fetchone()
            assert row is not None
            release_id = int(row[0])
            records.insert(0, "release_id", release_id)
            self.con.register("_rejections", records)
            self.con.execute("INSERT INTO rejections BY NAME SELECT * FROM _rejections")
            self.con.unregister("_rejections")
        return release_id

    def _refresh_changes(self, codebook: Codebook) -> None:
        current = self.con.execute(
            "SELECT e.release_id, e.source_row, e.indicator, e.survey, e.segment, e.answer, e.year, e.value, e.n, "
            "e.qualifier FROM estimates e JOIN releases r ON r.release_id = e.release_id AND r.status = 'loaded'"
        ).df()
        known = current[current["indicator"].isin(list(codebook.indicators))]
        changes = compute_changes(known, codebook.all_breaks())
        changes["prev_year"] = changes["prev_year"].astype("Int64")
        self.con.execute("DELETE FROM changes")
        self.con.register("_changes", changes)
        self.con.execute("INSERT INTO changes BY NAME SELECT * FROM _changes")
        self.con.unregister("_changes")

    # --- reading -------------------------------------------------------------------
    def trend(self, indicator: str, segment: str | None = None) -> pd.DataFrame:
        return self.con.execute(
            "SELECT year, segment, answer, value, qualifier, value_status, n, ci_low, ci_high, prev_year, "
            "change_pp, change_p_value, comparable_with_prev, source FROM trend "
            "WHERE indicator = ? AND (? IS NULL OR segment = ?) ORDER BY segment, answer NULLS FIRST, year",
            [indicator, segment, segment],
        ).df()

    def has_indicator(self, indicator: str) -> bool:
        row = self.con.execute("SELECT count(*) FROM indicators WHERE indicator = ?", [indicator]).fetchone()
        return bool(row and row[0])

    # --- reading for the key-figures report (itip/report.py) ------------------------
    def report_trend(self) -> pd.DataFrame:
        """Every current figure with its change, for the report."""
        return self.con.execute(
            "SELECT indicator, survey, segment, answer, year, value, qualifier, value_status, n, ci_low, ci_high, "
            "prev_year, prev_value, change_pp, change_p_value, comparable_with_prev, source, release_id FROM trend "
            "ORDER BY indicator, segment, answer NULLS FIRST, year"
        ).df()

    def report_breaks(self) -> pd.DataFrame:
        """Comparability breaks: a break at year Y means not comparable across Y."""
        return self.con.execute("SELECT indicator, year, scope, reason FROM breaks ORDER BY indicator, year").df()

    def loaded_releases(self) -> pd.DataFrame:
        """The current release of each year: what the report was built from."""
        return self.con.execute(
            "SELECT release_id, year, kind, file_name, sha256, rows, loaded_at FROM releases "
            "WHERE status = ? ORDER BY year, kind",
            ["loaded"],
        ).df()


@contextmanager
def open_warehouse(path: Path, read_only: bool = False) -> Iterator[Warehouse]:
    """Open the warehouse file itself. Read-only for sessions and checks; writing
    in place is only for private copies (see `write_snapshot`)."""
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


def snapshot_path(path: Path) -> Path:
    """The private working copy an ingest writes before swapping it in."""
    return path.with_name(path.name + ".next")


def remove_snapshot(path: Path) -> None:
    """Delete a working copy left by a killed ingest (call only while holding the ingest lock)."""
    work = snapshot_path(path)
    for leftover in (work, work.with_name(work.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def write_snapshot(path: Path) -> Iterator[Warehouse]:
    """Change the warehouse without ever touching the file others have open.

    The block writes a private copy (`<file>.next`); when it succeeds the copy is
    checkpointed, flushed to disk and renamed over the warehouse in one atomic
    step. Sessions that had the old file open keep reading it unchanged; the
    next session opens the new one. A crash at any point leaves the warehouse as
    it was before the block or as it is after it, never in between; the next
    ingest removes the orphaned copy. Callers must hold the ingest lock.
    """
    work = snapshot_path(path)
    remove_snapshot(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        shutil.copyfile(path, work)
    failpoint("after_copy")
    con = _open(work, read_only=False)
    try:
        warehouse = Warehouse(con, work)
        warehouse.ensure_schema()
        yield warehouse
        con.execute("CHECKPOINT")
        failpoint("after_checkpoint")
    except BaseException:
        con.close()
        remove_snapshot(path)
        raise
    con.close()
    _fsync(work)
    failpoint("before_swap")
    os.replace(work, path)
    _fsync(path.parent)
    failpoint("after_swap")


def run_query(path: Path, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
    """Run an analyst's SQL on a read-only connection that cannot reach files or settings."""
    with open_warehouse(path, read_only=True) as wh:
        try:
            cursor = wh.con.execute(sql)
        except duckdb.Error as exc:
            raise ItipError(f"query failed: {str(exc).splitlines()[0]}") from None
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()
