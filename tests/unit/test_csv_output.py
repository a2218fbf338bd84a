"""`itip sql --csv` and `itip trend --csv`: any result reads back as the same table, with
nothing a spreadsheet would run and nothing a terminal would act on."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from itip.render import table_csv

_TEXT = st.text(alphabet=st.sampled_from(list('ab1.,"=+-@ \t\r\n\x1b\u202e\x85é\xa0')), max_size=6)
#: The characters of `_TEXT` a CSV cell shows as an escape (the alphabet has no backslash, so
#: reading the escapes back is unambiguous).
_SHOWN = {"\x1b": "\\x1b", "\u202e": "\\u202e", "\x85": "\\x85", "\r": "\\r"}
_VALUE = st.one_of(st.none(), st.integers(-5, 5), st.floats(-2, 2, allow_nan=False), _TEXT)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            st.lists(_TEXT, min_size=n, max_size=n), st.lists(st.lists(_VALUE, min_size=n, max_size=n), max_size=3)
        )
    )
)
def test_every_result_reads_back_cell_for_cell(table: tuple[list[str], list[list[object]]]) -> None:
    columns, rows = table
    read = list(csv.reader(io.StringIO(table_csv(columns, rows), newline="")))
    assert len(read) == 1 + len(rows)  # one line per row, even for a single empty cell
    for written, back in zip([columns, *rows], read, strict=True):
        assert len(back) == len(written)
        for value, cell in zip(written, back, strict=True):
            text = "" if value is None else str(value)
            if cell.startswith("'") and not text.startswith("'"):
                # a formula is neutralised by a leading apostrophe; numbers such as -1.5 are left alone
                assert text[:1] in "=+-@\t\r"
                cell = cell[1:]
            assert not any(c in cell for c in _SHOWN)  # shown as escapes instead
            for char, escape in _SHOWN.items():
                cell = cell.replace(escape, char)
            assert cell == text


def test_a_formula_is_neutralised_and_a_negative_number_is_not() -> None:
    assert table_csv(["v"], [["=HYPERLINK(1)"], ["-1.5"], [-2], ["a,b"], [None]]) == (
        'v\n\'=HYPERLINK(1)\n-1.5\n-2\n"a,b"\n""\n'
    )
