"""All access to the DuckDB warehouse.

Every statement is either a `.sql` file from warehouse/sql or a constant string
here with bound parameters; no SQL is built from input. Data frames are passed
to DuckDB by registering them, never by formatting values into SQL.

The warehouse only: respondent files are read in itip.respondents, and the warehouse
*file* (the private copy every write goes to, its atomic swap, the write-ahead log) is
itip.warehouse_file; the contract's reads and analysts' SQL are itip.db_read. Over 400
lines because the `Warehouse` class is the one place every write of the contract lives:
the schema and its migrations, the codebook sync, loading and rejecting releases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from itip.codebook import Codebook
from itip.failpoints import failpoint
from itip.paths import SQL_DIR
from itip.problems import ItipError, Problem

#: The storage format new warehouse files are written in, chosen explicitly so that every
#: DuckDB 1.x client (CLI, DBeaver, ODBC behind Excel and Power BI, older notebooks) opens
#: them: "v1.0.0" writes storage version 64, which DuckDB 1.0 through 1.5 read. Without
#: it a later DuckDB would write its own newest format and lock those clients out
#: (issue 13: a file written by DuckDB 2.0 has version 69). An existing file keeps the
#: version it was created with; tests/integration/test_reach.py opens the result with the newest
#: DuckDB 1.x wheel.
STORAGE_VERSION = "v1.0.0"

if TYPE_CHECKING:
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

#: Columns renamed in contract version 2 (docs/warehouse-changelog.md): old name, new name.
_REJECTION_RENAMES = (("row", "source_row"), ("column", "source_column"), ("check", "check_id"))

#: Estimate columns only some kinds of release have (respondent-level: n_effective;
#: published: the file's inferred and preferred marks).
OPTIONAL_ESTIMATE_COLUMNS = ("n_effective", "se", "design_effect", "df", "inferred", "preferred", "base")


#: meta key holding the disclosure rules (thresholds and segment nesting) the stored respondent-level
#: estimates were suppressed by; absent in warehouses written before disclosure control (contract 4).
DISCLOSURE_META = "disclosure_rules"


def disclosure_rules(codebook: Codebook) -> str:
    """A fingerprint of the codebook's disclosure rules: when it differs from the one stored, the
    stored estimates are suppressed again (a warehouse from before disclosure control has none)."""
    spec = codebook.respondents
    if spec is None:
        return "none"
    from itip.disclosure import relations

    rels = sorted((r.survey, r.parent, r.children) for r in relations(spec))
    text = repr((spec.min_cell_n, spec.min_cell_n_extreme, rels, ("min_effective_n", spec.min_effective_n)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ident(name: str) -> str:
    """A table or column name quoted for SQL, refused unless it is a plain identifier: the
    few statements that cannot bind a name (a table copied by name, a respondent file's
    declared columns) build it from this."""
    if not name.replace("_", "a").isalnum() or not name[:1].isalpha() or not name.isascii():
        raise ItipError(f"not a safe column name: {name!r}")
    return '"' + name + '"'


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


#: Which tables exist, in the database and schema the connection uses (a file, or the lake).
_HAS_META = (
    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta' "
    "AND database_name = current_database() AND schema_name = current_schema()"
)


def refresh_change_tests(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute table change_tests, the p- and q-values of view changes, from the comparable
    changes of the current estimates (the views change_pairs and changes). Run in the load
    transaction whenever the current releases or the codebook changed."""
    from itip.stats import change_tests  # statistics libraries load only when something changes

    pairs = con.execute(
        "SELECT p.* FROM change_pairs AS p JOIN changes AS c USING (release_id, source_row) "
        "WHERE c.comparable_with_prev AND c.change_pp IS NOT NULL"
    ).df()
    tests = change_tests(pairs)
    con.execute("DELETE FROM change_tests")
    con.register("_change_tests", tests)
    con.execute("INSERT INTO change_tests BY NAME SELECT * FROM _change_tests")
    con.unregister("_change_tests")


class Warehouse:
    """A connection to the warehouse with the operations the pipeline needs."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | Lake):
        self.con = con
        self.path = path
        #: True on a DuckLake catalog (see itip.lake): some DDL differs there.
        self.lake = not isinstance(path, Path)
        self._in_transaction = False
        #: Set when values were removed from the file (see `_suppress_stored`): freed blocks keep
        #: their old bytes, so `write_snapshot` copies the data into a new file.
        self.rewrite_needed = False

    # --- setup ---------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create or update tables and views when the SQL in warehouse/sql changed."""
        sha = _schema_sha()
        has_meta = self.con.execute(_HAS_META).fetchone()
        if has_meta and has_meta[0] and self.get_meta("schema_sha256") == sha:
            return
        with self.transaction():
            self._migrate()
            for path in schema_files():
                self._apply(path.read_text(encoding="utf-8"))
            self._set_meta("schema_sha256", sha)
            # The tests of change (change_tests) are recomputed by the next codebook sync.
            self.con.execute("DELETE FROM meta WHERE key = 'codebook_sha256'")
            self.mark_write()

    def _migrate(self) -> None:
        """Bring a warehouse of an older contract version to this one before the SQL files run
        (docs/warehouse-changelog.md). Names here are constants, never input."""
        # Version 6: changes became a view over change_pairs, breaks and change_tests.
        if self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'changes' "
            "AND database_name = current_database()"
        ).fetchone() != (0,):
            self.con.execute("DROP TABLE changes")
        columns = {
            str(r[0])
            for r in self.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'rejections'"
            ).fetchall()
        }
        for old, new in _REJECTION_RENAMES:
            if old in columns and new not in columns:
                self.con.execute(f'ALTER TABLE rejections RENAME COLUMN "{old}" TO {new}')

    def _apply(self, sql: str) -> None:
        """Run one schema file. DuckLake keeps comments on tables, views and table
        columns but not on view columns: on a lake those statements are skipped
        (the view's own comment and the underlying tables' columns are kept)."""
        if not self.lake:
            self.con.execute(sql)
            return
        for statement in self.con.extract_statements(sql):
            try:
                self.con.execute(statement)
            except duckdb.BinderException as exc:
                if "Cannot comment on columns" not in str(exc):
                    raise

    def is_current(self, codebook_sha: str) -> bool:
        """True when schema and codebook applied to this file are the ones in this checkout."""
        has_meta = self.con.execute(_HAS_META).fetchone()
        if not (has_meta and has_meta[0]):
            return False
        return (
            self.get_meta("schema_sha256") == _schema_sha()
            and self.get_meta("codebook_sha256") == codebook_sha
            and self.get_meta(DISCLOSURE_META) is not None  # written with the codebook since contract 4
        )

    def get_meta(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        # UPDATE, else INSERT: meta has no primary key to replace on (DuckLake has none).
        updated = self.con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, key]).fetchone()
        if not (updated and updated[0]):
            self.con.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])

    def mark_write(self) -> None:
        """Count this write in meta.writes. Every writing transaction updates that one row,
        so on a lake two concurrent writers always conflict and one retries (DuckLake lets
        plain appends to the same table both commit, which would duplicate a release)."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'writes'").fetchone()
        self._set_meta("writes", str(int(row[0]) + 1 if row else 1))

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
        """Replace indicators and breaks when the codebook changed; True if it did. Stored
        respondent-level estimates are suppressed again when the disclosure rules differ from
        the ones they were stored under (migration of warehouses from before disclosure control)."""
        rules = disclosure_rules(codebook)
        if self.get_meta("codebook_sha256") == codebook.sha256 and self.get_meta(DISCLOSURE_META) == rules:
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
            if codebook.respondents is not None:
                self._set_meta("min_cell_n", str(codebook.respondents.min_cell_n))
            if self.get_meta(DISCLOSURE_META) != rules:
                if codebook.respondents is not None:
                    self._suppress_stored(codebook)
                self._set_meta(DISCLOSURE_META, rules)
            self._declare_published_bases(codebook)
            refresh_change_tests(self.con)
            self._set_meta("codebook_sha256", codebook.sha256)
            self.mark_write()
        return True

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
            refresh_change_tests(self.con)
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

    def _suppress_stored(self, codebook: Codebook) -> int:
        """Apply disclosure control (itip.disclosure, the rules applied before storage) to every
        stored respondent-level estimate, current and superseded, and empty the hidden columns
        of the cells it suppresses. Warehouses written before disclosure control hold the true
        values of small cells; an owner who needs them re-runs from the raw file. Returns how
        many rows were emptied. Column names here are constants, never input."""
        from itip import disclosure

        spec = codebook.respondents
        assert spec is not None
        present = {
            str(r[0])
            for r in self.con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'estimates' "
                "AND database_name = current_database() AND schema_name = current_schema()"
            ).fetchall()
        }
        hidden = [c for c in disclosure.HIDDEN_COLUMNS if c in present]
        stored = self.con.execute(
            "SELECT e.* FROM estimates AS e INNER JOIN releases AS r ON r.release_id = e.release_id "
            "WHERE r.kind = 'respondents'"
        ).df()
        if stored.empty:
            return 0
        for column in disclosure.HIDDEN_COLUMNS:  # columns this warehouse never had
            if column not in stored.columns:
                stored[column] = np.nan
        rels = disclosure.relations(spec)
        empty: list[pd.DataFrame] = []
        for _, release in stored.groupby("release_id", sort=False):
            out = disclosure.suppress(release, rels, spec.min_cell_n, spec.min_cell_n_extreme, spec.min_effective_n)
            hide = (out["value_status"] == disclosure.SUPPRESSED) & (
                (release["value_status"] != disclosure.SUPPRESSED) | release[hidden].notna().any(axis=1)
            )
            empty.append(release.loc[hide, ["release_id", "source_row"]])
        rows = pd.concat(empty, ignore_index=True)
        if rows.empty:
            return 0
        assignments = ", ".join(f"{c} = NULL" for c in hidden)  # constants from itip.disclosure
        self.con.register("_hide", rows)
        self.con.execute(
            f"UPDATE estimates SET {assignments}, value_status = 'suppressed' FROM _hide AS h "
            "WHERE estimates.release_id = h.release_id AND estimates.source_row = h.source_row"
        )
        self.con.unregister("_hide")
        self.rewrite_needed = True
        return len(rows)

    def _declare_published_bases(self, codebook: Codebook) -> None:
        """Set estimates.base of published figures from the codebook's published_base: what is
        known about how a publication counted can change after it was loaded (respondent-level
        estimates keep the base they were computed with)."""
        stored = self.con.execute(
            "SELECT e.release_id, e.source_row, e.indicator, e.year, e.base FROM estimates AS e "
            "INNER JOIN releases AS r ON r.release_id = e.release_id WHERE r.kind = 'published'"
        ).df()
        if stored.empty:
            return
        declared = [
            codebook.published_base(str(i), int(y)) if isinstance(i, str) else None
            for i, y in zip(stored["indicator"], stored["year"], strict=True)
        ]
        stored["declared"] = pd.Series(declared, index=stored.index, dtype="object")
        old = stored["base"].where(stored["base"].notna(), None)
        changed = stored[[a != b for a, b in zip(old, stored["declared"], strict=True)]]
        if changed.empty:
            return
        self.con.register("_bases", changed[["release_id", "source_row", "declared"]])
        self.con.execute(
            "UPDATE estimates SET base = d.declared FROM _bases AS d "
            "WHERE estimates.release_id = d.release_id AND estimates.source_row = d.source_row"
        )
        self.con.unregister("_bases")


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
