"""Every ``ITIP_*`` setting in one typed object, resolved once where a command or flow starts.

Why: limits and paths used to be module globals read from the environment at import time,
so a test had to monkeypatch modules or start a subprocess to change one, and a bad value
could only be noticed after the import. Now the entry point (the CLI callback, the flow)
calls :meth:`Settings.from_env` once, which refuses an unusable value in one line naming
the variable (``ConfigError``, exit 2), and passes the object down. Library functions take
``settings: Settings = DEFAULTS`` so a test states the limit it needs:
``check(path, codebook, Settings(max_release_bytes=100))``.

Locations that never come from the environment (the project root, the SQL folder, the
bundled codebook) stay in :mod:`itip.paths`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from itip import paths
from itip.problems import ConfigError

#: The scheduled ingest's default: daily at 06:00 Oslo time, the one place it is written.
#: `itip serve` takes it as its --cron/--timezone defaults; prefect.yaml (the worker
#: deployment, read by `prefect deploy`, which cannot import it) repeats it and
#: tests/unit/test_settings.py fails when the two differ.
DEFAULT_CRON = "0 6 * * *"
DEFAULT_TIMEZONE = "Europe/Oslo"

#: Values ITIP_PREFECT_SERVER may have (empty: the background server).
PREFECT_SERVER_MODES = ("", "temporary")


@dataclass(frozen=True)
class Number:
    """How one numeric setting is read: its environment variable, type and least value."""

    env: str
    kind: type[int] | type[float]
    least: float


@dataclass(frozen=True)
class Settings:
    """What a run may be configured with. Field defaults are the documented defaults; the
    environment variable of each field is in ``NUMBERS`` / ``TEXTS`` below."""

    # --- where things are ---------------------------------------------------------------
    #: The warehouse: a DuckDB file, or a ``ducklake:`` catalog string (ITIP_WAREHOUSE).
    warehouse: str = str(paths.DEFAULT_WAREHOUSE)
    #: The data path of a DuckLake warehouse (ITIP_LAKE_DATA); None: beside the catalog.
    lake_data: str | None = None
    #: The release folder (ITIP_RAW).
    raw: Path = paths.RAW_DIR
    #: State of the background Prefect server (ITIP_PREFECT_STATE).
    prefect_state: Path = paths.DEFAULT_PREFECT_STATE
    #: "" for the shared background server, "temporary" for one per run (ITIP_PREFECT_SERVER).
    prefect_server: str = ""
    #: Where private copies of files being read go (ITIP_READ_TMPDIR); None: the system's.
    read_tmpdir: str | None = None
    #: (first, last) year a release may have (ITIP_YEAR_RANGE, ``FIRST-LAST``); None: the
    #: codebook's first_year to next year.
    year_range: tuple[int, int] | None = None

    # --- limits ---------------------------------------------------------------------------
    #: Release files larger than this are refused unread: published-figure files are a
    #: few kB; anything this large is a mistake or an attack.
    max_release_bytes: int = 20 * 1024 * 1024
    #: Rows (title, blank and header rows included) and cells read from one release file
    #: before it is refused; they bound memory and time for what a few MB can hold.
    max_release_rows: int = 10_000
    max_release_cells: int = 200_000
    #: An .xlsx is refused unopened when its parts unpack to more than this in total, or a
    #: part over 1 MB unpacks to more than this many times its packed size (zip bombs).
    max_xlsx_uncompressed_bytes: int = 20 * 1024 * 1024
    max_xlsx_compression_ratio: int = 100
    #: Respondent-level files larger than this are refused unread.
    max_respondent_bytes: int = 4 * 1024**3
    #: A respondent .xlsx gets the zip inspection with room for a real survey: 20,000
    #: respondents by 40 columns unpack to about 30 MB of XML.
    max_respondent_xlsx_uncompressed_bytes: int = 512 * 1024 * 1024
    #: Rows named per problem in a respondent file before "and N more".
    problem_rows_listed: int = 50
    #: Seconds an ingest waits for another ingest's lock before giving up.
    lock_wait_seconds: float = 60.0
    #: Times a lake commit is retried after a conflict with another writer.
    lake_retries: int = 20
    #: git's racy-timestamp rule: a file modified this close to the last stat is re-hashed.
    stat_cache_racy_seconds: float = 2.0

    # --- the rest -------------------------------------------------------------------------
    #: A folder of report charts shared by every report built here (ITIP_CHART_CACHE), keyed
    #: by the content of their series; None: each report reuses only its own charts.
    chart_cache: Path | None = None
    #: The migrated Prefect database a new background server's state starts from
    #: (ITIP_PREFECT_DB_TEMPLATE); None: $XDG_CACHE_HOME/itip/prefect-<version>.db (itip.server).
    prefect_db_template: Path | None = None
    #: History file of ``itip shell`` (ITIP_HISTORY); None: $XDG_STATE_HOME/itip/history.
    history: Path | None = field(default=None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment asks for; ``ConfigError`` naming the first variable
        that cannot be used."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, spec in NUMBERS.items():
            text = env.get(spec.env)
            if text is not None and text.strip() != "":
                values[name] = _number(spec, text)
        for name, var in TEXTS.items():
            text = env.get(var)
            if text:
                values[name] = text
        if "raw" in values:
            values["raw"] = Path(str(values["raw"]))
        if "prefect_state" in values:
            state = Path(str(values["prefect_state"]))
            if state.exists() and not state.is_dir():
                raise ConfigError(f"ITIP_PREFECT_STATE={str(state)!r} is not a folder")
            values["prefect_state"] = state
        for name in ("history", "chart_cache", "prefect_db_template"):
            if name in values:
                values[name] = Path(str(values[name]))
        mode = env.get("ITIP_PREFECT_SERVER", "")
        if mode not in PREFECT_SERVER_MODES:
            raise ConfigError(
                f"ITIP_PREFECT_SERVER={mode!r}: use 'temporary', or leave it unset for the background server"
            )
        values["prefect_server"] = mode
        if span := env.get("ITIP_YEAR_RANGE", "").strip():
            values["year_range"] = _year_range(span)
        return cls(**values)  # type: ignore[arg-type]

    def replace(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and benchmarks state only what they need)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


#: Numeric fields and how each is read.
NUMBERS: dict[str, Number] = {
    "max_release_bytes": Number("ITIP_MAX_RELEASE_BYTES", int, 1),
    "max_release_rows": Number("ITIP_MAX_RELEASE_ROWS", int, 1),
    "max_release_cells": Number("ITIP_MAX_RELEASE_CELLS", int, 1),
    "max_xlsx_uncompressed_bytes": Number("ITIP_MAX_XLSX_UNCOMPRESSED_BYTES", int, 1),
    "max_xlsx_compression_ratio": Number("ITIP_MAX_XLSX_COMPRESSION_RATIO", int, 1),
    "max_respondent_bytes": Number("ITIP_MAX_RESPONDENT_BYTES", int, 1),
    "max_respondent_xlsx_uncompressed_bytes": Number("ITIP_MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES", int, 1),
    "problem_rows_listed": Number("ITIP_PROBLEM_ROWS_LISTED", int, 0),
    "lock_wait_seconds": Number("ITIP_LOCK_WAIT_SECONDS", float, 0),
    "lake_retries": Number("ITIP_LAKE_RETRIES", int, 0),
    "stat_cache_racy_seconds": Number("ITIP_STAT_CACHE_RACY_SECONDS", float, 0),
}
#: Text fields and their variables.
TEXTS: dict[str, str] = {
    "warehouse": "ITIP_WAREHOUSE",
    "lake_data": "ITIP_LAKE_DATA",
    "raw": "ITIP_RAW",
    "prefect_state": "ITIP_PREFECT_STATE",
    "read_tmpdir": "ITIP_READ_TMPDIR",
    "history": "ITIP_HISTORY",
    "chart_cache": "ITIP_CHART_CACHE",
    "prefect_db_template": "ITIP_PREFECT_DB_TEMPLATE",
}


def _number(spec: Number, text: str) -> int | float:
    what = "a whole number" if spec.kind is int else "a number"
    try:
        value = spec.kind(text.strip())
    except ValueError:
        raise ConfigError(f"{spec.env}={text!r} is not {what} (at least {spec.least:g})") from None
    if not value >= spec.least:  # also refuses nan
        raise ConfigError(f"{spec.env}={text!r} is below the smallest allowed value {spec.least:g}")
    return value


def _year_range(span: str) -> tuple[int, int]:
    first, _, last = span.partition("-")
    if not (first.isdigit() and last.isdigit() and len(first) == len(last) == 4 and first <= last):
        raise ConfigError(f"ITIP_YEAR_RANGE must be two four-digit years FIRST-LAST (e.g. 2008-2027), not {span!r}")
    return int(first), int(last)


#: The documented defaults, for library calls made without an entry point (tests, notebooks).
DEFAULTS = Settings()
