"""Personvern: respondent ids are never stored in clear.

Wherever a respondent must be pointed at (a rejected file's duplicate or empty
id), the warehouse holds a keyed hash (HMAC-SHA256) of the id, never the id.
Without the key the hash cannot be reversed by trying likely ids; with it, the
data owner can find the respondent in their own file.

The key comes from `ITIP_ID_KEY` (any text), else from a key file: `ITIP_ID_KEY_FILE`,
else `itip-id.key` beside the warehouse. A missing key file is generated (32
random bytes, hex, mode 0600); `*.key` is git-ignored.

A key that would make the hashes recomputable is refused with one line, never
used: an empty or whitespace-only key file (left by a failed copy or `touch`:
HMAC with an empty key is a public function of the id), one shorter than
MIN_KEY_BYTES, or one of fewer than MIN_DISTINCT_BYTES distinct bytes (`0000…`).
The same holds for `ITIP_ID_KEY`. A key file that cannot be read is refused too.

The key variables are read here, when the key is needed, and are not fields of the run's
settings (itip.settings): the settings object is handed to flow tasks, and Prefect records
task parameters in its database and UI, where a secret must never go. They are never
read at import time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from itip.problems import ItipError

if TYPE_CHECKING:
    from itip.lake import Lake

KEY_ENV = "ITIP_ID_KEY"
KEY_FILE_ENV = "ITIP_ID_KEY_FILE"
KEY_FILE_NAME = "itip-id.key"
#: Hex characters of the HMAC kept: 64 bits, plenty to tell respondents of one file apart.
PSEUDONYM_CHARS = 16
#: Shortest key accepted: 128 bits, the security level of HMAC-SHA256 with a random key of
#: that length (NIST SP 800-107r1 asks for a key of at least the security strength wanted).
MIN_KEY_BYTES = 16
#: A key of fewer distinct bytes (`0000000000000000`, `aaaa…`) is no random key.
MIN_DISTINCT_BYTES = 8


def key_file(warehouse: Path | Lake) -> Path:
    env = os.environ.get(KEY_FILE_ENV)
    return Path(env) if env else warehouse.with_name(KEY_FILE_NAME)


def load_key(warehouse: Path | Lake) -> bytes:
    """The pseudonymisation key: from the environment, else the key file (generated if missing)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _checked(env.encode("utf-8"), KEY_ENV)
    path = key_file(warehouse)
    if not path.exists() and not path.is_symlink():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ItipError(f"{path}: cannot read the pseudonymisation key file: {exc.strerror or exc}") from None
    # bytes, not text: a binary key (32 random bytes) is as good as the generated hex one
    return _checked(data.strip(), f"key file {path}")


def check_key(warehouse: Path | Lake) -> None:
    """Refuse a bad key before a run starts (one line, no traceback from inside a flow);
    a missing key file is fine here: `load_key` generates it when a file needs it."""
    env = os.environ.get(KEY_ENV)
    path = key_file(warehouse)
    if env or path.exists() or path.is_symlink():
        load_key(warehouse)


def _checked(key: bytes, where: str) -> bytes:
    """The key, or one line saying why it cannot be one (see the module docstring)."""
    fix = "put at least 32 random bytes in it (e.g. the output of: openssl rand -hex 32)"
    if not key.strip():
        raise ItipError(f"{where} is empty (or only whitespace): ids hashed with it could be recomputed; {fix}")
    if len(key) < MIN_KEY_BYTES:
        raise ItipError(f"{where} is {len(key)} bytes, shorter than the {MIN_KEY_BYTES} a key needs; {fix}")
    if len(set(key)) < MIN_DISTINCT_BYTES:
        raise ItipError(f"{where} has only {len(set(key))} distinct bytes: not a random key; {fix}")
    return key


def pseudonym(respondent_id: str, key: bytes) -> str:
    """Keyed hash of a respondent id: `h:` and the first 16 hex digits of HMAC-SHA256."""
    digest = hmac.new(key, respondent_id.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return "h:" + digest[:PSEUDONYM_CHARS]
