"""Where things are: the fixed locations of the project (never from the environment).

Everything a run may be configured with (ITIP_* variables: the warehouse, the release
folder, limits, the Prefect server's state) is in :mod:`itip.settings`, built once where
a command or flow starts. Nothing here reads the environment when it is imported.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = PROJECT_ROOT / "raw"
WAREHOUSE_DIR = PROJECT_ROOT / "warehouse"
SQL_DIR = WAREHOUSE_DIR / "sql"
CODEBOOK = PROJECT_ROOT / "schemas" / "codebook.yaml"
DEFAULT_WAREHOUSE = WAREHOUSE_DIR / "itip.duckdb"
#: Default state folder of the local Prefect server that `itip serve` starts (git-ignored).
DEFAULT_PREFECT_STATE = PROJECT_ROOT / ".prefect"


def default_warehouse() -> Path:
    """The warehouse file: `ITIP_WAREHOUSE` if set, else warehouse/itip.duckdb (the
    environment's settings, read now: for a caller not handed the run's settings)."""
    from itip.settings import Settings

    return Path(Settings.from_env().warehouse)


def default_raw() -> Path:
    """The release folder: `ITIP_RAW` if set, else raw/ (the environment's settings, read
    now: for a caller not handed the run's settings, such as a flow called directly)."""
    from itip.settings import Settings

    return Settings.from_env().raw


#: Transitional: names this module had as import-time globals, still imported by
#: itip/respondents.py and flows/ingest.py until their conversion to a `Settings` argument
#: (issue 10, the respondents restructuring) is merged; delete this and `__getattr__` then.
#: Resolved from the environment when asked for, never when this module is imported.
_MOVED_TO_SETTINGS = {
    "MAX_RELEASE_BYTES": "max_release_bytes",
    "MAX_RELEASE_ROWS": "max_release_rows",
    "MAX_RELEASE_CELLS": "max_release_cells",
    "MAX_XLSX_UNCOMPRESSED_BYTES": "max_xlsx_uncompressed_bytes",
    "MAX_XLSX_COMPRESSION_RATIO": "max_xlsx_compression_ratio",
    "MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES": "max_respondent_xlsx_uncompressed_bytes",
}


def __getattr__(name: str) -> int:
    if name in _MOVED_TO_SETTINGS:
        from itip.settings import Settings

        value = getattr(Settings.from_env(), _MOVED_TO_SETTINGS[name])
        assert isinstance(value, int)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
