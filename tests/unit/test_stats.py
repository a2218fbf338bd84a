"""Intervals and tests of change, checked against independent computations."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from itip.codebook import Break
from itip.db_codebook import refresh_change_tests
from itip.paths import SQL_DIR
from itip.stats import benjamini_hochberg, change_p_value, q_values, wilson_interval

#: The warehouse's own SQL for changes: the tests table and the two views over the estimates.
CHANGE_SQL = ("50_change_tests.sql", "86_change_pairs.sql", "88_changes.sql")


def compute_changes(frame: pd.DataFrame, breaks: list[Break]) -> pd.DataFrame:
    """The view `changes` over these current estimates, as a load leaves it: an in-memory
    DuckDB with `current_estimates`, `indicators` and `breaks` as tables (the codebook's
    survey breaks listed for each indicator of the survey, as the codebook sync does), the
    warehouse's SQL for changes, and the tests of change refreshed by itip.db."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE current_estimates (release_id INTEGER, source_row INTEGER, indicator VARCHAR, "
        "survey VARCHAR, segment VARCHAR, answer VARCHAR, year INTEGER, value DOUBLE, n DOUBLE, "
        "n_effective DOUBLE, qualifier VARCHAR, base VARCHAR, se DOUBLE, df INTEGER, kind VARCHAR, "
        "suppressed BOOLEAN DEFAULT false)"
    )
    con.register("_frame", frame)
    con.execute("INSERT INTO current_estimates BY NAME SELECT * FROM _frame")
    indicators = frame[["indicator", "survey"]].drop_duplicates()
    con.execute("CREATE TABLE indicators AS SELECT DISTINCT indicator FROM _frame")
    rows = [
        (i.indicator, b.year, "indicator" if b.indicator else "survey", b.reason)
        for b in breaks
        for i in indicators.itertuples()
        if (b.indicator and b.indicator == i.indicator) or (not b.indicator and b.survey == i.survey)
    ]
    con.execute("CREATE TABLE breaks (indicator VARCHAR, year INTEGER, scope VARCHAR, reason VARCHAR)")
    if rows:
        con.executemany("INSERT INTO breaks VALUES (?, ?, ?, ?)", rows)
    for name in CHANGE_SQL:
        con.execute((SQL_DIR / name).read_text(encoding="utf-8"))
    refresh_change_tests(con)
    return con.execute("SELECT * FROM changes").df()


@pytest.mark.parametrize(("value", "n"), [(50, 1000), (10, 251), (71, 251), (9, 1000), (0, 50), (100, 50)])
def test_wilson_interval_matches_scipy(value: float, n: int) -> None:
    """The interval published with a figure is the standard 95 % Wilson interval."""
    k = round(value / 100 * n)
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k / n * 100, n)
    assert low == pytest.approx(ref.low * 100, abs=1e-9)
    assert high == pytest.approx(ref.high * 100, abs=1e-9)


def _z_test_by_hand(p1: float, n1: int, p2: float, n2: int) -> float:
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 2 * sps.norm.sf(abs(p2 - p1) / se)


def test_trust_fall_50_to_47_is_not_significant_at_n_1000() -> None:
    """'Trust fell from 50 % to 47 %' with 1,000 respondents a year: p is about 0.18."""
    p = change_p_value(50, 1000, 47, 1000)
    assert p == pytest.approx(_z_test_by_hand(0.50, 1000, 0.47, 1000), rel=1e-9)
    assert p == pytest.approx(0.1797, abs=5e-4)


def test_large_change_is_significant() -> None:
    p = change_p_value(62, 1000, 52, 1000)
    assert p is not None and p < 0.001
    assert p == pytest.approx(_z_test_by_hand(0.62, 1000, 0.52, 1000), rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 100), st.integers(1, 100_000), st.floats(0, 100), st.integers(1, 100_000))
def test_change_p_value_matches_statsmodels(value1: float, n1: int, value2: float, n2: int) -> None:
    """The reference two-proportion z-test, on any pair of shares and sample sizes."""
    from statsmodels.stats.proportion import proportions_ztest

    p = change_p_value(value1, n1, value2, n2)
    pooled = (value1 * n1 + value2 * n2) / 100 / (n1 + n2)
    if p is None:
        assert pooled <= 0 or pooled >= 1
        return
    _, reference = proportions_ztest([value1 / 100 * n1, value2 / 100 * n2], [n1, n2])
    assert p == pytest.approx(reference, rel=1e-9, abs=1e-300)


def test_no_test_without_variance() -> None:
    """0 % in both years has no variance: no p-value rather than a division by zero."""
    assert change_p_value(0, 100, 0, 100) is None


def _series(rows: list[tuple[int, float | None, int | None, str | None]], survey: str = "citizens") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "release_id": year,
                "source_row": 2,
                "indicator": "x",
                "survey": survey,
                "segment": "all",
                "answer": None,
                "year": year,
                "value": value,
                "n": n,
                "qualifier": qualifier,
            }
            for year, value, n, qualifier in rows
        ]
    )


def test_change_is_against_latest_earlier_year_with_a_value() -> None:
    """A suppressed year in between is skipped: 2022 is compared with 2020."""
    frame = _series([(2020, 50, 1000, None), (2021, None, None, None), (2022, 47, 1000, None)])
    out = compute_changes(frame, []).set_index("release_id")
    assert pd.isna(out.loc[2020, "prev_year"])
    assert pd.isna(out.loc[2020, "comparable_with_prev"])
    assert out.loc[2021, "prev_year"] == 2020
    assert pd.isna(out.loc[2021, "change_pp"])
    assert out.loc[2022, "prev_year"] == 2020
    assert out.loc[2022, "change_pp"] == pytest.approx(-3)
    assert out.loc[2022, "change_p_value"] == pytest.approx(0.1797, abs=5e-4)
    assert bool(out.loc[2022, "comparable_with_prev"]) is True


def test_break_marks_change_not_comparable_and_drops_the_test() -> None:
    frame = _series([(2015, 55, 500, None), (2020, 60, 500, None)], survey="organisations")
    brk = Break("organisations", None, 2018, "population changed")
    out = compute_changes(frame, [brk]).set_index("release_id")
    assert bool(out.loc[2020, "comparable_with_prev"]) is False
    assert out.loc[2020, "change_pp"] == pytest.approx(5)
    assert pd.isna(out.loc[2020, "change_p_value"])


@pytest.mark.parametrize(
    ("bases", "reason"),
    [
        (("with_dont_know", "answered"), "Answer base differs: with_dont_know in 2023, answered in 2024"),
        ((None, "answered"), "Answer base unknown in 2023 (not declared in the codebook), known in the other year"),
        (("answered", None), "Answer base unknown in 2024 (not declared in the codebook), known in the other year"),
    ],
)
def test_a_different_or_unknown_answer_base_is_a_break_with_its_reason(
    bases: tuple[str | None, str | None], reason: str
) -> None:
    """The same answers counted over another denominator are not a change: shown, never tested."""
    frame = _series([(2023, 10, 251, None), (2024, 16, 300, None)]).assign(base=list(bases))
    out = compute_changes(frame, []).set_index("release_id")
    assert bool(out.loc[2024, "comparable_with_prev"]) is False
    assert out.loc[2024, "break_reason"] == reason
    assert out.loc[2024, "change_pp"] == pytest.approx(6)
    assert pd.isna(out.loc[2024, "change_p_value"]) and pd.isna(out.loc[2024, "change_significant"])


@pytest.mark.parametrize("base", ["with_dont_know", "answered", None])
def test_identical_answer_bases_still_compare(base: str | None) -> None:
    frame = _series([(2023, 10, 251, None), (2024, 16, 300, None)]).assign(base=[base, base])
    out = compute_changes(frame, []).set_index("release_id")
    assert bool(out.loc[2024, "comparable_with_prev"]) is True
    assert pd.isna(out.loc[2024, "break_reason"])
    assert out.loc[2024, "change_p_value"] == pytest.approx(_z_test_by_hand(0.10, 251, 0.16, 300), rel=1e-9)


def test_a_codebook_break_gives_its_reason_together_with_a_base_change() -> None:
    frame = _series([(2015, 55, 500, None), (2020, 60, 500, None)], survey="organisations")
    frame = frame.assign(base=["answered", "with_dont_know"])
    out = compute_changes(frame, [Break("organisations", None, 2018, "population changed")]).set_index("release_id")
    assert out.loc[2020, "break_reason"] == (
        "population changed; Answer base differs: answered in 2015, with_dont_know in 2020"
    )


def test_break_of_another_survey_does_not_apply() -> None:
    frame = _series([(2015, 55, 500, None), (2020, 60, 500, None)], survey="citizens")
    out = compute_changes(frame, [Break("organisations", None, 2018, "x")]).set_index("release_id")
    assert bool(out.loc[2020, "comparable_with_prev"]) is True


def test_qualified_value_gets_no_test() -> None:
    """'9 av 10' (approx) is not an exact share: change shown, no p-value."""
    frame = _series([(2021, 88, 1000, None), (2022, 90, 1000, "approx")])
    out = compute_changes(frame, []).set_index("release_id")
    assert out.loc[2022, "change_pp"] == pytest.approx(2)
    assert pd.isna(out.loc[2022, "change_p_value"])


# --- multiple comparisons (issue 8) --------------------------------------------------------
def test_q_values_are_benjamini_hochberg_within_year_and_survey() -> None:
    """By hand: p sorted 0.005, 0.01, 0.03, 0.04 (m = 4) gives q = min_j>=i p_j·m/j =
    0.02, 0.02, 0.04, 0.04. Another survey is its own family, so its p = 0.03 alone stays 0.03."""
    p = pd.Series([0.01, 0.04, 0.03, 0.005, 0.03, None])
    year = pd.Series([2024] * 6)
    survey = pd.Series(["citizens"] * 4 + ["organisations", "citizens"])
    q, significant = q_values(p, year, survey)
    assert list(q[:5]) == pytest.approx([0.02, 0.04, 0.04, 0.02, 0.03], abs=1e-12)
    assert q[5] is None and significant[5] is None  # untested is neither significant nor not
    assert list(significant[:5]) == [True, True, True, True, True]
    q2, significant2 = q_values(pd.Series([0.03, 0.5]), pd.Series([2024, 2024]), pd.Series(["citizens"] * 2))
    assert list(q2) == pytest.approx([0.06, 0.5]) and list(significant2) == [False, False]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_benjamini_hochberg_matches_statsmodels(p: list[float]) -> None:
    """The reference implementation, on any family of p-values (ties, zeros and ones included)."""
    from statsmodels.stats.multitest import multipletests

    _, reference, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    assert benjamini_hochberg(p) == pytest.approx(reference, abs=1e-12)


def test_changes_have_raw_p_and_q_value() -> None:
    frame = _series([(2020, 50, 1000, None), (2022, 44, 1000, None)])
    out = compute_changes(frame, []).set_index("release_id")
    # One test in the family: q equals p.
    assert out.loc[2022, "change_q_value"] == pytest.approx(out.loc[2022, "change_p_value"])
    assert bool(out.loc[2022, "change_significant"]) is True
    assert pd.isna(out.loc[2020, "change_q_value"]) and pd.isna(out.loc[2020, "change_significant"])  # NULL: untested


def _null_years(rng: np.random.Generator, years: int, cells: int, n: int) -> pd.DataFrame:
    """Synthetic (simulated) survey where nothing changes: every cell has the same true share
    every year, observed as binomial(n, share)."""
    truth = rng.uniform(0.1, 0.9, size=cells)
    rows = []
    for y in range(years):
        observed = rng.binomial(n, truth) / n * 100
        for c in range(cells):
            rows.append(
                {
                    "release_id": 2000 + y,
                    "source_row": c + 1,
                    "indicator": f"i{c}",
                    "survey": "citizens",
                    "segment": "all",
                    "answer": None,
                    "year": 2000 + y,
                    "value": observed[c],
                    "n": n,
                    "qualifier": None,
                }
            )
    return pd.DataFrame(rows)


def test_null_data_gets_at_most_one_false_significant_year_in_twenty() -> None:
    """Twenty year pairs where nothing changed, 170 changes tested a year (as in the real
    warehouse): at raw p < 0.05 about 8.5 changes a year look significant; with the
    Benjamini-Hochberg q < 0.05 at most one year in twenty has any (the FDR under the
    complete null is the family-wise rate, 5 %)."""
    rng = np.random.default_rng(20261128)
    out = compute_changes(_null_years(rng, years=21, cells=170, n=1000), [])
    tested = out[out["change_p_value"].notna()].copy()
    tested["year"] = tested["release_id"]
    assert tested.groupby("year").size().eq(170).all() and tested["year"].nunique() == 20
    raw = tested.assign(hit=tested["change_p_value"] < 0.05).groupby("year")["hit"].sum()
    assert raw.mean() > 4  # the old rule: several false alarms every year
    flagged = tested.assign(hit=tested["change_significant"].astype(bool)).groupby("year")["hit"].sum()
    assert (flagged > 0).sum() <= 1


# --- few PSUs: the t reference on design degrees of freedom (issue 8) ----------------------
def _clustered_null_years(
    rng: np.random.Generator, psus: int, years: int = 21, cells: int = 170, cluster_size: int = 30
) -> tuple[pd.DataFrame, np.ndarray, list[dict[str, np.ndarray]]]:
    """SYNTHETIC (simulated) clustered survey in which nothing changes. Two strata of 100 and
    300 population clusters (so unequal weights and unequal stratum contributions); each year
    `psus` clusters are drawn per stratum and `cluster_size` respondents answer in each; 170
    yes/no questions, each with its own share (10-90 %) and a strong cluster effect (logit
    sd 0.8). Per question and year: the weighted share, its Taylor-linearised variance (strata,
    PSUs, no FPC: the population of clusters is large) and the design df = PSUs - strata.
    Returns the rows compute_changes reads, the true shares, and the first year's respondents."""
    sizes = np.array([100.0, 300.0])
    base = rng.uniform(-1.8, 1.8, cells)
    probs = 1 / (1 + np.exp(-(base + rng.normal(0, 0.8, (2, 200, cells)))))
    truth = (sizes[:, None] * probs.mean(axis=1)).sum(axis=0) / sizes.sum()
    rows, raw = [], []
    for year in range(years):
        y_totals, w_totals, strata = [], [], []
        drawn: dict[str, list[np.ndarray]] = {"y": [], "w": [], "stratum": [], "psu": []}
        for h in range(2):
            chosen = rng.choice(probs.shape[1], psus, replace=False)
            answers = rng.random((psus, cluster_size, cells)) < probs[h, chosen][:, None, :]
            weight = sizes[h] / psus
            y_totals.append(weight * answers.sum(axis=1))
            w_totals.append(np.full((psus, 1), weight * cluster_size))
            strata += [h] * psus
            drawn["y"].append(answers.reshape(-1, cells))
            drawn["w"].append(np.full(psus * cluster_size, weight))
            drawn["stratum"].append(np.full(psus * cluster_size, h))
            drawn["psu"].append(np.repeat(h * 1000 + chosen, cluster_size))
        y_psu, w_psu, stratum = np.vstack(y_totals), np.vstack(w_totals), np.array(strata)
        share = y_psu.sum(axis=0) / w_psu.sum()
        z = (y_psu - share * w_psu) / w_psu.sum()
        variance = sum(
            psus / (psus - 1) * ((z[stratum == h] - z[stratum == h].mean(axis=0)) ** 2).sum(axis=0) for h in range(2)
        )
        raw.append({k: np.concatenate(v) for k, v in drawn.items()})
        for c in range(cells):
            rows.append(
                {
                    "release_id": 2000 + year,
                    "source_row": c + 1,
                    "indicator": f"i{c}",
                    "survey": "citizens",
                    "segment": "all",
                    "answer": None,
                    "year": 2000 + year,
                    "value": share[c] * 100,
                    "n": 2 * psus * cluster_size,
                    "qualifier": None,
                    "se": float(np.sqrt(variance[c])) * 100,
                    "df": 2 * psus - 2,
                    "kind": "respondents",
                }
            )
    return pd.DataFrame(rows), truth, raw


def _flagged_years(out: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per year: how many changes have raw p < 0.05, and how many are significant (BH q < 0.05)."""
    tested = out[out["change_p_value"].notna()].assign(year=lambda d: d["release_id"])
    raw = tested.assign(hit=tested["change_p_value"] < 0.05).groupby("year")["hit"].sum()
    significant = tested.assign(hit=tested["change_significant"].astype(bool)).groupby("year")["hit"].sum()
    return raw, significant


@pytest.mark.parametrize("psus", [5, 20])
def test_few_psus_null_false_significance_and_coverage(psus: int) -> None:
    """Twenty null year pairs of a clustered design with 5 or 20 PSUs per stratum (df 8 or 38 a
    year), 170 changes a year: with Student's t on the smaller of the two years' design df, the
    raw rate of p < 0.05 is at most 5 % and at most one year in twenty shows any significant
    change after Benjamini-Hochberg; the Korn-Graubard intervals on the same df cover the true
    shares 93-97 % of the time. With 5 PSUs the normal reference (the test before df was
    stored) is anti-conservative: false significant changes in many of the twenty years.
    Over ten seeds (1000-1009, 200 year pairs per design) the t reference flagged 7 (5 PSUs)
    and 5 (20 PSUs) years, the normal one 95 and 22: a single run of twenty years shows 0 or 1
    flagged years with probability 0.74 even at an exact 5 % rate, so the seed is fixed."""
    from itip.design import design_shares, korn_graubard_many

    rng = np.random.default_rng(1000)  # the first of the ten seeds in docs/respondents.md
    frame, truth, raw = _clustered_null_years(rng, psus)
    # the simulation's variance is the design variance samplics computes (first year, three questions)
    first = frame[frame["year"] == 2000]
    for c in range(3):
        [ref] = design_shares(raw[0]["y"][:, c], raw[0]["w"], raw[0]["stratum"], raw[0]["psu"])
        assert first["value"].iloc[c] / 100 == pytest.approx(ref.share, abs=1e-12)
        assert first["se"].iloc[c] / 100 == pytest.approx(ref.se, rel=1e-9)
        assert first["df"].iloc[c] == ref.df == 2 * psus - 2

    low, high = korn_graubard_many(
        frame["value"] / 100, (frame["se"] / 100) ** 2, frame["n"], frame["df"].astype(float)
    )
    truths = np.tile(truth, 21)
    coverage = float(((low <= truths) & (truths <= high)).mean())
    assert 0.93 <= coverage <= 0.97, coverage

    raw_hits, significant = _flagged_years(compute_changes(frame, []))
    assert len(raw_hits) == 20 and (raw_hits.index == np.arange(2001, 2021)).all()
    assert 0.02 < raw_hits.sum() / (20 * 170) <= 0.05, raw_hits.sum()
    assert (significant > 0).sum() <= 1, significant.to_dict()
    if psus == 5:
        normal_hits, normal_significant = _flagged_years(compute_changes(frame.drop(columns="df"), []))
        assert normal_hits.sum() / (20 * 170) > 0.06
        assert (normal_significant > 0).sum() >= 5, normal_significant.to_dict()


@given(
    st.floats(0, 100),
    st.floats(0.01, 20),
    st.floats(0, 100),
    st.floats(0.01, 20),
    st.one_of(st.none(), st.integers(1, 2000)),
    st.one_of(st.none(), st.integers(1, 2000)),
)
def test_design_change_p_value_equals_scipy_stats_t(
    v1: float, se1: float, v2: float, se2: float, df1: int | None, df2: int | None
) -> None:
    """The design-based test's t tail comes from scipy.special (a third of scipy.stats'
    import, microseconds a call): the same p-value as scipy.stats' t.sf on the smaller df."""
    from itip.stats import design_change_p_value

    z = (v2 - v1) / math.sqrt(se1 * se1 + se2 * se2)
    dfs = [d for d in (df1, df2) if d is not None]
    expected = 2 * (sps.t.sf(abs(z), min(dfs)) if dfs else sps.norm.sf(abs(z)))
    p = design_change_p_value(v1, se1, v2, se2, df1, df2)
    assert p == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_the_change_test_uses_t_on_the_smaller_df() -> None:
    """By hand: 50 → 44 with se 2 and 2.5 points, df 8 and 30: t = -6/√10.25 = -1.874, against
    t_8: p = 0.0978 (the normal reference would give 0.0609). A year without df (loaded
    before df was stored) counts as normal: the other year's df is used; neither: normal."""
    from itip.stats import change_df, design_change_p_value

    t = -6 / math.sqrt(4 + 6.25)
    assert design_change_p_value(50, 2, 44, 2.5, 8, 30) == pytest.approx(2 * sps.t.sf(abs(t), 8), rel=1e-12)
    assert design_change_p_value(50, 2, 44, 2.5, 8, 30) == pytest.approx(0.0978, abs=5e-4)
    assert design_change_p_value(50, 2, 44, 2.5, None, 30) == pytest.approx(2 * sps.t.sf(abs(t), 30), rel=1e-12)
    assert design_change_p_value(50, 2, 44, 2.5) == pytest.approx(2 * sps.norm.sf(abs(t)), rel=1e-12)
    assert change_df(8, 30) == 8 and change_df(None, None) is None and change_df(float("nan"), 12) == 12
