"""Named points where a test can kill the process, to prove crash safety.

The crash-safety tests run `itip ingest` in a subprocess with
ITIP_FAILPOINT=<name> and check the warehouse afterwards. Unset (always, outside
those tests), a failpoint costs one dictionary lookup.
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
