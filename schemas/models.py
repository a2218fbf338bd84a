"""Pandera models, one per layer.

`StagedFigure` is a release file after renaming and casting: types and ranges
only, nothing that needs the codebook. `Estimate` is the harmonised layer that
lands in the warehouse's `estimates` table: every id resolved against the
codebook, one row per year, survey, segment, indicator and answer. Checks that
depend on the codebook or the file's year are added at validation time by
`itip.validate`, so the models stay declarative.

Every model takes its columns' descriptions from the column dictionary (`itip.fields`, `itip.tables`):
the warehouse's tables (`Estimate`, `RespondentEstimate`, `Edition`) from its tables,
`StagedFigure` (the release file as written, before it is a warehouse row) from its
`RELEASE_FILE`, which also writes the README's table of the release file.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera import dtypes
from pandera.engines import pandas_engine
from pandera.typing import Series

from itip.fields_release import release_column
from itip.respondents.spec import BASES
from itip.tables import TABLES, describe

#: Rounding slack allowed when a published distribution's shares are added up:
#: each share may be off by 0.5 percentage points.
ROUNDING_PER_SHARE = 0.5

KEY = ["year", "survey", "segment", "indicator", "answer"]
#: A figure may repeat in a release only from different sources (a conflict, see
#: `Estimate.preferred`); the same key from the same source is a duplicate.
SOURCE_KEY = [*KEY, "source"]
VALUE_STATUSES = ["published", "nil", "suppressed", "missing", "not_applicable", "invalid"]


@dtypes.immutable(init=True)
class WholeColumnString(pandas_engine.STRING):  # type: ignore[misc]
    """pandas' string dtype, answered for the whole column when the column has it.

    Pandera's own check of a string column answers cell by cell even when the column's dtype
    matches, and then formats an (empty) failure report with the frame's repr: about 2 ms a
    column, a tenth of the CPU of a bundled ingest. A column of another dtype still gets the
    cell-by-cell answer, so its failures name the same cells as before."""

    def check(self, pandera_dtype: dtypes.DataType, data_container: Any = None) -> Any:
        result = super().check(pandera_dtype, data_container)
        if isinstance(result, np.ndarray) and bool(result.all()):
            return True
        return result


@functools.cache
def validation_schema(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """The model's schema as validation uses it: its string columns checked whole (WholeColumnString).
    Built once per model: every file is validated against it, and callers only derive new
    schemas from it (`update_columns` copies), never change it."""
    schema = model.to_schema()
    strings = {
        name: {"dtype": WholeColumnString(column.dtype.storage)}
        for name, column in schema.columns.items()
        if isinstance(column.dtype, pandas_engine.STRING)
    }
    return schema.update_columns(strings) if strings else schema


def _file(column: str, **checks: Any) -> Any:
    """A column of a release file as written, described by the column dictionary (itip.fields)."""
    return pa.Field(description=release_column(column), **checks)


class StagedFigure(pa.DataFrameModel):
    """One row per row of a release file, renamed to stable columns and typed."""

    source_row: Series[int] = pa.Field(ge=1, description=describe("estimates", "source_row"))
    year: Series[pd.Int64Dtype] = _file("year", nullable=True)
    survey: Series[pd.StringDtype] = _file("survey", str_length={"min_value": 1})
    segment: Series[pd.StringDtype] = _file("segment")
    indicator: Series[pd.StringDtype] = _file("indicator")
    question: Series[pd.StringDtype] = _file("question")
    answer: Series[pd.StringDtype] = _file("answer")
    value: Series[pd.Float64Dtype] = _file("value", nullable=True, in_range={"min_value": 0, "max_value": 100})
    value_status: Series[pd.StringDtype] = pa.Field(
        isin=VALUE_STATUSES, description=describe("estimates", "value_status")
    )
    qualifier: Series[pd.StringDtype] = _file("qualifier")
    n: Series[pd.Int64Dtype] = _file("n", nullable=True, gt=0)
    source: Series[pd.StringDtype] = _file("source", str_length={"min_value": 1})
    note: Series[pd.StringDtype] = _file("note")
    inferred: Series[bool] = _file("inferred")
    preferred: Series[bool] = _file("preferred")

    @pa.dataframe_check(error="indicator_or_question")
    @classmethod
    def names_indicator_or_question(cls, df: pd.DataFrame) -> pd.Series:
        return (df["indicator"].str.len() > 0) | (df["question"].str.len() > 0)

    class Config:
        strict = True
        coerce = False


def _estimates(column: str, **checks: Any) -> Any:
    """A column of the warehouse's `estimates` table, described by the column dictionary (itip.fields)."""
    return pa.Field(description=describe("estimates", column), **checks)


def _editions(column: str, **checks: Any) -> Any:
    """A column of the warehouse's `editions` table, described by the column dictionary (itip.fields)."""
    return pa.Field(description=describe("editions", column), **checks)


class _EstimateColumns(pa.DataFrameModel):
    """The columns both kinds of estimate share, with the checks they share: each is a
    column of the warehouse's `estimates` table. `Estimate` and `RespondentEstimate` add
    their own columns and tighten or loosen a shared one only where they differ."""

    source_row: Series[int] = _estimates("source_row", ge=1)
    year: Series[int] = _estimates("year")
    survey: Series[str] = _estimates("survey")
    segment: Series[str] = _estimates("segment")
    indicator: Series[str] = _estimates("indicator")
    answer: Series[str] = _estimates("answer", nullable=True)
    value: Series[float] = _estimates("value", nullable=True, in_range={"min_value": 0, "max_value": 100})
    value_status: Series[str] = _estimates("value_status")
    n: Series[pd.Int64Dtype] = _estimates("n", nullable=True, gt=0)
    ci_low: Series[float] = _estimates("ci_low", nullable=True)
    ci_high: Series[float] = _estimates("ci_high", nullable=True)
    source: Series[str] = _estimates("source", str_length={"min_value": 1})
    base: Series[str] = _estimates("base", isin=list(BASES))


class Estimate(_EstimateColumns):
    """One row per published figure: year, survey, segment, indicator and answer, with its interval."""

    indicator: Series[str] = _estimates("indicator", nullable=True)
    value_status: Series[str] = _estimates("value_status", isin=VALUE_STATUSES)
    #: NULL = unknown: the codebook declares no published_base for the indicator.
    base: Series[str] = _estimates("base", nullable=True, isin=list(BASES))
    question: Series[str] = _estimates("question", nullable=True)
    qualifier: Series[str] = _estimates("qualifier", nullable=True)
    note: Series[str] = _estimates("note", nullable=True)
    inferred: Series[bool] = _estimates("inferred")
    preferred: Series[bool] = _estimates("preferred")

    @pa.dataframe_check(error="conflict_preferred")
    @classmethod
    def one_preferred_per_conflict(cls, df: pd.DataFrame) -> pd.Series:
        """A figure given by several sources needs exactly one of them marked preferred
        (the same figure twice from one source is a duplicate, see `unique`)."""
        groups = df.groupby(KEY, dropna=False)
        sources = groups["source"].transform("nunique")
        marked = groups["preferred"].transform("sum")
        return (sources <= 1) | (marked == 1)

    class Config:
        strict = True
        unique = SOURCE_KEY


class RespondentEstimate(_EstimateColumns):
    """One weighted estimate from a respondent-level file: indicator × segment × answer × year."""

    source_row: Series[int] = _estimates("source_row", ge=1, unique=True)
    survey: Series[str] = _estimates("survey")  # the codebook's surveys: itip.respondents.estimate
    value_status: Series[str] = _estimates("value_status", isin=["estimated", "suppressed"])
    ci_low: Series[float] = _estimates("ci_low", nullable=True, in_range={"min_value": 0, "max_value": 100})
    ci_high: Series[float] = _estimates("ci_high", nullable=True, in_range={"min_value": 0, "max_value": 100})
    n_effective: Series[float] = _estimates("n_effective", gt=0, nullable=True)
    se: Series[float] = _estimates("se", ge=0, nullable=True)
    df: Series[pd.Int64Dtype] = _estimates("df", ge=1, nullable=True)
    design_effect: Series[float] = _estimates("design_effect", ge=0, nullable=True)

    @pa.dataframe_check(error="n_effective_at_most_n")
    @classmethod
    def effective_n_at_most_n(cls, df: pd.DataFrame) -> pd.Series:
        hidden = df["value_status"] == "suppressed"
        return hidden | (df["n_effective"] <= df["n"].astype(float) * (1 + 1e-9))

    @pa.dataframe_check(error="interval_contains_value")
    @classmethod
    def interval_contains_value(cls, df: pd.DataFrame) -> pd.Series:
        hidden = df["value_status"] == "suppressed"
        return hidden | ((df["ci_low"] <= df["value"] + 1e-9) & (df["value"] <= df["ci_high"] + 1e-9))

    @pa.dataframe_check(error="unique_estimate")
    @classmethod
    def one_row_per_key(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["year", "survey", "segment", "indicator", "answer"], keep=False)


#: The columns of a published release's estimates, in the order of the Estimate model.
ESTIMATE_COLUMNS = tuple(c for c in TABLES["estimates"].columns if c in Estimate.to_schema().columns)


#: Qualifiers of an edition's respondent count and response rate (as of figures).
EDITION_QUALIFIERS = ["below", "above", "approx"]
#: IT i praksis has run yearly since 2008.
FIRST_EDITION = 2008


class Edition(pa.DataFrameModel):
    """One survey edition (year and survey) of the editions release file: who answered."""

    source_row: Series[int] = _editions("source_row", ge=1)
    year: Series[int] = _editions("year", ge=FIRST_EDITION, le=2100)
    survey: Series[str] = _editions("survey")  # the codebook's surveys: itip.editions.validate_editions
    respondents: Series[pd.Int64Dtype] = _editions("respondents", nullable=True, gt=0)
    respondents_qualifier: Series[str] = _editions("respondents_qualifier", nullable=True, isin=EDITION_QUALIFIERS)
    respondents_municipalities: Series[pd.Int64Dtype] = _editions("respondents_municipalities", nullable=True, gt=0)
    respondents_state_regional: Series[pd.Int64Dtype] = _editions("respondents_state_regional", nullable=True, gt=0)
    response_rate_low: Series[float] = _editions(
        "response_rate_low", nullable=True, in_range={"min_value": 0, "max_value": 100}
    )
    response_rate_high: Series[float] = _editions(
        "response_rate_high", nullable=True, in_range={"min_value": 0, "max_value": 100}
    )
    response_rate_qualifier: Series[str] = _editions("response_rate_qualifier", nullable=True, isin=EDITION_QUALIFIERS)
    population_note: Series[str] = _editions("population_note", nullable=True)
    source: Series[str] = _editions("source", str_length={"min_value": 1})

    @pa.dataframe_check(error="segments_within_total")
    @classmethod
    def segments_within_total(cls, df: pd.DataFrame) -> pd.Series:
        """Respondents per segment cannot add up to more than all respondents."""
        parts = df["respondents_municipalities"].fillna(0) + df["respondents_state_regional"].fillna(0)
        total = df["respondents"]
        return (total.isna() | (parts <= total)).astype(bool)

    @pa.dataframe_check(error="rate_range_ordered")
    @classmethod
    def rate_range_ordered(cls, df: pd.DataFrame) -> pd.Series:
        low, high = df["response_rate_low"], df["response_rate_high"]
        return low.isna() | high.isna() | (low <= high)

    @pa.dataframe_check(error="one_row_per_edition")
    @classmethod
    def one_row_per_edition(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["year", "survey"], keep=False)

    class Config:
        strict = True


#: The columns of the editions table, in the order of the Edition model.
EDITION_COLUMNS = tuple(Edition.to_schema().columns)
