"""Many charts at once: the report's process and one helper process draw them together.

matplotlib draws in Python under the GIL, one chart after the other: a report of 160 charts
of twenty years took about 8 s on one core (their value labels most of it) while the other
core waited. A helper (`python -m itip.report.drawing FOLDER`, a fresh interpreter: never a
fork of a process that runs Prefect's threads, and no `multiprocessing`, which would import
the caller's main script again) draws chunks of charts from the end of the list while this
process draws from the front. Each chunk is claimed by creating its claim file (O_EXCL):
whoever creates it draws it, so no chart is drawn twice, and each side stops at the first
chunk the other has claimed. The helper's start-up (importing matplotlib) never delays the
report: this process draws meanwhile, and draws everything if the helper is slow or cannot
start. A chart the helper claimed but did not write (it died) is drawn here afterwards.
Each chart is the same file whoever draws it (`draw_chart` writes a PNG whole, by a rename,
with no stamp of its writer).
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from itip.report.cards import Shown
from itip.report.charts import draw_chart, partial_path

#: Fewer charts than this are drawn in this process alone: a helper's start-up (about a second
#: of imports) would cost more than it saves.
HELPER_FROM = 48
#: Charts per chunk.
CHUNK = 6
#: Seconds this process waits for the helper once its own share is drawn (a chunk takes well
#: under one); then the helper is stopped and its unfinished charts are drawn here.
HELPER_WAIT = 120
_JOBS = "jobs.pickle"


def draw_charts(jobs: list[tuple[Shown, Path]], lang: str, helper: list[str] | None = None) -> int:
    """Draw each (card, path) of `jobs`: with a helper process when there are many and the
    machine has a second core, else one after the other in this process. Returns how many
    the helper drew. `helper` is the helper's command line without its folder (tests replace it)."""
    if len(jobs) < HELPER_FROM or (os.cpu_count() or 1) < 2:
        _draw(jobs, lang)
        return 0
    chunks = [jobs[start : start + CHUNK] for start in range(0, len(jobs), CHUNK)]
    try:
        folder = Path(tempfile.mkdtemp(prefix="itip-charts-"))  # private (0700): the jobs file is pickled
    except OSError:  # no temporary folder (a full disk): this process draws them all
        _draw(jobs, lang)
        return 0
    proc: subprocess.Popen[bytes] | None = None
    try:
        try:
            (folder / _JOBS).write_bytes(pickle.dumps((chunks, lang), protocol=pickle.HIGHEST_PROTOCOL))
            with (folder / "helper.log").open("wb") as log:
                proc = subprocess.Popen(
                    # -P: not the current folder first on sys.path (an itip/ folder there is not ours)
                    [*(helper or [sys.executable, "-P", "-m", "itip.report.drawing"]), str(folder)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        except (OSError, pickle.PicklingError):  # no helper here (disk full, no process): this one draws all
            _draw(jobs, lang)
            return 0
        mine = 0
        for index, chunk in enumerate(chunks):
            if not _claim(folder, index):
                break  # the helper has it, and every chunk after it
            _draw(chunk, lang)
            mine += len(chunk)
        try:
            proc.wait(timeout=HELPER_WAIT)
        except subprocess.TimeoutExpired:  # stuck: what it has not drawn is drawn here
            proc.kill()
            proc.wait()
        if proc.returncode:
            _remove_leftovers(jobs, proc.pid)
        # what the helper claimed and did not draw (it died, failed or was stuck): drawn here
        left = [(card, path) for card, path in jobs if not path.is_file()]
        _draw(left, lang)
        return len(jobs) - mine - len(left)
    finally:
        if proc is not None and proc.poll() is None:  # interrupted: the helper stops too
            proc.kill()
            proc.wait()
            _remove_leftovers(jobs, proc.pid)
        shutil.rmtree(folder, ignore_errors=True)


def _remove_leftovers(jobs: list[tuple[Shown, Path]], pid: int) -> None:
    """The half-written chart of a helper stopped in the middle of one."""
    for _card, path in jobs:
        partial_path(path, pid).unlink(missing_ok=True)


def _claim(folder: Path, index: int) -> bool:
    """True for the one process that creates chunk `index`'s claim file."""
    try:
        os.close(os.open(folder / f"{index}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def _draw(jobs: list[tuple[Shown, Path]], lang: str) -> None:
    for card, path in jobs:
        draw_chart(card, path, lang)


def helper_main(folder: Path) -> None:
    """The helper: chunks from the last, each claimed first, until one is claimed already."""
    chunks, lang = pickle.loads((folder / _JOBS).read_bytes())  # written by draw_charts, in its private folder
    for index in range(len(chunks) - 1, -1, -1):
        if not _claim(folder, index):
            return
        _draw(chunks[index], lang)


if __name__ == "__main__":
    helper_main(Path(sys.argv[1]))
