"""Progress of an ingest, for people watching a terminal or reading a log.

The flow reports events on the standard logger `itip.progress`; whoever runs it
decides how to show them. `itip ingest` shows a progress bar on a terminal and
plain lines otherwise (cron mail, CI logs, Prefect workers), so a long run is
never silent and a log never fills with bar redraws.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

events = logging.getLogger("itip.progress")


def run_started(total: int) -> None:
    events.info("%d release file(s) to look at", total, extra={"itip_total": total})


def stage(file: str, what: str) -> None:
    events.debug("%s: %s", file, what, extra={"itip_file": file, "itip_stage": what})


def file_done(line: str, problems: list[str]) -> None:
    events.info(line, extra={"itip_done": line, "itip_problems": problems})


class Reporter(logging.Handler):
    """Shows `itip.progress` events: a transient bar on a terminal, lines elsewhere.

    Finished files are printed as they finish in both cases, so the output of a
    run is the same text whether or not anyone watched it."""

    def __init__(self, stream: TextIO | None = None, force_terminal: bool | None = None):
        super().__init__(level=logging.DEBUG)
        self.stream = stream or sys.stdout
        self.terminal = self.stream.isatty() if force_terminal is None else force_terminal
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Reporter:
        events.addHandler(self)
        events.setLevel(logging.DEBUG)
        events.propagate = False
        if self.terminal:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting Prefect", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        events.removeHandler(self)
        events.propagate = True

    def _print(self, text: str) -> None:
        from itip.terminal import visible

        text = visible(text)  # problems quote the file's cells: no escape sequence reaches the terminal
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.stream, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        total = getattr(record, "itip_total", None)
        done = getattr(record, "itip_done", None)
        if total is not None and self._progress is not None:
            self._progress.update(self._task, total=total, description="release files")
        elif getattr(record, "itip_stage", None) and self._progress is not None:
            self._progress.update(self._task, description=record.getMessage())
        elif done is not None:
            self._print(done)
            for problem in getattr(record, "itip_problems", []):
                self._print(f"    {problem}")
            if self._progress is not None:
                self._progress.advance(self._task)
