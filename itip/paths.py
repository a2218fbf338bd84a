"""Where things are: the one configuration module for paths and limits."""

from __future__ import annotations

import os
from pathlib import Path

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
MAX_RELEASE_BYTES = int(os.environ.get("ITIP_MAX_RELEASE_BYTES", 20 * 1024 * 1024))


def default_warehouse() -> Path:
    """The warehouse file: `ITIP_WAREHOUSE` if set, else warehouse/itip.duckdb."""
    env = os.environ.get("ITIP_WAREHOUSE")
    return Path(env) if env else DEFAULT_WAREHOUSE


def default_raw() -> Path:
    """The release folder: `ITIP_RAW` if set, else raw/."""
    env = os.environ.get("ITIP_RAW")
    return Path(env) if env else RAW_DIR
