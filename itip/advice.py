"""Advice for the person preparing a release file: slips that are not errors, and what to
paste into the codebook when a question was reworded.

Neither rejects anything: a value of 0,31 % can be right, and only a person can say
whether a new wording asks the same question.
"""

from __future__ import annotations

import pandas as pd
import yaml

from itip.problems import Problem


def fraction_warnings(staged: pd.DataFrame, file: str) -> list[str]:
    """Values between 0 and 1 in a file whose other values are percentages: probably
    fractions (0,31 meant as 31 %), which would load as 0.31 % without a word."""
    if staged.empty or "value" not in staged.columns:
        return []
    values = staged["value"].astype("Float64")
    if not (values > 1).any():
        return []  # every value is small: nothing to compare with, maybe truly tiny shares
    largest = float(values.max())
    warnings = []
    for row, value in zip(staged["source_row"], values, strict=True):
        if pd.notna(value) and 0 < float(value) < 1:
            shown = f"{float(value):g}".replace(".", ",")
            meant = f"{float(value) * 100:g}".replace(".", ",")
            warnings.append(
                f"{file}, row {int(row)}, column value: {shown} looks like a fraction among percentages "
                f"(other values go up to {largest:g}); it loads as {shown} %. If {meant} % was meant, write {meant}"
            )
    return warnings


def _flow(mapping: dict[str, object]) -> str:
    """One YAML flow mapping, quoted as YAML needs, ready to paste after `- `."""
    return yaml.safe_dump(mapping, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10**9).strip()


def reworded_question_advice(problem: Problem, indicator: str | None, year: int) -> list[str]:
    """For a wording that matches no alias: the alias line and the break line, ready to paste,
    and the question only a person can answer: same question reworded, or a new one?"""
    if problem.check != "question_unmatched" or not problem.value:
        return []
    target = indicator or "<indicator id>"
    alias = "- " + _flow({"year": year, "text": problem.value})
    brk = "- " + _flow({"year": year, "reason": f"Question reworded in {year}; figures before are not comparable."})
    return [
        f"  Is this the same question as {target}, only reworded? Then {year} stays comparable with earlier years:",
        f"  paste under {target} -> aliases in schemas/codebook.yaml:",
        f"      {alias}",
        "  Or does the new wording ask something else, so the series breaks? Then paste the alias line above and,",
        f"  under {target} -> breaks (create the key if it is missing):",
        f"      {brk}",
    ]
