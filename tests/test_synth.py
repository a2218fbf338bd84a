"""`itip synth`: realistic, clearly synthetic respondent files that the ingest loads end to end."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.ingest import ingest
from itip import ingest as lib
from itip.cli import app
from itip.paths import RAW_DIR

runner = CliRunner()


def test_synth_refuses_to_write_into_raw() -> None:
    before = sorted(p.name for p in RAW_DIR.iterdir())
    result = runner.invoke(app, ["synth", "--years", "2024", "--respondents", "5", "--out", str(RAW_DIR)])
    assert result.exit_code == 2 and "never goes into the release folder" in result.output
    assert sorted(p.name for p in RAW_DIR.iterdir()) == before


def test_synthetic_files_are_marked_and_look_like_real_deliveries(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["synth", "--years", "2020,2021", "--respondents", "200", "--out", str(tmp_path), "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["itip_2020_respondents.csv", "itip_2021_respondents.csv"]
    with (tmp_path / "itip_2021_respondents.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 200 and {r["synthetic"] for r in rows} == {"true"}
    ids = [r["respondent_id"] for r in rows]
    assert all(re.fullmatch(r"R2021-\d{6}", i) for i in ids) and len(set(ids)) == 200
    assert ids != sorted(ids)  # random numbers, not row numbers
    assert {r["survey"] for r in rows} == {"organisations", "citizens"}
    kommune = [r["kommunenummer"] for r in rows if r["kommunenummer"]]
    assert kommune and all(re.fullmatch(r"\d{4}", k) for k in kommune)
    # the 2021 wording change: new column name from 2021, old one before
    assert "q_tillit_opplysninger" in rows[0] and "q_tillit_personvern" not in rows[0]
    with (tmp_path / "itip_2020_respondents.csv").open(encoding="utf-8") as fh:
        assert "q_tillit_personvern" in next(csv.DictReader(fh))
    answers = {r["q_tillit_opplysninger"] for r in rows if r["survey"] == "citizens"}
    assert {"8"} <= answers  # 'vet ikke' occurs
    weights = [float(r["weight"]) for r in rows]
    assert min(weights) > 0 and len(set(weights)) > 10


@pytest.mark.usefixtures("prefect_harness")
def test_twenty_synthetic_years_load_with_intervals_changes_and_p_values(tmp_path: Path) -> None:
    out = tmp_path / "synthetic"
    result = runner.invoke(app, ["synth", "--years", "2008-2027", "--respondents", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wh = tmp_path / "itip.duckdb"
    outcomes = ingest(raw_dir=out, warehouse=wh)
    assert len(outcomes) == 20 and {o.status for o in outcomes} == {lib.LOADED}, [o.problems for o in outcomes]
    with duckdb.connect(str(wh), read_only=True) as con:
        series = con.execute(
            "SELECT year, value, ci_low, ci_high, change_pp, change_p_value, n, n_effective, kind FROM trend "
            "WHERE indicator = 'trust_rights_safeguarded' AND segment = 'all' ORDER BY year"
        ).fetchall()
        org = con.execute(
            "SELECT year, comparable_with_prev, change_p_value FROM trend "
            "WHERE indicator = 'good_information_security' AND segment = 'all' AND year IN (2017, 2018)"
        ).fetchall()
        per_year = con.execute(
            "SELECT count(*) FROM (SELECT 1 FROM trend "
            "GROUP BY indicator, survey, segment, answer, year HAVING count(*) > 1)"
        ).fetchone()
        sources = con.execute("SELECT DISTINCT source LIKE '%SYNTHETIC%' FROM estimates").fetchall()
    assert [r[0] for r in series] == list(range(2008, 2028))
    for year, value, low, high, change, p, n, n_eff, kind in series:
        assert kind == "respondents" and low < value < high and n_eff <= n
        if year > 2008:
            assert change is not None and 0 <= p <= 1
    assert org == [(2017, True, pytest.approx(org[0][2])), (2018, False, None)]  # the 2018 population break
    assert per_year == (0,)
    assert sources == [(True,)]
