"""Variances of shares from replicate weights (jackknife JK1, BRR with Fay's factor, bootstrap).

Some survey files carry no strata or PSUs but a set of replicate weights made by the data
owner (often because the design itself may not be published). The variance of an estimate
θ (a weighted share Σw·y/Σw, also within a domain) is then

    V = c · Σ_r (θ_r - θ̄)²

where θ_r is the same estimate computed with replicate weight r, θ̄ their mean and c the
method's coefficient: JK1 (R-1)/R, BRR 1/(R·(1-ρ)²) with Fay's ρ (0 for plain BRR), and for
the bootstrap the scale the data owner states (1/R or 1/(R-1) depending on how the replicates
were drawn, so it must be declared). Centring on θ̄ rather than θ is R survey's default
(`mse = FALSE`) and samplics' (`conservative = False`); tests/unit/test_design.py checks the
result against samplics' `ReplicateEstimator` to 1e-6.

The estimates are computed here with numpy rather than by calling samplics: samplics
loops in Python over every domain and category of one variable at a time (minutes for
every question × answer × segment of a file), while the replicate sums of all domains are
one sparse matrix product per question. The formula is the one above, nothing else.

Degrees of freedom: R - 1 for every method, which is what R survey's `degf()` gives a
replicate design with linearly independent replicates (rank of the replicate weights − 1);
samplics uses R/2 for BRR. A data owner who knows the design's df (for BRR, the number of
pseudo-strata H) declares it as `df`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from itip.problems import ItipError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from itip.respondents.spec import Question, RespondentSpec, SegmentVariable
    from itip.respondents.table import RespondentTable

METHODS = ("jk1", "brr", "bootstrap")
KEYS = ("method", "columns", "prefix", "count", "scale", "fay", "df")
ROWS_LISTED = 20


@dataclass(frozen=True)
class Replicates:
    """The replicate weights a respondent file carries (codebook `respondents.design.replicates`)."""

    method: str
    columns: tuple[str, ...]
    #: the variance coefficient c as declared; None = the method's own (JK1, BRR)
    scale: float | None = None
    #: Fay's ρ for BRR (0 = plain BRR)
    fay: float = 0.0
    #: design degrees of freedom as declared; None = R - 1
    df: int | None = None

    @property
    def coefficient(self) -> float:
        r = len(self.columns)
        if self.scale is not None:
            return self.scale
        if self.method == "jk1":
            return (r - 1) / r
        if self.method == "brr":
            return 1.0 / (r * (1.0 - self.fay) ** 2)
        raise ItipError("bootstrap replicates need a declared scale")  # refused when the codebook is read

    @property
    def degrees_of_freedom(self) -> int:
        return self.df if self.df is not None else len(self.columns) - 1


def parse_replicates(entry: object, where: str, name: Any) -> Replicates:
    """The codebook's `replicates` entry; every mistake is one line naming the key.

    `name` is the codebook's column-name check (itip.respondents.spec._name)."""
    where = f"{where}.replicates"
    if not isinstance(entry, dict):
        raise ItipError(f"{where}: expected a mapping with method and columns (or prefix and count)")
    unknown = sorted(str(k) for k in entry if k not in KEYS)
    if unknown:
        raise ItipError(f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(KEYS)}")
    method = entry.get("method")
    if method not in METHODS:
        raise ItipError(f"{where}.method: {method!r} is not one of {', '.join(METHODS)}")
    if ("columns" in entry) == ("prefix" in entry):
        raise ItipError(f"{where}: give either columns (a list) or prefix and count")
    if "columns" in entry:
        if "count" in entry:
            raise ItipError(f"{where}.count: only with prefix (columns are counted)")
        listed = entry["columns"]
        if not isinstance(listed, list):
            raise ItipError(f"{where}.columns: expected a list of column names")
        columns = tuple(name(c, f"{where}.columns") for c in listed)
    else:
        count = entry.get("count")
        if isinstance(count, bool) or not isinstance(count, int):
            raise ItipError(f"{where}.count: {count!r} is not a whole number of replicates")
        columns = tuple(name(f"{entry['prefix']}{k}", f"{where}.prefix") for k in range(1, count + 1))
    if len(columns) < 2:
        raise ItipError(f"{where}: {len(columns)} replicate weight(s); a variance needs at least 2")
    if len(set(columns)) != len(columns):
        raise ItipError(f"{where}.columns: a replicate weight column is listed twice")
    fay = _number(entry, "fay", where, 0.0)
    if "fay" in entry and method != "brr":
        raise ItipError(f"{where}.fay: Fay's factor belongs to method brr only")
    if not 0.0 <= fay < 1.0:
        raise ItipError(f"{where}.fay: {fay!r} must be at least 0 and below 1")
    scale = _number(entry, "scale", where, None)
    if scale is not None and method == "brr":
        raise ItipError(f"{where}.scale: brr's scale follows from the replicates and fay; not declared")
    if scale is None and method == "bootstrap":
        raise ItipError(f"{where}.scale: bootstrap replicates need the scale their maker states (e.g. 1/R)")
    if scale is not None and not scale > 0:
        raise ItipError(f"{where}.scale: {scale!r} must be a positive number")
    df = entry.get("df")
    if df is not None and (isinstance(df, bool) or not isinstance(df, int) or df < 1):
        raise ItipError(f"{where}.df: {df!r} is not a whole number of at least 1")
    return Replicates(str(method), columns, scale, fay, df)


def _number(entry: dict[str, Any], key: str, where: str, default: float | None) -> Any:
    if key not in entry:
        return default
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ItipError(f"{where}.{key}: {value!r} is not a number")
    return float(value)


def variance(estimate: Any, replicate_estimates: Any, replicates: Replicates) -> Any:
    """c · Σ_r (θ_r - θ̄)² per row of `replicate_estimates` (domains × R).

    A replicate in which the domain has no weight at all (e.g. the jackknife deleted the
    one PSU it lives in) has no estimate; it takes the full-sample estimate `estimate`."""
    reps = np.asarray(replicate_estimates, dtype=float)
    full = np.asarray(estimate, dtype=float)
    reps = np.where(np.isfinite(reps), reps, full[:, None])
    centre = reps.mean(axis=1, keepdims=True)
    return replicates.coefficient * ((reps - centre) ** 2).sum(axis=1)


def in_file(replicates: Replicates | None, columns: set[str]) -> bool:
    """Whether a file carries the declared replicate weights. A file with none of them gets
    the Taylor design (like a file without strata), so older years still load."""
    return replicates is not None and any(c in columns for c in replicates.columns)


def problems(table: RespondentTable, replicates: Replicates | None, file: str) -> list[Problem]:
    """Missing replicate columns (when the file has some of them), and cells that are not a
    number of at least 0 (0 is a deleted unit; an empty cell is not a weight)."""
    columns = set(table.columns)
    if replicates is None or not in_file(replicates, columns):
        return []
    out = [
        Problem(file, None, c, "replicate_missing", None, f"replicate weight column {c} of the codebook is missing")
        for c in replicates.columns
        if c not in columns
    ]
    present = [c for c in replicates.columns if c in columns]
    message = "replicate weight is not a number of at least 0"
    for c, (total, rows) in zip(
        present, table.failing([table.not_weight(c) for c in present], ROWS_LISTED), strict=True
    ):
        out += [Problem(file, row, c, "replicate_weight", value, message) for row, value in rows]
        if total > len(rows):
            more = f"{total - len(rows)} more row(s) like row {rows[-1][0]}: {message}"
            out.append(Problem(file, None, c, "replicate_weight", None, more))
    return out


def variances(
    table: RespondentTable,
    spec: RespondentSpec,
    year: int,
    questions: list[Question],
    segments: list[SegmentVariable],
    domains: pd.DataFrame,
) -> tuple[dict[tuple[int, int], np.ndarray], dict[int, np.ndarray]]:
    """Replicate variances for every domain of `domains` (survey, _variable, segment: the
    rows itip.respondents builds, `_variable` '' for all respondents), per question i and
    share j (q.counts in order), and the design df per question.

    A domain is its survey and segment, within respondents who answered the question
    (codes in the denominator): the domain estimate of R survey's `svyby` and samplics'
    `domain=`, whose replicate estimates re-weight only the domain's own respondents."""
    from scipy import sparse

    replicates = spec.design.replicates
    assert replicates is not None  # the caller checked in_file
    weight = spec.weight_column if spec.weight_column in table.columns else None
    survey = (spec.survey_column, spec.survey_lookup())
    seg_args = [(s.column, s.lookup()) for s in segments]
    scale_of = spec.scales
    q_args = [
        (
            str(q.column(year)),
            [c for c in scale_of[q.scale].labels if c not in q.exclude],
            [list(codes) for codes in q.counts.values()],
        )
        for q in questions
    ]
    texts = [table._text(survey[0]), *(table._text(c) for c, _ in seg_args)]
    numbers = [table._number(weight) if weight else "1.0"]
    numbers += [table._number(c) for c, _, _ in q_args] + [table._number(c) for c in replicates.columns]
    select = ", ".join([*texts, *numbers])
    data = table.con.execute(f"SELECT {select} FROM raw ORDER BY rowid").fetchnumpy()
    arrays = list(data.values())
    size = len(arrays[0]) if arrays else 0
    survey_ids = _mapped(arrays[0], survey[1])
    first = len(texts) + 1
    full_weight = np.asarray(arrays[len(texts)], dtype=float).reshape(-1)
    if full_weight.shape[0] != size:  # the constant 1.0 comes back as one value per row, but be sure
        full_weight = np.ones(size)
    answers = [np.asarray(a, dtype=float) for a in arrays[first : first + len(questions)]]
    weights = np.column_stack([np.asarray(a, dtype=float) for a in arrays[first + len(questions) :]])
    # each domain's members: one sparse indicator matrix (respondents × domains)
    seg_ids = {column: _mapped(arrays[1 + k], table_) for k, (column, table_) in enumerate(seg_args)}
    rows_idx: list[np.ndarray] = []
    cols_idx: list[np.ndarray] = []
    for d, (surv, variable, segment) in enumerate(domains.itertuples(index=False, name=None)):
        member = survey_ids == surv
        if variable:
            member &= seg_ids[str(variable)] == segment
        elif segment != "all":
            member[:] = False
        found = np.flatnonzero(member)
        rows_idx.append(found)
        cols_idx.append(np.full(found.shape, d))
    indicator = sparse.csr_matrix(
        (np.ones(sum(len(r) for r in rows_idx)), (np.concatenate(rows_idx), np.concatenate(cols_idx))),
        shape=(size, len(domains)),
    ).T.tocsr()
    out: dict[tuple[int, int], np.ndarray] = {}
    df = {i: np.full(len(domains), float(replicates.degrees_of_freedom)) for i in range(len(questions))}
    for i, (_, valid, shares) in enumerate(q_args):
        answered = np.isin(answers[i], valid)
        base = indicator @ (weights * answered[:, None])  # domains × R: Σ w_r over answers
        full_base = indicator @ (full_weight * answered)
        for j, counted in enumerate(shares):
            hit = np.isin(answers[i], counted)
            with np.errstate(divide="ignore", invalid="ignore"):
                reps = (indicator @ (weights * hit[:, None])) / base
                full = (indicator @ (full_weight * hit)) / full_base
            out[(i, j)] = variance(np.nan_to_num(full), reps, replicates)
    return out, df


def _mapped(values: Any, lookup: dict[str, str]) -> np.ndarray:
    table = {k.lower(): v for k, v in lookup.items()}
    return np.array([table.get(str(v).lower()) if v is not None else None for v in values], dtype=object)
