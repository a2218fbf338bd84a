"""The hostile corpus's years and the codebook it is checked with.

Every case has its own year (1901 on; see tests/hostile/cases.py), so the whole corpus can
sit in one raw/ folder beside the bundled files. Files of years before the survey's first
edition (codebook `first_year`, 2008) are refused as `year_range` before they are read
(issue 14), which would hide what each case is about. The corpus is therefore checked with
the bundled codebook changed in that one key: every other rule is the product's own.
"""

from __future__ import annotations

import functools
from pathlib import Path

from itip.codebook import Codebook, parse_codebook
from itip.paths import CODEBOOK

#: First year of the corpus codebook: below every year the corpus uses.
CORPUS_FIRST_YEAR = 1900


def corpus_codebook_text() -> str:
    text = CODEBOOK.read_text(encoding="utf-8")
    bundled = "\nfirst_year: 2008\n"
    assert bundled in text, "the bundled codebook declares first_year: 2008"
    return text.replace(bundled, f"\nfirst_year: {CORPUS_FIRST_YEAR}\n")


@functools.cache
def corpus_codebook() -> Codebook:
    return parse_codebook(corpus_codebook_text(), CODEBOOK)


def write_corpus_codebook(folder: Path) -> Path:
    """The corpus codebook as a file, for a flow run (parameter codebook_path)."""
    path = folder / "codebook.yaml"
    path.write_text(corpus_codebook_text(), encoding="utf-8")
    return path
