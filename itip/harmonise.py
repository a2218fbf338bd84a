"""Harmonisation: a staged release mapped onto codebook ids.

Spellings (Norwegian or English), wordings of questions and answer options are
resolved through the codebook. What cannot be resolved is left as written, so
that validation of the harmonised layer reports it with the user's own text.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from itip import stats
from itip.codebook import Codebook
from itip.problems import Problem
from schemas.models import ESTIMATE_COLUMNS


def _blank(value: object) -> bool:
    return value is None or pd.isna(value) or str(value).strip() == ""  # type: ignore[call-overload]


def harmonise(staged: pd.DataFrame, codebook: Codebook, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Resolve ids and compute intervals. Returns the estimate frame and the
    problems only the codebook can see (a question and an indicator that
    disagree, an answer that contradicts its wording)."""
    problems: list[Problem] = []
    rows = []
    for rec in staged.to_dict("records"):
        r: Any = SimpleNamespace(**{str(k): v for k, v in rec.items()})
        survey = codebook.resolve("survey", str(r.survey)) or str(r.survey)
        segment = "all" if _blank(r.segment) else (codebook.resolve("segment", str(r.segment)) or str(r.segment))
        qualifier = (
            None if _blank(r.qualifier) else (codebook.resolve("qualifier", str(r.qualifier)) or str(r.qualifier))
        )
        answer = None if _blank(r.answer) else str(r.answer).strip()
        indicator = None if _blank(r.indicator) else str(r.indicator).strip()
        question = None if _blank(r.question) else str(r.question)
        if question is not None:
            match = codebook.resolve_question(question)
            if match is not None:
                q_indicator, q_answer = match
                if indicator is not None and indicator != q_indicator:
                    problems.append(
                        Problem(
                            file,
                            int(r.source_row),
                            "question",
                            "question_indicator",
                            question,
                            f"question is a wording of {q_indicator!r}, but the indicator column says {indicator!r}",
                        )
                    )
                indicator = indicator or q_indicator
                if q_answer is not None:
                    if answer is not None and answer != q_answer:
                        problems.append(
                            Problem(
                                file,
                                int(r.source_row),
                                "answer",
                                "answer_question",
                                answer,
                                f"answer {answer!r} contradicts the question's wording, which is answer {q_answer!r}",
                            )
                        )
                    answer = answer or q_answer
            elif indicator is None:
                suggestion = codebook.closest_question(question)
                hint = f"; closest codebook wording: {suggestion[1]!r} ({suggestion[0]})" if suggestion else ""
                problems.append(
                    Problem(
                        file,
                        int(r.source_row),
                        "question",
                        "question_unmatched",
                        question,
                        f"question matches no codebook wording{hint}; add it as an alias in schemas/codebook.yaml",
                    )
                )
        rows.append(
            {
                "source_row": int(r.source_row),
                "year": r.year,
                "survey": survey,
                "segment": segment,
                "indicator": indicator,
                "answer": answer,
                "question": question,
                "value": None if pd.isna(r.value) else float(r.value),
                "value_status": str(r.value_status),
                "qualifier": qualifier,
                "n": r.n,
                "source": "" if _blank(r.source) else str(r.source).strip(),
                "note": None if _blank(r.note) else str(r.note),
                "inferred": bool(r.inferred),
                "preferred": bool(r.preferred),
                # the declared answer base of this published figure (None = unknown)
                "base": None
                if indicator is None or pd.isna(r.year)
                else codebook.published_base(str(indicator), int(r.year)),
            }
        )
    frame = pd.DataFrame.from_records(rows, columns=list(ESTIMATE_COLUMNS))
    frame["year"] = frame["year"].astype("Int64")
    frame["n"] = frame["n"].astype("Int64")
    frame["value"] = frame["value"].astype("float64")
    frame["inferred"] = frame["inferred"].astype(bool)
    frame["preferred"] = frame["preferred"].astype(bool)
    for col in (
        "survey",
        "segment",
        "indicator",
        "answer",
        "question",
        "value_status",
        "qualifier",
        "source",
        "note",
        "base",
    ):
        frame[col] = frame[col].astype(object)
    lows, highs = stats.intervals(frame)
    frame["ci_low"] = pd.Series(lows, dtype="float64")
    frame["ci_high"] = pd.Series(highs, dtype="float64")
    return frame[list(ESTIMATE_COLUMNS)], problems
