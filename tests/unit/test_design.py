"""Design-based shares (itip.design, samplics) against the linearisation written out by hand.

All data here is SYNTHETIC (simulated designs), labelled so."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from itip.design import design_shares, korn_graubard, korn_graubard_many


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


@given(
    st.one_of(st.sampled_from([0.0, 1.0]), st.floats(1e-9, 1 - 1e-9)),
    st.one_of(st.just(0.0), st.floats(1e-12, 0.05)),
    st.integers(1, 2_000_000),
    st.integers(0, 500),
)
def test_korn_graubard_many_equals_scipy_stats_quantiles(p: float, variance: float, n: int, df: int) -> None:
    """The intervals use scipy.special's quantile functions (a third of scipy.stats' import,
    paid by every respondent ingest); they are the ones beta.ppf and t.ppf compute."""
    edge, census = p in (0.0, 1.0), 0 < p < 1 and variance == 0
    n_eff = n if edge or census else p * (1 - p) / variance
    if not (edge or census) and df > 0 and n > 1:
        n_eff *= (stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)) ** 2
    x = p * n_eff
    low = 0.0 if x <= 0 else stats.beta.ppf(0.025, x, n_eff - x + 1)
    high = 1.0 if x >= n_eff else stats.beta.ppf(0.975, x + 1, n_eff - x)
    if census:
        low = high = p
    [got_low], [got_high] = korn_graubard_many([p], [variance], [n], [df])
    assert got_low == pytest.approx(min(max(low, 0.0), 1.0), rel=1e-12, abs=1e-15, nan_ok=True)
    assert got_high == pytest.approx(min(max(high, 0.0), 1.0), rel=1e-12, abs=1e-15, nan_ok=True)


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
        ("{stratum: stratum, replicates: {columns: [r1, r2], method: jackknife}}", "'jackknife' is not one of"),
        ("{replicates: {method: jk1, columns: [r1]}}", "1 replicate weight(s); a variance needs at least 2"),
        ("{replicates: {method: jk1, prefix: rw, count: 1}}", "a variance needs at least 2"),
        ("{replicates: {method: jk1, columns: [r1, r1]}}", "listed twice"),
        ("{replicates: {method: jk1, columns: [R1, r2]}}", "must match [a-z][a-z0-9_]*"),
        ("{replicates: {method: bootstrap, prefix: rw, count: 5}}", "replicates.scale: bootstrap replicates need"),
        ("{replicates: {method: brr, prefix: rw, count: 4, fay: 1.0}}", "replicates.fay: 1.0 must be at least 0"),
        ("{replicates: {method: jk1, prefix: rw, count: 4, fay: 0.5}}", "belongs to method brr only"),
        ("{replicates: {method: brr, prefix: rw, count: 4, scale: 0.25}}", "replicates.scale: brr's scale"),
        ("{replicates: {method: jk1, columns: [r1, r2], prefix: rw}}", "either columns (a list) or prefix"),
        ("{replicates: {method: jk1, columns: [r1, r2], rho: 0.5}}", "unknown key(s) rho"),
        ("{replicates: {method: jk1, columns: [weight, r2]}}", "already declared for another purpose"),
        ("{stratum: rw1, replicates: {method: jk1, prefix: rw, count: 3}}", "also the stratum, psu or population"),
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


# --- replicate weights (itip.replicates) against samplics' ReplicateEstimator --------------------
def _replicate_weights(method: str, w, rng):  # type: ignore[no-untyped-def]
    """SYNTHETIC replicate weights for 900 respondents in 16 PSUs (8 strata of 2 for BRR):
    JK1 deletes one PSU at a time; BRR halves by an 8×8 Hadamard matrix, Fay ρ = 0.5;
    the bootstrap resamples PSUs with replacement (30 replicates)."""
    from scipy.linalg import hadamard

    psu = np.arange(900) % 16
    if method == "jk1":
        return np.column_stack([np.where(psu == g, 0.0, w * 16 / 15) for g in range(16)])
    if method == "brr":
        signs = hadamard(8)  # replicate r keeps PSU 2h or 2h+1 of stratum h by the sign
        stratum, half = psu // 2, psu % 2
        keep = [(signs[r, stratum] > 0) == (half == 0) for r in range(8)]
        return np.column_stack([w * np.where(k, 1.5, 0.5) for k in keep])
    draws = rng.multinomial(15, np.full(16, 1 / 16), size=30)  # Rao-Wu: n_h - 1 PSUs drawn
    return np.column_stack([w * draws[r][psu] * 16 / 15 for r in range(30)])


REPLICATES = {
    "jk1": ("{method: jk1, prefix: rw, count: 16}", {}),
    "brr": ("{method: brr, prefix: rw, count: 8, fay: 0.5}", {"fay_coef": 0.5}),
    "bootstrap": ("{method: bootstrap, prefix: rw, count: 30, scale: 0.0344827586206896}", {}),
}


@pytest.mark.parametrize("method", list(REPLICATES))
def test_replicate_standard_errors_match_samplics(tmp_path, method: str) -> None:  # type: ignore[no-untyped-def]
    """A codebook declaring replicate weights (the YAML parsed as a user writes it) and a
    SYNTHETIC file carrying them: share, standard error and design effect of every segment
    (domain) agree with samplics' ReplicateEstimator to 1e-6; df is replicates - 1 and the
    interval Korn-Graubard on it, stored as the Taylor path stores them."""
    import dataclasses
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from samplics.estimation import ReplicateEstimator
        from samplics.utils.types import PopParam, RepMethod

    from itip.codebook import load_codebook
    from itip.paths import CODEBOOK
    from itip.respondents.check import check_respondents

    entry, options = REPLICATES[method]
    text = CODEBOOK.read_text(encoding="utf-8").replace(
        "  design: {stratum: stratum, psu: psu, population: population}", f"  design: {{replicates: {entry}}}"
    )
    (tmp_path / "codebook.yaml").write_text(text, encoding="utf-8")
    codebook = load_codebook(tmp_path / "codebook.yaml")
    spec = dataclasses.replace(codebook.respondents, min_cell_n=1, min_cell_n_extreme=1)
    codebook = dataclasses.replace(codebook, respondents=spec)
    replicates = spec.design.replicates

    rng = np.random.default_rng({"jk1": 21, "brr": 22, "bootstrap": 23}[method])
    answer, w, _, _, _, age = _respondent_design("stratified", rng)
    reps = _replicate_weights(method, w, rng).round(6)
    names = [f"rw{k + 1}" for k in range(reps.shape[1])]
    rows = [",".join(["respondent_id", "survey", "age_group", "weight", *names, "q_tillit_opplysninger"])]
    for i in range(len(answer)):
        cells = [f"R2024-{i:06d}", "citizens", str(age[i]), str(w[i]), *(f"{v:.6f}" for v in reps[i]), str(answer[i])]
        rows.append(",".join(cells))
    path = tmp_path / "itip_2024_respondents.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = check_respondents(path, codebook, 2024, b"k")
    assert result.ok, result.problems
    estimates = result.estimates.query("indicator == 'trust_personal_data_safe'").set_index("segment")
    assert set(estimates.index) == {"all", *AGE_CODES.values()}
    answered = answer <= 5
    y = np.where(answered, np.isin(answer, [3, 4, 5]).astype(float), 0.5)
    kind = {"jk1": RepMethod.jackknife, "brr": RepMethod.brr, "bootstrap": RepMethod.bootstrap}[method]
    for segment, row in estimates.iterrows():
        inside = answered & (True if segment == "all" else np.vectorize(AGE_CODES.get)(age) == segment)
        domain = np.where(inside, "in", "out")
        ref = ReplicateEstimator(kind, PopParam.mean, **options)
        coefs = replicates.scale if method == "bootstrap" else None
        ref.estimate(y=y, samp_weight=w, rep_weights=reps, rep_coefs=coefs, domain=domain)
        share, se = float(ref.point_est["in"]), float(ref.stderror["in"])
        assert row["value"] / 100 == pytest.approx(share, abs=1e-9)
        assert row["se"] / 100 == pytest.approx(se, rel=1e-6, abs=1e-9)
        n = int(inside.sum())
        assert row["design_effect"] == pytest.approx(se**2 / (share * (1 - share) / n), rel=1e-6)
        assert row["df"] == reps.shape[1] - 1
        if method != "brr":  # samplics' df for BRR is R/2 (documented: itip follows R survey, R - 1)
            assert row["df"] == ref.degree_of_freedom
        low, high = korn_graubard(share, se**2, n, reps.shape[1] - 1)
        assert row["ci_low"] / 100 == pytest.approx(low, abs=1e-7)
        assert row["ci_high"] / 100 == pytest.approx(high, abs=1e-7)


def test_replicate_variance_differs_from_the_default_design(tmp_path, codebook) -> None:  # type: ignore[no-untyped-def]
    """A file with the declared replicate weights takes its variance from them; without them the
    same answers get the default (Taylor, one stratum) design: the replicates are really used."""
    import dataclasses

    from itip.replicates import Replicates
    from itip.respondents.check import check_respondents
    from itip.respondents.spec import Design

    rng = np.random.default_rng(24)
    answer, w, _, _, _, age = _respondent_design("stratified", rng)
    reps = _replicate_weights("jk1", w, rng)
    names = [f"rw{k + 1}" for k in range(16)]
    design = Design(replicates=Replicates("jk1", tuple(names)))
    spec = dataclasses.replace(codebook.respondents, min_cell_n=1, min_cell_n_extreme=1, design=design)
    codebook = dataclasses.replace(codebook, respondents=spec)
    ses = []
    for with_reps in (True, False):
        header = ["respondent_id", "survey", "age_group", "weight", "q_tillit_opplysninger"]
        rows = [",".join(header + (names if with_reps else []))]
        for i in range(len(answer)):
            extra = [f"{v:.6f}" for v in reps[i]] if with_reps else []
            rows.append(",".join([f"R2024-{i:06d}", "citizens", str(age[i]), str(w[i]), str(answer[i]), *extra]))
        path = tmp_path / f"{with_reps}" / "itip_2024_respondents.csv"
        path.parent.mkdir()
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        result = check_respondents(path, codebook, 2024, b"k")
        assert result.ok, result.problems
        row = result.estimates.query("indicator == 'trust_personal_data_safe' and segment == 'all'").iloc[0]
        ses.append((row["se"], row["df"]))
    assert ses[0][1] == 15 and ses[1][1] == (answer <= 5).sum() - 1  # default: answering respondents - 1
    assert ses[0][0] != pytest.approx(ses[1][0], rel=1e-3)


def test_bad_replicate_weights_in_a_file_are_problems_naming_row_and_column(tmp_path, codebook) -> None:  # type: ignore[no-untyped-def]
    """A declared replicate column missing from a file that has the others, a cell that is not
    a number, a negative weight and an empty cell: one problem each, with file, row and column;
    nothing is estimated."""
    import dataclasses

    from itip.replicates import Replicates
    from itip.respondents.check import check_respondents
    from itip.respondents.spec import Design

    design = Design(replicates=Replicates("jk1", ("rw1", "rw2", "rw3")))
    spec = dataclasses.replace(codebook.respondents, design=design)
    codebook = dataclasses.replace(codebook, respondents=spec)
    rows = ["respondent_id,survey,age_group,weight,rw1,rw2,q_tillit_opplysninger"]
    rows += [f"R2024-{i:06d},citizens,1,1,1.5,0,4" for i in range(20)]
    rows[3] = "R2024-000002,citizens,1,1,abc,0,4"
    rows[5] = "R2024-000004,citizens,1,1,1.5,-2,4"
    rows[7] = "R2024-000006,citizens,1,1,,0,4"
    path = tmp_path / "itip_2024_respondents.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = check_respondents(path, codebook, 2024, b"k")
    assert not result.ok and result.estimates.empty
    found = {(p.check, p.row, p.column) for p in result.problems}
    assert found == {
        ("replicate_missing", None, "rw3"),
        ("replicate_weight", 4, "rw1"),
        ("replicate_weight", 6, "rw2"),
        ("replicate_weight", 8, "rw1"),
    }, result.problems
    assert all(p.file == "itip_2024_respondents.csv" for p in result.problems)
    assert any(str(p).startswith("itip_2024_respondents.csv, row 4, column rw1: ") for p in result.problems)


@pytest.mark.usefixtures("prefect_harness")
def test_the_test_of_change_uses_replicate_standard_errors_and_df(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two SYNTHETIC years with JK1 replicate weights (16 replicates) loaded by the real ingest flow
    into a warehouse file: `trend` stores each year's replicate `se` and df = 15, and the change's
    p-value is t = Δ / √(se₁² + se₂²) against Student's t on 15 df, not on the 800-odd df of the
    default design."""
    import duckdb
    from scipy import stats

    from flows.ingest import ingest
    from itip import ingest as lib
    from itip.paths import CODEBOOK

    text = CODEBOOK.read_text(encoding="utf-8").replace(
        "  design: {stratum: stratum, psu: psu, population: population}",
        "  design: {replicates: {method: jk1, prefix: rw, count: 16}}",
    )
    codebook_path = tmp_path / "codebook.yaml"
    codebook_path.write_text(text, encoding="utf-8")
    raw = tmp_path / "raw"
    raw.mkdir()
    names = [f"rw{k + 1}" for k in range(16)]
    for year, seed, lift in ((2024, 31, 0.0), (2025, 32, 0.6)):
        rng = np.random.default_rng(seed)
        answer, w, _, _, _, age = _respondent_design("stratified", rng)
        answer = np.where((answer <= 2) & (rng.random(len(answer)) < lift / 2), 4, answer)
        reps = _replicate_weights("jk1", w, rng)
        rows = [",".join(["respondent_id", "survey", "age_group", "weight", *names, "q_tillit_opplysninger"])]
        for i in range(len(answer)):
            cells = [f"R{year}-{i:06d}", "citizens", str(age[i]), str(w[i]), *(f"{v:.6f}" for v in reps[i])]
            rows.append(",".join([*cells, str(answer[i])]))
        (raw / f"itip_{year}_respondents.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    wh = tmp_path / "itip.duckdb"
    outcomes = ingest(raw_dir=raw, warehouse=wh, codebook_path=codebook_path)
    assert [o.status for o in outcomes] == [lib.LOADED, lib.LOADED], [o.problems for o in outcomes]
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = con.execute(
            "SELECT year, value, se, df, change_pp, change_p_value FROM trend "
            "WHERE indicator = 'trust_personal_data_safe' AND segment = 'all' ORDER BY year"
        ).fetchall()
    [(_, v1, se1, df1, _, _), (_, v2, se2, df2, change, p)] = rows
    assert df1 == df2 == 15
    assert change == pytest.approx(v2 - v1)
    t = (v2 - v1) / (se1**2 + se2**2) ** 0.5
    assert p == pytest.approx(2 * stats.t.sf(abs(t), 15), rel=1e-6)
    assert p != pytest.approx(2 * stats.t.sf(abs(t), 800), rel=1e-3)
