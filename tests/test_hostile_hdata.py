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
