"""Query results as text for the terminal or as CSV.

CSV output escapes cells that a spreadsheet would run as a formula (a leading
=, +, -, @), since published wordings come from outside.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable


def _cell(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}" if abs(value) < 1 else f"{value:.1f}".removesuffix(".0")
    return str(value)


def table_text(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An aligned table, as wide as its content: URLs are not cut off."""
    cells = [[_cell(v) for v in row] for row in rows]
    table = RichTable(*columns, show_edge=False, header_style="bold", pad_edge=False)
    for row in cells:
        table.add_row(*row)
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
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
        ci = "" if pd.isna(rec["ci_low"]) else f"{rec['ci_low']:.1f}-{rec['ci_high']:.1f}"
        if ci and rec.get("interval_basis") == "edition_n":
            ci = "≈" + ci  # approximate: on the edition's respondents, not the figure's n
        comparable = "" if pd.isna(rec["comparable_with_prev"]) else ("yes" if rec["comparable_with_prev"] else "NO")
        if comparable == "NO" and isinstance(rec.get("break_reason"), str):
            comparable += f" ({rec['break_reason']})"

        p = "" if pd.isna(rec["change_p_value"]) else f"{rec['change_p_value']:.3f}"
        q = "" if pd.isna(rec.get("change_q_value")) else f"{rec['change_q_value']:.3f}"
        flag = rec.get("change_significant")
        significant = "" if flag is None or pd.isna(flag) else ("YES" if flag else "no")
        change = "" if pd.isna(rec["change_pp"]) else f"{rec['change_pp']:+.1f}".replace(".0", "")
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
