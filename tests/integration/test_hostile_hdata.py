"""Runs the attacks of tests/hostile/hdata.py (issue 14: wrong data loaded, stuck for good),
one test id per attack; those that need a real Prefect flow run get the session's harness."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.hdata import ATTACKS, Attack


def test_at_least_fifteen_distinct_attacks() -> None:
    assert len(ATTACKS) >= 15
    assert len({a.id for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_attack_is_answered(attack: Attack, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if attack.flow:
        request.getfixturevalue("prefect_harness")
    attack.run(tmp_path)


def test_a_synthetic_benchmark_may_widen_the_years(monkeypatch: pytest.MonkeyPatch) -> None:
    """ITIP_YEAR_RANGE (bench/respondents.py needs 21 synthetic years); a bad value is one clear error."""
    from itip.codebook import load_codebook
    from itip.problems import ItipError
    from itip.release import year_refusal
    from itip.settings import Settings

    codebook = load_codebook()
    assert year_refusal("itip_2031.csv", 2031, codebook, Settings.from_env({})) is not None
    monkeypatch.setenv("ITIP_YEAR_RANGE", "2008-2031")
    assert year_refusal("itip_2031.csv", 2031, codebook, Settings.from_env()) is None
    assert year_refusal("itip_2007.csv", 2007, codebook, Settings.from_env()) is not None
    monkeypatch.setenv("ITIP_YEAR_RANGE", "twenty")
    with pytest.raises(ItipError, match="ITIP_YEAR_RANGE must be two four-digit years"):
        year_refusal("itip_2031.csv", 2031, codebook, Settings.from_env())
