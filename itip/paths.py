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
#: Rows (title, blank and header rows included) and cells read from one release
#: file before it is refused. They bound memory and time for what a few MB can
#: hold (a million tiny cells, or thousands of duplicate rows that each name the
#: others); a real edition has a few hundred figures.
MAX_RELEASE_ROWS = int(os.environ.get("ITIP_MAX_RELEASE_ROWS", 10_000))
MAX_RELEASE_CELLS = int(os.environ.get("ITIP_MAX_RELEASE_CELLS", 200_000))
#: An .xlsx is a zip archive: it is refused unopened when its parts unpack to more
#: than this in total, or when a part over 1 MB unpacks to more than this many
#: times its packed size (zip bombs). A published-figure workbook unpacks to well
#: under 1 MB and XML packs about 5-20 fold.
MAX_XLSX_UNCOMPRESSED_BYTES = int(os.environ.get("ITIP_MAX_XLSX_UNCOMPRESSED_BYTES", 20 * 1024 * 1024))
MAX_XLSX_COMPRESSION_RATIO = int(os.environ.get("ITIP_MAX_XLSX_COMPRESSION_RATIO", 100))


def default_warehouse() -> Path:
    """The warehouse file: `ITIP_WAREHOUSE` if set, else warehouse/itip.duckdb."""
    env = os.environ.get("ITIP_WAREHOUSE")
    return Path(env) if env else DEFAULT_WAREHOUSE


def default_raw() -> Path:
    """The release folder: `ITIP_RAW` if set, else raw/."""
    env = os.environ.get("ITIP_RAW")
    return Path(env) if env else RAW_DIR
