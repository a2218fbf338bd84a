"""Problems found in a release file, and the errors users are meant to see.

A problem is data, not an exception: validation collects every problem of a
file so the user fixes them all in one round, and the warehouse records them in
`rejections` with the same fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a release file.

    `row` is the row number as a spreadsheet or text editor shows it (1-based,
    counting title and header rows); None for problems of the whole file.
    """

    file: str
    row: int | None
    column: str | None
    check: str
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}{self._cell()}"

    def _cell(self) -> str:
        """The offending cell as written, when the message does not already quote it: the
        user should see what the file says without opening it."""
        if self.value is None or not self.value.strip() or self.value in self.message:
            return ""
        shown = self.value if len(self.value) <= 80 else self.value[:77] + "..."
        return f" (cell: {shown!r})"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ItipError(Exception):
    """An expected failure caused by input or configuration, shown without traceback."""

    #: The exit code of a command that ends with this error (README, *Commands*).
    exit_code = 1


class ConfigError(ItipError):
    """A setting (an ITIP_* variable, an option's value) that cannot be used: a usage error."""

    exit_code = 2


class FileProblems(ItipError):
    """A file that cannot be read at all; carries its problems for the report."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def interrupted(exc: BaseException) -> bool:
    """Whether `exc` is Ctrl-C in disguise. DuckDB's Python client stops a running query on
    SIGINT and raises ``RuntimeError("Query interrupted")`` (``duckdb.InterruptException``
    from some calls), not KeyboardInterrupt: a broad ``except Exception`` took it for a
    damaged file, recorded a respondent file as rejected, or went on with the next file.
    Prefect's pydantic models report one that lands while they serialise as a
    PydanticSerializationError naming it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the exception and what it was raised from
        seen.add(id(current))
        if isinstance(current, KeyboardInterrupt) or type(current).__name__ == "InterruptException":
            return True
        if isinstance(current, RuntimeError) and str(current).startswith("Query interrupted"):
            return True
        # pydantic-core (Prefect's models) reports an interrupt inside a serializer as text only
        if type(current).__name__ == "PydanticSerializationError" and "KeyboardInterrupt" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def reraise_interrupt(exc: BaseException) -> None:
    """Raise KeyboardInterrupt when `exc` is an interrupt (see `interrupted`), so Ctrl-C ends
    the command as Ctrl-C (exit 130) wherever DuckDB happened to be running."""
    if interrupted(exc):
        raise KeyboardInterrupt from exc
