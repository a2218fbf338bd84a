"""The checks of a respondent file that need its rows or its SPSS labels: every failing row
named with file, row and column (ids only as keyed hashes), at most `listed` rows per check
and column before the rest is summarised in one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from itip.codebook import normalise_text
from itip.privacy import pseudonym
from itip.problems import Problem
from itip.respondents.read import SavMeta
from itip.respondents.spec import RespondentSpec, Scale
from itip.respondents.table import Found, RespondentTable, RowCheck

#: Weights are accepted in this range. A weight of 1e-200 passes "positive" but its square
#: underflows to 0, so Σw² and the effective n (Σw)²/Σw² divide by zero (issue 14); one of
#: 1e200 overflows. Survey weights are ratios, so a file can always be rescaled into it.
MIN_WEIGHT = 1e-6
MAX_WEIGHT = 1e9


def problem(file: str, row: int | None, column: str | None, check: str, value: str | None, message: str) -> Problem:
    return Problem(file, row, column, check, value, message)


def label_problems(file: str, column: str, indicator: str, scale: Scale, meta: SavMeta) -> list[Problem]:
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
                problem(
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
                problem(
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
                problem(
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
            problem(
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


def row_problems(
    file: str,
    column: str,
    check: str,
    message: str,
    found: Found,
    hide: bool = False,
    key: bytes = b"",
) -> list[Problem]:
    total, rows = found
    problems = [problem(file, row, column, check, (pseudonym(v, key) if hide and v else v), message) for row, v in rows]
    if total > len(rows):
        problems.append(
            problem(
                file,
                None,
                column,
                check,
                None,
                f"{total - len(rows)} more row(s) like row {rows[-1][0]}: {message}",
            )
        )
    return problems


@dataclass(frozen=True)
class _Rows:
    """A check of the rows, listed as problems once every check of the file has been counted."""

    column: str
    check: str
    message: str
    rows: RowCheck
    hide: bool = False


def check_table(
    table: RespondentTable, spec: RespondentSpec, file: str, year: int, key: bytes, listed: int
) -> tuple[list[Problem], list[str], list[str]]:
    """Every check that needs the rows, each listing at most `listed` rows. Returns
    (problems, warnings, question columns to aggregate), problems in the order the checks are
    named here; the row checks are counted together, in one scan of the table."""
    parts: list[Problem | _Rows] = []
    warnings: list[str] = []
    cols = set(table.columns)
    for required in (spec.id_column, spec.survey_column):
        if required not in cols:
            parts.append(
                problem(file, None, required, "column_missing", None, f"required column {required} is missing")
            )
    if spec.id_column in cols:
        parts.append(_Rows(spec.id_column, "id_missing", "respondent id is empty", table.empty(spec.id_column)))
        parts.append(
            _Rows(
                spec.id_column,
                "id_duplicate",
                "respondent id occurs more than once (shown as its keyed hash)",
                table.duplicates(spec.id_column),
                hide=True,
            )
        )
    surveys: set[str] = set()
    lookup = spec.survey_lookup()
    if spec.survey_column in cols:
        parts.append(_Rows(spec.survey_column, "survey_missing", "survey is empty", table.empty(spec.survey_column)))
        parts.append(
            _Rows(
                spec.survey_column,
                "survey_known",
                f"unknown survey; expected one of {', '.join(sorted(lookup))}",
                table.not_in(spec.survey_column, list(lookup)),
            )
        )
        surveys = {lookup[v] for v in table.values_of(spec.survey_column) if v in lookup}
    if spec.weight_column in cols:
        weight = spec.weight_column
        parts.append(_Rows(weight, "weight_number", "weight is not a number", table.not_number(weight)))
        parts.append(
            _Rows(
                weight,
                "weight_positive",
                "weight must be a positive number (leave the column out for weight 1)",
                table.not_positive(weight),
            )
        )
        parts.append(
            _Rows(
                weight,
                "weight_range",
                f"weight is outside {MIN_WEIGHT:g} to {MAX_WEIGHT:g}: weights this small or large lose all precision "
                "when squared and summed (the variance and effective n divide by those sums); only the ratios "
                "of weights matter, so rescale them all by one factor",
                table.outside(weight, MIN_WEIGHT, MAX_WEIGHT),
            )
        )
    for seg in spec.segments:
        if seg.column in cols:
            allowed = seg.lookup()
            parts.append(
                _Rows(
                    seg.column,
                    "segment_code",
                    f"unknown {seg.column} code; expected one of {', '.join(sorted(allowed))}",
                    table.not_in(seg.column, list(allowed)),
                )
            )
    for checked in spec.checked:
        if checked.column in cols:
            parts.append(
                _Rows(checked.column, "format", checked.message, table.not_matching(checked.column, checked.pattern))
            )
    use: list[str] = []
    reported: set[str | None] = set()
    for q in spec.questions.values():
        column = q.column(year)
        if column is None:
            continue
        if column not in cols:
            others = [c for _, c in q.columns if c and c != column and c in cols]
            if others:
                reported.add(others[0])
                parts.append(
                    problem(
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
        parts.append(
            _Rows(
                column, "answer_number", f"answer is not a whole-number code ({q.indicator})", table.not_number(column)
            )
        )
        parts.append(
            _Rows(
                column,
                "answer_code",
                f"answer code is not on the scale {scale.id} ({q.indicator}); allowed: "
                f"{', '.join(str(c) for c in sorted(scale.labels))}",
                table.not_code(column, sorted(scale.labels)),
            )
        )
        use.append(q.indicator)
    this_year = {q.column(year) for q in spec.questions.values()}
    for column, owners in spec.question_columns().items():
        if column in cols and column not in this_year and column not in reported:
            warnings.append(
                f"{file}: column {column} ({owners[0][0]}) is not asked in {year} per the codebook; ignored"
            )
    pending = [part for part in parts if isinstance(part, _Rows)]
    found = iter(table.failing([part.rows for part in pending], listed))
    problems: list[Problem] = []
    for part in parts:
        if isinstance(part, _Rows):
            problems += row_problems(file, part.column, part.check, part.message, next(found), part.hide, key)
        else:
            problems.append(part)
    return problems, warnings, use
