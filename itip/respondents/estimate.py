"""Estimates from a checked respondent table: the design's strata and their checks, the
weighted shares with their Taylor-linearised variances, the Korn-Graubard intervals, and
the aggregated layer validated against the Pandera model `RespondentEstimate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from itip import replicates
from itip.codebook import Codebook
from itip.problems import Problem
from itip.respondents.checks import problem, row_problems
from itip.respondents.spec import Question, RespondentSpec
from itip.respondents.table import RespondentTable


def design_columns(spec: RespondentSpec, cols: set[str]) -> tuple[str | None, str | None, str | None]:
    """The declared design columns this file has (a file without them gets the default design)."""
    d = spec.design
    return tuple(c if c and c in cols else None for c in (d.stratum, d.psu, d.population))  # type: ignore[return-value]


def design_problems(
    table: RespondentTable, spec: RespondentSpec, file: str, listed: int
) -> tuple[list[Problem], pd.DataFrame]:
    """Check the design columns and return the strata: survey, stratum, psus (n_h) and the
    sampling fraction f_h = n_h / N_h (0 where no population size is given). A declared
    stratum with a single PSU is refused (its variance cannot be estimated; R survey's
    default); in the default design a survey of one respondent simply gets no variance."""
    stratum, psu, population = design_columns(spec, set(table.columns))
    problems: list[Problem] = []
    if population:
        problems += row_problems(
            file,
            population,
            "population_number",
            "population size (PSUs in the stratum's population) is not a positive number",
            table.failing([table.not_positive_if_given(population)], listed)[0],
        )
        if problems:
            return problems, pd.DataFrame()
    strata = table.strata(
        survey=(spec.survey_column, spec.survey_lookup()), stratum=stratum, psu=psu, population=population
    )
    fraction = []
    for rec in strata.to_dict("records"):
        where = f"stratum {rec['stratum'] or '(none)'} of survey {rec['survey']}"
        f = 0.0
        if population and rec["population_rows"] > 0:
            if rec["population_rows"] < rec["respondents"] or rec["population_min"] != rec["population_max"]:
                problems.append(
                    problem(
                        file, None, population, "population_constant", None,
                        f"{where}: the population size must be the same in every row of the stratum",
                    )
                )  # fmt: skip
            elif rec["population_min"] < rec["psus"]:
                problems.append(
                    problem(
                        file, None, population, "population_size", f"{rec['population_min']:g}",
                        f"{where}: population size {rec['population_min']:g} is smaller than the {rec['psus']} "
                        "PSUs in the file",
                    )
                )  # fmt: skip
            else:
                f = rec["psus"] / rec["population_min"]
        if (stratum or psu) and rec["psus"] < 2 and f < 1:
            problems.append(
                problem(
                    file, None, stratum or psu, "lonely_psu", rec["stratum"] or None,
                    f"{where} has a single PSU, so its variance cannot be estimated: merge it with a "
                    "similar stratum, or give its population size if it is a certainty unit",
                )
            )  # fmt: skip
        fraction.append(f)
    strata["fraction"] = fraction
    return problems, strata


def _linearised(
    agg: pd.DataFrame, strata: pd.DataFrame, questions: list[Question], shares: list[list[str | None]]
) -> tuple[dict[tuple[int, int], np.ndarray], dict[int, np.ndarray], pd.DataFrame]:
    """Taylor-linearised variances of every domain's ratio mean Σw·y/Σw from the sums per stratum.

    For PSU totals W_hi = Σw, Y_hi = Σw·y within the domain and p = ΣY/ΣW, the linearised
    variable's PSU totals are z_hi = (Y_hi - p·W_hi)/ΣW, and
        V = Σ_h (1 - f_h)·n_h/(n_h - 1)·[Σ_i z_hi² - (Σ_i z_hi)²/n_h]
    with Σ_i z_hi² = (ΣY² - 2p·ΣY·W + p²·ΣW²)/(ΣW)² (Wolter 2007, §6.11; R survey's svymean;
    samplics' TaylorEstimator, against which tests/unit/test_design.py checks it). n_h counts every
    PSU of the stratum, also those with no respondent in the domain (their z is 0).
    Returns (variance per (question, share), design df per question, the domain rows)."""
    keyed = agg.assign(_variable=agg["variable"].fillna(""))
    keyed = keyed.merge(strata[["survey", "stratum", "psus", "fraction"]], on=["survey", "stratum"], how="left")
    keys = ["survey", "_variable", "segment"]
    group = keyed.groupby(keys, sort=False)
    domains = group.size().reset_index()[keys]
    n_h = keyed["psus"].to_numpy(float)
    factor = np.where(n_h > 1, (1 - keyed["fraction"].to_numpy(float)) * n_h / np.maximum(n_h - 1, 1), 0.0)
    variance: dict[tuple[int, int], np.ndarray] = {}
    df: dict[int, np.ndarray] = {}
    codes = group.ngroup().to_numpy()
    for i in range(len(questions)):
        w_h = keyed[f"sw_{i}"].to_numpy(float)
        total = np.bincount(codes, weights=w_h, minlength=len(domains))
        m_h = keyed[f"m_{i}"].to_numpy(float)
        df[i] = np.bincount(codes, weights=m_h, minlength=len(domains)) - np.bincount(
            codes, weights=(m_h > 0).astype(float), minlength=len(domains)
        )
        ww = keyed[f"ww_{i}"].to_numpy(float)
        safe = np.where(total > 0, total, 1.0)
        for j in range(len(shares[i])):
            y_h = keyed[f"swy_{i}_{j}"].to_numpy(float)
            p = (np.bincount(codes, weights=y_h, minlength=len(domains)) / safe)[codes]
            squares = keyed[f"yy_{i}_{j}"].to_numpy(float) - 2 * p * keyed[f"yw_{i}_{j}"].to_numpy(float) + p * p * ww
            term = factor * (squares - (y_h - p * w_h) ** 2 / np.maximum(n_h, 1)) / safe[codes] ** 2
            variance[(i, j)] = np.maximum(np.bincount(codes, weights=term, minlength=len(domains)), 0.0)
    return variance, df, domains


def estimates(
    table: RespondentTable,
    spec: RespondentSpec,
    file: str,
    year: int,
    use: list[str],
    synthetic: bool,
    strata: pd.DataFrame,
) -> pd.DataFrame:
    from itip.design import korn_graubard_many  # samplics and scipy: only when estimating

    cols = set(table.columns)
    questions = [spec.questions[i] for i in use]
    shares = [list(q.counts) for q in questions]
    segs = [s for s in spec.segments if s.column in cols]
    stratum, psu, _ = design_columns(spec, cols)
    agg = table.aggregate(
        survey=(spec.survey_column, spec.survey_lookup()),
        weight=spec.weight_column if spec.weight_column in cols else None,
        segments=[(s.column, s.lookup()) for s in segs],
        questions=[
            (
                str(q.column(year)),
                [c for c in spec.scales[q.scale].labels if c not in q.exclude],
                [list(q.counts[a]) for a in shares[i]],
            )
            for i, q in enumerate(questions)
        ],
        stratum=stratum,
        psu=psu,
    )
    variance, dfs, domains = _linearised(agg, strata, questions, shares)
    if replicates.in_file(spec.design.replicates, cols):  # replicate weights give the variance (itip.replicates)
        variance, dfs = replicates.variances(table, spec, year, questions, segs, domains)
    sums = [c for c in agg.columns if c.startswith(("n_", "sw_", "sw2_", "swy_"))]
    totals = (
        agg.assign(_variable=agg["variable"].fillna(""))
        .groupby(["survey", "_variable", "segment"], sort=False)[sums]
        .sum()
    )
    seg_survey = {s.column: s.survey for s in segs}
    source = f"{file}: weighted estimate from respondent-level data" + (" (SYNTHETIC, itip synth)" if synthetic else "")
    records = []
    for d, (survey, variable, segment) in enumerate(domains.itertuples(index=False, name=None)):
        if variable and seg_survey.get(str(variable)) != survey:
            continue
        rec = totals.loc[(survey, variable, segment)]  # type: ignore[index]
        for i, q in enumerate(questions):
            if q.survey != survey:
                continue
            count = rec[f"n_{i}"]
            if count is None or pd.isna(count) or int(count) == 0:
                continue
            sw, sw2 = float(rec[f"sw_{i}"]), float(rec[f"sw2_{i}"])
            for j, answer in enumerate(shares[i]):
                swy = rec[f"swy_{i}_{j}"]
                swy = 0.0 if swy is None or pd.isna(swy) else float(swy)
                records.append(
                    {
                        "year": year,
                        "survey": q.survey,
                        "segment": str(segment),
                        "indicator": q.indicator,
                        "answer": answer,
                        "question": str(q.column(year)),
                        "share": swy / sw,
                        "n": int(count),
                        "n_effective": sw * sw / sw2,
                        "base": q.base,
                        "variance": float(variance[(i, j)][d]),
                        "df": float(dfs[i][d]),
                    }
                )
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            "year", "survey", "segment", "indicator", "answer", "question", "share", "n", "n_effective",
            "variance", "df", "base",
        ],
    )  # fmt: skip
    frame = frame.sort_values(["indicator", "survey", "segment", "answer"], na_position="first").reset_index(drop=True)
    share = frame.pop("share").to_numpy(float)
    var = frame.pop("variance").to_numpy(float)
    n = frame["n"].to_numpy(float)
    # R survey's degf of a domain: its PSUs - its strata; at least 1 (a domain in one PSU still
    # has a variance from its stratum, and t with 1 df keeps its interval honestly wide)
    df = np.maximum(frame.pop("df").to_numpy(float), 1.0)
    low, high = korn_graubard_many(share, var, n, df)
    srs = share * (1 - share) / n
    frame["value"] = share * 100
    frame["ci_low"] = low * 100
    frame["ci_high"] = high * 100
    frame["se"] = np.sqrt(var) * 100
    # stored so the test of change refers to Student's t on the same df (itip.stats.change_df)
    frame["df"] = pd.array(np.rint(df).astype("int64"), dtype="Int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["design_effect"] = np.where(srs > 0, var / np.where(srs > 0, srs, 1.0), np.nan)
    frame.insert(0, "source_row", np.arange(1, len(frame) + 1))
    frame["value_status"] = "estimated"
    frame["qualifier"] = None
    frame["source"] = source
    frame["note"] = None
    frame["n"] = frame["n"].astype("Int64")
    return frame


def validate_estimates(estimates: pd.DataFrame, codebook: Codebook, file: str, listed: int) -> list[Problem]:
    """The aggregated layer against the Pandera model `RespondentEstimate` (lazily, every failure)."""
    from pandera.errors import SchemaErrors

    from schemas.models import RespondentEstimate, validation_schema

    schema = validation_schema(RespondentEstimate).update_columns(
        {
            "survey": {"checks": [pa.Check.isin(list(codebook.surveys), error="survey_known")]},
            "segment": {"checks": [pa.Check.isin(list(codebook.segments), error="segment_known")]},
            "indicator": {"checks": [pa.Check.isin(list(codebook.indicators), error="indicator_known")]},
        }
    )
    try:
        schema.validate(estimates, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        return [
            problem(
                file, None, str(c["column"]), str(c["check"]), str(c["failure_case"]), f"estimate failed {c['check']}"
            )
            for c in cases.head(listed).to_dict("records")
        ]
    return []
