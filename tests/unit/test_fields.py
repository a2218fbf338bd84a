"""The column dictionary (itip/fields.py, itip/tables.py) is the one place a column is described: a fresh
warehouse carries exactly its types and comments, the SQL files and the README's table are
what it generates, and the Pandera models take their descriptions from it. Editing a
description anywhere but in the dictionary fails here."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandera.pandas as pa
import pytest

from itip import fields_render
from itip.fields import FIELDS
from itip.fields_render import render_readme, render_sql
from itip.tables import TABLES, describe, field_of
from schemas.models import Edition, Estimate, RespondentEstimate, _EstimateColumns
from tests.conftest import REPO

SQL_FILES = sorted((REPO / "warehouse" / "sql").glob("*.sql"))


def _fresh_catalog(sql_files: list[Path]) -> duckdb.DuckDBPyConnection:
    """A warehouse schema built from the SQL files as `ensure_schema` runs them, in memory."""
    con = duckdb.connect()
    for path in sql_files:
        con.execute(path.read_text(encoding="utf-8"))
    return con


def mismatches(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every difference between the warehouse's catalog and the dictionary, one line each."""
    found: list[str] = []
    objects = dict(
        con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main' "
            "UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
        ).fetchall()
    )
    if set(objects) != set(TABLES):
        found.append(f"tables and views {sorted(objects)} != dictionary {sorted(TABLES)}")
    for name in sorted(set(objects) & set(TABLES)):
        if objects[name] != TABLES[name].description:
            found.append(f"{name}: comment {objects[name]!r} != dictionary {TABLES[name].description!r}")
        rows = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [name],
        ).fetchall()
        if tuple(r[0] for r in rows) != TABLES[name].columns:
            found.append(f"{name}: columns {[r[0] for r in rows]} != dictionary {list(TABLES[name].columns)}")
        for column, data_type, comment in rows:
            if column not in TABLES[name].columns:
                continue
            expected = field_of(name, column)
            if data_type != expected.type:
                found.append(f"{name}.{column}: type {data_type} != dictionary {expected.type}")
            if comment != expected.description:
                found.append(f"{name}.{column}: comment {comment!r} != dictionary {expected.description!r}")
    return found


def test_a_fresh_warehouse_carries_exactly_the_dictionarys_columns_types_and_comments() -> None:
    with _fresh_catalog(SQL_FILES) as con:
        assert mismatches(con) == []


def test_the_sql_files_are_what_the_dictionary_generates() -> None:
    stale = [p.name for p in SQL_FILES if render_sql(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]
    assert stale == [], "out of date with itip/fields.py; run `make fields`"


def test_the_readmes_table_of_tables_and_views_is_what_the_dictionary_generates() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert render_readme(text) == text, "README.md is out of date with itip/fields.py; run `make fields`"
    section = text.split("\n## The warehouse\n", 1)[1].split("\n## ", 1)[0]
    for name, spec in TABLES.items():
        if not spec.internal:
            assert f"`{name}` | {spec.grain} |" in section


def test_a_comment_edited_in_the_sql_only_is_caught(tmp_path: Path) -> None:
    """The check is not vacuous: a comment changed in a SQL file (and so in the warehouse)
    differs from the dictionary, in the file check and in the catalog check."""
    edited = []
    for path in SQL_FILES:
        text = path.read_text(encoding="utf-8")
        if path.name == "90_trend.sql":
            text = text.replace(
                "COMMENT ON COLUMN trend.change_pp IS 'Change since prev_year in percentage points.';",
                "COMMENT ON COLUMN trend.change_pp IS 'Change in points.';",
            )
            assert "'Change in points.'" in text
        copy = tmp_path / path.name
        copy.write_text(text, encoding="utf-8")
        edited.append(copy)
    trend = tmp_path / "90_trend.sql"
    assert render_sql(trend.read_text(encoding="utf-8")) != trend.read_text(encoding="utf-8")
    with _fresh_catalog(edited) as con:
        assert mismatches(con) == [
            "trend.change_pp: comment 'Change in points.' != dictionary 'Change since prev_year in percentage points.'"
        ]


def test_a_description_edited_in_the_dictionary_only_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other way round: the dictionary changed without regenerating the SQL."""
    monkeypatch.setitem(FIELDS, "segment", dataclasses.replace(FIELDS["segment"], description="Group."))
    with _fresh_catalog(SQL_FILES) as con:
        wrong = mismatches(con)
    # every table and view that has the shared column, and no override, says so
    assert {line.split(":")[0] for line in wrong} == {
        f"{t}.segment" for t in ("estimates", "current_estimates", "conflicts", "change_pairs", "trend", "latest")
    }
    assert fields_render.outdated()  # and `make fields` would rewrite the SQL files


def test_a_view_column_means_what_it_means_where_it_comes_from_unless_overridden() -> None:
    # latest -> trend -> current_estimates -> estimates -> FIELDS
    assert describe("latest", "segment") == FIELDS["segment"].description
    assert describe("latest", "ci_low") == describe("trend", "ci_low") != describe("estimates", "ci_low")
    assert describe("current_editions", "respondents") == describe("editions", "respondents")
    # an override that truly means something else, with its own type
    assert field_of("rejections", "value").type == "VARCHAR" != field_of("estimates", "value").type
    with pytest.raises(KeyError, match=r"trend\.nonsense is not in itip/fields\.py"):
        describe("trend", "nonsense")


@pytest.mark.parametrize(
    ("model", "table"),
    [(Estimate, "estimates"), (RespondentEstimate, "estimates"), (Edition, "editions")],
)
def test_the_pandera_models_take_their_descriptions_from_the_dictionary(
    model: type[pa.DataFrameModel], table: str
) -> None:
    schema = model.to_schema()
    for name, column in schema.columns.items():
        assert column.description == describe(table, name), f"{model.__name__}.{name}"
        assert name in TABLES[table].columns


def test_published_and_respondent_estimates_declare_their_shared_columns_once() -> None:
    """`Estimate` and `RespondentEstimate` inherit the columns of the estimates table they
    share; each declares only its own columns and the checks where it differs."""
    shared = set(_EstimateColumns.to_schema().columns)
    assert len(shared) == 13
    assert shared <= set(Estimate.to_schema().columns) & set(RespondentEstimate.to_schema().columns)
    redeclared = set(Estimate.__annotations__) & set(RespondentEstimate.__annotations__)
    # both tighten value_status to their own statuses; nothing else is written twice
    assert redeclared == {"value_status"}
    # the respondent checks stay: a share outside 0-100 and an interval outside it are refused
    assert RespondentEstimate.to_schema().columns["ci_low"].checks
    assert not Estimate.to_schema().columns["ci_low"].checks


def test_the_release_file_columns_are_described_once() -> None:
    """The release file's columns: the reader accepts exactly the dictionary's columns, the
    Pandera model `StagedFigure` takes each description from it, and the README's table is
    written from it with every header name the reader accepts."""
    from itip.fields_release import RELEASE_FILE
    from itip.fields_render import release_file_table
    from itip.staging import HEADERS
    from schemas.models import StagedFigure

    assert list(HEADERS) == list(RELEASE_FILE)
    schema = StagedFigure.to_schema()
    for column, spec in RELEASE_FILE.items():
        assert schema.columns[column].description == spec.meaning, column
    assert set(schema.columns) - set(RELEASE_FILE) == {"source_row", "value_status"}  # not columns of the file
    table = release_file_table()
    assert "| year | år, aar, årgang | no |" in table
    assert table in fields_render.README.read_text(encoding="utf-8")


def test_a_release_file_meaning_edited_in_the_readme_only_is_caught() -> None:
    text = fields_render.README.read_text(encoding="utf-8")
    edited = text.replace("| Free text, stored with the figure. |", "| Anything. |")
    assert edited != text and render_readme(edited) == text
