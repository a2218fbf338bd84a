"""The privacy and disclosure attacks of tests/hostile/stats.py: bad pseudonymisation keys are
refused with one line (and a good binary key is used), bad disclosure thresholds are refused
when the codebook is read, naming the field, and cells carried by a few respondents are
suppressed with no hidden cell derivable. All respondent data is SYNTHETIC."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from itip.cli import app
from itip.codebook import load_codebook
from itip.disclosure import relations
from itip.paths import CODEBOOK
from itip.privacy import KEY_ENV, KEY_FILE_ENV
from itip.problems import ItipError
from itip.respondents.check import check_respondents
from tests.hostile.stats import (
    CELL_CASES,
    CODEBOOK_CASES,
    KEY_CASES,
    CellCase,
    CodebookCase,
    KeyCase,
    respondent_csv,
    two_heavy_of_thirty,
)
from tests.integration.test_disclosure import derivable

runner = CliRunner()


def test_the_stats_corpus_has_at_least_eight_distinct_attacks() -> None:
    ids = [c.id for c in [*KEY_CASES, *CODEBOOK_CASES, *CELL_CASES]]
    assert len(ids) >= 8 and len(set(ids)) == len(ids)


def _respondent_file(tmp_path: Path) -> Path:
    path = tmp_path / "itip_2024_respondents.csv"
    path.write_text(respondent_csv(two_heavy_of_thirty()), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", KEY_CASES, ids=[c.id for c in KEY_CASES])
def test_a_bad_key_is_refused_in_one_line_and_a_good_one_used(
    case: KeyCase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`itip check` of a respondent file (the command that hashes ids without a flow): a key
    that would make the hashes recomputable ends the command with exit 1 and one line naming
    the key file or ITIP_ID_KEY, never a traceback and never a check made with that key."""
    key_path = tmp_path / "keys" / "itip-id.key"
    key_path.parent.mkdir()
    if case.directory:
        key_path.mkdir()
    elif case.key_file is not None:
        key_path.write_bytes(case.key_file)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_path))
    if case.env is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, case.env)
    monkeypatch.setenv("ITIP_WAREHOUSE", str(tmp_path / "itip.duckdb"))
    result = runner.invoke(app, ["check", str(_respondent_file(tmp_path))])
    assert not isinstance(result.exception, Exception), result.exception  # no crash (SystemExit is fine)
    if case.accepted:
        assert result.exit_code == 0, result.output
        assert "itip_2024_respondents.csv: ok" in result.output
        return
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("itip: ") and case.phrase in lines[0], lines[0]
    assert (KEY_ENV if case.env is not None else str(key_path)) in lines[0]
    assert "Traceback" not in result.output and ": ok" not in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_refuses_an_empty_key_file_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`itip ingest` with an empty key file: one line and exit 1, before any file is read, and
    nothing is loaded under a key anyone could use."""
    raw = tmp_path / "raw"
    raw.mkdir()
    _respondent_file(raw)
    key_path = tmp_path / "itip-id.key"
    key_path.write_bytes(b"")
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_path))
    wh = tmp_path / "itip.duckdb"
    result = runner.invoke(app, ["ingest", "--raw", str(raw), "--warehouse", str(wh)])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        f"itip: key file {key_path} is empty (or only whitespace): ids hashed with it could be recomputed; "
        "put at least 32 random bytes in it (e.g. the output of: openssl rand -hex 32)"
    )
    assert not wh.exists()


@pytest.mark.parametrize("case", CODEBOOK_CASES, ids=[c.id for c in CODEBOOK_CASES])
def test_a_bad_disclosure_threshold_is_refused_naming_the_field(case: CodebookCase, tmp_path: Path) -> None:
    text = CODEBOOK.read_text(encoding="utf-8")
    assert text.count(case.old) == 1
    path = tmp_path / "codebook.yaml"
    path.write_text(text.replace(case.old, case.new), encoding="utf-8")
    with pytest.raises(ItipError) as raised:
        load_codebook(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {case.field}: ") and "whole number of respondents of at least 1" in message


@pytest.mark.parametrize("case", CELL_CASES, ids=[c.id for c in CELL_CASES])
def test_a_cell_carried_by_a_few_respondents_is_suppressed_and_not_derivable(
    case: CellCase, tmp_path: Path, codebook
) -> None:
    """The dominated cell is hidden (primary: Kish effective n below min_cell_n), every shown
    cell has an effective n of at least the threshold, and secondary suppression leaves no
    hidden cell that the codebook's sums (parent = children) would give back."""
    path = tmp_path / "itip_2024_respondents.csv"
    path.write_text(respondent_csv(case.people()), encoding="utf-8")
    result = check_respondents(path, codebook, 2024, b"a test key, not a secret")
    assert result.ok, result.problems
    frame = result.estimates[result.estimates["survey"] == case.survey]
    hidden = set(frame.loc[frame["value_status"] == "suppressed", "segment"])
    assert case.hidden <= hidden, hidden
    shown = frame[frame["value_status"] != "suppressed"]
    assert (shown["n_effective"] >= codebook.respondents.min_cell_n).all()
    hidden_rows = frame[frame["value_status"] == "suppressed"]
    assert hidden_rows[["value", "n", "n_effective", "se", "df"]].isna().all().all()
    rels = [r for r in relations(codebook.respondents) if r.survey == case.survey]
    for _, unit in frame.groupby(["indicator"]):
        unit_hidden = set(unit.loc[unit["value_status"] == "suppressed", "segment"])
        assert derivable(unit_hidden, set(unit["segment"]), rels) == set()
    # without the effective-n rule these cells would be shown: n alone does not catch them
    loose = dataclasses.replace(codebook.respondents, min_cell_n_effective=1)
    again = check_respondents(path, dataclasses.replace(codebook, respondents=loose), 2024, b"a test key, not a secret")
    shown_loose = again.estimates[
        (again.estimates["survey"] == case.survey) & (again.estimates["value_status"] != "suppressed")
    ]
    assert case.hidden <= set(shown_loose["segment"])
