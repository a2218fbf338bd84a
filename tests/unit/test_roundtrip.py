"""Property-based round trips: any valid release file, in any accepted format, loads
exactly the figures that were written.

Hypothesis draws a set of figures (indicators, answers, segments, values or SSB
symbols, qualifiers, n, sources and notes with separators, quotes and line
breaks in them) and one way of writing them: CSV in UTF-8, UTF-8 with BOM,
Windows-1252 or UTF-16 with `,`, `;` or tab, decimal point or comma, `%` or not,
Norwegian or English header names in any case and order, title rows; or an .xlsx
with title rows, numbers as numbers, percent-formatted cells or text. What
`check_release` returns must be those figures, cell for cell.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itip.codebook import Codebook, load_codebook
from itip.release import check_release
from itip.staging import HEADERS
from itip.validate import MIN_PUBLISHED_N  # published shares rest on at least 10 respondents

YEAR = 2020
SETTINGS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Text a publisher may write in a source or note: Norwegian letters, the en dash and
#: guillemets of Windows-1252, separators, quotes. No '=' (a spreadsheet formula).
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:/-()&_+'!?\"æøåÆØÅéü–«»%"
SYMBOLS = {":": "suppressed", "..": "missing", "...": "missing", ".": "not_applicable", "-": "nil"}
TITLES = [["IT i praksis 2020"], [], ["Kilde: Rambøll, IKT-Norge; Digdir"], ["Tabell 1 – nøkkeltall"]]


@functools.cache
def codebook() -> Codebook:
    return load_codebook()


def spellings(entries: dict[str, dict[str, Any]], key: str) -> list[str]:
    return [key, *(str(a) for a in entries[key].get("aliases") or [])]


@dataclass(frozen=True)
class Figure:
    """One published figure: what is written and what must load."""

    indicator: str
    survey: str
    survey_text: str
    segment: str
    segment_text: str
    answer: str | None
    alias: str | None
    value: float | None
    status: str
    symbol: str | None
    qualifier: str | None
    qualifier_text: str
    n: int | None
    source: str
    note: str | None

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        return (self.survey, self.segment, self.indicator, self.answer)


def cased(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.lower(), text.capitalize()])


def cell_text(multiline: bool = False) -> st.SearchStrategy[str]:
    text = st.text(ALPHABET + ("\n" if multiline else ""), min_size=1, max_size=30).map(str.strip)
    return text.filter(lambda t: t != "" and "\n\n" not in t)


@st.composite
def figures(draw: st.DrawFn) -> Figure:
    cb = codebook()
    ind = cb.indicators[draw(st.sampled_from(sorted(cb.indicators)))]
    answer = draw(st.sampled_from([a.id for a in ind.answers])) if ind.answers else None
    aliases = [text for _, text, a in ind.aliases if a == answer or (a is None and answer is None)]
    alias = draw(st.sampled_from(aliases)) if aliases else None
    segment = draw(st.sampled_from(["", *sorted(cb.segments)]))
    segment_text = draw(cased(draw(st.sampled_from(spellings(cb.segments, segment))))) if segment else ""
    symbol = draw(st.none() | st.sampled_from(sorted(SYMBOLS)))
    if symbol is None:
        # A distribution's shares must not add up to more than 100.
        cap = 100 // len(ind.answers) - 1 if ind.answers else 100
        value: float | None = draw(st.integers(0, cap * 10)) / 10
        status = "published"
    else:
        status = SYMBOLS[symbol]
        value = 0.0 if status == "nil" else None
    qualifier = draw(st.sampled_from([None, *sorted(cb.qualifiers)])) if status == "published" else None
    return Figure(
        indicator=ind.id,
        survey=ind.survey,
        survey_text=draw(cased(draw(st.sampled_from(spellings(cb.surveys, ind.survey))))),
        segment=segment or "all",
        segment_text=segment_text,
        answer=answer,
        alias=alias,
        value=value,
        status=status,
        symbol=symbol,
        qualifier=qualifier,
        qualifier_text=draw(st.sampled_from(spellings(cb.qualifiers, qualifier))) if qualifier else "",
        n=draw(st.none() | st.integers(MIN_PUBLISHED_N, 5_000_000)),
        source=draw(cell_text()),
        note=draw(st.none() | cell_text(multiline=True)),
    )


@dataclass(frozen=True)
class Layout:
    """How a file writes its figures."""

    names: str  # "indicator", "question" or "both"
    columns: tuple[str, ...]
    headers: dict[str, str]
    titles: tuple[tuple[str, ...], ...]
    decimal: str
    percent: str
    grouped_n: bool
    year_cells: bool


@st.composite
def layouts(draw: st.DrawFn, rows: list[Figure]) -> Layout:
    names = draw(st.sampled_from(["indicator", "question", "both"]))
    if any(f.alias is None for f in rows):
        names = "indicator"
    needed = {"survey", "value", "source"}
    needed |= {"indicator"} if names in ("indicator", "both") else set()
    needed |= {"question"} if names in ("question", "both") else set()
    needed |= {"answer"} if names == "indicator" and any(f.answer for f in rows) else set()
    needed |= {"segment"} if any(f.segment_text for f in rows) else set()
    needed |= {"qualifier"} if any(f.qualifier for f in rows) else set()
    needed |= {"n"} if any(f.n for f in rows) else set()
    needed |= {"note"} if any(f.note for f in rows) else set()
    optional = sorted(set(HEADERS) - needed - {"indicator", "question"})
    extra = draw(st.sets(st.sampled_from(optional)))
    columns = tuple(draw(st.permutations(sorted(needed | extra))))
    headers = {c: draw(cased(draw(st.sampled_from(HEADERS[c])))) for c in columns}
    titles = tuple(tuple(t) for t in draw(st.lists(st.sampled_from(TITLES), max_size=3)))
    if titles and not titles[0]:
        titles = (("IT i praksis",), *titles)
    return Layout(
        names=names,
        columns=columns,
        headers=headers,
        titles=titles,
        decimal=draw(st.sampled_from([".", ","])),
        percent=draw(st.sampled_from(["", "%", " %"])),
        grouped_n=draw(st.booleans()),
        year_cells=draw(st.booleans()),
    )


def unique(rows: list[Figure]) -> bool:
    return len({f.key for f in rows}) == len(rows)


releases = st.lists(figures(), min_size=1, max_size=8).filter(unique)


def value_text(f: Figure, layout: Layout) -> str:
    if f.symbol is not None:
        return f.symbol
    assert f.value is not None
    text = str(int(f.value)) if f.value.is_integer() else f"{f.value:.1f}"
    return text.replace(".", layout.decimal) + layout.percent


def n_text(n: int | None, grouped: bool) -> str:
    if n is None:
        return ""
    return f"{n:,}".replace(",", " ") if grouped else str(n)


def cells(f: Figure, layout: Layout) -> dict[str, str]:
    return {
        "year": str(YEAR) if layout.year_cells else "",
        "survey": f.survey_text,
        "segment": f.segment_text,
        "indicator": f.indicator if layout.names in ("indicator", "both") else "",
        "question": (f.alias or "") if layout.names in ("question", "both") else "",
        "answer": (f.answer or "") if layout.names == "indicator" else "",
        "value": value_text(f, layout),
        "qualifier": f.qualifier_text,
        "n": n_text(f.n, layout.grouped_n),
        "source": f.source,
        "note": f.note or "",
        "inferred": "",  # optional columns, empty: no
        "preferred": "",
    }


def expected(rows: list[Figure], layout: Layout, first_row: int, lines: bool = True) -> list[dict[str, Any]]:
    """What must load; with `lines`, a note's line breaks count as rows (CSV), else not (a spreadsheet row)."""
    out = []
    row = first_row
    for f in rows:
        out.append(
            {
                "source_row": row,
                "year": YEAR,
                "survey": f.survey,
                "segment": f.segment,
                "indicator": f.indicator,
                "answer": f.answer,
                "question": f.alias if layout.names in ("question", "both") else None,
                "value": f.value,
                "value_status": f.status,
                "qualifier": f.qualifier,
                "n": f.n,
                "source": f.source,
                "note": f.note,
            }
        )
        row += 1 + ((f.note or "").count("\n") if lines else 0)
    return out


def loaded(path: Path) -> list[dict[str, Any]]:
    result = check_release(path, codebook())
    assert result.problems == [], result.problems
    out = []
    columns = ["source_row", "year", "survey", "segment", "indicator", "answer", "question", "value"]
    columns += ["value_status", "qualifier", "n", "source", "note"]
    for rec in result.estimates.to_dict("records"):
        # A missing cell is None here, whichever NULL pandas chose (None, NaN or NA).
        out.append({k: None if pd.isna(rec[k]) else rec[k] for k in columns})
    return out


# --- CSV ---------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-be-bom"]


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be-bom":
        return ("\ufeff" + text).encode("utf-16-be")
    return text.encode(encoding)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]], str]:
    rows = draw(releases)
    layout = draw(layouts(rows))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    encoding = draw(st.sampled_from(ENCODINGS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator=newline)
    for title in layout.titles:
        writer.writerow(title)
    writer.writerow([layout.headers[c] for c in layout.columns])
    for f in rows:
        writer.writerow([cells(f, layout)[c] for c in layout.columns])
    return encode(out.getvalue(), encoding), expected(rows, layout, len(layout.titles) + 2), encoding


@SETTINGS
@given(csv_files())
def test_any_valid_csv_loads_what_was_written(case: tuple[bytes, list[dict[str, Any]], str]) -> None:
    data, want, _encoding = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"itip_{YEAR}.csv"
        path.write_bytes(data)
        assert same(loaded(path), want)


# --- XLSX --------------------------------------------------------------------------------


@st.composite
def xlsx_files(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]]]:
    rows = draw(releases)
    layout = draw(layouts(rows))
    sheet = draw(st.sampled_from(["tall", "data", "Ark1"]))
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    if sheet != "Ark1" and draw(st.booleans()):
        cover = wb.create_sheet("Forside", 0)
        cover.append(["IT i praksis", "se arket", sheet])
    for title in layout.titles:
        ws.append(list(title))
    ws.append([layout.headers[c] for c in layout.columns])
    for r, f in enumerate(rows, start=len(layout.titles) + 2):
        text = cells(f, layout)
        row: list[object] = []
        formats: dict[int, str] = {}
        for i, c in enumerate(layout.columns):
            cell: object = text[c] or None
            if c == "value" and f.status == "published" and f.value is not None:
                how = draw(st.sampled_from(["number", "percent-format", "text"]))
                if how == "number":
                    cell = int(f.value) if f.value.is_integer() else f.value
                elif how == "percent-format":
                    cell = f.value / 100
                    formats[i] = "0.0%"
            elif c == "n" and f.n is not None and draw(st.booleans()):
                cell = f.n
            elif c == "year" and text[c] and draw(st.booleans()):
                cell = YEAR
            row.append(cell)
        ws.append(row)
        for i, fmt in formats.items():
            ws.cell(row=r, column=i + 1).number_format = fmt
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), expected(rows, layout, len(layout.titles) + 2, lines=False)


@SETTINGS
@given(xlsx_files())
def test_any_valid_xlsx_loads_what_was_written(case: tuple[bytes, list[dict[str, Any]]]) -> None:
    data, want = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"itip_{YEAR}.xlsx"
        path.write_bytes(data)
        assert same(loaded(path), want)


def same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    """Equal row for row; NaN equals NaN."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for key in w:
            a, b = g[key], w[key]
            if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
                continue
            assert a == b, (key, a, b, g, w)
    return True
