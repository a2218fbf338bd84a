"""Attacks on privacy and disclosure control (issue 14, "Privacy"), added by helper `stats`.

Three classes, each case failing on the code before this module and passing after:

- KEY_CASES: a pseudonymisation key that makes the keyed hashes of respondent ids
  recomputable (empty, blank, short or repeated key, in a key file or in ITIP_ID_KEY), or a
  key file that crashed the run (a directory, a binary key). A bad key is refused with one
  line naming the file or variable; a good binary key is used.
- CODEBOOK_CASES: disclosure thresholds in the codebook that switched suppression off
  (0, -5) or crashed (text, fractions, booleans, empty). Each is refused when the codebook is
  read, with one line naming the field.
- CELL_CASES: cells where one respondent, or a few, carry almost all the weight, so the
  published share is their answer whatever n says. Each is suppressed (Kish effective n below
  the threshold: itip.disclosure.dominated), and secondary suppression still leaves no hidden
  cell derivable from shown ones.

All respondent data here is SYNTHETIC, made up by the functions below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class KeyCase:
    """A key given in a key file (bytes), as a directory, or in ITIP_ID_KEY."""

    id: str
    #: Bytes of the key file (ITIP_ID_KEY_FILE); None: no file written.
    key_file: bytes | None = None
    #: ITIP_ID_KEY, when the case sets it.
    env: str | None = None
    #: The key file path is a directory.
    directory: bool = False
    #: A good key the old code mishandled: the check must run and pass.
    accepted: bool = False
    #: A fragment of the one-line refusal.
    phrase: str = ""


KEY_CASES = [
    KeyCase("key-file-empty", key_file=b"", phrase="is empty"),
    KeyCase("key-file-whitespace", key_file=b"  \n\t \r\n", phrase="is empty"),
    KeyCase("key-file-short", key_file=b"hunter2\n", phrase="shorter than the 16"),
    KeyCase("key-file-repeated-byte", key_file=b"0" * 64 + b"\n", phrase="distinct bytes"),
    KeyCase("key-file-is-a-directory", directory=True, phrase="cannot read the pseudonymisation key file"),
    KeyCase("key-env-whitespace", env="    ", phrase="ITIP_ID_KEY is empty"),
    KeyCase("key-env-short", env="secret", phrase="ITIP_ID_KEY is 6 bytes"),
    # 32 random-looking bytes, not text: a fine key that crashed on reading it as ASCII
    KeyCase("key-file-binary", key_file=bytes((i * 89 + 7) % 256 for i in range(32)), accepted=True),
]


@dataclass(frozen=True)
class CodebookCase:
    """One line of schemas/codebook.yaml replaced; reading the codebook must fail naming `field`."""

    id: str
    old: str
    new: str
    field: str


_N = "  min_cell_n: 10\n"
_EXTREME = "  min_cell_n_extreme: 20\n"
CODEBOOK_CASES = [
    CodebookCase("min-cell-n-zero", _N, "  min_cell_n: 0\n", "respondents.min_cell_n"),
    CodebookCase("min-cell-n-negative", _N, "  min_cell_n: -5\n", "respondents.min_cell_n"),
    CodebookCase("min-cell-n-text", _N, "  min_cell_n: ten\n", "respondents.min_cell_n"),
    CodebookCase("min-cell-n-fraction", _N, "  min_cell_n: 9.5\n", "respondents.min_cell_n"),
    CodebookCase("min-cell-n-boolean", _N, "  min_cell_n: true\n", "respondents.min_cell_n"),
    CodebookCase("min-cell-n-empty", _N, "  min_cell_n:\n", "respondents.min_cell_n"),
    CodebookCase("min-cell-n-extreme-zero", _EXTREME, "  min_cell_n_extreme: 0\n", "respondents.min_cell_n_extreme"),
    CodebookCase(
        "min-cell-n-extreme-text", _EXTREME, "  min_cell_n_extreme: twenty\n", "respondents.min_cell_n_extreme"
    ),
    CodebookCase(
        "min-cell-n-effective-negative",
        _EXTREME,
        _EXTREME + "  min_cell_n_effective: -1\n",
        "respondents.min_cell_n_effective",
    ),
]


# --- cells carried by a few respondents ------------------------------------------------------
HEADER = (
    "respondent_id,survey,sector,size_class,kommunenummer,age_group,weight,q_tillit_opplysninger,q_gevinster_realisert"
)
#: (survey, sector or age code, size class, answer, weight) per respondent.
Person = tuple[str, int, int | None, int, float]


def _citizens(groups: dict[int, list[tuple[int, float]]]) -> list[Person]:
    return [("citizens", age, None, answer, weight) for age, people in groups.items() for answer, weight in people]


def _even(count: int, start: int = 0) -> list[tuple[int, float]]:
    """`count` answers spread over the scale, each of weight 1."""
    return [(1 + (start + i) % 5, 1.0) for i in range(count)]


def one_heavy_of_ten() -> list[Person]:
    """Ten people aged 45-66; one of them has weight 30, the others 1 (Kish n_eff 1.7). The
    cell's share (about 94 %) is that one person's answer: n = 10 passed the old rule."""
    return _citizens({1: _even(40), 2: _even(40, 1), 3: [(5, 30.0), *_even(9, 2)], 4: _even(40, 3)})


def two_heavy_of_thirty() -> list[Person]:
    """Thirty people aged 45-66; two carry weight 40 each, 28 weight 1 (n_eff 3.6): the two
    decide the share."""
    return _citizens({1: _even(40), 2: _even(40, 1), 3: [(4, 40.0), (4, 40.0), *_even(28, 2)], 4: _even(40, 3)})


def heavy_small_municipality() -> list[Person]:
    """Organisations: twelve small municipalities, one with weight 50 (n_eff 1.5); the
    size classes nest in `municipalities`, which nests in `all` with the state sector."""
    people: list[Person] = [("organisations", 1, None, 1 + i % 5, 1.0) for i in range(40)]
    people += [("organisations", 2, 1, 5, 50.0)] + [("organisations", 2, 1, 1 + i % 5, 1.0) for i in range(11)]
    people += [("organisations", 2, 2, 1 + i % 5, 1.0) for i in range(30)]
    people += [("organisations", 2, 3, 1 + i % 5, 1.0) for i in range(45)]
    return people


@dataclass(frozen=True)
class CellCase:
    id: str
    people: Callable[[], list[Person]]
    #: Survey and segments that must be hidden (the dominated cells themselves).
    survey: str
    hidden: frozenset[str] = field(default_factory=frozenset)


CELL_CASES = [
    CellCase("one-respondent-carries-a-ten-person-cell", one_heavy_of_ten, "citizens", frozenset({"age_45_66"})),
    CellCase("two-respondents-carry-a-thirty-person-cell", two_heavy_of_thirty, "citizens", frozenset({"age_45_66"})),
    CellCase(
        "one-municipality-carries-its-size-class",
        heavy_small_municipality,
        "organisations",
        frozenset({"municipality_small"}),
    ),
]


def respondent_csv(people: list[Person], year: int = 2024) -> str:
    """The SYNTHETIC respondent file of `people` in the codebook's columns."""
    rows = [HEADER]
    for i, (survey, code, size, answer, weight) in enumerate(people, start=1):
        if survey == "organisations":
            size_text = "" if size is None else str(size)
            rows.append(f"S{year}-{i:05d},organisations,{code},{size_text},,,{weight},,{answer}")
        else:
            rows.append(f"S{year}-{i:05d},citizens,,,,{code},{weight},{answer},")
    return "\n".join(rows) + "\n"
