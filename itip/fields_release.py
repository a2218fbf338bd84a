"""The columns of a release file of published figures, described once: what a user writes,
before it is a warehouse row (those are itip.fields). The Pandera model `StagedFigure` takes
its descriptions from here, and `make fields` writes the README's table of the release file
from it (itip/fields_render.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileColumn:
    #: Whether a file must have the column, as the README says it.
    required: str
    #: What the column holds and how it is read; the Pandera model `StagedFigure` and the
    #: README's table of the release file both take it from here.
    meaning: str


#: The columns of a release file of published figures, in the README's order. Their accepted
#: header names (English and Norwegian spellings) are `itip.staging.HEADERS`.
RELEASE_FILE: dict[str, FileColumn] = {
    "year": FileColumn(
        "no",
        "Survey edition; must equal the year in the file name. The file name's year must lie between the "
        "survey's first edition (codebook `first_year`, 2008) and next year (`ITIP_YEAR_RANGE=FIRST-LAST` "
        "widens it for synthetic files).",
    ),
    "survey": FileColumn("yes", "The survey: `organisations`/`virksomheter` or `citizens`/`innbyggere`."),
    "segment": FileColumn(
        "no (`all`)",
        "Respondent group: `all`/`alle`, `municipalities`/`kommuner`, `state`/`statlige`, `age_16_24`, "
        "`age_67_plus`; empty means all.",
    ),
    "indicator": FileColumn("one of the two", "A codebook indicator id."),
    "question": FileColumn("one of the two", "The published wording, matched against the codebook's aliases."),
    "answer": FileColumn("no", "Answer option of a published distribution (`high`/`some`/`low`)."),
    "value": FileColumn(
        "yes",
        "Percent 0-100: `47`, `47 %`, `36,4`, `36.4`, or an SSB symbol (stored as NULL with its status, never as 0).",
    ),
    "qualifier": FileColumn("no", "`below`/`i underkant av`, `above`/`over`, `approx`/`ca.`"),
    "n": FileColumn(
        "no",
        "Respondents, a whole number of at least 10 (`1 000` allowed): a share of fewer is not a statistic "
        "(47 % of n = 1 is refused).",
    ),
    "source": FileColumn("yes", "URL or citation of the publication."),
    "note": FileColumn("no", "Free text, stored with the figure."),
    "inferred": FileColumn(
        "no", "`yes`/`ja`: edition year, segment or wording inferred from context (`trend.inferred`)."
    ),
    "preferred": FileColumn(
        "no",
        "`yes`/`ja` on the figure `trend` shows where the file gives one figure from several sources.",
    ),
}


def release_column(column: str) -> str:
    """What a release file's column means (the Pandera description of `StagedFigure`)."""
    return RELEASE_FILE[column].meaning
