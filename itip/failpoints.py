"""Named points where a test can kill the process, to prove crash safety.

The crash-safety tests run `itip ingest` in a subprocess with
ITIP_FAILPOINT=<name> and check the warehouse afterwards. Unset (always, outside
those tests), a failpoint costs one dictionary lookup.

ITIP_FAILPOINT is read where the failpoint is passed, not from the run's settings: it is a
test hook for killing the process mid-write, deep inside the store steps, and threading
it through every call down to them would make the product's signatures carry a test's
switch. It is never read at import time; `check_failpoint` refuses a misspelt one when a
command starts (exit 2), so a crash test cannot pass by never crashing.
"""

from __future__ import annotations

import os
import signal

#: Every failpoint, in the order a file passes them; tests iterate over this.
POINTS = (
    "after_lock",
    "after_discover",
    "after_read",
    "after_validate",
    "after_harmonise",
    "after_copy",
    "after_release_insert",
    "after_estimates_insert",
    "before_commit",
    "after_commit",
    "after_checkpoint",
    "before_swap",
    "after_swap",
)


def check_failpoint() -> None:
    """Refuse an ITIP_FAILPOINT that names no failpoint (ConfigError, exit 2)."""
    wanted = os.environ.get("ITIP_FAILPOINT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point not in POINTS or (nth and not nth.isdigit()):
        from itip.problems import ConfigError

        raise ConfigError(f"ITIP_FAILPOINT={wanted!r}: expected one of {', '.join(POINTS)}, optionally :N")


def failpoint(name: str) -> None:
    """SIGKILL this process if ITIP_FAILPOINT names this point (optionally `name:N` for the N-th pass)."""
    wanted = os.environ.get("ITIP_FAILPOINT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    if nth:
        count = _passes.get(name, 0) + 1
        _passes[name] = count
        if count != int(nth):
            return
    os.kill(os.getpid(), signal.SIGKILL)


_passes: dict[str, int] = {}
