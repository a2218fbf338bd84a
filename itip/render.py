"""Query results as text for the terminal or as CSV.

CSV output escapes cells that a spreadsheet would run as a formula (a leading
=, +, -, @), since published wordings come from outside.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table as RichTable


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}".removesuffix(".0")
    return str(value)


def table_text(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    table = RichTable(*columns, show_edge=False, header_style="bold", pad_edge=False)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console = Console(width=max(100, sum(len(c) + 3 for c in columns)), record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip()


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table_csv(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_safe("" if v is None else str(v)) for v in row])
    return out.getvalue()
