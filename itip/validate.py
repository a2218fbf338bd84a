"""Validation of both layers with Pandera, failures turned into problems people can act on.

Pandera runs lazily, so every failure of a file is collected in one pass. Its
failure cases (check, column, index, value) are translated into one-line
messages that name file, row and column; the row is the file's own row number.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from itip.codebook import Codebook
from itip.problems import Problem
from schemas.models import KEY, ROUNDING_PER_SHARE, SOURCE_KEY, Estimate, StagedFigure, validation_schema

#: The fewest respondents a published share may rest on. A share of one respondent is 0 or
#: 100 % and nothing in between (47 % of n = 1 is a typo, not a figure), and below the
#: disclosure threshold for respondent-level cells (`min_cell_n`, default 10) a share is
#: neither a statistic nor publishable: such a figure is refused, naming the row.
MIN_PUBLISHED_N = 10


def staged_schema(file_year: int) -> pa.DataFrameSchema:
    schema = validation_schema(StagedFigure)
    schema = schema.update_column("year", checks=[pa.Check.equal_to(file_year, error="year_matches_file")])
    n_checks = [*schema.columns["n"].checks, pa.Check.ge(MIN_PUBLISHED_N, error="n_minimum")]
    return schema.update_column("n", checks=n_checks)


def estimate_schema(codebook: Codebook) -> pa.DataFrameSchema:
    """The Estimate model plus the codebook's vocabularies and cross-row rules."""
    indicators = codebook.indicators

    def survey_matches(df: pd.DataFrame) -> pd.Series:
        expected = df["indicator"].map(lambda i: indicators[i].survey if i in indicators else None)
        return expected.isna() | (expected == df["survey"])

    def answer_known(df: pd.DataFrame) -> pd.Series:
        def ok(indicator: object, answer: object) -> bool:
            if indicator not in indicators:
                return True
            options = {a.id for a in indicators[str(indicator)].answers}
            if answer is None or pd.isna(answer):  # type: ignore[call-overload]
                return not options
            return answer in options

        return pd.Series([ok(i, a) for i, a in zip(df["indicator"], df["answer"], strict=True)], index=df.index)

    def distribution_sums(df: pd.DataFrame) -> pd.Series:
        # Of a figure given by several sources only the preferred one counts toward the sum.
        sources = df.groupby(KEY, dropna=False)["source"].transform("nunique")
        shown = (sources <= 1) | df["preferred"].astype(bool)
        shares = df[df["answer"].notna() & df["value"].notna() & shown]
        groups = shares.groupby(["year", "survey", "segment", "indicator"], dropna=False)["value"]
        total = groups.transform("sum")
        count = groups.transform("count")
        over = total > 100 + ROUNDING_PER_SHARE * count
        return pd.Series(True, index=df.index).where(~df.index.isin(over[over].index), False)

    schema = validation_schema(Estimate)
    schema = schema.update_columns(
        {
            "survey": {"checks": [pa.Check.isin(list(codebook.surveys), error="survey_known")]},
            "segment": {"checks": [pa.Check.isin(list(codebook.segments), error="segment_known")]},
            "indicator": {"checks": [pa.Check.isin(list(indicators), error="indicator_known")]},
            "qualifier": {"checks": [pa.Check.isin(list(codebook.qualifiers), error="qualifier_known")]},
        }
    )
    return pa.DataFrameSchema(
        columns=schema.columns,
        checks=[
            *schema.checks,
            pa.Check(survey_matches, error="survey_matches_indicator"),
            pa.Check(answer_known, error="answer_known"),
            pa.Check(distribution_sums, error="distribution_sum"),
        ],
        unique=SOURCE_KEY,
        report_duplicates="all",
        strict=True,
        name="Estimate",
    )


#: Messages per check; {value} is the failing cell as written.
MESSAGES = {
    "year_matches_file": "year {value} contradicts the year in the file name ({year})",
    "in_range(0, 100)": "value {value} is outside 0-100",
    "greater_than(0)": "n must be a positive whole number of respondents",
    "n_minimum": (
        "n = {value} respondents is below the minimum of "
        + str(MIN_PUBLISHED_N)
        + " a published share may rest on (a share of so few is not a statistic; check the n column)"
    ),
    "str_length(1, None)": "{column} is empty",
    "not_nullable": "{column} is empty",
    "indicator_or_question": "neither indicator nor question is given",
    "survey_known": "unknown survey {value!r} (expected organisations/virksomheter or citizens/innbyggere)",
    "segment_known": "unknown segment {value!r} (codebook segments: {segments})",
    "qualifier_known": "unknown qualifier {value!r} (expected below/i underkant av, above/over, approx/ca.)",
    "indicator_known": "unknown indicator {value!r}{closest}",
    "survey_matches_indicator": "survey does not match the indicator's survey in the codebook",
    "answer_known": "answer {value!r} is not an answer option of this indicator in the codebook ({answers})",
    "distribution_sum": "the shares of {indicator} ({segment}) sum to {total} %, more than 100 beyond rounding",
    "multiple_fields_uniqueness": (
        "duplicate: year, survey, segment, indicator and answer repeat row {others} with the same source"
    ),
    "conflict_preferred": (
        "the figure is given by more than one source (rows {alternatives}); mark exactly one of them "
        "preferred = yes: the one trend shows"
    ),
}

#: Dataframe-level checks are reported against the column a user should look at.
CHECK_COLUMN = {
    "indicator_or_question": "indicator",
    "survey_matches_indicator": "survey",
    "answer_known": "answer",
    "distribution_sum": "value",
    "multiple_fields_uniqueness": None,
    "conflict_preferred": "preferred",
}


def _as_text(value: Any) -> str | None:
    """A cell as the user would write it: 47 rather than 47.0; None for NULL."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _distribution(frame: pd.DataFrame, index: Any) -> dict[str, str]:
    """Which distribution a failing share belongs to and what its shares add up to."""
    group = ["year", "survey", "segment", "indicator"]
    keys = frame[group].astype("string").fillna("\0")
    same = (keys == keys.loc[index]).all(axis=1) & frame["answer"].notna()
    row = frame.loc[index]
    total = frame.loc[same, "value"].sum()
    return {"indicator": str(row["indicator"]), "segment": str(row["segment"]), "total": _as_text(float(total)) or ""}


def _alternative_rows(frame: pd.DataFrame) -> dict[int, str]:
    """For each row of a figure given by several sources, all rows of that figure (the first few)."""
    groups: dict[int, str] = {}
    for _, group in frame.groupby(KEY, dropna=False):
        if group["source"].nunique() > 1:
            rows = [int(r) for r in group["source_row"]]
            named = ", ".join(str(r) for r in rows[: DUPLICATES_NAMED + 1])
            more = len(rows) - DUPLICATES_NAMED - 1
            for r in rows:
                groups[r] = named + (f" and {more:,} more" if more > 0 else "")
    return groups


def _answers(codebook: Codebook | None, frame: pd.DataFrame, index: Any) -> str:
    indicator = frame.at[index, "indicator"] if "indicator" in frame.columns else None
    if codebook is None or indicator not in codebook.indicators:
        return "none"
    return ", ".join(a.id for a in codebook.indicators[str(indicator)].answers) or "none: not a distribution"


#: How many other rows a duplicate's message names: a file with thousands of
#: copies of one key would otherwise produce messages (and memory) quadratic in them.
DUPLICATES_NAMED = 5


def _duplicate_rows(frame: pd.DataFrame) -> dict[int, str]:
    """For each row whose key repeats, the other rows with the same key (the first few)."""
    if not set(SOURCE_KEY) <= set(frame.columns):
        return {}
    keyed = frame[frame.duplicated(SOURCE_KEY, keep=False)]
    groups: dict[int, str] = {}
    for _, group in keyed.groupby(SOURCE_KEY, dropna=False):
        rows = [int(r) for r in group["source_row"]]
        for r in rows:
            others = [o for o in rows[: DUPLICATES_NAMED + 1] if o != r][:DUPLICATES_NAMED]
            more = len(rows) - 1 - len(others)
            groups[r] = ", ".join(str(o) for o in others) + (f" and {more:,} more" if more else "")
    return groups


def run_schema(
    schema: pa.DataFrameSchema, frame: pd.DataFrame, file: str, file_year: int, codebook: Codebook | None = None
) -> list[Problem]:
    """Validate lazily and translate every failure case into a Problem."""
    if frame.empty:
        return []
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
    else:
        return []
    rows = frame["source_row"]
    duplicates = _duplicate_rows(frame)
    alternatives: dict[int, str] | None = None  # computed once, only when a conflict fails
    problems: set[Problem] = set()
    for case in cases.itertuples(index=False):
        check = str(case.check)
        index = case.index
        if index is None or pd.isna(index):  # type: ignore[call-overload]
            problems.add(
                Problem(file, None, None, check, str(case.failure_case), f"check {check} failed: {case.failure_case}")
            )
            continue
        row = int(rows.loc[index])
        column = CHECK_COLUMN.get(check, case.column)
        if check == "multiple_fields_uniqueness":
            others = duplicates.get(row, "")
            problems.add(Problem(file, row, None, "duplicate_key", None, MESSAGES[check].format(others=others)))
            continue
        value_text = _as_text(frame.at[index, column] if column in frame.columns else case.failure_case)
        closest = ""
        if check == "indicator_known" and value_text and codebook is not None:
            near = codebook.closest_indicator(value_text)
            closest = f"; closest codebook entry: {near!r}" if near else ""
        template = MESSAGES.get(check, "failed check " + check)
        extra = _distribution(frame, index) if check == "distribution_sum" else {}
        if check == "conflict_preferred":
            if alternatives is None:
                alternatives = _alternative_rows(frame)
            extra = {"alternatives": alternatives.get(row, "")}
        message = template.format(
            **extra,
            value=value_text,
            column=column,
            year=file_year,
            closest=closest,
            segments=", ".join(codebook.segments if codebook else []),
            answers=_answers(codebook, frame, index),
        )
        problems.add(Problem(file, row, column, check, value_text, message))
    return sorted(problems, key=lambda p: (p.row or 0, p.column or "", p.check))
