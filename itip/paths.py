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


def default_raw() -> Path:
    """The release folder: `ITIP_RAW` if set, else raw/ (the environment's settings, read
    now: for a caller not handed the run's settings, such as a flow called directly)."""
    from itip.settings import Settings

    return Settings.from_env().raw
