"""Personvern: no respondent id, undeclared column or free text anywhere the pipeline writes."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest

from flows.ingest import ingest
from itip import ingest as lib
from itip.privacy import KEY_ENV, load_key, pseudonym
from itip.synth import write_synthetic
from tests.conftest import REPO, write

UNDECLARED = ("navn", "epost", "telefon", "fritekst")


@pytest.mark.usefixtures("prefect_harness")
def test_no_respondent_id_undeclared_column_or_free_text_in_any_file_written(
    tmp_path: Path, codebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    raw = tmp_path / "raw"
    write_synthetic(codebook, [2023, 2024], 120, raw, seed=7)
    # a rejected file too: its problems are stored, and one of them is about a repeated id
    text = (raw / "itip_2024_respondents.csv").read_text(encoding="utf-8").splitlines()
    header, first = text[0], text[1]
    write(
        raw,
        "itip_2025_respondents.csv",
        "\n".join([header, first.replace("R2024", "R2025"), first.replace("R2024", "R2025")]) + "\n",
    )
    out = tmp_path / "out"
    outcomes = {o.file: o.status for o in ingest(raw_dir=raw, warehouse=out / "itip.duckdb")}
    assert outcomes == {
        "itip_2023_respondents.csv": lib.LOADED,
        "itip_2024_respondents.csv": lib.LOADED,
        "itip_2025_respondents.csv": lib.REJECTED,
    }
    secrets: set[str] = set()
    for path in sorted(raw.iterdir()):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                secrets.add(row["respondent_id"])
                secrets.update(row[c] for c in UNDECLARED)
    assert len(secrets) > 4 * 240 and all(secrets)
    written = [p for p in out.rglob("*") if p.is_file()]
    assert out / "itip.duckdb" in written and len(written) > 2  # the warehouse, the key file and the report
    leaks = []
    for path in written:
        data = path.read_bytes()
        leaks += [(path.name, s) for s in secrets if s.encode("utf-8") in data]
    assert leaks == []
    # the file is small: aggregates only, no respondent rows
    assert (out / "itip.duckdb").stat().st_size < 5 * 1024 * 1024


def test_ids_are_keyed_hashes_and_the_key_file_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    key = load_key(tmp_path / "itip.duckdb")
    key_file = tmp_path / "itip-id.key"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(tmp_path / "itip.duckdb") == key  # generated once, then reused
    hashed = pseudonym("R2026-004711", key)
    assert hashed.startswith("h:") and "004711" not in hashed
    assert pseudonym("R2026-004711", b"another key") != hashed
    monkeypatch.setenv(KEY_ENV, "from configuration")
    assert load_key(tmp_path / "elsewhere.duckdb") == b"from configuration"
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "*.key" in ignored


@pytest.mark.usefixtures("prefect_harness")
def test_a_repeated_id_is_reported_by_its_keyed_hash_never_in_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "a test key, not a secret")
    raw = tmp_path / "raw"
    raw.mkdir()
    write(
        raw,
        "itip_2024_respondents.csv",
        "respondent_id,survey,age_group\nR2024-000042,citizens,1\nR2024-000042,citizens,2\n",
    )
    [outcome] = ingest(raw_dir=raw, warehouse=tmp_path / "itip.duckdb")
    assert outcome.status == lib.REJECTED
    values = {p.value for p in outcome.problems if p.check == "id_duplicate"}
    assert values == {pseudonym("R2024-000042", b"a test key, not a secret")}
    assert b"R2024-000042" not in (tmp_path / "itip.duckdb").read_bytes()
