"""Design-based estimates of shares: Taylor linearisation with strata, clusters and FPC.

Kish's effective n (itip.stats) allows for unequal weights only. A sample with
strata, primary sampling units (clusters) and a finite population correction
needs the design-based variance: here samplics' `TaylorEstimator` (locked 0.6.1),
which linearises the weighted mean Σw·y/Σw of a domain (a segment) and sums the
between-PSU variance within strata, each stratum multiplied by its FPC 1 - n_h/N_h.
A near-census stratum (about 300 of 357 municipalities) gets a small FPC and so
an honest, narrow interval; a clustered sample gets a wider one.

samplics 0.6.1 returns no design effect for domain estimates (its `deff` stays
empty), so `design_effect` is computed here as the design variance over the
variance of a simple random sample of the same size, p(1-p)/n (Kish 1965, §8.2).
The interval is Korn & Graubard (1998) as in R `survey::svyciprop(method = "beta")`:
the Clopper-Pearson interval on the effective n = p(1-p)/V, scaled by
(t_{n-1} / t_{df})² for the design degrees of freedom df = PSUs - strata. samplics'
own interval is a Wald t-interval, which is too narrow near 0 and 1 and can leave [0, 1].

The respondent pipeline (itip.respondents) computes the same linearised variance as
grouped sums in DuckDB (itip.respondents.table.RespondentTable.aggregate), because calling samplics per
question, answer and segment on a million respondents would take minutes; `design_shares`
here is the reference those sums are tested against (tests/unit/test_design.py), and
`korn_graubard_many` gives the pipeline's intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

ALPHA = 0.05


@dataclass(frozen=True)
class DesignShare:
    """One domain's share with its design-based uncertainty (shares 0-1)."""

    domain: Any
    share: float
    se: float
    n: int
    df: int
    design_effect: float | None
    ci_low: float
    ci_high: float


def _taylor() -> Any:
    with warnings.catch_warnings():  # samplics announces on import that it is archived (FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam
    return TaylorEstimator(PopParam.mean, alpha=ALPHA)


def korn_graubard(share: float, variance: float, n: int, df: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Korn-Graubard interval of a share, as R survey's svyciprop(method = "beta")."""
    low, high = korn_graubard_many([share], [variance], [n], [df], alpha)
    return float(low[0]), float(high[0])


def korn_graubard_many(share: Any, variance: Any, n: Any, df: Any, alpha: float = ALPHA) -> tuple[Any, Any]:
    """Korn & Graubard (1998) intervals for arrays of shares (0-1): Clopper-Pearson on the
    effective n = p(1-p)/V, scaled by (t_{n-1} / t_df)² for the design degrees of freedom.

    Where the share is 0 or 1 the variance carries no information (it is 0): the exact
    binomial interval on n is used. Where the variance is 0 with a share strictly between
    (every stratum a full census) there is no sampling error: the interval is the share."""
    # scipy.special, not scipy.stats: the same quantile functions (beta.ppf and t.ppf call
    # them) for a third of the import, which every respondent ingest pays.
    from scipy.special import betaincinv, stdtrit

    share = np.asarray(share, dtype=float)
    variance = np.asarray(variance, dtype=float)
    n = np.asarray(n, dtype=float)
    df = np.asarray(df, dtype=float)
    edge = (share <= 0) | (share >= 1)
    census = ~edge & (variance <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(edge | census, n, share * (1 - share) / np.where(variance > 0, variance, 1.0))
        scale = np.where(
            (df > 0) & (n > 1),
            (stdtrit(np.maximum(n - 1, 1), alpha / 2) / stdtrit(np.maximum(df, 1), alpha / 2)) ** 2,
            1.0,
        )
        n_eff = np.where(edge | census, n_eff, n_eff * scale)
        x = share * n_eff
        low = np.where(x <= 0, 0.0, betaincinv(np.maximum(x, 1e-300), n_eff - x + 1, alpha / 2))
        high = np.where(x >= n_eff, 1.0, betaincinv(x + 1, np.maximum(n_eff - x, 1e-300), 1 - alpha / 2))
    low = np.where(census, share, low)
    high = np.where(census, share, high)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def design_shares(
    y: Any,
    weight: Any,
    stratum: Any = None,
    psu: Any = None,
    fpc: dict[Any, float] | None = None,
    domain: Any = None,
) -> list[DesignShare]:
    """Weighted shares of y (0/1) per domain with Taylor-linearised standard errors.

    `fpc` maps each stratum to its sampling fraction n_h/N_h (0 for sampling with
    replacement or an unknown population size); samplics takes 1 - f_h. Without
    `psu` every respondent is their own PSU; without `stratum` the sample is one stratum."""
    y = np.asarray(y, dtype=float)
    weight = np.asarray(weight, dtype=float)
    size = y.shape[0]
    strata = np.zeros(size, dtype=int) if stratum is None else np.asarray(stratum)
    psus = np.arange(size) if psu is None else np.asarray(psu)
    domains = np.zeros(size, dtype=int) if domain is None else np.asarray(domain)
    factors = {s: 1.0 - float((fpc or {}).get(s, 0.0)) for s in np.unique(strata)}
    estimator = _taylor()
    estimator.estimate(y=y, samp_weight=weight, stratum=strata, psu=psus, domain=domains, fpc=factors)
    df = len(set(zip(strata.tolist(), psus.tolist(), strict=True))) - len(factors)
    out = []
    for d in np.unique(domains):
        share = float(estimator.point_est[d])
        variance = float(estimator.stderror[d]) ** 2
        n = int((domains == d).sum())
        srs = share * (1 - share) / n
        low, high = korn_graubard(share, variance, size, df)
        out.append(
            DesignShare(
                domain=d.item() if hasattr(d, "item") else d,
                share=share,
                se=variance**0.5,
                n=n,
                df=df,
                design_effect=variance / srs if srs > 0 else None,
                ci_low=low,
                ci_high=high,
            )
        )
    return out
