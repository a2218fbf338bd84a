"""What is loaded is exactly what was hashed (issue 14), as a property: whatever is done to the
release files while an ingest runs (rewritten in place, appended to, replaced by rename, the old
version put back), every loaded release's recorded SHA-256 is the hash of a version of its file
that really existed, and its rows are exactly that version's rows; and once the files are left
alone, the next run loads exactly what the files hold now. Files are SYNTHETIC."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SRC = "https://example.org/itip-hash-once (SYNTHETIC)"
YEARS = (2016, 2017)
ACTIONS = ("rewrite", "append", "replace", "restore")


def content(values: dict[str, int]) -> bytes:
    rows = "".join(f"innbyggere;{ind};{v};;{SRC}\n" for ind, v in values.items())
    return ("survey;indicator;value;n;source\n" + rows).encode()


class Files:
    """The release files and every version they ever had: sha256 -> {indicator: value}.

    Two mutators act at once (the flow's thread after planning, the worker thread during the
    run); each action is a read-modify-write, so they take turns. Without the lock one could
    read version X, the other rename Y over it, and the first append X's tail onto Y: a file
    no one recorded, which the run would rightly load and the test wrongly blame."""

    def __init__(self, raw: Path) -> None:
        self.raw = raw
        self.versions: dict[str, dict[str, int]] = {}
        self.first: dict[int, bytes] = {}
        self.lock = threading.Lock()

    def path(self, year: int) -> Path:
        return self.raw / f"itip_{year}.csv"

    def _record(self, data: bytes, values: dict[str, int]) -> None:
        self.versions[hashlib.sha256(data).hexdigest()] = dict(values)

    def create(self, year: int, value: int) -> None:
        values = {"trust_personal_data_safe": value}
        data = content(values)
        self._record(data, values)
        self.first[year] = data
        self.path(year).write_bytes(data)

    def act(self, year: int, action: str, value: int) -> None:
        with self.lock:
            self._act(year, action, value)

    def _act(self, year: int, action: str, value: int) -> None:
        path = self.path(year)
        old = path.read_bytes()
        values = dict(self.versions[hashlib.sha256(old).hexdigest()])
        if action == "rewrite":  # in place, same length (two-digit values): one write, no truncate
            values["trust_personal_data_safe"] = value
            data = content(values)
            self._record(data, values)
            with path.open("r+b") as fh:
                fh.write(data)
        elif action == "append":
            extra = "trust_rights_safeguarded" if "trust_rights_safeguarded" not in values else None
            if extra is None:
                return
            values[extra] = value
            data = content(values)
            self._record(data, values)
            with path.open("ab") as fh:
                fh.write(data[len(old) :])
        elif action == "replace":  # a new file renamed over the old one
            values = {"trust_personal_data_safe": value}
            data = content(values)
            self._record(data, values)
            side = path.with_name(".incoming")
            side.write_bytes(data)
            os.replace(side, path)
        else:  # the first version put back
            side = path.with_name(".incoming")
            side.write_bytes(self.first[year])
            os.replace(side, path)


def loaded(warehouse: Path) -> dict[int, tuple[str, dict[str, float]]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        releases = con.execute("SELECT release_id, year, sha256 FROM releases WHERE status = 'loaded'").fetchall()
        out = {}
        for release_id, year, sha in releases:
            rows = con.execute("SELECT indicator, value FROM estimates WHERE release_id = ?", [release_id]).fetchall()
            out[int(year)] = (str(sha), {str(i): float(v) for i, v in rows})
    return out


def assert_loaded_rows_are_the_recorded_version(files: Files, warehouse: Path) -> None:
    for year, (sha, rows) in loaded(warehouse).items():
        assert sha in files.versions, f"{year}: recorded hash {sha[:12]} is of no version the file ever had"
        assert rows == {k: float(v) for k, v in files.versions[sha].items()}, (
            f"{year}: loaded rows differ from the version whose hash the release records"
        )


mutation = st.tuples(st.sampled_from(YEARS), st.sampled_from(ACTIONS), st.integers(10, 99))


@settings(
    max_examples=4,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.tuples(st.integers(10, 99), st.integers(10, 99)),
    after_plan=st.lists(mutation, max_size=4),
    during=st.lists(mutation, max_size=6),
)
def test_loaded_rows_are_always_the_version_whose_hash_is_recorded(
    tmp_path_factory, prefect_harness: None, first, after_plan, during
) -> None:
    """`after_plan` happens between the planning hash and the read (deterministically, as a
    colleague saving a file just then); `during` is done by a thread while the run reads and
    loads. Then a quiet run must load exactly the files as they are."""
    from flows.ingest import ingest
    from itip import ingest as lib

    tmp = tmp_path_factory.mktemp("hash-once")
    raw, warehouse = tmp / "raw", tmp / "wh" / "itip.duckdb"
    raw.mkdir()
    files = Files(raw)
    for year, value in zip(YEARS, first, strict=True):
        files.create(year, value)
    ingest(raw_dir=raw, warehouse=warehouse)
    assert_loaded_rows_are_the_recorded_version(files, warehouse)

    planned = lib.plan_all

    def plan_then_mutate(*args, **kw):
        plans = planned(*args, **kw)
        for year, action, value in after_plan:
            files.act(year, action, value)
        return plans

    stop = threading.Event()
    failures: list[BaseException] = []

    def mutate_meanwhile() -> None:
        try:
            for year, action, value in during:
                if stop.wait(0.05):
                    return
                files.act(year, action, value)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    lib.plan_all = plan_then_mutate
    worker = threading.Thread(target=mutate_meanwhile)
    worker.start()
    try:
        ingest(raw_dir=raw, warehouse=warehouse)
    finally:
        lib.plan_all = planned
        stop.set()
        worker.join()
    assert not failures, f"the mutating thread failed: {failures[0]!r}"
    assert_loaded_rows_are_the_recorded_version(files, warehouse)

    time.sleep(0.01)
    ingest(raw_dir=raw, warehouse=warehouse)  # the files left alone
    assert_loaded_rows_are_the_recorded_version(files, warehouse)
    now = loaded(warehouse)
    for year in YEARS:
        data = files.path(year).read_bytes()
        assert now[year][0] == hashlib.sha256(data).hexdigest(), f"{year}: the file as it is now is loaded"
