"""Personvern: respondent ids are never stored in clear.

Wherever a respondent must be pointed at (a rejected file's duplicate or empty
id), the warehouse holds a keyed hash (HMAC-SHA256) of the id, never the id.
Without the key the hash cannot be reversed by trying likely ids; with it, the
data owner can find the respondent in their own file.

The key comes from `ITIP_ID_KEY` (any text), else from a key file: `ITIP_ID_KEY_FILE`,
else `itip-id.key` beside the warehouse. A missing key file is generated (32
random bytes, hex, mode 0600); `*.key` is git-ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from itip.lake import Lake

KEY_ENV = "ITIP_ID_KEY"
KEY_FILE_ENV = "ITIP_ID_KEY_FILE"
KEY_FILE_NAME = "itip-id.key"
#: Hex characters of the HMAC kept: 64 bits, plenty to tell respondents of one file apart.
PSEUDONYM_CHARS = 16


def key_file(warehouse: Path | Lake) -> Path:
    env = os.environ.get(KEY_FILE_ENV)
    return Path(env) if env else warehouse.with_name(KEY_FILE_NAME)


def load_key(warehouse: Path | Lake) -> bytes:
    """The pseudonymisation key: from the environment, else the key file (generated if missing)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    path = key_file(warehouse)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode("ascii")


def pseudonym(respondent_id: str, key: bytes) -> str:
    """Keyed hash of a respondent id: `h:` and the first 16 hex digits of HMAC-SHA256."""
    digest = hmac.new(key, respondent_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return "h:" + digest[:PSEUDONYM_CHARS]
