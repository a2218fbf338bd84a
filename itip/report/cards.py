"""What the report says about each figure: cards built from the warehouse's `trend` view.

One series per codebook indicator × segment (× answer), with its points, the
comparability breaks it crosses, whether it is current, and the assessment of its
latest change (good or bad only when the change is significant). The page shows a
series as a card, and the answers of a published distribution together as one card
(`Distribution`), so the shares are read side by side as they were published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itip.codebook import Answer, Codebook, Indicator
from itip.missing import is_missing

if TYPE_CHECKING:
    import pandas as pd

    from itip.lake import Lake


#: A key figure this many editions (or more) older than the newest edition of its survey
#: is marked as not current on its card and never listed among the latest changes.
STALE_EDITIONS = 2


# --- data ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """One year of one series, as the `trend` view has it."""

    year: int
    value: float | None
    qualifier: str | None
    status: str
    n: int | None
    ci_low: float | None
    ci_high: float | None
    prev_year: int | None
    prev_value: float | None
    change_pp: float | None
    p_value: float | None
    comparable: bool | None
    source: str
    file_name: str | None
    #: Benjamini-Hochberg q-value of the year and survey, and q < 0.05 (None: untested).
    q_value: float | None = None
    significant: bool | None = None
    inferred: bool = False
    conflict: bool = False
    edition_respondents: int | None = None
    #: The interval rests on the edition's respondents, not the figure's own n (trend.interval_basis).
    ci_approximate: bool = False
    #: Why not comparable with prev_year (trend.break_reason), e.g. a different answer base.
    break_reason: str | None = None

    @property
    def published(self) -> bool:
        return self.value is not None


@dataclass
class Card:
    """One indicator × segment (× answer) series and what the page says about it."""

    topic: str
    indicator: Indicator
    segment: str | None
    answer: Answer | None
    points: list[Point]
    breaks: list[tuple[int, str]]  # (year, reason) within the chart's span
    span: tuple[int, int] | None
    chart: str | None = None  # path relative to the HTML file
    editions: tuple[int, ...] = ()  # years with figures in the indicator's survey

    @property
    def crossed_breaks(self) -> list[tuple[int, str]]:
        """Breaks the series itself crosses (figures on both sides): only these get a badge,
        a line in the chart and a note; a series wholly on one side is comparable within itself."""
        years = [p.year for p in self.points if p.published]
        return [(y, r) for y, r in self.breaks if years and min(years) < y <= max(years)]

    @property
    def age_editions(self) -> int | None:
        """How many later editions of the survey there are than the latest figure: 0 = current."""
        latest = self.latest
        if latest is None or not self.editions:
            return None
        return sum(1 for year in self.editions if year > latest.year)

    @property
    def stale(self) -> bool:
        """A key figure too old to be shown as current (STALE_EDITIONS or more editions behind)."""
        age = self.age_editions
        return age is not None and age >= STALE_EDITIONS

    @property
    def key(self) -> str:
        parts = [self.indicator.id, self.segment or "none"] + ([self.answer.id] if self.answer else [])
        return "__".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts)

    @property
    def better(self) -> str | None:
        return self.answer.better if self.answer is not None else self.indicator.better

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def change(self) -> float | None:
        """The change of the latest figure, only when it is comparable."""
        latest = self.latest
        if latest is None or latest.change_pp is None or latest.comparable is not True:
            return None
        return latest.change_pp

    @property
    def direction(self) -> str | None:
        change = self.change
        if change is None:
            return None
        return "flat" if abs(change) < 1e-9 else ("up" if change > 0 else "down")

    @property
    def assessment(self) -> str | None:
        """good or bad (the direction read against the codebook's `better`) only for a
        significant change; otherwise not_significant or untested, never a colour for
        what may be chance; neutral when unchanged or the direction is not rated."""
        direction = self.direction
        if direction is None:
            return None
        if direction == "flat":
            return "neutral"
        if self.significant is None:
            return "untested"
        if not self.significant:
            return "not_significant"
        if self.better not in ("higher", "lower"):
            return "neutral"
        return "good" if (direction == "up") == (self.better == "higher") else "bad"

    @property
    def significant(self) -> bool | None:
        """trend.change_significant of the latest change (q < 0.05); None when untested."""
        latest = self.latest
        if latest is None or latest.significant is None or self.change is None:
            return None
        return latest.significant


@dataclass
class Distribution:
    """A published distribution of one segment: the shares of each answer of one question,
    shown as one card with a line per answer (issue 13: never split into a card per answer).
    Each share keeps its own change, test and assessment."""

    topic: str
    indicator: Indicator
    segment: str | None
    shares: list[Card]
    chart: str | None = None  # path relative to the HTML file

    @property
    def key(self) -> str:
        parts = [self.indicator.id, self.segment or "none"]
        return "__".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts)

    @property
    def points(self) -> list[Point]:
        """Every share's points (the card has figures when this is not empty)."""
        return [p for share in self.shares for p in share.points]

    @property
    def span(self) -> tuple[int, int] | None:
        return self.shares[0].span

    @property
    def editions(self) -> tuple[int, ...]:
        return self.shares[0].editions

    @property
    def breaks(self) -> list[tuple[int, str]]:
        return sorted({b for share in self.shares for b in share.breaks})

    @property
    def crossed_breaks(self) -> list[tuple[int, str]]:
        return sorted({b for share in self.shares for b in share.crossed_breaks})

    @property
    def year(self) -> int | None:
        """The newest year with a figure of any answer: the year the shares are read for."""
        years = [share.latest.year for share in self.shares if share.latest is not None]
        return max(years) if years else None

    @property
    def age_editions(self) -> int | None:
        year = self.year
        if year is None or not self.editions:
            return None
        return sum(1 for edition in self.editions if edition > year)

    @property
    def stale(self) -> bool:
        age = self.age_editions
        return age is not None and age >= STALE_EDITIONS


#: What the page shows as one card: a series, or the shares of a published distribution.
Shown = Card | Distribution


def shown_cards(cards: list[Card]) -> list[Shown]:
    """The cards as the page shows them: the answer series of one indicator and segment
    become one `Distribution`, in the order `build_cards` gave them."""
    shown: list[Shown] = []
    groups: dict[tuple[str, str | None], Distribution] = {}
    for card in cards:
        if card.answer is None:
            shown.append(card)
            continue
        group_key = (card.indicator.id, card.segment)
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = Distribution(card.topic, card.indicator, card.segment, [])
            shown.append(group)
        group.shares.append(card)
    return shown


def series_of(shown: list[Shown]) -> list[Card]:
    """Every series behind the shown cards (a distribution's shares one by one)."""
    return [s for item in shown for s in (item.shares if isinstance(item, Distribution) else [item])]


@dataclass
class ReportData:
    """What the report reads from the warehouse."""

    trend: pd.DataFrame
    breaks: pd.DataFrame
    releases: pd.DataFrame
    warehouse: Path | Lake


@dataclass
class Report:
    path: Path
    charts: list[Path]
    #: The cards as shown: a series, or a distribution's shares together.
    cards: list[Shown]
    lang: str
    built_at: datetime
    releases: list[dict[str, Any]] = field(default_factory=list)
    #: Charts drawn by this build; the others were reused from disk (same series, same code).
    charts_drawn: int = 0


def read_report_data(warehouse: Path | Lake) -> ReportData:
    """Read the current figures, breaks and releases from the warehouse, read-only."""
    # here, not at the top: the chart helper imports this module for its card types only
    from itip.db import open_warehouse
    from itip.db_read import loaded_releases, report_breaks, report_trend

    with open_warehouse(warehouse, read_only=True) as wh:
        return ReportData(report_trend(wh), report_breaks(wh), loaded_releases(wh), warehouse)


def _opt(value: Any) -> Any:
    """None for SQL NULL / NaN / pandas NA, else the value."""
    return None if is_missing(value) else value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict("records")]


def _point(rec: dict[str, Any], files: dict[int, str]) -> Point:
    def num(key: str) -> float | None:
        v = _opt(rec.get(key))
        return None if v is None else float(v)

    def whole(key: str) -> int | None:
        v = _opt(rec.get(key))
        return None if v is None else int(v)

    comparable = _opt(rec.get("comparable_with_prev"))
    release = whole("release_id")
    return Point(
        year=int(rec["year"]),
        value=num("value"),
        qualifier=_opt(rec.get("qualifier")),
        status=str(_opt(rec.get("value_status")) or "published"),
        n=whole("n"),
        ci_low=num("ci_low"),
        ci_high=num("ci_high"),
        ci_approximate=_opt(rec.get("interval_basis")) == "edition_n",
        break_reason=_opt(rec.get("break_reason")),
        prev_year=whole("prev_year"),
        prev_value=num("prev_value"),
        change_pp=num("change_pp"),
        p_value=num("change_p_value"),
        comparable=None if comparable is None else bool(comparable),
        q_value=num("change_q_value"),
        significant=None if _opt(rec.get("change_significant")) is None else bool(rec["change_significant"]),
        source=str(_opt(rec.get("source")) or ""),
        file_name=None if release is None else files.get(release),
        inferred=bool(_opt(rec.get("inferred"))),
        conflict=bool(_opt(rec.get("conflict"))),
        edition_respondents=whole("edition_respondents"),
    )


def build_cards(data: ReportData, codebook: Codebook) -> list[Card]:
    """One card per codebook indicator × segment (× answer), topics in codebook order.

    Indicators without any figure still get a card that says so."""
    files = {int(r["release_id"]): str(r["file_name"]) for r in _records(data.releases)}
    trend = data.trend
    spans: dict[str, tuple[int, int]] = {}
    editions: dict[str, tuple[int, ...]] = {}
    for survey, years in trend.groupby("survey")["year"]:
        spans[str(survey)] = (int(years.min()), int(years.max()))
        editions[str(survey)] = tuple(sorted(int(y) for y in years.unique()))
    breaks: dict[str, list[tuple[int, str]]] = {}
    for brk in _records(data.breaks):
        breaks.setdefault(str(brk["indicator"]), []).append((int(brk["year"]), str(brk["reason"])))
    series: dict[str, dict[tuple[str | None, str | None], list[dict[str, Any]]]] = {}
    for rec in _records(trend):
        key = (_opt(rec["segment"]), _opt(rec["answer"]))
        series.setdefault(str(rec["indicator"]), {}).setdefault(key, []).append(rec)
    cards: list[Card] = []
    topic_rank = {t: i for i, t in enumerate(codebook.topics)}
    segment_rank = {s: i for i, s in enumerate(codebook.segments)}
    indicators = sorted(codebook.indicators.values(), key=lambda i: topic_rank.get(i.topic, len(topic_rank)))
    for ind in indicators:
        span = spans.get(ind.survey)
        own_breaks = sorted(
            (year, reason) for year, reason in breaks.get(ind.id, []) if span is None or span[0] < year <= span[1]
        )
        found = series.get(ind.id, {})
        if not found:
            cards.append(Card(ind.topic, ind, None, None, [], own_breaks, span, editions=editions.get(ind.survey, ())))
            continue
        answers = {a.id: a for a in ind.answers}
        answer_rank = {a: i for i, a in enumerate(answers)}
        keys = sorted(
            found,
            key=lambda k: (
                segment_rank.get(k[0] or "", len(segment_rank)),
                k[0] or "",
                -1 if k[1] is None else answer_rank.get(k[1], len(answer_rank)),
                k[1] or "",
            ),
        )
        for segment, answer in keys:
            records = sorted(found[(segment, answer)], key=lambda r: int(r["year"]))
            points = [_point(rec, files) for rec in records]
            answer_obj = None if answer is None else answers.get(answer, Answer(answer, answer, answer))
            survey_editions = editions.get(ind.survey, ())
            # breaks of this series alone (a different answer base), beside the codebook's
            series_breaks = own_breaks + [
                (p.year, p.break_reason)
                for p in points
                if p.comparable is False
                and p.break_reason
                and not any(p.prev_year is not None and p.prev_year < y <= p.year for y, _ in own_breaks)
            ]
            card = Card(ind.topic, ind, segment, answer_obj, points, series_breaks, span, editions=survey_editions)
            cards.append(card)
    return cards


def headlines(cards: list[Card], limit: int = 8) -> list[Card]:
    """Cards whose figure in the newest edition of their survey changed comparably, the largest first."""
    moved = [
        c
        for c in cards
        if c.change is not None
        and c.direction != "flat"
        and c.latest is not None
        and (c.span is None or c.latest.year == c.span[1])  # the newest edition of its survey only
    ]
    return sorted(moved, key=lambda c: (-(c.latest.year if c.latest else 0), -abs(c.change or 0.0), c.key))[:limit]
