"""What itip prints of data reaches a terminal as text, never as a command to it.

Kept apart from `itip.render` (tables, CSV: pandas and rich) because every command's
error handler needs it, and a command that prints only its help or one line should
not pay for pandas to do so.
"""

from __future__ import annotations

import re

#: Characters a terminal acts on instead of showing: C0 controls (ESC starts every ANSI/OSC
#: sequence; CR and backspace overwrite what is shown) except the line break, DEL, the C1
#: controls (U+0080-U+009F; U+009B is a one-character CSI), Unicode line and paragraph
#: separators, and the bidirectional marks, embeddings, overrides and isolates that reorder
#: text on screen ("Trojan source").
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def escape(match: re.Match[str]) -> str:
    """One unsafe character as its Python escape (`\\x1b`, `\\u202e`)."""
    return match.group().encode("unicode_escape").decode("ascii")


def visible(text: str) -> str:
    """`text` with every character a terminal would act on shown as an escape (`\\x1b`,
    `\\u202e`); line breaks stay. For every line itip prints that may hold data."""
    return UNSAFE.sub(escape, text)
