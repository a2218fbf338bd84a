"""`itip check --watch`: a real process that checks a file again each time it is saved, the
way editors save (in place, or a new file renamed over the old one), and every file when the
codebook is saved; Ctrl-C ends it with the exit code of the last check."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

#: The command line in a process of its own, its codebook moved to `sys.argv[1]` (the bundled
#: one must not change under a test); everything else is the real `itip check --watch`.
PROBE = """
import sys
from pathlib import Path
import itip.codebook, itip.paths
itip.paths.CODEBOOK = itip.codebook.CODEBOOK = Path(sys.argv[1])
from itip.entry import main
sys.argv = ["itip", "check", "--watch", *sys.argv[2:]]
main()
"""


class Watching:
    """The watching process and the lines it has printed so far."""

    def __init__(self, codebook: Path, *files: Path) -> None:
        env = {**os.environ, "PREFECT_HOME": str(codebook.parent / "prefect-home")}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PROBE, str(codebook), *map(str, files)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=codebook.parent,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60) -> list[str]:
        """Every line up to and including the first that contains `text`."""
        start, upto = time.monotonic(), len(self.seen)
        while time.monotonic() - start < timeout:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None, f"itip check --watch ended: {self.seen}"
                continue
            self.seen.append(line)
            if text in line:
                return self.seen[upto:]
        raise AssertionError(f"no line with {text!r} within {timeout} s: {self.seen}")

    def stop(self) -> tuple[int, list[str]]:
        """Ctrl-C; the exit code, and everything printed since the last line waited for."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=30)
        self.reader.join(timeout=30)  # it ends at the end of the output: every line is in
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return code, rest


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[Watching]:
    shutil.copy(REPO / "schemas" / "codebook.yaml", tmp_path / "codebook.yaml")
    for name in ("itip_2023.csv", "itip_2016.csv"):
        shutil.copy(REPO / "raw" / name, tmp_path / name)
    watching = Watching(tmp_path / "codebook.yaml", tmp_path / "itip_2023.csv", tmp_path / "itip_2016.csv")
    yield watching
    if watching.proc.poll() is None:
        watching.proc.kill()
        watching.proc.wait()


def save_in_place(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8-sig").replace(old, new, 1), encoding="utf-8")


def save_by_rename(path: Path, old: str, new: str) -> None:
    """As editors and Excel save: a new file, renamed over the old one (a new inode)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(path.read_text(encoding="utf-8-sig").replace(old, new, 1), encoding="utf-8")
    os.replace(temporary, path)


def test_a_saved_file_is_checked_again_and_ctrl_c_exits_with_the_last_result(
    watching: Watching, tmp_path: Path
) -> None:
    first = watching.wait_for("Ctrl-C stops")
    assert "itip_2023.csv: ok, 14 rows" in first and any(line.startswith("itip_2016.csv: ok") for line in first)
    folder = tmp_path

    save_in_place(folder / "itip_2023.csv", ",59,", ",159,")
    again = watching.wait_for("outside 0-100")
    assert again[-1] == "itip_2023.csv, row 2, column value: value 159 is outside 0-100"
    assert not any("itip_2016.csv" in line for line in again), "only the saved file is checked again"

    save_by_rename(folder / "itip_2023.csv", ",159,", ",59,")
    assert watching.wait_for("itip_2023.csv: ok")[-1] == "itip_2023.csv: ok, 14 rows"
    code, rest = watching.stop()
    assert code == 0, f"the last check of every file passed: {watching.seen + rest}"


def test_the_codebook_saved_broken_then_fixed_and_a_bad_last_check_exits_1(watching: Watching, tmp_path: Path) -> None:
    watching.wait_for("Ctrl-C stops")
    codebook = tmp_path / "codebook.yaml"
    good = codebook.read_text(encoding="utf-8")

    codebook.write_text(good + "\n  - [unclosed\n", encoding="utf-8")
    broken = watching.wait_for("nothing is checked until it is fixed")
    assert "codebook" in broken[-1]

    save_in_place(tmp_path / "itip_2016.csv", ",81,", ",181,")
    assert watching.wait_for("not checked")[-1] == "not checked: the codebook is broken (see above)"

    codebook.write_text(good, encoding="utf-8")
    fixed = watching.wait_for("outside 0-100")  # every file again, with the codebook back
    assert any(line == "itip_2023.csv: ok, 14 rows" for line in fixed), fixed
    assert fixed[-1].startswith("itip_2016.csv, row ") and "value 181 is outside 0-100" in fixed[-1]
    code, rest = watching.stop()
    assert code == 1, f"the last check of itip_2016.csv found a problem: {watching.seen + rest}"


def test_a_folder_that_does_not_exist_is_one_line_and_exit_1(tmp_path: Path) -> None:
    shutil.copy(REPO / "schemas" / "codebook.yaml", tmp_path / "codebook.yaml")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "codebook.yaml"), str(tmp_path / "nowhere" / "itip_2024.csv")],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].endswith("itip_2024.csv: no such file")
    assert done.stderr == f"itip: cannot watch {tmp_path / 'nowhere'}: no such folder\n"
