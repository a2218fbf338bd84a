"""itip.watch: a file saved after it was read but before the watcher was up is not lost."""

from __future__ import annotations

from pathlib import Path

from itip.watch import changes, signature


def test_the_first_answer_names_files_changed_since_they_were_read(tmp_path: Path) -> None:
    kept, saved, created = tmp_path / "kept.csv", tmp_path / "saved.csv", tmp_path / "created.csv"
    kept.write_text("a")
    saved.write_text("a")
    before = {path: signature(path) for path in (kept, saved, created)}
    saved.write_text("a longer text")  # saved while the watcher starts
    created.write_text("new")  # was not there when read
    watching = changes([kept, saved, created], before)
    try:
        assert next(watching) == {saved, created}
    finally:
        watching.close()


def test_nothing_changed_since_read_is_an_empty_first_answer(tmp_path: Path) -> None:
    path = tmp_path / "kept.csv"
    path.write_text("a")
    watching = changes([path], {path: signature(path)})
    try:
        assert next(watching) == set()
    finally:
        watching.close()
