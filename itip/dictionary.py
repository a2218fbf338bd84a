"""The data dictionary: offline HTML pages generated from the warehouse's own comments.

Modelled on dbt docs: a page per table and view with its columns, their types and
what each means, and which views are built from which tables. Everything comes
from DuckDB's catalog (`duckdb_tables`, `duckdb_views`, `duckdb_columns`) of the
warehouse itself, so the pages say what this file holds, not what the code
meant it to hold. The lineage is read from each view's SQL as DuckDB parsed it
(`json_serialize_sql`), not by matching names in text. Jinja2 escapes
everything that comes from the warehouse.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from itip.db import open_warehouse
from itip.export import column_listing, contract_objects
from itip.templating import environment

INDEX = "index.html"
#: Folder of the dictionary beside the report's index.html.
DICTIONARY_DIR = "dictionary"

#: `CREATE VIEW name AS <query>` as duckdb_views().sql gives it: the query is what is parsed.
_VIEW_PREFIX = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?VIEW\s+.+?\s+AS\s+", re.I | re.S)

WORDS = {
    "en": {
        "title": "itip warehouse: data dictionary",
        "intro": "Every table and view of the warehouse with its columns and what each means, "
        "generated from the warehouse's own comments.",
        "tables": "Tables",
        "views": "Views",
        "table": "table",
        "view": "view",
        "column": "Column",
        "type": "Type",
        "meaning": "Meaning",
        "built_from": "Built from",
        "used_by": "Used by",
        "nothing": "none",
        "back": "All tables and views",
        "report": "Key-figures report",
        "sql": "Definition (SQL)",
        "built": "Generated from",
        "link": "Data dictionary: every table and view of the warehouse, its columns and what they mean",
        "download": "Download the figures (CSV for Excel)",
    },
    "no": {
        "title": "itip-lageret: dataordbok",
        "intro": "Alle tabeller og visninger i lageret med kolonnene og hva hver betyr, "
        "laget fra lagerets egne kommentarer (på engelsk).",
        "tables": "Tabeller",
        "views": "Visninger",
        "table": "tabell",
        "view": "visning",
        "column": "Kolonne",
        "type": "Type",
        "meaning": "Betydning",
        "built_from": "Bygget fra",
        "used_by": "Brukes av",
        "nothing": "ingen",
        "back": "Alle tabeller og visninger",
        "report": "Nøkkeltallsrapporten",
        "sql": "Definisjon (SQL)",
        "built": "Laget fra",
        "link": "Dataordbok: alle tabeller og visninger i lageret, kolonnene og hva de betyr",
        "download": "Last ned tallene (CSV for Excel)",
    },
}


@dataclass
class Column:
    name: str
    data_type: str
    comment: str


@dataclass
class ObjectDoc:
    name: str
    kind: str
    comment: str
    columns: list[Column] = field(default_factory=list)
    built_from: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)
    sql: str = ""

    @property
    def page(self) -> str:
        return f"{self.name}.html"


def _table_refs(tree: Any) -> set[str]:
    """Names of every base table or view a parsed query reads (CTE names included; filtered later)."""
    found: set[str] = set()
    if isinstance(tree, dict):
        if tree.get("type") == "BASE_TABLE" and isinstance(tree.get("table_name"), str):
            found.add(tree["table_name"])
        for value in tree.values():
            found |= _table_refs(value)
    elif isinstance(tree, list):
        for value in tree:
            found |= _table_refs(value)
    return found


def view_sources(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    """What a view's query reads, from DuckDB's own parse of it."""
    query = _VIEW_PREFIX.sub("", sql, count=1).rstrip().rstrip(";")
    row = con.execute("SELECT json_serialize_sql(?)", [query]).fetchone()
    parsed = json.loads(row[0]) if row else {}
    if parsed.get("error"):
        raise ValueError(f"cannot parse view SQL: {parsed.get('error_message')}")
    return _table_refs(parsed.get("statements", []))


def read_dictionary(con: duckdb.DuckDBPyConnection) -> list[ObjectDoc]:
    """Every contract table and view with its columns and lineage, from the catalog."""
    docs = {o.name: ObjectDoc(o.name, o.kind, o.comment) for o in contract_objects(con)}
    for rec in column_listing(con).itertuples():
        if rec.object in docs:
            docs[str(rec.object)].columns.append(Column(str(rec.column_name), str(rec.data_type), str(rec.comment)))
    views = con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE schema_name = 'main' "
        "AND database_name = current_database() AND NOT internal"
    ).fetchall()
    for name, sql in views:
        doc = docs.get(str(name))
        if doc is None:
            continue
        doc.sql = str(sql)
        doc.built_from = sorted(s for s in view_sources(con, str(sql)) if s in docs and s != doc.name)
    for doc in docs.values():
        for source in doc.built_from:
            docs[source].used_by.append(doc.name)
    return sorted(docs.values(), key=lambda d: (d.kind, d.name))


def write_dictionary(warehouse: Path, out_dir: Path, lang: str = "no", report_link: str | None = None) -> list[Path]:
    """Write index.html and one page per table and view into `out_dir`; the pages written.

    `report_link` (relative to out_dir) links back to the key-figures report."""
    with open_warehouse(warehouse, read_only=True) as wh:
        docs = read_dictionary(wh.con)
    env = environment()
    words = WORDS.get(lang, WORDS["en"])
    common = {
        "words": words,
        "lang": "nb" if lang == "no" else "en",
        "report_link": report_link,
        "source": warehouse.name,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pages = [(INDEX, env.get_template("dictionary_index.html.j2").render(docs=docs, **common))]
    for doc in docs:
        pages.append((doc.page, env.get_template("dictionary_object.html.j2").render(doc=doc, **common)))
    for name, text in pages:
        target = out_dir / name
        tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        written.append(target)
    wanted = {name for name, _ in pages}
    for stale in out_dir.glob("*.html"):
        if stale.name not in wanted:
            stale.unlink()
    return written
