"""Respondent-level releases: one row per respondent -> weighted estimates per indicator, segment and year.

`check_respondents` is the whole pure pipeline for one file, used by the Prefect
flow and `itip check`:

1. read only the columns the codebook declares (itip.respondent_spec) into an
   in-memory DuckDB (itip.db); every other column is dropped unread and reported
   by name (its values are never read into the table or written anywhere);
2. check the file with SQL, every failing row reported with file, row and column:
   empty or repeated ids (shown as keyed hashes, never in clear), unknown survey
   and segment codes, weights that are not positive numbers, kommunenummer not
   4 digits, answers that are not codes of the question's scale; for SPSS files
   also the value labels against the codebook's scale (a reversed or relabelled
   scale is caught) and the user-missing codes;
3. aggregate in one scan to weighted sums per survey, segment, stratum and
   question (per PSU first when the codebook declares PSUs) and turn them into
   estimates: weighted share, unweighted n, Kish effective n, the design-based
   (Taylor-linearised) standard error and design effect, and the 95 %
   Korn-Graubard interval with design degrees of freedom (itip.design).

Respondent rows never leave step 1-3: only the aggregates are returned.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from itip import db, disclosure, replicates
from itip.codebook import Codebook, normalise_text
from itip.privacy import pseudonym
from itip.problems import FileProblems, Problem
from itip.respondent_spec import Question, RespondentSpec, Scale

KIND = "respondents"
#: Rows listed per check and column before the rest is summarised in one line.
ROWS_LISTED = int(os.environ.get("ITIP_PROBLEM_ROWS_LISTED", "50"))
#: Respondent files larger than this are rejected unread.
MAX_RESPONDENT_BYTES = int(os.environ.get("ITIP_MAX_RESPONDENT_BYTES", 4 * 1024**3))
#: Weights are accepted in this range. A weight of 1e-200 passes "positive" but its square
#: underflows to 0, so Σw² and the effective n (Σw)²/Σw² divide by zero (issue 14); one of
#: 1e200 overflows. Survey weights are ratios, so a file can always be rescaled into it.
MIN_WEIGHT = 1e-6
MAX_WEIGHT = 1e9
TRUE_TEXT = {"true", "1", "ja", "yes", "t", "sann"}


@dataclass
class RespondentResult:
    """A respondent file after every check: estimates when good, problems when not."""

    file: str
    year: int
    estimates: pd.DataFrame
    problems: list[Problem]
    warnings: list[str] = field(default_factory=list)
    respondents: int = 0
    dropped: list[str] = field(default_factory=list)
    synthetic: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def note(self) -> str:
        """What the release row says about the file (no column names, no values)."""
        parts = [f"{self.respondents} respondents"]
        if self.dropped:
            parts.append(f"{len(self.dropped)} undeclared column(s) dropped unread")
        if self.synthetic:
            parts.append("SYNTHETIC data (itip synth)")
        return "; ".join(parts)


def _problem(file: str, row: int | None, column: str | None, check: str, value: str | None, message: str) -> Problem:
    return Problem(file, row, column, check, value, message)


# --- reading -----------------------------------------------------------------------------
def _text_column(series: pd.Series) -> pd.Series:
    """Cells as text the way a person reads them: 4.0 -> '4', empty -> None."""

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None

    return series.map(one).astype("object")


def _declared_map(names: list[str], spec: RespondentSpec) -> tuple[dict[str, str], list[str]]:
    """(file column -> codebook name for declared columns, undeclared column names)."""
    declared = spec.declared()
    keep: dict[str, str] = {}
    dropped: list[str] = []
    for name in names:
        canon = name.strip().lower()
        if canon in declared and canon not in keep.values():
            keep[name] = canon
        else:
            dropped.append(name)
    return keep, dropped


def _csv_types(spec: RespondentSpec, columns: dict[str, str]) -> dict[str, str]:
    questions = set(spec.question_columns())
    types = {}
    for canon in columns.values():
        if canon in questions:
            types[canon] = "INTEGER"
        elif canon == spec.weight_column:
            types[canon] = "DOUBLE"
        else:
            types[canon] = "VARCHAR"
    return types


@dataclass
class _SavMeta:
    labels: dict[str, dict[float, str]]
    user_missing: dict[str, list[float]]


def _read_sav(path: Path, spec: RespondentSpec) -> tuple[pd.DataFrame, list[str], _SavMeta]:
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    keep, dropped = _declared_map(list(meta.column_names), spec)
    frame, meta = pyreadstat.read_sav(str(path), usecols=list(keep), user_missing=True)
    frame = frame.rename(columns=keep)
    labels = {keep[c]: dict(v) for c, v in (meta.variable_value_labels or {}).items() if c in keep}
    missing: dict[str, list[float]] = {}
    for c, values in (getattr(meta, "missing_user_values", None) or {}).items():
        if c in keep:
            missing.setdefault(keep[c], []).extend(float(v) for v in values if isinstance(v, int | float))
    for c, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        if c in keep:
            for r in ranges:
                lo, hi = r.get("lo"), r.get("hi")
                if isinstance(lo, int | float) and isinstance(hi, int | float) and hi - lo < 100:
                    missing.setdefault(keep[c], []).extend(float(x) for x in range(math.ceil(lo), math.floor(hi) + 1))
    return frame, dropped, _SavMeta(labels, missing)


def _read_xlsx(path: Path, spec: RespondentSpec) -> tuple[pd.DataFrame, list[str]]:
    """The declared columns of the respondent sheet, after the zip-bomb, encryption and
    entity inspection published workbooks get (raises FileProblems when refused)."""
    from itip.paths import MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES, MAX_XLSX_COMPRESSION_RATIO
    from itip.reading.bounds import Limits
    from itip.reading.workbook import choose_sheet, inspect_xlsx, refuse_uncalculated

    limits = Limits(
        0,
        0,
        MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES,
        MAX_XLSX_COMPRESSION_RATIO,
        "ITIP_MAX_RESPONDENT_XLSX_UNCOMPRESSED_BYTES",
        "a respondent file",
    )
    inspect_xlsx(path, limits)
    sheets = pd.ExcelFile(path, engine="openpyxl")
    # never a hidden sheet, even one named data (itip.reading.workbook.choose_sheet)
    sheet = choose_sheet(sheets.book, ("data", "respondenter"), path.name)
    header = pd.read_excel(sheets, sheet_name=sheet, nrows=0)
    keep, dropped = _declared_map([str(c) for c in header.columns], spec)
    frame = pd.read_excel(sheets, sheet_name=sheet, usecols=list(keep), dtype=object)
    # A formula saved without its result reads as empty: a missing answer that was never one.
    position = {str(c): i for i, c in enumerate(header.columns)}
    empty = {(int(i) + 2, position[str(c)]) for c in frame.columns for i in frame.index[frame[c].isna()]}
    refuse_uncalculated(path.name, path, str(sheet), empty)
    return frame.rename(columns=keep), dropped


def _frame_for_duckdb(frame: pd.DataFrame, spec: RespondentSpec) -> pd.DataFrame:
    """Codes and ids as text, weights and answers as numbers where they are numbers."""
    questions = set(spec.question_columns())
    out = {}
    for col in frame.columns:
        series = frame[col]
        if (col in questions or col == spec.weight_column) and pd.api.types.is_numeric_dtype(series):
            out[col] = series.astype("float64")
        else:
            out[col] = _text_column(series)
    return pd.DataFrame(out)


# --- checks ------------------------------------------------------------------------------
def _label_problems(file: str, column: str, indicator: str, scale: Scale, meta: _SavMeta) -> list[Problem]:
    """SPSS value labels and user-missing codes against the codebook's scale."""
    problems: list[Problem] = []
    file_labels = {int(k): str(v) for k, v in meta.labels.get(column, {}).items() if float(k).is_integer()}
    if file_labels:
        valid = list(scale.valid)
        mismatched = [
            c
            for c, text in file_labels.items()
            if c in scale.labels and normalise_text(text) != normalise_text(scale.labels[c])
        ]
        unknown = sorted(c for c in file_labels if c not in scale.labels)
        reversed_ = len(valid) > 1 and all(
            normalise_text(file_labels.get(c, "")) == normalise_text(scale.labels[r])
            for c, r in zip(valid, reversed(valid), strict=True)
        )
        if reversed_:
            problems.append(
                _problem(
                    file,
                    None,
                    column,
                    "scale_reversed",
                    None,
                    f"the answer scale of {column} ({indicator}) is reversed: code {valid[0]} is labelled "
                    f"{file_labels[valid[0]]!r} in the file but {scale.labels[valid[0]]!r} in the codebook scale "
                    f"{scale.id}; recode the answers to the codebook's order",
                )
            )
        elif mismatched:
            detail = "; ".join(
                f"code {c} is {file_labels[c]!r} in the file but {scale.labels[c]!r} in the codebook"
                for c in mismatched
            )
            problems.append(
                _problem(
                    file,
                    None,
                    column,
                    "scale_labels",
                    None,
                    f"the value labels of {column} ({indicator}) do not match the codebook scale {scale.id}: {detail}",
                )
            )
        if unknown:
            problems.append(
                _problem(
                    file,
                    None,
                    column,
                    "scale_labels",
                    ", ".join(str(c) for c in unknown),
                    f"{column} ({indicator}) labels codes the codebook scale {scale.id} does not have: "
                    f"{', '.join(str(c) for c in unknown)}",
                )
            )
    answers = set(scale.valid)
    counted_missing = sorted(int(c) for c in meta.user_missing.get(column, []) if int(c) in answers)
    if counted_missing:
        problems.append(
            _problem(
                file,
                None,
                column,
                "user_missing",
                ", ".join(str(c) for c in counted_missing),
                f"{column} ({indicator}) declares answer code(s) {counted_missing} as user-missing, but the codebook "
                f"scale {scale.id} counts them as answers",
            )
        )
    return problems


def _rows(
    file: str,
    column: str,
    check: str,
    message: str,
    found: tuple[int, list[tuple[int, str | None]]],
    hide: bool = False,
    key: bytes = b"",
) -> list[Problem]:
    total, rows = found
    problems = [
        _problem(file, row, column, check, (pseudonym(v, key) if hide and v else v), message) for row, v in rows
    ]
    if total > len(rows):
        problems.append(
            _problem(
                file,
                None,
                column,
                check,
                None,
                f"{total - len(rows)} more row(s) like row {rows[-1][0]}: {message}",
            )
        )
    return problems


def _check_table(
    table: db.RespondentTable, spec: RespondentSpec, codebook: Codebook, file: str, year: int, key: bytes
) -> tuple[list[Problem], list[str], list[str]]:
    """Every check that needs the rows. Returns (problems, warnings, question columns to aggregate)."""
    problems: list[Problem] = []
    warnings: list[str] = []
    cols = set(table.columns)
    n = ROWS_LISTED
    for required in (spec.id_column, spec.survey_column):
        if required not in cols:
            problems.append(
                _problem(file, None, required, "column_missing", None, f"required column {required} is missing")
            )
    if spec.id_column in cols:
        problems += _rows(file, spec.id_column, "id_missing", "respondent id is empty", table.empty(spec.id_column, n))
        problems += _rows(
            file,
            spec.id_column,
            "id_duplicate",
            "respondent id occurs more than once (shown as its keyed hash)",
            table.duplicates(spec.id_column, n),
            hide=True,
            key=key,
        )
    surveys: set[str] = set()
    lookup = spec.survey_lookup()
    if spec.survey_column in cols:
        problems += _rows(
            file, spec.survey_column, "survey_missing", "survey is empty", table.empty(spec.survey_column, n)
        )
        problems += _rows(
            file,
            spec.survey_column,
            "survey_known",
            f"unknown survey; expected one of {', '.join(sorted(lookup))}",
            table.not_in(spec.survey_column, list(lookup), n),
        )
        surveys = {lookup[v] for v in table.values_of(spec.survey_column) if v in lookup}
    if spec.weight_column in cols:
        problems += _rows(
            file, spec.weight_column, "weight_number", "weight is not a number", table.not_number(spec.weight_column, n)
        )
        problems += _rows(
            file,
            spec.weight_column,
            "weight_positive",
            "weight must be a positive number (leave the column out for weight 1)",
            table.not_positive(spec.weight_column, n),
        )
        problems += _rows(
            file,
            spec.weight_column,
            "weight_range",
            f"weight is outside {MIN_WEIGHT:g} to {MAX_WEIGHT:g}: weights this small or large lose all precision "
            "when squared and summed (the variance and effective n divide by those sums); only the ratios "
            "of weights matter, so rescale them all by one factor",
            table.outside(spec.weight_column, MIN_WEIGHT, MAX_WEIGHT, n),
        )
    for seg in spec.segments:
        if seg.column in cols:
            allowed = seg.lookup()
            problems += _rows(
                file,
                seg.column,
                "segment_code",
                f"unknown {seg.column} code; expected one of {', '.join(sorted(allowed))}",
                table.not_in(seg.column, list(allowed), n),
            )
    for checked in spec.checked:
        if checked.column in cols:
            problems += _rows(
                file,
                checked.column,
                "format",
                checked.message,
                table.not_matching(checked.column, checked.pattern, n),
            )
    use: list[str] = []
    for q in spec.questions.values():
        column = q.column(year)
        if column is None:
            continue
        if column not in cols:
            others = [c for _, c in q.columns if c and c != column and c in cols]
            if others:
                problems.append(
                    _problem(
                        file,
                        None,
                        others[0],
                        "column_year",
                        None,
                        f"column {others[0]} is the name of {q.indicator} in other years; the codebook says {year} "
                        f"asks it as {column} (a reworded question: rename the column or add the year to the codebook)",
                    )
                )
            elif q.survey in surveys:
                warnings.append(f"{file}: no column {column} ({q.indicator}): no estimate for it in {year}")
            continue
        scale = spec.scales[q.scale]
        problems += _rows(
            file,
            column,
            "answer_number",
            f"answer is not a whole-number code ({q.indicator})",
            table.not_number(column, n),
        )
        problems += _rows(
            file,
            column,
            "answer_code",
            f"answer code is not on the scale {scale.id} ({q.indicator}); allowed: "
            f"{', '.join(str(c) for c in sorted(scale.labels))}",
            table.not_code(column, sorted(scale.labels), n),
        )
        use.append(q.indicator)
    this_year = {q.column(year) for q in spec.questions.values()}
    reported = {p.column for p in problems if p.check == "column_year"}
    for column, owners in spec.question_columns().items():
        if column in cols and column not in this_year and column not in reported:
            warnings.append(
                f"{file}: column {column} ({owners[0][0]}) is not asked in {year} per the codebook; ignored"
            )
    return problems, warnings, use


# --- estimates ---------------------------------------------------------------------------
def _design_columns(spec: RespondentSpec, cols: set[str]) -> tuple[str | None, str | None, str | None]:
    """The declared design columns this file has (a file without them gets the default design)."""
    d = spec.design
    return tuple(c if c and c in cols else None for c in (d.stratum, d.psu, d.population))  # type: ignore[return-value]


def _design_problems(table: db.RespondentTable, spec: RespondentSpec, file: str) -> tuple[list[Problem], pd.DataFrame]:
    """Check the design columns and return the strata: survey, stratum, psus (n_h) and the
    sampling fraction f_h = n_h / N_h (0 where no population size is given). A declared
    stratum with a single PSU is refused (its variance cannot be estimated; R survey's
    default); in the default design a survey of one respondent simply gets no variance."""
    stratum, psu, population = _design_columns(spec, set(table.columns))
    problems: list[Problem] = []
    if population:
        problems += _rows(
            file,
            population,
            "population_number",
            "population size (PSUs in the stratum's population) is not a positive number",
            table.not_positive_if_given(population, ROWS_LISTED),
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
                    _problem(
                        file, None, population, "population_constant", None,
                        f"{where}: the population size must be the same in every row of the stratum",
                    )
                )  # fmt: skip
            elif rec["population_min"] < rec["psus"]:
                problems.append(
                    _problem(
                        file, None, population, "population_size", f"{rec['population_min']:g}",
                        f"{where}: population size {rec['population_min']:g} is smaller than the {rec['psus']} "
                        "PSUs in the file",
                    )
                )  # fmt: skip
            else:
                f = rec["psus"] / rec["population_min"]
        if (stratum or psu) and rec["psus"] < 2 and f < 1:
            problems.append(
                _problem(
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
    samplics' TaylorEstimator, against which tests/test_design.py checks it). n_h counts every
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


def _estimates(
    table: db.RespondentTable,
    spec: RespondentSpec,
    codebook: Codebook,
    file: str,
    year: int,
    use: list[str],
    synthetic: bool,
    strata: pd.DataFrame,
) -> pd.DataFrame:
    from itip.design import korn_graubard_many

    cols = set(table.columns)
    questions = [spec.questions[i] for i in use]
    shares = [list(q.counts) for q in questions]
    segs = [s for s in spec.segments if s.column in cols]
    stratum, psu, _ = _design_columns(spec, cols)
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


def check_respondents(
    path: Path, codebook: Codebook, year: int, key: bytes, *, private: bool = False
) -> RespondentResult:
    """Read, check and aggregate one respondent file without touching the warehouse.

    The file is read from a private copy (itip.snapshot): DuckDB reads files by path and
    would take `[`, `*` or `?` in a folder name for a glob, and a file written while it is
    read must not be half read. `private` says `path` is such a copy already (the ingest
    flow makes it, to hash exactly the bytes it loads)."""
    from itip.release import year_refusal
    from itip.snapshot import Unreadable, private_copy

    refusal = year_refusal(path.name, year, codebook)
    if refusal is not None:
        return RespondentResult(path.name, year, pd.DataFrame(), [refusal])
    if private:
        return _check_respondents(path, codebook, year, key)
    try:
        with private_copy(path, MAX_RESPONDENT_BYTES) as copied:
            return _check_respondents(copied.path, codebook, year, key)
    except Unreadable as exc:
        problem = _problem(path.name, None, None, "unreadable", None, str(exc))
        return RespondentResult(path.name, year, pd.DataFrame(), [problem])


def _check_respondents(path: Path, codebook: Codebook, year: int, key: bytes) -> RespondentResult:
    file = path.name
    spec = codebook.respondents
    if spec is None:
        problem = _problem(file, None, None, "codebook", None, "the codebook declares no respondent-level files")
        return RespondentResult(file, year, pd.DataFrame(), [problem])
    size = path.stat().st_size
    if size > MAX_RESPONDENT_BYTES:
        problem = _problem(
            file, None, None, "file_size", str(size), f"is {size} bytes, more than ITIP_MAX_RESPONDENT_BYTES"
        )
        return RespondentResult(file, year, pd.DataFrame(), [problem])
    if size == 0:
        return RespondentResult(
            file, year, pd.DataFrame(), [_problem(file, None, None, "empty", None, "file is empty")]
        )
    ext = path.suffix.lower()
    problems: list[Problem] = []
    sav_meta: _SavMeta | None = None
    try:
        if ext == ".csv":
            keep, dropped = _declared_map(db.csv_header(path), spec)
            reader = db.respondent_csv(path, keep, _csv_types(spec, keep))
        elif ext == ".sav":
            frame, dropped, sav_meta = _read_sav(path, spec)
            keep = {c: c for c in frame.columns}
            reader = db.respondent_frame(_frame_for_duckdb(frame, spec), row_offset=1)
        else:
            frame, dropped = _read_xlsx(path, spec)
            keep = {c: c for c in frame.columns}
            reader = db.respondent_frame(_frame_for_duckdb(frame, spec), row_offset=2)
    except FileProblems as exc:  # refused before reading (an .xlsx zip bomb, encrypted, entities)
        return RespondentResult(file, year, pd.DataFrame(), exc.problems)
    except Exception as exc:  # DuckDB, pyreadstat and openpyxl each raise their own types for damaged files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        problem = _problem(file, None, None, "unreadable", None, f"cannot be read as a respondent file: {first}")
        return RespondentResult(file, year, pd.DataFrame(), [problem])
    if not keep:
        problem = _problem(
            file, None, None, "columns", None, "has no column the codebook declares (respondent_id, survey, questions)"
        )
        return RespondentResult(file, year, pd.DataFrame(), [problem], [], 0, dropped)
    warnings = (
        [f"{file}: {len(dropped)} column(s) not declared in the codebook dropped unread: {', '.join(dropped)}"]
        if dropped
        else []
    )
    try:
        with reader as table:
            rows = table.rows()
            if rows == 0:
                problems.append(_problem(file, None, None, "empty", None, "has a header but no respondents"))
                return RespondentResult(file, year, pd.DataFrame(), problems, warnings, 0, dropped)
            if sav_meta is not None:
                for q in spec.questions.values():
                    column = q.column(year)
                    if column in table.columns:
                        problems += _label_problems(file, column, q.indicator, spec.scales[q.scale], sav_meta)
            row_problems, more, use = _check_table(table, spec, codebook, file, year, key)
            problems += row_problems
            warnings += more
            synthetic = spec.synthetic_column in table.columns and any(
                v in TRUE_TEXT for v in table.values_of(spec.synthetic_column)
            )
            if problems:
                return RespondentResult(file, year, pd.DataFrame(), problems, warnings, rows, dropped, synthetic)
            # Disclosure control before anything leaves this function: the true values of
            # suppressed cells never reach the warehouse (itip.disclosure).
            design_problems, strata = _design_problems(table, spec, file)
            design_problems += replicates.problems(table, spec.design.replicates, file)
            if design_problems:
                return RespondentResult(file, year, pd.DataFrame(), design_problems, warnings, rows, dropped, synthetic)
            estimates = disclosure.apply(_estimates(table, spec, codebook, file, year, use, synthetic, strata), spec)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        problem = _problem(file, None, None, "unreadable", None, f"cannot be read as a respondent file: {first}")
        return RespondentResult(file, year, pd.DataFrame(), [problem], warnings, 0, dropped)
    problems = _validate_estimates(estimates, codebook, file)
    return RespondentResult(
        file, year, estimates if not problems else pd.DataFrame(), problems, warnings, rows, dropped, synthetic
    )


def _validate_estimates(estimates: pd.DataFrame, codebook: Codebook, file: str) -> list[Problem]:
    """The aggregated layer against the Pandera model `RespondentEstimate` (lazily, every failure)."""
    from pandera.errors import SchemaErrors

    from schemas.models import RespondentEstimate

    schema = RespondentEstimate.to_schema().update_columns(
        {
            "segment": {"checks": [pa.Check.isin(list(codebook.segments), error="segment_known")]},
            "indicator": {"checks": [pa.Check.isin(list(codebook.indicators), error="indicator_known")]},
        }
    )
    try:
        schema.validate(estimates, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        return [
            _problem(
                file, None, str(c["column"]), str(c["check"]), str(c["failure_case"]), f"estimate failed {c['check']}"
            )
            for c in cases.head(ROWS_LISTED).to_dict("records")
        ]
    return []
