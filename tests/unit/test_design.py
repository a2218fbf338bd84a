"""Design-based shares (itip.design, samplics) against the linearisation written out by hand.

All data here is SYNTHETIC (simulated designs), labelled so."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from itip.design import design_shares, korn_graubard


def hand_linearised(y, w, stratum, psu, fpc, domain, d):  # type: ignore[no-untyped-def]
    """Var of the domain mean Σwδy/Σwδ: z_i = wδ(y - p)/Σwδ, PSU totals z_hi,
    V = Σ_h (1 - f_h) n_h/(n_h - 1) Σ_i (z_hi - z̄_h)² (Wolter 2007, §6; R survey's svymean)."""
    inside = domain == d
    total = (w * inside).sum()
    p = (w * inside * y).sum() / total
    z = w * inside * (y - p) / total
    variance = 0.0
    for h in np.unique(stratum):
        in_h = stratum == h
        units = np.unique(psu[in_h])
        totals = np.array([z[in_h & (psu == u)].sum() for u in units])
        n_h = len(units)
        variance += (1 - fpc.get(h, 0.0)) * n_h / (n_h - 1) * ((totals - totals.mean()) ** 2).sum()
    return p, variance


def _design(kind: str, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    if kind == "stratified":
        stratum = rng.integers(0, 4, 600)
        psu = np.arange(600)
        fpc = {0: 0.1, 1: 0.2, 2: 0.05, 3: 0.0}
    elif kind == "clustered":
        stratum = np.repeat(np.arange(3), 200)
        psu = stratum * 100 + rng.integers(0, 12, 600)
        fpc = {}
    else:  # near-census: 300 of 357 municipalities answer (f = 0.84), plus a sampled state stratum
        stratum = np.array([0] * 300 + [1] * 300)
        psu = np.arange(600)
        fpc = {0: 300 / 357, 1: 0.02}
    cluster_effect = rng.normal(0, 0.8, psu.max() + 1)[psu]
    y = (rng.random(600) < 1 / (1 + np.exp(-(0.3 + cluster_effect)))).astype(float)
    w = rng.uniform(0.5, 3.0, 600)
    domain = rng.integers(0, 3, 600)
    return y, w, stratum, psu, fpc, domain


@pytest.mark.parametrize("kind", ["stratified", "clustered", "near_census"])
def test_shares_and_standard_errors_match_the_hand_linearisation(kind: str) -> None:
    rng = np.random.default_rng({"stratified": 1, "clustered": 2, "near_census": 3}[kind])
    y, w, stratum, psu, fpc, domain = _design(kind, rng)
    got = design_shares(y, w, stratum, psu, fpc, domain)
    assert [g.domain for g in got] == [0, 1, 2]
    for g in got:
        p, variance = hand_linearised(y, w, stratum, psu, fpc, domain, g.domain)
        assert g.share == pytest.approx(p, abs=1e-9)
        assert g.se == pytest.approx(variance**0.5, abs=1e-6)
        assert g.design_effect == pytest.approx(variance / (p * (1 - p) / g.n), abs=1e-6)
        assert g.df == len(set(zip(stratum.tolist(), psu.tolist(), strict=True))) - len(np.unique(stratum))
        assert g.ci_low < g.share < g.ci_high


def test_near_census_fpc_narrows_the_interval() -> None:
    """The municipal stratum is nearly a census: with its FPC the SE is about sqrt(1 - 0.84) = 0.4
    of the SE without it (issue 8: intervals 2.4 times too wide without)."""
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.6).astype(float)
    w = np.full(300, 357 / 300)
    [with_fpc] = design_shares(y, w, fpc={0: 300 / 357})
    [without] = design_shares(y, w)
    assert with_fpc.se / without.se == pytest.approx((1 - 300 / 357) ** 0.5, rel=1e-9)


def test_korn_graubard_is_clopper_pearson_on_the_df_adjusted_effective_n() -> None:
    """By hand, as R survey's svyciprop(method = "beta"): n_eff = p(1-p)/V·(t_{n-1}/t_df)²,
    bounds qbeta(0.025, n_eff·p, n_eff·(1-p) + 1) and qbeta(0.975, n_eff·p + 1, n_eff·(1-p))."""
    p, variance, n, df = 0.08, 0.0004, 400, 20
    n_eff = p * (1 - p) / variance * (stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)) ** 2
    low, high = korn_graubard(p, variance, n, df)
    assert low == pytest.approx(stats.beta.ppf(0.025, n_eff * p, n_eff * (1 - p) + 1), abs=1e-12)
    assert high == pytest.approx(stats.beta.ppf(0.975, n_eff * p + 1, n_eff * (1 - p)), abs=1e-12)
    assert 0 < low < p < high < 1


def test_coverage_of_clustered_design_is_near_95_percent() -> None:
    """Simulated (SYNTHETIC) population of 60 clusters of 40 in 3 strata with a strong cluster
    effect; repeated samples of 8 clusters per stratum. Kish's n_eff would ignore the
    clustering; the design-based Korn-Graubard interval covers the true share 93-97 % of the time."""
    rng = np.random.default_rng(20261128)
    strata, clusters, size = 3, 20, 40
    effect = rng.normal(0, 1.0, (strata, clusters))
    prob = 1 / (1 + np.exp(-(effect[:, :, None] + rng.normal(0, 0.3, (strata, clusters, size)))))
    population = (rng.random((strata, clusters, size)) < prob).astype(float)
    truth = population.mean()
    covered = 0
    runs = 400
    for _ in range(runs):
        ys, ws, hs, us = [], [], [], []
        for h in range(strata):
            for u in rng.choice(clusters, 8, replace=False):
                ys.append(population[h, u])
                ws.append(np.full(size, clusters / 8))
                hs.append(np.full(size, h))
                us.append(np.full(size, h * 100 + u))
        [est] = design_shares(
            np.concatenate(ys),
            np.concatenate(ws),
            np.concatenate(hs),
            np.concatenate(us),
            {h: 8 / 20 for h in range(3)},
        )
        covered += est.ci_low <= truth <= est.ci_high
    assert 0.93 <= covered / runs <= 0.97


# --- the pipeline's SQL linearisation against samplics ---------------------------------------
AGE_CODES = {1: "age_16_24", 2: "age_25_44", 3: "age_45_66", 4: "age_67_plus"}


def _respondent_design(kind: str, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """A SYNTHETIC citizens file's design: strata, PSUs, population sizes N_h (PSUs)."""
    size = 900
    if kind == "stratified":
        stratum = rng.integers(0, 4, size)
        psu = np.arange(size)
        population = {0: 9000, 1: 4500, 2: 20000, 3: 10**6}
    elif kind == "clustered":
        stratum = np.repeat(np.arange(3), 300)
        psu = stratum * 100 + rng.integers(0, 12, size)
        population = {0: 400, 1: 120, 2: 1000}
    else:  # near-census: 300 of 357 municipalities answer, plus a sampled stratum
        stratum = np.array([0] * 300 + [1] * 600)
        psu = np.arange(size)
        population = {0: 357, 1: 30000}
    effect = rng.normal(0, 0.8, psu.max() + 1)[psu]
    p = 1 / (1 + np.exp(-(0.2 + effect)))
    answer = np.where(rng.random(size) < p, rng.integers(3, 6, size), rng.integers(1, 3, size))
    answer[rng.random(size) < 0.06] = 8  # vet ikke: leaves the denominator
    w = rng.uniform(0.5, 3.0, size).round(4)
    age = rng.integers(1, 5, size)
    return answer, w, stratum, psu, population, age


def _file(tmp_path, answer, w, stratum, psu, population, age):  # type: ignore[no-untyped-def]
    rows = ["respondent_id,survey,age_group,weight,stratum,psu,population,q_tillit_opplysninger"]
    for i in range(len(answer)):
        rows.append(
            f"R2024-{i:06d},citizens,{age[i]},{w[i]},s{stratum[i]},p{psu[i]},{population[stratum[i]]},{answer[i]}"
        )
    path = tmp_path / "itip_2024_respondents.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["stratified", "clustered", "near_census"])
def test_pipeline_standard_errors_match_samplics(tmp_path, codebook, kind: str) -> None:  # type: ignore[no-untyped-def]
    """The respondent pipeline computes the linearised variance as grouped sums in DuckDB (speed);
    samplics' TaylorEstimator on the same respondents is the reference: share, standard error and
    design effect agree to 1e-6 for every segment (domain), and the interval is Korn-Graubard on
    the domain's design degrees of freedom (its PSUs - its strata, as R survey's degf)."""
    import dataclasses

    from itip.respondents.check import check_respondents

    rng = np.random.default_rng({"stratified": 11, "clustered": 12, "near_census": 13}[kind])
    answer, w, stratum, psu, population, age = _respondent_design(kind, rng)
    path = _file(tmp_path, answer, w, stratum, psu, population, age)
    spec = dataclasses.replace(codebook.respondents, min_cell_n=1, min_cell_n_extreme=1)
    result = check_respondents(path, dataclasses.replace(codebook, respondents=spec), 2024, b"k")
    assert result.ok, result.problems
    estimates = result.estimates.query("indicator == 'trust_personal_data_safe'").set_index("segment")
    assert set(estimates.index) == {"all", *AGE_CODES.values()}
    answered = answer <= 5
    # outside the domain y does not count; 0.5 keeps samplics' coefficient of variation of the
    # "out" domain finite (it divides by its mean)
    y = np.where(answered, np.isin(answer, [3, 4, 5]).astype(float), 0.5)
    fractions = {h: len(np.unique(psu[stratum == h])) / population[h] for h in population}
    for segment, row in estimates.iterrows():
        inside = answered & (True if segment == "all" else np.vectorize(AGE_CODES.get)(age) == segment)
        domain = np.where(inside, "in", "out")
        [ref] = [d for d in design_shares(y, w, stratum, psu, fractions, domain) if d.domain == "in"]
        assert row["value"] / 100 == pytest.approx(ref.share, abs=1e-9)
        assert row["n"] == ref.n
        assert row["se"] / 100 == pytest.approx(ref.se, rel=1e-6, abs=1e-9)
        assert row["design_effect"] == pytest.approx(ref.design_effect, rel=1e-6)
        df = len(set(zip(stratum[inside], psu[inside], strict=True))) - len(np.unique(stratum[inside]))
        low, high = korn_graubard(ref.share, ref.se**2, ref.n, df)
        assert row["df"] == max(df, 1)  # stored: the test of change refers to t on it
        assert row["ci_low"] / 100 == pytest.approx(low, abs=1e-9)
        assert row["ci_high"] / 100 == pytest.approx(high, abs=1e-9)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{stratum: stratum, replicates: {columns: [r1, r2], method: jackknife}}",
            "replicate weights are not supported",
        ),
        ("{stratum: stratum, cluster: psu}", "unknown key(s) cluster"),
        ("{stratum: Stratum}", "must match [a-z][a-z0-9_]*"),
        ("{stratum: weight}", "already declared for another purpose"),
        ("{stratum: s, psu: s}", "must be different columns"),
    ],
)
def test_a_bad_design_declaration_is_refused_with_a_clear_error(tmp_path, entry: str, message: str) -> None:  # type: ignore[no-untyped-def]
    from itip.codebook import load_codebook
    from itip.paths import CODEBOOK
    from itip.problems import ItipError

    text = CODEBOOK.read_text(encoding="utf-8").replace(
        "  design: {stratum: stratum, psu: psu, population: population}", f"  design: {entry}"
    )
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ItipError) as raised:
        load_codebook(path)
    assert str(path) in str(raised.value) and "respondents.design" in str(raised.value)
    assert message in str(raised.value)


def test_design_problems_in_a_file_are_reported_with_the_column(tmp_path, codebook) -> None:  # type: ignore[no-untyped-def]
    """A population size that differs within a stratum, one smaller than the PSUs in the file, and
    a stratum with a single PSU (no variance can be estimated) reject the file, naming the column."""
    from itip.respondents.check import check_respondents

    header = "respondent_id,survey,age_group,weight,stratum,psu,population,q_tillit_opplysninger"
    rows = [header]
    rows += [f"R2024-{i:06d},citizens,1,1,a,p{i},{100 if i else 99},4" for i in range(20)]  # N differs
    rows += [f"R2024-{i:06d},citizens,1,1,b,p{i},3,4" for i in range(20, 30)]  # 10 PSUs of 3
    rows += ["R2024-000031,citizens,1,1,c,p31,50,4"]  # one PSU
    path = tmp_path / "itip_2024_respondents.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = check_respondents(path, codebook, 2024, b"k")
    checks = {(p.check, p.column) for p in result.problems}
    assert checks == {
        ("population_constant", "population"),
        ("population_size", "population"),
        ("lonely_psu", "stratum"),
    }, result.problems
    assert all("stratum" in p.message for p in result.problems)
