"""Pandera models, one per layer.

`StagedFigure` is a release file after renaming and casting: types and ranges
only, nothing that needs the codebook. `Estimate` is the harmonised layer that
lands in the warehouse's `estimates` table: every id resolved against the
codebook, one row per year, survey, segment, indicator and answer. Checks that
depend on the codebook or the file's year are added at validation time by
`itip.validate`, so the models stay declarative.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from itip.respondent_spec import BASES

#: Rounding slack allowed when a published distribution's shares are added up:
#: each share may be off by 0.5 percentage points.
ROUNDING_PER_SHARE = 0.5

KEY = ["year", "survey", "segment", "indicator", "answer"]
#: A figure may repeat in a release only from different sources (a conflict, see
#: `Estimate.preferred`); the same key from the same source is a duplicate.
SOURCE_KEY = [*KEY, "source"]
VALUE_STATUSES = ["published", "nil", "suppressed", "missing", "not_applicable", "invalid"]


class StagedFigure(pa.DataFrameModel):
    """One row per row of a release file, renamed to stable columns and typed."""

    source_row: Series[int] = pa.Field(ge=1, description="Row number in the file as a spreadsheet or editor shows it.")
    year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Survey edition; must equal the file name's year."
    )
    survey: Series[pd.StringDtype] = pa.Field(
        str_length={"min_value": 1}, description="Survey as written in the file (organisations/virksomheter, ...)."
    )
    segment: Series[pd.StringDtype] = pa.Field(description="Respondent group as written; empty means all.")
    indicator: Series[pd.StringDtype] = pa.Field(description="Codebook id as written, or empty when question is given.")
    question: Series[pd.StringDtype] = pa.Field(description="Published wording as written, or empty.")
    answer: Series[pd.StringDtype] = pa.Field(description="Answer option of a published distribution, or empty.")
    value: Series[pd.Float64Dtype] = pa.Field(
        nullable=True,
        in_range={"min_value": 0, "max_value": 100},
        description="Percent 0-100; NULL for SSB symbols and unreadable cells.",
    )
    value_status: Series[pd.StringDtype] = pa.Field(isin=VALUE_STATUSES, description="How the value cell read.")
    qualifier: Series[pd.StringDtype] = pa.Field(description="Qualifier as written (below/approx/...), or empty.")
    n: Series[pd.Int64Dtype] = pa.Field(nullable=True, gt=0, description="Respondents, where published.")
    source: Series[pd.StringDtype] = pa.Field(
        str_length={"min_value": 1}, description="URL or citation of the publication; required."
    )
    note: Series[pd.StringDtype] = pa.Field(description="Free-text note from the file.")
    inferred: Series[bool] = pa.Field(
        description="The file marks the figure's edition year, segment or wording as inferred from context."
    )
    preferred: Series[bool] = pa.Field(
        description="The file marks this figure as the one trend shows where sources conflict."
    )

    @pa.dataframe_check(error="indicator_or_question")
    @classmethod
    def names_indicator_or_question(cls, df: pd.DataFrame) -> pd.Series:
        return (df["indicator"].str.len() > 0) | (df["question"].str.len() > 0)

    class Config:
        strict = True
        coerce = False


class Estimate(pa.DataFrameModel):
    """One row per published figure: year, survey, segment, indicator and answer, with its interval."""

    source_row: Series[int] = pa.Field(ge=1, description="Row number in the release file.")
    year: Series[int] = pa.Field(description="Survey edition.")
    survey: Series[str] = pa.Field(description="Codebook survey id: organisations or citizens.")
    segment: Series[str] = pa.Field(description="Codebook segment id; `all` when the file left it empty.")
    indicator: Series[str] = pa.Field(nullable=True, description="Codebook indicator id.")
    answer: Series[str] = pa.Field(nullable=True, description="Answer option id for distributions; NULL otherwise.")
    question: Series[str] = pa.Field(nullable=True, description="The wording as published, when the file gave it.")
    value: Series[float] = pa.Field(
        nullable=True, in_range={"min_value": 0, "max_value": 100}, description="Percent; NULL when not published."
    )
    value_status: Series[str] = pa.Field(isin=VALUE_STATUSES, description="published, nil, suppressed, missing, ...")
    qualifier: Series[str] = pa.Field(nullable=True, description="Codebook qualifier id: below, above or approx.")
    n: Series[pd.Int64Dtype] = pa.Field(nullable=True, gt=0, description="Respondents, where published.")
    ci_low: Series[float] = pa.Field(nullable=True, description="Lower 95 % Wilson bound, percent.")
    ci_high: Series[float] = pa.Field(nullable=True, description="Upper 95 % Wilson bound, percent.")
    source: Series[str] = pa.Field(str_length={"min_value": 1}, description="URL or citation of the publication.")
    note: Series[str] = pa.Field(nullable=True, description="Free-text note from the file.")
    inferred: Series[bool] = pa.Field(
        description="Edition year, segment or wording inferred from context rather than stated by the source."
    )
    preferred: Series[bool] = pa.Field(
        description="Where the release holds the figure from more than one source, the one trend shows."
    )
    base: Series[str] = pa.Field(
        nullable=True,
        isin=list(BASES),
        description="Answer base declared for the published figure in the codebook (published_base): answered or "
        "with_dont_know ('vet ikke' in the denominator); NULL = unknown.",
    )

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


class RespondentEstimate(pa.DataFrameModel):
    """One weighted estimate from a respondent-level file: indicator × segment × answer × year."""

    source_row: Series[int] = pa.Field(ge=1, unique=True, description="Number of the estimate within its release.")
    year: Series[int] = pa.Field(description="Survey edition.")
    survey: Series[str] = pa.Field(isin=["organisations", "citizens"], description="Codebook survey id.")
    segment: Series[str] = pa.Field(description="Codebook segment id; `all` for every respondent.")
    indicator: Series[str] = pa.Field(description="Codebook indicator id.")
    answer: Series[str] = pa.Field(nullable=True, description="Answer option id for distributions; NULL otherwise.")
    value: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 100},
        nullable=True,
        description="Weighted share, percent; NULL if suppressed.",
    )
    value_status: Series[str] = pa.Field(
        isin=["estimated", "suppressed"],
        description="estimated, or suppressed by disclosure control (itip.disclosure).",
    )
    n: Series[pd.Int64Dtype] = pa.Field(
        gt=0, nullable=True, description="Unweighted number of answers in the denominator; NULL if suppressed."
    )
    n_effective: Series[float] = pa.Field(
        gt=0, nullable=True, description="Kish effective sample size (sum w)^2 / sum w^2; NULL if suppressed."
    )
    ci_low: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 100},
        nullable=True,
        description="Lower 95 % Korn-Graubard bound (design degrees of freedom), percent; NULL if suppressed.",
    )
    ci_high: Series[float] = pa.Field(
        in_range={"min_value": 0, "max_value": 100},
        nullable=True,
        description="Upper 95 % Korn-Graubard bound (design degrees of freedom), percent; NULL if suppressed.",
    )
    se: Series[float] = pa.Field(
        ge=0,
        nullable=True,
        description="Design-based standard error of value (Taylor linearisation with strata, PSUs and finite "
        "population correction), percentage points; NULL if suppressed.",
    )
    df: Series[pd.Int64Dtype] = pa.Field(
        ge=1,
        nullable=True,
        description="Design degrees of freedom of the estimate: the domain's PSUs minus its strata (R survey's "
        "degf), at least 1; the interval and the test of change use Student's t on it. NULL if suppressed.",
    )
    design_effect: Series[float] = pa.Field(
        ge=0,
        nullable=True,
        description="Design variance over the variance p(1-p)/n of a simple random sample of the same n; "
        "NULL if suppressed or where the share is 0 or 100 %.",
    )
    source: Series[str] = pa.Field(str_length={"min_value": 1}, description="File and method of the estimate.")
    base: Series[str] = pa.Field(
        isin=list(BASES),
        description="Answer base applied (codebook `base`): answered, or with_dont_know ('vet ikke' counted).",
    )

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
ESTIMATE_COLUMNS = tuple(Estimate.to_schema().columns)


#: Qualifiers of an edition's respondent count and response rate (as of figures).
EDITION_QUALIFIERS = ["below", "above", "approx"]
#: IT i praksis has run yearly since 2008.
FIRST_EDITION = 2008


class Edition(pa.DataFrameModel):
    """One survey edition (year and survey) of the editions release file: who answered."""

    source_row: Series[int] = pa.Field(ge=1, description="Row number in the file as a spreadsheet or editor shows it.")
    year: Series[int] = pa.Field(ge=FIRST_EDITION, le=2100, description="Survey edition.")
    survey: Series[str] = pa.Field(isin=["organisations", "citizens"], description="Codebook survey id.")
    respondents: Series[pd.Int64Dtype] = pa.Field(nullable=True, gt=0, description="How many answered, if published.")
    respondents_qualifier: Series[str] = pa.Field(
        nullable=True, isin=EDITION_QUALIFIERS, description="above for 'over 500' (a lower bound), etc."
    )
    respondents_municipalities: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, gt=0, description="Of them, municipalities."
    )
    respondents_state_regional: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, gt=0, description="Of them, state and regional public bodies."
    )
    response_rate_low: Series[float] = pa.Field(
        nullable=True,
        in_range={"min_value": 0, "max_value": 100},
        description="Response rate, percent (low end of a range).",
    )
    response_rate_high: Series[float] = pa.Field(
        nullable=True,
        in_range={"min_value": 0, "max_value": 100},
        description="Response rate, percent (high end of a range).",
    )
    response_rate_qualifier: Series[str] = pa.Field(
        nullable=True, isin=EDITION_QUALIFIERS, description="above for 'over 50 %', approx for a range, etc."
    )
    population_note: Series[str] = pa.Field(nullable=True, description="Who was asked or answered, as published.")
    source: Series[str] = pa.Field(str_length={"min_value": 1}, description="URL or citation of the publication.")

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
