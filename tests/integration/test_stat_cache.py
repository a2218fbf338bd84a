"""The stat cache (issue 9): unchanged files are recognised without reading them, the way git's
index does it (size, mtime, inode, ctime, and the racy-timestamp rule); every loaded file is
still hashed from the bytes loaded; `itip ingest --verify` hashes everything. Files are SYNTHETIC."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from itip import ingest as lib
from itip.cli import app
from itip.settings import DEFAULTS
from itip.snapshot import FileStat
from itip.warehouse_file import write_snapshot

#: The default racy-timestamp margin (ITIP_STAT_CACHE_RACY_SECONDS), in nanoseconds.
RACY_NS = int(DEFAULTS.stat_cache_racy_seconds * 1e9)

SRC = "https://example.org/itip-stat-cache (SYNTHETIC)"


def release(value: int) -> bytes:
    return f"survey;indicator;value;n;source\ninnbyggere;trust_personal_data_safe;{value};;{SRC}\n".encode()


def loaded_value(warehouse: Path) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "SELECT e.value FROM estimates e JOIN releases r USING (release_id) WHERE r.status = 'loaded'"
        ).fetchone()
    assert row is not None
    return float(row[0])


def cache_rows(warehouse: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT path, size, sha256 FROM file_stats ORDER BY path").fetchall()


@pytest.fixture
def short_racy_margin(monkeypatch: pytest.MonkeyPatch) -> float:
    """A 50 ms racy margin instead of 2 s, so a test need not wait seconds for a file to age
    (the flow reads its settings from the environment when it starts)."""
    monkeypatch.setenv("ITIP_STAT_CACHE_RACY_SECONDS", "0.05")
    return 0.2  # seconds to wait for a file to be older than the margin


def test_an_unchanged_file_is_recognised_without_reading_it(
    tmp_path: Path, prefect_harness: None, short_racy_margin: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    raw, warehouse = tmp_path / "raw", tmp_path / "itip.duckdb"
    raw.mkdir()
    path = raw / "itip_2016.csv"
    path.write_bytes(release(47))
    time.sleep(short_racy_margin)
    assert [o.status for o in ingest(raw_dir=raw, warehouse=warehouse)] == [lib.LOADED]
    assert cache_rows(warehouse) == [(str(path.absolute()), len(release(47)), hashlib.sha256(release(47)).hexdigest())]

    def no_reading(_: Path) -> None:
        raise AssertionError("an unchanged file was read again")

    monkeypatch.setattr(lib, "hash_file", no_reading)
    assert [o.status for o in ingest(raw_dir=raw, warehouse=warehouse)] == [lib.UNCHANGED]


def test_a_file_rewritten_within_the_same_second_with_the_same_size_is_detected(
    tmp_path: Path, prefect_harness: None
) -> None:
    """The racy-timestamp rule with the default margin: the rewrite happens right after the
    load, with the same size and the mtime set back to the first version's."""
    from flows.ingest import ingest

    raw, warehouse = tmp_path / "raw", tmp_path / "itip.duckdb"
    raw.mkdir()
    path = raw / "itip_2016.csv"
    path.write_bytes(release(47))
    ingest(raw_dir=raw, warehouse=warehouse)
    before = path.stat()
    with path.open("r+b") as fh:
        fh.write(release(52))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert [o.status for o in ingest(raw_dir=raw, warehouse=warehouse)] == [lib.SUPERSEDED]
    assert loaded_value(warehouse) == 52.0


class _Cache:
    def __init__(self, entry: tuple[int, int, int, int, str, int]) -> None:
        self.entry = entry

    def file_stat(self, path: str) -> tuple[int, int, int, int, str, int]:
        return self.entry


def test_the_racy_rule_distrusts_an_entry_recorded_in_the_same_tick_as_the_file_was_written() -> None:
    """All four fields equal is not enough when the file was written within the margin before
    its stat: a write right after the stat, in the same clock tick, leaves every field equal."""
    now = time.time_ns()
    status = FileStat(size=100, mtime_ns=now - 1_000_000, inode=7, ctime_ns=now - 1_000_000)
    fresh = _Cache((100, status.mtime_ns, 7, status.ctime_ns, "a" * 64, now))
    assert lib.cached_sha(fresh, Path("itip_2016.csv"), status) is None  # type: ignore[arg-type]
    aged = _Cache((100, status.mtime_ns, 7, status.ctime_ns, "a" * 64, now + 2 * RACY_NS))
    assert lib.cached_sha(aged, Path("itip_2016.csv"), status) == "a" * 64  # type: ignore[arg-type]
    other_inode = _Cache((100, status.mtime_ns, 8, status.ctime_ns, "a" * 64, now + 2 * RACY_NS))
    assert lib.cached_sha(other_inode, Path("itip_2016.csv"), status) is None  # type: ignore[arg-type]


def test_verify_catches_a_change_the_stat_cache_cannot_see(
    tmp_path: Path, prefect_harness: None, short_racy_margin: float
) -> None:
    """A change with size and mtime restored (os.utime) on a filesystem that does not keep
    ctime faithfully (some network and FUSE mounts) leaves the stat as recorded: the cache
    cannot see it, by design. `--verify` hashes every file and loads the change."""
    from flows.ingest import ingest

    raw, warehouse = tmp_path / "raw", tmp_path / "itip.duckdb"
    raw.mkdir()
    path = raw / "itip_2016.csv"
    path.write_bytes(release(47))
    time.sleep(short_racy_margin)
    ingest(raw_dir=raw, warehouse=warehouse)
    before = path.stat()
    with path.open("r+b") as fh:
        fh.write(release(52))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    time.sleep(short_racy_margin)
    now = path.stat()
    with lib.ingest_lock(warehouse), write_snapshot(warehouse) as wh:  # the ctime such a mount reports
        wh.con.execute(
            "UPDATE file_stats SET ctime_ns = ?, recorded_ns = ? WHERE path = ?",
            [now.st_ctime_ns, time.time_ns(), str(path.absolute())],
        )
    assert [o.status for o in ingest(raw_dir=raw, warehouse=warehouse)] == [lib.UNCHANGED]
    assert loaded_value(warehouse) == 47.0
    assert [o.status for o in ingest(raw_dir=raw, warehouse=warehouse, verify=True)] == [lib.SUPERSEDED]
    assert loaded_value(warehouse) == 52.0


def test_ingest_has_a_verify_option() -> None:
    result = CliRunner().invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0 and "--verify" in result.output
