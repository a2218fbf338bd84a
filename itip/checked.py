"""What checking one release file gives, whatever its kind: the one contract of the check step.

Why one type: `itip check` and the ingest flow both call :func:`itip.check.check`, and
the load step takes any kind's result the same way (estimates or editions rows to store,
or problems to record as the rejection), so the two callers agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from itip.problems import Problem


@dataclass
class Checked:
    """A release file after every check: its rows to load when good, problems when not."""

    file: str
    #: The edition year from the file name; None for the editions file (every edition).
    year: int | None
    #: What the load step stores: estimates (published figures, respondent aggregates) or,
    #: for the editions file, its rows. Empty when there are problems.
    estimates: pd.DataFrame
    problems: list[Problem]
    warnings: list[str] = field(default_factory=list)
    #: Rows read from the file: table rows, respondents, or editions.
    rows: int = 0
    #: What the release row says about the file beyond its rows (no column names, no values).
    note: str | None = None
    #: "published", "respondents" or "editions" (itip.release, itip.editions).
    kind: str = "published"

    @property
    def ok(self) -> bool:
        return not self.problems

    def ok_line(self) -> str:
        """What `itip check` prints for a good file (unchanged per kind since before the merge)."""
        if self.kind == "respondents":
            return f"{self.file}: ok, {self.rows} respondents, {len(self.estimates)} estimates"
        if self.kind == "editions":
            return f"{self.file}: ok, {len(self.estimates)} editions"
        return f"{self.file}: ok, {len(self.estimates)} rows"
