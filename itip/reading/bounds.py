"""How reading a release file fails and how far it may go: a problem instead of a
traceback, and a budget of rows and cells past which the file is refused."""

from __future__ import annotations

from dataclasses import dataclass

from itip.problems import FileProblems, Problem
from itip.settings import Settings


@dataclass(frozen=True)
class Limits:
    """The configured limits a file is read under (from the run's settings; ITIP_MAX_* variables)."""

    rows: int
    cells: int
    xlsx_uncompressed_bytes: int
    xlsx_compression_ratio: int
    #: The variable that sets `xlsx_uncompressed_bytes`, and what the workbook should be, for messages.
    xlsx_size_setting: str = "ITIP_MAX_XLSX_UNCOMPRESSED_BYTES"
    xlsx_kind: str = "a published-figure workbook"

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits of a published-figure file under these settings."""
        return cls(
            settings.max_release_rows,
            settings.max_release_cells,
            settings.max_xlsx_uncompressed_bytes,
            settings.max_xlsx_compression_ratio,
        )


def fail(file: str, check: str, message: str, row: int | None = None) -> FileProblems:
    return FileProblems([Problem(file, row, None, check, None, message)])


class Budget:
    """Rows and cells read so far; reading stops with a `size` problem past the limits."""

    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.rows = 0
        self.cells = 0

    def add(self, row: int, cells: int) -> None:
        self.rows += 1
        self.cells += cells
        if self.rows > self.limits.rows:
            message = f"has more than {self.limits.rows:,} rows, over the limit (ITIP_MAX_RELEASE_ROWS)"
            raise fail(self.file, "size", message, row)
        if self.cells > self.limits.cells:
            message = f"has more than {self.limits.cells:,} cells, over the limit (ITIP_MAX_RELEASE_CELLS)"
            raise fail(self.file, "size", message, row)
