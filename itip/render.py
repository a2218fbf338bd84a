"""Query results as text for the terminal or as CSV.

CSV output escapes cells and headers that a spreadsheet would run as a formula
(a leading =, +, -, @), since published wordings come from outside. Both
outputs show control characters (escape sequences, C1 codes, carriage returns)
and bidirectional overrides as visible escapes such as `\\x1b`: text from a
release file or a query must never move the cursor, clear the screen, set the
window title or reorder what the terminal shows. Cells are rich `Text`, never
markup, so `[/]` or `[see table 3]` in a source shows as written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from itip.missing import is_missing
from itip.terminal import escape as _escape
from itip.terminal import visible

if TYPE_CHECKING:
    import pandas as pd

#: As `itip.terminal.UNSAFE`, but a CSV keeps its cells' tabs (a tab is data there, not a command).
_UNSAFE_CSV = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _cell(value: object) -> str:
    if is_missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}".removesuffix(".0")
    return str(value)


def table_text(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An aligned table, as wide as its content: URLs are not cut off. Headers and cells
    are plain `Text` (no markup) with unsafe characters escaped (see `visible`)."""
    heads = [visible(str(c)) for c in columns]
    cells = [[visible(_cell(v)) for v in row] for row in rows]
    table = RichTable(show_edge=False, header_style="bold", pad_edge=False)
    for head in heads:
        table.add_column(Text(head))
    for row in cells:
        table.add_row(*(Text(c) for c in row))
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(heads)]
    console = Console(width=sum(widths) + 3 * len(widths) + 1, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().rstrip()


#: How a value with a qualifier or an SSB status is shown in a table.
_QUALIFIER_MARK = {"below": "<", "above": ">", "approx": "~"}
_STATUS_MARK = {"suppressed": ":", "missing": "..", "not_applicable": "."}


def trend_table(frame: pd.DataFrame) -> tuple[list[str], list[list[object]]]:
    """The `trend` rows of one indicator as a compact terminal table.

    `p` is the raw p-value; `significant` is the only verdict, from the
    Benjamini-Hochberg q-value of the year and survey (q < 0.05)."""
    columns = ["year", "segment", "answer", "value", "n", "ci_95", "prev", "change_pp", "p", "q", "significant"]
    columns += ["comparable", "source"]
    rows: list[list[object]] = []
    for rec in frame.to_dict("records"):
        if rec["value_status"] in _STATUS_MARK:
            value = f"{_STATUS_MARK[rec['value_status']]} ({rec['value_status']})"
        else:
            value = _QUALIFIER_MARK.get(str(rec["qualifier"]), "") + _cell(rec["value"])
        ci = "" if is_missing(rec["ci_low"]) else f"{rec['ci_low']:.1f}-{rec['ci_high']:.1f}"
        if ci and rec.get("interval_basis") == "edition_n":
            ci = "≈" + ci  # approximate: on the edition's respondents, not the figure's n
        comparable = "" if is_missing(rec["comparable_with_prev"]) else ("yes" if rec["comparable_with_prev"] else "NO")
        if comparable == "NO" and isinstance(rec.get("break_reason"), str):
            comparable += f" ({rec['break_reason']})"

        p = "" if is_missing(rec["change_p_value"]) else f"{rec['change_p_value']:.3f}"
        q = "" if is_missing(rec.get("change_q_value")) else f"{rec['change_q_value']:.3f}"
        flag = rec.get("change_significant")
        significant = "" if is_missing(flag) else ("YES" if flag else "no")
        change = "" if is_missing(rec["change_pp"]) else f"{rec['change_pp']:+.1f}".replace(".0", "")
        rows.append(
            [
                rec["year"],
                rec["segment"],
                rec["answer"],
                value,
                rec["n"],
                ci,
                rec["prev_year"],
                change,
                p,
                q,
                significant,
                comparable,
                rec["source"],
            ]
        )
    return columns, rows


def _safe(text: str) -> str:
    return "'" + text if text[:1] in _FORMULA and not _is_number(text) else text


#: A cell's first characters that make a spreadsheet run it as a formula.
_FORMULA = frozenset("=+-@\t\r")


def _csv_cell(value: object) -> str:
    """A CSV cell or header: formula guard, then control characters made visible (tabs and
    line breaks stay), then quoted if it holds a comma, a quote or a line break, as the `csv`
    module's minimal quoting does.

    Most cells need none of it, and `str.isprintable` (false for every character
    `_UNSAFE_CSV` matches, and for tab and line break) finds those in one C scan: written
    cell by cell through `csv.writer`, a 1.6 GB result took three times as long."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if text[:1] in _FORMULA or not text.isprintable() or "," in text or '"' in text:
        text = _UNSAFE_CSV.sub(_escape, _safe(text))
        if "," in text or '"' in text or "\n" in text:
            text = '"' + text.replace('"', '""') + '"'
    return text


def _csv_line(row: Sequence[object]) -> str:
    if len(row) == 1 and row[0] in (None, ""):
        return '""\n'  # as `csv` writes it: a bare empty line would read as no row at all
    return ",".join([_csv_cell(v) for v in row]) + "\n"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table_csv(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    write_csv(out, columns, [rows])
    return out.getvalue()


def write_csv(out: TextIO, columns: Sequence[str], batches: Iterable[Sequence[Sequence[object]]]) -> int:
    """Write the header, then each batch of rows as it comes (a huge result is never held
    whole); the number of rows written."""
    out.write(_csv_line([str(c) for c in columns]))
    count = 0
    for rows in batches:
        out.write("".join([_csv_line(row) for row in rows]))
        count += len(rows)
    return count
