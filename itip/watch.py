"""Which of some files changed, as the file system reports it: for `itip check --watch`.

A person adding a year checks, fixes, checks again: a process that stays up pays pandas'
and Pandera's imports once, and each save is checked again in a fraction of a second.

Editors and Excel save by writing a new file and renaming it over the old one, so the
folders that hold the files are watched, not the files, and events are matched by path.
watchfiles (the Rust `notify` crate: inotify on Linux, FSEvents on macOS, ReadDirectoryChanges
on Windows) waits in the kernel without polling and gathers the several events of one save
into one answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from itip.problems import ItipError
from itip.snapshot import FileStat

#: How long a burst of events is gathered after its last event before it is answered, in
#: milliseconds: a save is several events (write, close, rename), and a check of half of them
#: would read a file still being written.
SETTLE_MS = 100
#: How long the first wait for events lasts before it answers "nothing yet" (milliseconds): that
#: answer says the watcher is up. Later waits of this length cost a wake-up each, nothing more.
READY_MS = 500


def signature(path: Path) -> FileStat | None:
    """What the file was when it was read, as the ingest's stat cache compares it (size, mtime,
    inode, ctime); None if it is not there."""
    try:
        return FileStat.of(os.stat(path))
    except OSError:
        return None


def changes(paths: Iterable[Path], before: dict[Path, FileStat | None]) -> Iterator[set[Path]]:
    """Which of `paths` changed: first, as soon as the watcher is up, the ones whose signature
    is no longer the one in `before` (taken when they were last read: a save while the watcher
    started is not lost), possibly none; then after each save of one or more, the ones saved (a
    file deleted and written again counts). Paths are as given. Runs until the caller stops
    iterating or Ctrl-C (KeyboardInterrupt reaches the caller)."""
    from watchfiles import watch

    given = {path.resolve(): path for path in paths}
    folders = sorted({path.parent for path in given})
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise ItipError(f"cannot watch {', '.join(missing)}: no such folder")

    def wanted(_change: object, path: str) -> bool:
        return Path(path) in given

    batches = watch(
        *folders, watch_filter=wanted, step=SETTLE_MS, rust_timeout=READY_MS, yield_on_timeout=True, recursive=False
    )
    first = True
    for batch in batches:
        changed = {given[Path(path)] for _, path in batch}  # `wanted` let through only these
        if first:
            first = False
            changed |= {path for path in given.values() if signature(path) != before.get(path)}
            yield changed
        elif changed:
            yield changed
