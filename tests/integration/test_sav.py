"""SPSS .sav respondent files: value labels and user-missing codes, checked against the codebook."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import pytest

from flows.ingest import ingest
from itip import ingest as lib
from tests.conftest import REPO

pytestmark = pytest.mark.usefixtures("prefect_harness")

TRUST = {
    1.0: "I svært liten grad",
    2.0: "I liten grad",
    3.0: "I noen grad",
    4.0: "I stor grad",
    5.0: "I svært stor grad",
    8.0: "Vet ikke",
    9.0: "Ikke spurt",
}


def write_sav(path: Path, trust_labels: dict[float, str]) -> None:
    """Citizens and organisations as SPSS delivers them: numeric codes with value labels,
    8 and 9 declared user-missing, kommunenummer as a text variable with its leading zero."""
    frame = pd.DataFrame(
        {
            "respondent_id": [
                "R2024-000311",
                "R2024-000512",
                "R2024-000733",
                "R2024-000954",
                "R2024-001175",
                "R2024-001396",
            ],
            "survey": [2.0, 2.0, 2.0, 2.0, 1.0, 1.0],
            "sector": [None, None, None, None, 2.0, 1.0],
            "size_class": [None, None, None, None, 1.0, None],
            "kommunenummer": ["", "", "", "", "0301", ""],
            "age_group": [1.0, 2.0, 3.0, 4.0, None, None],
            "weight": [1.0, 3.0, 1.0, 1.0, 1.0, 1.0],
            "q_tillit_opplysninger": [4.0, 2.0, 8.0, 9.0, None, None],
            "q_gevinster_realisert": [None, None, None, None, 5.0, 3.0],
            "kommentar": ["ring meg på 912 34 567", "", "", "", "", ""],
        }
    )
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={
            "survey": {1.0: "Virksomheter", 2.0: "Innbyggere"},
            "q_tillit_opplysninger": trust_labels,
            "q_gevinster_realisert": TRUST,
        },
        missing_ranges={"q_tillit_opplysninger": [8.0, 9.0], "q_gevinster_realisert": [8.0, 9.0]},
    )


def test_a_sav_with_value_labels_and_user_missing_codes_loads_correctly(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_sav(raw / "itip_2024_respondents.sav", TRUST)
    wh = tmp_path / "itip.duckdb"
    # 6 respondents would all be suppressed (tests/integration/test_disclosure.py); this test is about the
    # reading, so a codebook copy with the disclosure thresholds at 1 keeps the figures
    text = (REPO / "schemas" / "codebook.yaml").read_text(encoding="utf-8")
    lowered = text.replace("  min_cell_n: 10\n  min_cell_n_extreme: 20\n", "  min_cell_n: 1\n  min_cell_n_extreme: 1\n")
    assert lowered != text
    codebook_path = tmp_path / "codebook.yaml"
    codebook_path.write_text(lowered, encoding="utf-8")
    [outcome] = ingest(raw_dir=raw, warehouse=wh, codebook_path=codebook_path)
    assert outcome.status == lib.LOADED, outcome.problems
    with duckdb.connect(str(wh), read_only=True) as con:
        trust = con.execute(
            "SELECT value, n, n_effective FROM estimates "
            "WHERE indicator = 'trust_personal_data_safe' AND segment = 'all'"
        ).fetchone()
        benefits = con.execute(
            "SELECT answer, value FROM estimates "
            "WHERE indicator = 'benefits_realised' AND segment = 'all' ORDER BY answer"
        ).fetchall()
        message = con.execute("SELECT message FROM releases").fetchone()
    # user-missing 8 (vet ikke) and 9 (not asked) leave the denominator: 1 of weight 1 yes, 1 of weight 3 no
    assert trust == (pytest.approx(25.0), 2, pytest.approx(16 / 10))
    assert benefits == [("high", pytest.approx(50.0)), ("low", pytest.approx(0.0)), ("some", pytest.approx(50.0))]
    assert message is not None and "6 respondents" in message[0] and "1 undeclared column(s) dropped" in message[0]


def test_a_sav_with_a_reversed_scale_is_rejected_with_a_message_that_says_so(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    valid = [1.0, 2.0, 3.0, 4.0, 5.0]
    reversed_labels = {c: TRUST[r] for c, r in zip(valid, reversed(valid), strict=True)} | {
        8.0: "Vet ikke",
        9.0: "Ikke spurt",
    }
    write_sav(raw / "itip_2024_respondents.sav", reversed_labels)
    wh = tmp_path / "itip.duckdb"
    [outcome] = ingest(raw_dir=raw, warehouse=wh)
    assert outcome.status == lib.REJECTED
    [problem] = outcome.problems
    assert problem.column == "q_tillit_opplysninger" and problem.check == "scale_reversed"
    assert "reversed" in problem.message and "'I svært stor grad'" in problem.message
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM estimates").fetchone() == (0,)


def test_a_sav_that_relabels_a_code_is_rejected(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_sav(raw / "itip_2024_respondents.sav", TRUST | {3.0: "Vet ikke"})
    [outcome] = ingest(raw_dir=raw, warehouse=tmp_path / "itip.duckdb")
    assert outcome.status == lib.REJECTED
    assert [p.check for p in outcome.problems] == ["scale_labels"]
    assert "code 3 is 'Vet ikke' in the file but 'I noen grad' in the codebook" in outcome.problems[0].message
