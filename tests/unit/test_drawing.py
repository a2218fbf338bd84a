"""A report's charts drawn by this process and a helper process together (itip.report.drawing):
the same files as one process draws, and a helper that fails, dies or hangs costs only time."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from pathlib import Path

import pytest

from itip.codebook import Codebook
from itip.report import drawing
from itip.report.cards import Shown, build_cards, read_report_data, shown_cards
from itip.report.charts import chart_name
from tests.conftest import REPO
from tests.unit.test_history import load_all

#: A stand-in helper: claims the last `CLAIMS` chunks as the real one would, then ends as told.
FAKE = """
import os, pickle, sys, time
from pathlib import Path
from itip.report.drawing import _JOBS, _claim
folder = Path(sys.argv[-1])
chunks, _lang = pickle.loads((folder / _JOBS).read_bytes())
(Path(os.environ["FAKE_PID"])).write_text(str(os.getpid()))
for index in range(len(chunks) - 1, len(chunks) - 1 - {claims}, -1):
    _claim(folder, index)
{then}
"""


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory, codebook: Codebook) -> list[Shown]:
    """The cards of the bundled releases (more than a helper is started for)."""
    base = tmp_path_factory.mktemp("drawing")
    shutil.copytree(REPO / "raw", base / "raw")
    load_all(base / "raw", base / "itip.duckdb", codebook)
    shown = [c for c in shown_cards(build_cards(read_report_data(base / "itip.duckdb"), codebook)) if c.points]
    assert len(shown) >= drawing.HELPER_FROM
    return shown


def jobs(cards: list[Shown], folder: Path) -> list[tuple[Shown, Path]]:
    return [(card, folder / chart_name(card, "no")) for card in cards]


def pictures(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture(scope="module")
def alone(cards: list[Shown], tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every chart drawn by this process alone."""
    folder = tmp_path_factory.mktemp("alone")
    drawing._draw(jobs(cards, folder), "no")
    return pictures(folder)


def test_with_a_helper_every_chart_is_the_same_file_as_drawn_alone(
    cards: list[Shown], alone: dict[str, bytes], tmp_path: Path
) -> None:
    by_helper = drawing.draw_charts(jobs(cards, tmp_path), "no")
    assert pictures(tmp_path) == alone, "the same names and the same bytes, whoever drew them"
    assert 0 <= by_helper < len(cards)  # how many depends on how soon the helper started


def test_the_helper_draws_from_the_end_until_a_chunk_is_claimed(
    cards: list[Shown], alone: dict[str, bytes], tmp_path: Path
) -> None:
    """The helper's side of the claims, in this process: chunk 0 is claimed (by "this
    process"); the helper draws every other chunk, from the last, and stops there."""
    out = tmp_path / "charts"
    out.mkdir()
    todo = jobs(cards, out)
    chunks = [todo[i : i + drawing.CHUNK] for i in range(0, len(todo), drawing.CHUNK)]
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / drawing._JOBS).write_bytes(pickle.dumps((chunks, "no")))
    assert drawing._claim(folder, 0)
    drawing.helper_main(folder)
    assert set(pictures(out)) == {path.name for _card, path in todo[drawing.CHUNK :]}
    assert not drawing._claim(folder, 1), "every chunk it drew is claimed"


@pytest.mark.parametrize("then", ["sys.exit(3)", "os.kill(os.getpid(), 9)"])
def test_a_helper_that_dies_after_claiming_leaves_its_charts_to_this_process(
    cards: list[Shown], alone: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    monkeypatch.setenv("FAKE_PID", str(tmp_path / "pid"))
    out = tmp_path / "charts"
    out.mkdir()
    fake = [sys.executable, "-c", FAKE.format(claims=2, then=then)]
    assert drawing.draw_charts(jobs(cards, out), "no", helper=fake) == 0
    assert pictures(out) == alone


def test_a_hung_helper_is_stopped_and_its_charts_drawn_here(
    cards: list[Shown], alone: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawing, "HELPER_WAIT", 1)
    monkeypatch.setenv("FAKE_PID", str(tmp_path / "pid"))
    out = tmp_path / "charts"
    out.mkdir()
    fake = [sys.executable, "-c", FAKE.format(claims=1, then="time.sleep(3600)")]
    assert drawing.draw_charts(jobs(cards, out), "no", helper=fake) == 0
    assert pictures(out) == alone
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped, not left running


def test_a_helper_that_cannot_start_costs_nothing_but_time(
    cards: list[Shown], alone: dict[str, bytes], tmp_path: Path
) -> None:
    assert drawing.draw_charts(jobs(cards, tmp_path), "no", helper=[str(tmp_path / "no-such-program")]) == 0
    assert pictures(tmp_path) == alone
