"""Where things are: the one configuration module for paths and limits."""

from __future__ import annotations

import os
from pathlib import Path

#: Every numeric ITIP_* variable: its type and smallest allowed value. `check_environment`
#: refuses a value outside them before any command runs (exit 2, naming the variable); the
#: constants below read them without ever failing, since this module is imported before a
#: command can answer with a one-line message.
NUMBER_SETTINGS: dict[str, tuple[type[int] | type[float], float]] = {
    "ITIP_MAX_RELEASE_BYTES": (int, 1),
    "ITIP_MAX_RELEASE_ROWS": (int, 1),
    "ITIP_MAX_RELEASE_CELLS": (int, 1),
    "ITIP_MAX_XLSX_UNCOMPRESSED_BYTES": (int, 1),
    "ITIP_MAX_XLSX_COMPRESSION_RATIO": (int, 1),
    "ITIP_MAX_RESPONDENT_BYTES": (int, 1),
    "ITIP_MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES": (int, 1),
    "ITIP_PROBLEM_ROWS_LISTED": (int, 0),
    "ITIP_LOCK_WAIT_SECONDS": (float, 0),
    "ITIP_LAKE_RETRIES": (int, 0),
}
#: Values ITIP_PREFECT_SERVER may have (unset or empty: the background server).
PREFECT_SERVER_MODES = ("", "temporary")


def _setting_problem(name: str, text: str) -> str | None:
    kind, least = NUMBER_SETTINGS[name]
    what = "a whole number" if kind is int else "a number"
    try:
        value = kind(text.strip())
    except ValueError:
        return f"{name}={text!r} is not {what} (at least {least:g})"
    if not value >= least:  # also refuses nan
        return f"{name}={text!r} is below the smallest allowed value {least:g}"
    return None


def env_number(name: str, default: int) -> int:
    """An int setting from the environment; the default when unset or unusable (refused
    by `check_environment` before a command runs)."""
    text = os.environ.get(name)
    if text is None or _setting_problem(name, text):
        return default
    return int(text.strip())


def check_environment() -> None:
    """Refuse ITIP_* variables that cannot be used, with one line naming the variable."""
    from itip.problems import ConfigError

    for name in NUMBER_SETTINGS:
        text = os.environ.get(name)
        if text is not None and (problem := _setting_problem(name, text)):
            raise ConfigError(problem)
    mode = os.environ.get("ITIP_PREFECT_SERVER", "")
    if mode not in PREFECT_SERVER_MODES:
        raise ConfigError(f"ITIP_PREFECT_SERVER={mode!r}: use 'temporary', or leave it unset for the background server")
    state = os.environ.get("ITIP_PREFECT_STATE")
    if state and Path(state).exists() and not Path(state).is_dir():
        raise ConfigError(f"ITIP_PREFECT_STATE={state!r} is not a folder")
    failpoint = os.environ.get("ITIP_FAILPOINT")
    if failpoint:
        from itip.failpoints import POINTS

        point, _, nth = failpoint.partition(":")
        if point not in POINTS or (nth and not nth.isdigit()):
            raise ConfigError(f"ITIP_FAILPOINT={failpoint!r}: expected one of {', '.join(POINTS)}, optionally :N")


PROJECT_ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = PROJECT_ROOT / "raw"
WAREHOUSE_DIR = PROJECT_ROOT / "warehouse"
SQL_DIR = WAREHOUSE_DIR / "sql"
CODEBOOK = PROJECT_ROOT / "schemas" / "codebook.yaml"
DEFAULT_WAREHOUSE = WAREHOUSE_DIR / "itip.duckdb"
#: State of the local Prefect server that `itip serve` starts (git-ignored).
PREFECT_STATE = Path(os.environ.get("ITIP_PREFECT_STATE", PROJECT_ROOT / ".prefect"))

#: Release files larger than this are rejected unread (published-figure files
#: are a few kB; anything this large is a mistake or an attack).
MAX_RELEASE_BYTES = env_number("ITIP_MAX_RELEASE_BYTES", 20 * 1024 * 1024)
#: Rows (title, blank and header rows included) and cells read from one release
#: file before it is refused. They bound memory and time for what a few MB can
#: hold (a million tiny cells, or thousands of duplicate rows that each name the
#: others); a real edition has a few hundred figures.
MAX_RELEASE_ROWS = env_number("ITIP_MAX_RELEASE_ROWS", 10_000)
MAX_RELEASE_CELLS = env_number("ITIP_MAX_RELEASE_CELLS", 200_000)
#: An .xlsx is a zip archive: it is refused unopened when its parts unpack to more
#: than this in total, or when a part over 1 MB unpacks to more than this many
#: times its packed size (zip bombs). A published-figure workbook unpacks to well
#: under 1 MB and XML packs about 5-20 fold.
MAX_XLSX_UNCOMPRESSED_BYTES = env_number("ITIP_MAX_XLSX_UNCOMPRESSED_BYTES", 20 * 1024 * 1024)
MAX_XLSX_COMPRESSION_RATIO = env_number("ITIP_MAX_XLSX_COMPRESSION_RATIO", 100)
#: A respondent-level .xlsx gets the same inspection before it is unpacked (the same ratio
#: limit), with room for a real survey: 20,000 respondents by 40 columns unpack to about
#: 30 MB of XML (and take pandas a minute to read); 512 MB would take it most of an hour.
MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES = env_number("ITIP_MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES", 512 * 1024 * 1024)


def default_warehouse() -> Path:
    """The warehouse file: `ITIP_WAREHOUSE` if set, else warehouse/itip.duckdb."""
    env = os.environ.get("ITIP_WAREHOUSE")
    return Path(env) if env else DEFAULT_WAREHOUSE


def default_raw() -> Path:
    """The release folder: `ITIP_RAW` if set, else raw/."""
    env = os.environ.get("ITIP_RAW")
    return Path(env) if env else RAW_DIR
