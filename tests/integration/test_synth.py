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


@pytest.mark.usefixtures("prefect_harness")
def test_a_synthetic_design_flows_into_trend_with_standard_errors_and_design_effects(tmp_path: Path) -> None:
    """`itip synth --design` (strata, clustered citizens, a near-census municipal stratum; SYNTHETIC)
    through the real flow: every shown respondent-level estimate has se and design_effect; the
    near-census stratum's intervals are narrower than a simple random sample's (Wilson on n),
    the clustered citizens' design effect is above 1, and the test of change is the Wald test
    on the two years' design-based standard errors against Student's t with the smaller of the
    two years' design degrees of freedom (trend.df: PSUs minus strata of the domain)."""
    import math

    from scipy import stats

    from itip.stats import wilson_interval

    out = tmp_path / "synthetic"
    args = ["synth", "--years", "2024-2025", "--respondents", "3000", "--design", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with (out / "itip_2024_respondents.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert {"stratum", "psu", "population"} <= set(header)
    wh = tmp_path / "itip.duckdb"
    outcomes = ingest(raw_dir=out, warehouse=wh)
    assert {o.status for o in outcomes} == {lib.LOADED}, [o.problems for o in outcomes]
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.execute(
            "SELECT survey, segment, year, value, n, se, design_effect, ci_low, ci_high, prev_value, change_pp, "
            "change_p_value, value_status, source FROM trend WHERE kind = 'respondents'"
        ).fetchall()
        se_by_key = {
            (r[0], r[1], r[2]): (r[3], r[4])
            for r in con.execute(
                "SELECT indicator, segment, year, se, df FROM trend WHERE kind = 'respondents' AND answer IS NULL"
            ).fetchall()
        }
        tested = con.execute(
            "SELECT indicator, segment, change_pp, change_p_value FROM trend "
            "WHERE kind = 'respondents' AND year = 2025 AND answer IS NULL AND change_p_value IS NOT NULL"
        ).fetchall()
    shown = [r for r in rows if r[12] == "estimated"]
    assert shown and all(r[5] is not None and r[5] > 0 for r in shown)
    assert all("SYNTHETIC" in r[13] for r in rows)
    near_census = [r for r in shown if r[1] == "municipalities" and 0 < r[3] < 100]
    assert near_census
    for _, _, _, value, n, _, deff, low, high, *_ in near_census:
        wilson_low, wilson_high = wilson_interval(value, n)
        assert deff < 0.5 and high - low < 0.6 * (wilson_high - wilson_low)
    clustered = [r[6] for r in shown if r[0] == "citizens" and r[1] == "all"]
    assert clustered and sum(clustered) / len(clustered) > 1.3
    assert tested
    for indicator, segment, change, p in tested:
        (se1, df1), (se2, df2) = se_by_key[(indicator, segment, 2024)], se_by_key[(indicator, segment, 2025)]
        z = change / math.sqrt(se1**2 + se2**2)
        assert df1 >= 1 and df2 >= 1
        assert p == pytest.approx(2 * stats.t.sf(abs(z), min(df1, df2)), rel=1e-9)
