"""Statistics for trend rows: intervals and tests of change.

Standard methods from statsmodels, named so the docs can cite them:
- interval: 95 % Wilson score interval (`proportion_confint(method="wilson")`);
- change: where either year is a respondent-level estimate with a design-based
  standard error, the Wald statistic t = change / sqrt(se1² + se2²) on the design
  variances of the two years (independent samples assumed), referred to Student's
  t with the smaller of the two years' design degrees of freedom (a normal
  reference is anti-conservative with few PSUs; see `design_change_p_value`); where both are
  published figures with n (or respondent-level estimates loaded before `se`
  existed), the two-sided two-proportion z-test with pooled variance
  (`proportions_ztest`, in closed form), on counts value/100 × n.
- multiple comparisons: Benjamini-Hochberg false discovery rate within each
  year and survey (`multipletests(method="fdr_bh")`, in numpy); a change is called
  significant only when its q-value is below 0.05. About 170 changes are tested
  per year: at p < 0.05 alone some nine of them would look significant every
  year when nothing changed.
Both need n; a value with a qualifier (`below`, `approx`) is not an exact share,
so it gets neither.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from types import SimpleNamespace
from typing import Any

import pandas as pd

#: Significance level of the 95 % intervals (1 - confidence): an alpha, not a z-value.
ALPHA = 0.05
#: False discovery rate at which a change is called significant (q < Q_LEVEL).
Q_LEVEL = 0.05
#: Two-sided normal quantile of ALPHA (1.959963984540054).
_Z = NormalDist().inv_cdf(1 - ALPHA / 2)


def _exact(value: object, n: object, qualifier: object) -> bool:
    return (
        value is not None
        and not pd.isna(value)  # type: ignore[call-overload]
        and n is not None
        and not pd.isna(n)  # type: ignore[call-overload]
        and (qualifier is None or pd.isna(qualifier))  # type: ignore[call-overload]
        and 0 <= float(value) <= 100  # type: ignore[arg-type]
        and float(n) > 0  # type: ignore[arg-type]
    )


def wilson_interval(value: float, n: int) -> tuple[float, float]:
    """95 % Wilson interval for a share given in percent, returned in percent."""
    # The closed form of statsmodels' proportion_confint(method="wilson") (tested equal to it):
    # importing statsmodels costs seconds, and `itip check` needs only this formula.
    p = value / 100
    z = _Z
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) * 100, (centre + half) * 100


def intervals(df: pd.DataFrame) -> tuple[list[float | None], list[float | None]]:
    lows: list[float | None] = []
    highs: list[float | None] = []
    for value, n, qualifier in zip(df["value"], df["n"], df["qualifier"], strict=True):
        if _exact(value, n, qualifier):
            low, high = wilson_interval(float(value), int(n))
            lows.append(low)
            highs.append(high)
        else:
            lows.append(None)
            highs.append(None)
    return lows, highs


def change_p_value(value1: float, n1: float, value2: float, n2: float) -> float | None:
    """p-value of the two-sided pooled two-proportion z-test; None when undefined
    (both shares 0 % or both 100 %: no variance, no test). For respondent-level
    estimates n is Kish's effective sample size, so the test allows for the weights.

    The closed form of statsmodels' `proportions_ztest(counts, nobs)` (tested equal to it):
    importing statsmodels took 1.5 s of every ingest that loads a file."""
    count1, count2 = value1 / 100 * n1, value2 / 100 * n2
    pooled = (count1 + count2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return None
    z = (count1 / n1 - count2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return _two_sided_normal(z)


def _two_sided_normal(z: float) -> float:
    """2·P(Z > |z|) as erfc(|z|/√2): full precision in the far tail, where 1 - Φ(|z|)
    (and `NormalDist.cdf`, built on erf) lose digits."""
    return math.erfc(abs(z) / math.sqrt(2))


def base_reason(prev_year: int, prev_base: object, year: int, base: object) -> str | None:
    """Why two years of a series cannot be compared for their answer base, or None.

    A share with "vet ikke" in the denominator is lower than the same answers without
    it (2023 benefits_realised: 10 + 71 + 13 = 94 % of all who answered): comparing
    them would invent a change. A known base never meets an unknown one silently;
    two unknown bases (published figures the codebook declares nothing for) are
    compared, assuming the publisher kept its practice."""
    prev_known = isinstance(prev_base, str)
    known = isinstance(base, str)
    if prev_known and known and prev_base != base:
        return f"Answer base differs: {prev_base} in {prev_year}, {base} in {year}"
    if prev_known != known:
        unknown = year if prev_known else prev_year
        return f"Answer base unknown in {unknown} (not declared in the codebook), known in the other year"
    return None


def change_df(df1: float | None, df2: float | None) -> float | None:
    """Degrees of freedom of the t reference for a change between two years: the smaller of
    the two years' design degrees of freedom; a year whose df is unknown counts as normal
    (infinite df); None when neither is known (normal reference).

    Why the smaller and not the Welch-Satterthwaite combination (v1 + v2)² / (v1²/df1 + v2²/df2)
    that samplics' `Ttest(samp_type="two-sample")` uses for unequal variances (with n - 1 per
    group there): Satterthwaite assumes each variance is a scaled chi-square on df = PSUs -
    strata (R survey's `degf`), and that overstates a design variance's effective df whenever
    strata contribute unequally. In a null simulation like the one in tests/unit/test_stats.py (two
    strata of 5 PSUs, df 8 a year) Satterthwaite's df (about 15) flagged a false significant
    change in 8 of 100 years after Benjamini-Hochberg, the smaller df in none, with a raw rate
    of p < 0.05 of 4 % (5.3 % with Satterthwaite). R survey's `svyttest` likewise refers a
    difference within one design to the design's own df (degf - 2), never to more.
    """
    known = [float(d) for d in (df1, df2) if d is not None and not pd.isna(d) and float(d) > 0]  # type: ignore[call-overload]
    return min(known) if known else None


def design_change_p_value(
    value1: float, se1: float, value2: float, se2: float, df1: float | None = None, df2: float | None = None
) -> float | None:
    """Two-sided p-value of t = (value2 - value1) / sqrt(se1² + se2²) (percent and percentage
    points) against Student's t with `change_df(df1, df2)` degrees of freedom (normal when both
    are unknown). The two editions are treated as independent samples: where the same units
    answer both years (the organisation survey re-asks municipalities) the covariance is
    positive, so the true variance of the difference is smaller and this test is conservative.
    None when both standard errors are 0 (no sampling error)."""
    spread = math.sqrt(se1 * se1 + se2 * se2)
    if not spread > 0:
        return None
    z = (value2 - value1) / spread
    df = change_df(df1, df2)
    if df is None:
        return _two_sided_normal(z)
    # scipy.special's Student t (what scipy.stats.t.sf calls): a third of the import, and a
    # call per change costs microseconds, not the 50 µs of the distribution object's
    from scipy.special import stdtr  # only when a design-based change is tested

    return float(2 * stdtr(df, -abs(z)))


def _has(value: object) -> bool:
    return value is not None and not pd.isna(value)  # type: ignore[call-overload]


def change_tests(pairs: pd.DataFrame) -> pd.DataFrame:
    """The test of each comparable change: its raw p-value and the Benjamini-Hochberg q-value.

    `pairs` holds one row per current estimate that is comparable with its previous year
    (the view changes says which), with both years' value, n, qualifier, se, df and kind as
    the view change_pairs gives them. Everything else about a change (which year it is
    against, the difference, comparability and its reason) is SQL (warehouse/sql/88_changes.sql);
    only the p-value needs a distribution function. Both years must be exact shares with an
    n: the design test (Student's t on the smaller df of the two years, `change_df`) where
    either is a respondent-level estimate with se, else the pooled two-proportion z-test.
    Rows that cannot be tested are left out: in the view they read as untested (NULL)."""
    out: list[dict[str, Any]] = []
    for rec in pairs.to_dict("records"):  # one conversion: to_dict per row cost 1 ms each
        row: Any = SimpleNamespace(**{str(k): v for k, v in rec.items()})
        if not (_has(row.value) and _exact(row.value, row.n, row.qualifier)):
            continue
        if not _exact(row.prev_value, row.prev_n, row.prev_qualifier):
            continue
        if "respondents" in (row.kind, row.prev_kind) and _has(row.se) and _has(row.prev_se):
            p = design_change_p_value(
                float(row.prev_value),
                float(row.prev_se),
                float(row.value),
                float(row.se),
                float(row.prev_df) if _has(row.prev_df) else None,
                float(row.df) if _has(row.df) else None,
            )
        else:
            p = change_p_value(float(row.prev_value), float(row.prev_n), float(row.value), float(row.n))
        if p is not None:
            out.append(
                {
                    "release_id": row.release_id,
                    "source_row": row.source_row,
                    "year": row.year,
                    "survey": row.survey,
                    "change_p_value": p,
                }
            )
    tested = pd.DataFrame.from_records(out, columns=["release_id", "source_row", "year", "survey", "change_p_value"])
    tested["change_q_value"], tested["change_significant"] = q_values(
        tested["change_p_value"], tested["year"], tested["survey"]
    )
    return tested.drop(columns=["year", "survey"])


def q_values(p_values: pd.Series, year: pd.Series, survey: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Benjamini-Hochberg q-values within each year and survey, and q < Q_LEVEL.

    The family is every change tested for one survey edition (all indicators,
    segments and answers): that is the set a reader scans for news in one
    report. BH controls the false discovery rate under independence and under
    positive regression dependence (Benjamini & Yekutieli 2001), which covers
    nested segments and the answers of one question moving together. Rows
    without a p-value get neither (None): untested is not "not significant".

    The step-up itself is `benjamini_hochberg`; statsmodels' `multipletests(method="fdr_bh")`
    is the reference it is tested against (tests/unit/test_stats.py)."""
    q = pd.Series([None] * len(p_values), index=p_values.index, dtype="object")
    significant = pd.Series([None] * len(p_values), index=p_values.index, dtype="object")
    p = pd.to_numeric(p_values, errors="coerce")
    tested = p.notna()
    for _, idx in p[tested].groupby([year[tested], survey[tested]]).groups.items():
        adjusted = benjamini_hochberg(p.loc[idx].to_numpy(float))
        for i, value in zip(idx, adjusted, strict=True):
            q.loc[i] = float(value)
            significant.loc[i] = bool(value < Q_LEVEL)
    return q, significant


def benjamini_hochberg(p: Any) -> Any:
    """Benjamini-Hochberg adjusted p-values (q_i = min over j with p_j >= p_i of p_j·m/rank_j,
    at most 1), in the order given. Five lines of numpy instead of statsmodels' `multipletests`:
    importing statsmodels (and the scipy it pulls in) took 1.6 s of every ingest that loads a
    file, for a computation of microseconds."""
    import numpy as np

    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return adjusted


def weighted_share_interval(share: Any, n_effective: Any) -> tuple[Any, Any]:
    """95 % Wilson score interval of weighted shares (0-1), with Kish's effective
    sample size in place of n (`proportion_confint(method="wilson")` on
    count = share × n_eff, nobs = n_eff). Arrays in, arrays out, 0-1."""
    import numpy as np
    from statsmodels.stats.proportion import proportion_confint  # slow to import: only when needed

    share = np.asarray(share, dtype=float)
    n_eff = np.asarray(n_effective, dtype=float)
    if share.size == 0:
        return share.copy(), share.copy()
    low, high = proportion_confint(share * n_eff, n_eff, alpha=ALPHA, method="wilson")
    return np.clip(np.asarray(low, dtype=float), 0, 1), np.clip(np.asarray(high, dtype=float), 0, 1)
