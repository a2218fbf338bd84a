"""The data dictionary `itip report` writes beside the report, from the warehouse's own comments."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from itip.dictionary import write_dictionary
from tests.conftest import Bundled
from tests.integration.test_report import CHROMIUM, chromium, parse


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, bundled_run: Bundled) -> Path:
    """The bundled files through the ingest flow, which writes the report and the dictionary
    (the session's one ingest of them, tests/conftest.py, copied for this module)."""
    return bundled_run.copy_to(tmp_path_factory.mktemp("dict"))


def _catalog(warehouse: Path) -> dict[str, dict[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND NOT internal AND table_name NOT IN ('meta', 'file_stats', 'change_pairs')"
        ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, comment in rows:
        out.setdefault(table, {})[column] = comment
    return out


def _rows(page: Path) -> dict[str, str]:
    """column name -> the text of its meaning cell, as a browser would show it."""
    parsed = parse(page.read_text(encoding="utf-8"))
    rows = [e for e in parsed.elements if e.tag == "tr" and "data-column" in e.attrs]
    cells = [e for e in parsed.elements if e.tag == "td"]
    meanings = cells[1::2]
    return {r.attrs["data-column"]: m.text for r, m in zip(rows, meanings, strict=True)}


def test_every_table_and_view_has_a_page_listing_every_column_with_its_comment(built: Path) -> None:
    folder = built.parent / "report" / "dictionary"
    catalog = _catalog(built)
    assert {"trend", "latest", "estimates", "rejections", "releases", "indicators"} <= set(catalog)
    for table, columns in catalog.items():
        shown = _rows(folder / f"{table}.html")
        assert shown == columns, table
        assert all(shown.values()), f"{table}: a column without a comment"
    index = (folder / "index.html").read_text(encoding="utf-8")
    for table in catalog:
        assert f'href="{table}.html"' in index


def test_the_dictionary_says_which_views_are_built_from_which_tables(built: Path) -> None:
    folder = built.parent / "report" / "dictionary"

    def links(page: str, cls: str) -> list[str]:
        parsed = parse((folder / page).read_text(encoding="utf-8"))
        block = next(e for e in parsed.elements if e.tag == "p" and cls in e.classes)
        return [name.strip() for name in block.text.split(",")]

    assert links("trend.html", "built-from") == [
        "approximate_intervals",
        "changes",
        "current_editions",
        "current_estimates",
        "indicators",
    ]
    assert links("approximate_intervals.html", "built-from") == ["current_editions", "current_estimates"]
    assert links("current_estimates.html", "built-from") == ["estimates", "releases"]
    assert links("latest.html", "built-from") == ["trend"]
    assert links("estimates.html", "used-by") == ["conflicts", "current_estimates"]
    assert links("estimates.html", "built-from") == ["ingen"]  # the report is Norwegian by default


def test_the_report_links_to_the_dictionary_and_its_figures(built: Path) -> None:
    page = (built.parent / "report" / "index.html").read_text(encoding="utf-8")
    assert '<a href="dictionary/index.html">' in page
    assert '<a href="data/trend.csv" download>trend.csv</a>' in page
    download = pd.read_csv(built.parent / "report" / "data" / "trend.csv", sep=";", decimal=",", encoding="utf-8-sig")
    with duckdb.connect(str(built), read_only=True) as con:
        expected = con.execute("SELECT sum(value), count(*) FROM trend").fetchone()
    assert expected is not None
    assert (download["value"].sum(), len(download)) == (pytest.approx(expected[0]), expected[1])
    assert 'href="../index.html"' in (built.parent / "report" / "dictionary" / "trend.html").read_text("utf-8")


def test_comments_are_escaped(tmp_path: Path) -> None:
    warehouse = tmp_path / "odd.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("COMMENT ON TABLE t IS '<script>alert(1)</script>'")
        con.execute("COMMENT ON COLUMN t.a IS 'a < b & \"c\"'")
        con.execute("CREATE VIEW v AS SELECT a FROM t")
    written = write_dictionary(warehouse, tmp_path / "out", lang="en")
    page = (tmp_path / "out" / "t.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _rows(tmp_path / "out" / "t.html") == {"a": 'a < b & "c"'}
    assert {p.name for p in written} == {"index.html", "t.html", "v.html"}


@pytest.mark.slow
def test_dictionary_in_headless_chromium(built: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed ({CHROMIUM} missing; `make browser` installs Debian's chromium)")
    page = built.parent / "report" / "dictionary" / "trend.html"
    dumped = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = tmp_path / "dom.html"
    dom.write_text(dumped.stdout, encoding="utf-8")
    shown = _rows(dom)
    assert shown == _catalog(built)["trend"]
    assert shown["change_pp"] == "Change since prev_year in percentage points."
