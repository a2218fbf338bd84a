"""The key-figures report: one offline HTML page with a card and a chart per figure.

Most people who follow IT i praksis never write SQL. This module turns the
warehouse into a static page in the manner of Digdir's key-figure pages: per
topic, one card per indicator and segment (and answer, for published
distributions) with the latest value, the change since the previous comparable
year, whether it is significant, whether it is good or bad news, and a small
chart of the whole series with its intervals, comparability breaks and
suppressed years.

The page needs no network: CSS is inline and the charts are PNG files (drawn by
matplotlib's Agg renderer, no GUI) in `charts/` beside `index.html`. Every text
that comes from data (sources, file names, labels) is escaped with
`html.escape`; only http(s) sources become links.

Pure library code: it reads the warehouse through `itip.db` (read-only) and
never imports Prefect.
"""

from __future__ import annotations

import html
import math
import os
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from itip.codebook import Answer, Codebook, Indicator, load_codebook
from itip.db import open_warehouse
from itip.dictionary import DICTIONARY_DIR, dictionary_link_html, write_dictionary
from itip.export import write_report_downloads

if TYPE_CHECKING:
    from itip.lake import Lake

LANGUAGES = ("no", "en")
#: A change is significant when its Benjamini-Hochberg q-value is below this (itip.stats.Q_LEVEL).
SIGNIFICANCE_LEVEL = 0.05
HTML_NAME = "index.html"

#: A key figure this many editions (or more) older than the newest edition of its survey
#: is marked as not current on its card and never listed among the latest changes.
STALE_EDITIONS = 2
STALE_TEXT = {
    "no": "Ikke oppdatert: tall fra {year}, {age} utgaver eldre enn {newest}",
    "en": "Not current: figure from {year}, {age} editions older than {newest}",
}
CHART_DIR = "charts"

#: The page's own words, in both languages. Labels of indicators, topics,
#: segments and answers come from the codebook.
TEXT: dict[str, dict[str, str]] = {
    "no": {
        "title": "IT i praksis – nøkkeltall",
        "intro": (
            "Nøkkeltall fra undersøkelsen IT i praksis, slik de er publisert. Hvert kort viser siste tall, "
            "endring i prosentpoeng (pp) siden forrige sammenlignbare år, og – bare der endringen er statistisk "
            "signifikant – om utviklingen er positiv eller negativ. Grønn er godt nytt, rød er dårlig nytt; "
            "grå er en endring som kan skyldes tilfeldigheter."
        ),
        "built": "Bygget",
        "from_releases": "fra {count} utgivelser",
        "figures": "{cards} nøkkeltall for {indicators} indikatorer",
        "headlines": "Siste endringer",
        "no_headlines": "Ingen sammenlignbare endringer i de siste tallene.",
        "contents": "Innhold",
        "in_year": "i {year}",
        "since": "siden {year} ({value})",
        "up": "stigende",
        "down": "fallende",
        "flat": "uendret",
        "good": "positiv utvikling",
        "bad": "negativ utvikling",
        "neutral": "ingen vurdering av retning",
        "unchanged": "uendret",
        "significant": "statistisk signifikant ({q}; {p})",
        "not_significant": "ikke statistisk signifikant ({q}; {p})",
        "untested": "signifikans ukjent (n eller eksakt tall er ikke publisert)",
        "change_not_significant": "endring, ikke signifikant",
        "change_untested": "endring, signifikans ukjent",
        "tested": (
            "{tested} endringer er testet ({years}). Med så mange tester ville noen se signifikante ut ved "
            "en tilfeldighet, så en endring kalles signifikant bare når den holder etter korreksjon for "
            "mange tester (Benjamini-Hochberg, q < 0,05, per år og undersøkelse): {significant} av dem gjør det."
        ),
        "tested_none": "Ingen endring kunne testes (antall svar eller eksakte tall mangler).",
        "first": "Første tall i serien – ingen endring å vise",
        "not_comparable": "Ikke sammenlignbart med {year} (brudd i serien)",
        "no_change": "Ingen endring kan beregnes",
        "last_published": "Siste publiserte tall: {value} i {year}",
        "no_figures": "Ingen tall publisert ennå",
        "break": "Brudd {year}",
        "break_text": "Brudd i serien fra {year}: tall før og etter er ikke sammenlignbare.",
        "break_chart": "brudd {year}",
        "ci": "95 % KI {low}–{high} %",
        "n": "n = {n}",
        "edition_n": "{n} svarte på undersøkelsen i {year}",
        "inferred": "utledet",
        "inferred_title": "Årgang, gruppe eller ordlyd er utledet av sammenhengen, ikke oppgitt av kilden",
        "inferred_note": "* utledet: årgang, gruppe eller ordlyd er utledet av sammenhengen, ikke oppgitt av kilden.",
        "conflict": "kildene spriker",
        "conflict_title": "Tallet er publisert med ulike verdier; vist er det utgivelsen merker som foretrukket "
        "(se visningen conflicts)",
        "source": "Kilde",
        "chart_alt": "Linjediagram for {label}, {segment}: {points}.",
        "chart_alt_break": "Stiplet linje ved brudd i serien fra {year}.",
        "table": "Tallene i tabell",
        "col_year": "År",
        "col_value": "Verdi",
        "col_n": "n",
        "col_ci": "95 % KI",
        "col_change": "Endring (pp)",
        "col_p": "p",
        "col_comparable": "Sammen\u00adlignbar",
        "col_source": "Kilde og fil",
        "col_file": "Fil",
        "yes": "ja",
        "no": "nei",
        "status_suppressed": "prikket (:)",
        "status_missing": "mangler (..)",
        "status_not_applicable": "ikke aktuelt (.)",
        "status_invalid": "ugyldig",
        "qual_below": "under",
        "qual_above": "over",
        "qual_approx": "ca.",
        "answer": "Svar",
        "releases": "Utgivelser rapporten bygger på",
        "col_loaded": "Lastet",
        "col_sha": "SHA-256",
        "col_rows": "Rader",
        "breaks": "Brudd i seriene",
        "break_survey": "gjelder alle indikatorer i {survey}",
        "method": (
            "Endring er forskjellen i prosentpoeng mot siste tidligere år med tall for samme gruppe. "
            "Signifikans (tosidig z-test for to andeler, korrigert for mange tester med Benjamini-Hochberg: "
            "q < 0,05 per år og undersøkelse; rå p vises ved siden av) og 95 % konfidensintervall (Wilson) "
            "vises bare der antall svar (n) er publisert og tallet er eksakt. Positiv eller negativ utvikling "
            "sies bare om signifikante endringer. Tall merket «under» eller "
            "«ca.» er publisert slik. Prikkede og manglende tall vises som det, aldri som 0. Tall merket «utledet» "
            "har årgang, gruppe eller ordlyd utledet av sammenhengen; «kildene spriker» betyr at tallet er "
            "publisert med ulike verdier, og at utgivelsen sier hvilket som vises."
        ),
        "footer": "Laget med itip fra datavarehuset {warehouse}.",
    },
    "en": {
        "title": "IT i praksis – key figures",
        "intro": (
            "Key figures from the IT i praksis survey, as published. Each card shows the latest figure, the "
            "change in percentage points (pp) since the previous comparable year, and – only where the change "
            "is statistically significant – whether the development is positive or negative. Green is good news, "
            "red is bad news; grey is a change that may be chance."
        ),
        "built": "Built",
        "from_releases": "from {count} releases",
        "figures": "{cards} key figures for {indicators} indicators",
        "headlines": "Latest changes",
        "no_headlines": "No comparable changes in the latest figures.",
        "contents": "Contents",
        "in_year": "in {year}",
        "since": "since {year} ({value})",
        "up": "rising",
        "down": "falling",
        "flat": "unchanged",
        "good": "positive development",
        "bad": "negative development",
        "neutral": "direction not rated",
        "unchanged": "unchanged",
        "significant": "statistically significant ({q}; {p})",
        "not_significant": "not statistically significant ({q}; {p})",
        "untested": "significance unknown (n or an exact figure not published)",
        "change_not_significant": "change, not significant",
        "change_untested": "change, significance unknown",
        "tested": (
            "{tested} changes were tested ({years}). With that many tests some would look significant by "
            "chance, so a change is called significant only when it holds after correction for multiple "
            "testing (Benjamini-Hochberg, q < 0.05, per year and survey): {significant} of them do."
        ),
        "tested_none": "No change could be tested (number of respondents or exact figures missing).",
        "first": "First figure of the series – no change to show",
        "not_comparable": "Not comparable with {year} (series break)",
        "no_change": "No change can be computed",
        "last_published": "Last published figure: {value} in {year}",
        "no_figures": "No figures published yet",
        "break": "Break {year}",
        "break_text": "Series break from {year}: figures before and after are not comparable.",
        "break_chart": "break {year}",
        "ci": "95 % CI {low}–{high} %",
        "n": "n = {n}",
        "edition_n": "{n} answered the {year} survey",
        "inferred": "inferred",
        "inferred_title": "Edition year, group or wording inferred from context, not stated by the source",
        "inferred_note": "* inferred: edition year, group or wording inferred from context, not stated by the source.",
        "conflict": "sources disagree",
        "conflict_title": "Published with different values; shown is the one the release marks preferred "
        "(see the view conflicts)",
        "source": "Source",
        "chart_alt": "Line chart of {label}, {segment}: {points}.",
        "chart_alt_break": "Dashed line at the series break from {year}.",
        "table": "The figures as a table",
        "col_year": "Year",
        "col_value": "Value",
        "col_n": "n",
        "col_ci": "95 % CI",
        "col_change": "Change (pp)",
        "col_p": "p",
        "col_comparable": "Compa\u00adrable",
        "col_source": "Source and file",
        "col_file": "File",
        "yes": "yes",
        "no": "no",
        "status_suppressed": "suppressed (:)",
        "status_missing": "missing (..)",
        "status_not_applicable": "not applicable (.)",
        "status_invalid": "invalid",
        "qual_below": "under",
        "qual_above": "over",
        "qual_approx": "about",
        "answer": "Answer",
        "releases": "Releases this report is built from",
        "col_loaded": "Loaded",
        "col_sha": "SHA-256",
        "col_rows": "Rows",
        "breaks": "Series breaks",
        "break_survey": "applies to every indicator of the {survey}",
        "method": (
            "The change is the difference in percentage points from the latest earlier year with a figure for "
            "the same group. Significance (two-sided two-proportion z-test, corrected for multiple testing by "
            "Benjamini-Hochberg: q < 0.05 per year and survey; the raw p is shown beside it) and 95 % confidence "
            "intervals (Wilson) are shown only where the number of respondents (n) is published and the figure "
            "is exact. A development is called positive or negative only when its change is significant. "
            "Figures marked 'under' or 'about' were published that way. Suppressed and missing "
            "figures are shown as such, never as 0. Figures marked 'inferred' have their edition year, group or "
            "wording inferred from context; 'sources disagree' means the figure was published with different "
            "values and the release says which one is shown."
        ),
        "footer": "Made with itip from the warehouse {warehouse}.",
    },
}

ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
#: The words for an assessment where they differ from its name.
VERDICT = {"not_significant": "change_not_significant", "untested": "change_untested"}
MINUS = "−"  # U+2212, the typographic minus

#: Colours of the charts: axis text, the series, and comparability breaks.
NEUTRAL, LINE, BREAK = "#57606a", "#1f4e79", "#9a6700"


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
    cards: list[Card]
    lang: str
    built_at: datetime
    releases: list[dict[str, Any]] = field(default_factory=list)


def read_report_data(warehouse: Path | Lake) -> ReportData:
    """Read the current figures, breaks and releases from the warehouse, read-only."""
    with open_warehouse(warehouse, read_only=True) as wh:
        return ReportData(wh.report_trend(), wh.report_breaks(), wh.loaded_releases(), warehouse)


def _opt(value: Any) -> Any:
    """None for SQL NULL / NaN / pandas NA, else the value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


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


# --- formatting ----------------------------------------------------------------------
def esc(value: object) -> str:
    """Text from data, escaped for HTML (also inside attribute values)."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_text(value: object) -> str:
    """Text from outside files, escaped for HTML, with a leading =, +, -, @ neutralised
    the way `itip sql --csv` does: a copied table must not become spreadsheet formulas."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return esc(text)


def fmt_number(value: float, lang: str, decimals: int = 1) -> str:
    whole = abs(value - round(value)) < 1e-9
    text = str(round(value)) if whole else f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    if lang == "no":
        text = text.replace(".", ",")
    return text.replace("-", MINUS)


def fmt_value(point: Point, lang: str) -> str:
    """'47 %', 'under 30 %', 'ca. 90 %', or the status of a figure that has no value."""
    words = TEXT[lang]
    if point.value is None:
        return words.get(f"status_{point.status}", point.status)
    text = f"{fmt_number(point.value, lang)} %"
    if point.qualifier:
        text = f"{words.get(f'qual_{point.qualifier}', point.qualifier)} {text}"
    return text


def fmt_change(change: float, lang: str) -> str:
    sign = "+" if change > 1e-9 else ""
    return f"{sign}{fmt_number(change, lang)} pp"


def fmt_p(p: float, lang: str) -> str:
    """'p = 0.012', or 'p < 0.001' for a tiny p (decimal comma in Norwegian)."""
    text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    return text.replace(".", ",") if lang == "no" else text


def _label(entry: Any, lang: str, fallback: str) -> str:
    if entry is None:
        return fallback
    if isinstance(entry, dict):
        return str(entry.get(f"label_{lang}") or fallback)
    return str(getattr(entry, f"label_{lang}", None) or fallback)


def source_html(source: str) -> str:
    """A link for an http(s) source, else the citation as (escaped) text. A URL followed
    by words (`https://... (a later version of the page)`) is a link and the words."""
    url, _, rest = source.strip().partition(" ")
    if rest and not re.search(r"\s", url) and urlsplit(url).scheme in ("http", "https"):
        return f"{source_html(url)} {safe_text(rest.strip())}"
    parts = urlsplit(source.strip()) if source else None
    if parts is not None and parts.scheme in ("http", "https") and parts.netloc and not re.search(r"\s", source):
        host = parts.netloc.lower().removeprefix("www.")
        return (
            f'<a href="{esc(source.strip())}" title="{esc(source.strip())}" rel="noopener noreferrer">{esc(host)}</a>'
        )
    return safe_text(source)


# --- charts --------------------------------------------------------------------------
def _runs(card: Card) -> list[list[Point]]:
    """Published points that a line may join: not across a break or a year without a value."""
    runs: list[list[Point]] = []
    current: list[Point] = []
    for point in card.points:
        if not point.published:
            if current:
                runs.append(current)
            current = []
            continue
        if current and (
            point.year - current[-1].year > 1  # a missing year is a gap, not a line
            or any(current[-1].year < year <= point.year for year, _ in card.breaks)
        ):
            runs.append(current)
            current = []
        current.append(point)
    if current:
        runs.append(current)
    return runs


#: Value labels of neighbouring years closer than this (percentage points) go on opposite sides of the line.
LABEL_CLASH_PP = 15.0


def label_sides(run: list[Point]) -> list[bool]:
    """Per point, whether its value label goes above (True) or below the line: above a
    peak, below a trough, and labels of neighbouring years that would collide on
    opposite sides. Labels of values near 0 stay above (below would hit the axis)."""
    values = [p.value or 0.0 for p in run]
    sides: list[bool] = []
    for i, value in enumerate(values):
        neighbours = values[max(i - 1, 0) : i] + values[i + 1 : i + 2]
        above = not neighbours or not all(other > value for other in neighbours)
        if sides and run[i].year - run[i - 1].year == 1 and abs(value - values[i - 1]) < LABEL_CLASH_PP:
            above = not sides[-1]
        sides.append(above or value < 12)
    return sides


def draw_chart(card: Card, path: Path, lang: str) -> None:
    """A small line chart of the whole series with 95 % intervals, breaks and gaps."""
    words = TEXT[lang]
    fig = Figure(figsize=(3.6, 1.75), dpi=200)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    years = [p.year for p in card.points]
    first, last = card.span or (min(years), max(years))
    first, last = min([first, *years]), max([last, *years])
    ax.set_xlim(first - 0.6, last + 0.6)
    ax.set_ylim(0, 105)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f} %"))
    step = 1 if last - first < 12 else (2 if last - first < 24 else 5)
    ax.set_xticks(list(range(first, last + 1, step)))
    ax.set_xticklabels([str(y) for y in range(first, last + 1, step)])
    ax.tick_params(axis="both", labelsize=7.5, colors=NEUTRAL, length=2)
    ax.grid(axis="y", color="#d0d7de", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#8c959f")

    for year, _reason in card.crossed_breaks:
        x = year - 0.5
        ax.axvline(x, color=BREAK, linestyle=(0, (4, 3)), linewidth=1.2)
        right_side = x < (first + last) / 2
        ax.text(
            x + (0.08 if right_side else -0.08),
            101,
            words["break_chart"].format(year=year),
            color=BREAK,
            fontsize=7.5,
            ha="left" if right_side else "right",
            va="top",
        )

    for point in card.points:
        if not point.published:
            ax.axvspan(point.year - 0.3, point.year + 0.3, color="#eaeef2", linewidth=0)
            ax.text(
                point.year,
                50,
                fmt_value(point, lang),
                rotation=90,
                ha="center",
                va="center",
                fontsize=7,
                color=NEUTRAL,
            )

    for run in _runs(card):
        xs = [p.year for p in run]
        ys = [p.value or 0.0 for p in run]
        with_ci = [p for p in run if p.ci_low is not None and p.ci_high is not None]
        if len(with_ci) >= 2:
            ax.fill_between(
                [p.year for p in with_ci],
                [p.ci_low or 0.0 for p in with_ci],
                [p.ci_high or 0.0 for p in with_ci],
                color=LINE,
                alpha=0.15,
                linewidth=0,
            )
        for p in with_ci if len(with_ci) < 2 else []:
            assert p.ci_low is not None and p.ci_high is not None and p.value is not None
            ax.errorbar(
                [p.year],
                [p.value],
                yerr=[[p.value - p.ci_low], [p.ci_high - p.value]],
                color=LINE,
                alpha=0.5,
                capsize=3,
                linewidth=1.2,
            )
        ax.plot(xs, ys, color=LINE, linewidth=2, zorder=3)
        for p, above in zip(run, label_sides(run), strict=True):
            exact = not p.qualifier
            ax.plot(
                [p.year],
                [p.value or 0.0],
                marker="o",
                markersize=5,
                color=LINE,
                markerfacecolor=LINE if exact else "white",
                markeredgewidth=1.5,
                zorder=4,
            )
            prefix = {"below": "<", "above": ">", "approx": "~"}.get(p.qualifier or "", "")
            value = p.value or 0.0
            anchor = max(value, p.ci_high or value) if above else min(value, p.ci_low or value)
            ax.annotate(
                prefix + fmt_number(value, lang) + ("*" if p.inferred else ""),
                (p.year, anchor),
                textcoords="offset points",
                xytext=(0, 6 if above else -6),
                va="bottom" if above else "top",
                ha="center",
                fontsize=8,
                fontweight="bold",
                color="#24292f",
            )
    fig.subplots_adjust(left=0.13, right=0.98, top=0.96, bottom=0.14)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fig.savefig(tmp, format="png", metadata={"Software": None})
    os.replace(tmp, path)  # a reader never sees half a chart


def chart_alt(card: Card, codebook: Codebook, lang: str) -> str:
    words = TEXT[lang]
    points = "; ".join(
        f"{p.year}: {fmt_value(p, lang)}" + (f" ({words['inferred']})" if p.inferred else "") for p in card.points
    )
    text = words["chart_alt"].format(
        label=_card_label(card, lang), segment=_segment_label(card, codebook, lang), points=points
    )
    for year, _ in card.crossed_breaks:
        text += " " + words["chart_alt_break"].format(year=year)
    return text


# --- HTML ------------------------------------------------------------------------------
CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1f2328;background:#f6f8fa;line-height:1.45}
header.page{background:#1f4e79;color:#fff;padding:28px 32px 22px}
header.page h1{margin:0 0 6px;font-size:1.9rem;letter-spacing:-.01em}
header.page p{margin:4px 0;max-width:72rem;color:#e6edf3}
header.page .meta{font-size:.9rem;color:#c9d7e6}
main{max-width:1320px;margin:0 auto;padding:8px 24px 40px}
nav.toc{margin:18px 0 4px;display:flex;flex-wrap:wrap;gap:8px}
nav.toc a{background:#fff;border:1px solid #d0d7de;border-radius:999px;padding:4px 12px;color:#1f4e79;
 text-decoration:none;font-size:.9rem}
nav.toc a:hover{background:#eaf1f8}
section.headlines{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:14px 20px;margin:18px 0}
section.headlines h2{font-size:1.1rem;margin:0 0 6px}
section.headlines ul{margin:0;padding-left:1.1rem}
section.topic h2{font-size:1.35rem;margin:30px 0 12px;padding-bottom:6px;border-bottom:2px solid #d0d7de}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(360px,100%),1fr));gap:16px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:16px 18px 12px;display:flex;
 flex-direction:column;box-shadow:0 1px 2px rgba(31,35,40,.06)}
.card.good{border-top:5px solid #1a7f37}.card.bad{border-top:5px solid #c0392b}
.card.neutral,.card.none,.card.not_significant,.card.untested{border-top:5px solid #8c959f}
.card h3{font-size:1rem;margin:4px 0 8px;font-weight:600}
.tags{display:flex;flex-wrap:wrap;gap:6px;font-size:.75rem}
.tag{background:#eaeef2;color:#424a53;border-radius:4px;padding:1px 7px}
.tag.break{background:#fff8c5;color:#7d4e00;border:1px solid #d4a72c;cursor:help}
.tag.stale{background:#ffebe9;color:#82071e;border:1px solid #ff8182}
.tag.inferred{background:#f6f8fa;color:#57606a;border:1px dashed #8c959f;cursor:help;font-size:.75rem}
.tag.conflict{background:#ffebe9;color:#82071e;border:1px solid #ff8182;cursor:help;font-size:.75rem}
.inferrednote{font-size:.8rem;color:#57606a}
.figure{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
.value{font-size:2.3rem;font-weight:700;color:#1f2328;white-space:nowrap;letter-spacing:-.02em}
.value.status{font-size:1.4rem;color:#57606a;font-style:italic}
.year{color:#57606a}
.change{margin:4px 0;font-weight:600;white-space:normal}
.change .arrow{font-size:1.2rem}
.change.good{color:#1a7f37}.change.bad{color:#c0392b}.change.neutral{color:#57606a}
.change.not_significant,.change.untested{color:#57606a}
.change.none{color:#57606a;font-weight:400;font-size:.92rem}
.change .verdict{font-weight:400}
.stat{margin:2px 0;font-size:.85rem;color:#57606a}
.breaknote{margin:4px 0;font-size:.82rem;color:#7d4e00}
.card img{width:100%;height:auto;margin-top:8px}
.card footer{margin-top:auto;padding-top:6px;font-size:.8rem;color:#57606a}
a{color:#0b5cad}
details{margin-top:6px;font-size:.8rem}
summary{cursor:pointer;color:#0b5cad}
.tablewrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin-top:6px}
th,td{border-bottom:1px solid #eaeef2;padding:3px 5px;text-align:left;vertical-align:top}
td .file{color:#57606a;font-size:.75rem}
th{font-weight:600;background:#f6f8fa}
td.num{text-align:right;white-space:nowrap}
section.about{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:14px 20px;margin-top:30px;
 font-size:.88rem}
section.about h2{font-size:1.1rem}
code{font-size:.78rem;word-break:break-all}
footer.page{text-align:center;color:#57606a;font-size:.8rem;padding:20px}
"""

PAGE = string.Template(
    """<!DOCTYPE html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="itip report">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header class="page">
<h1>$title</h1>
<p>$intro</p>
<p class="meta">$meta</p>
</header>
<main>
<nav class="toc" aria-label="$contents">$toc</nav>
$headlines
$topics
$about
</main>
<footer class="page">$footer</footer>
</body>
</html>
"""
)


def _card_label(card: Card, lang: str) -> str:
    label = _label(card.indicator, lang, card.indicator.id)
    if card.answer is not None:
        label += f" – {_label(card.answer, lang, card.answer.id)}"
    return label


def _segment_label(card: Card, codebook: Codebook, lang: str) -> str:
    if card.segment is None:
        return _label(codebook.surveys.get(card.indicator.survey), lang, card.indicator.survey)
    return _label(codebook.segments.get(card.segment), lang, card.segment)


def _previous(card: Card) -> Point | None:
    """The point the latest change is measured against (with its qualifier)."""
    latest = card.latest
    if latest is None or latest.prev_year is None:
        return None
    return next((p for p in card.points if p.year == latest.prev_year), None)


def _since(card: Card, lang: str) -> str:
    latest, prev = card.latest, _previous(card)
    assert latest is not None and latest.prev_year is not None
    if prev is not None:
        value = fmt_value(prev, lang)
    else:
        value = "" if latest.prev_value is None else f"{fmt_number(latest.prev_value, lang)} %"
    return TEXT[lang]["since"].format(year=latest.prev_year, value=value)


def _change_html(card: Card, lang: str) -> str:
    words = TEXT[lang]
    latest = card.latest
    if latest is None:
        return ""
    if not latest.published:
        text = words["no_change"]
        last = next((p for p in reversed(card.points) if p.published), None)
        if last is not None:
            text += ". " + words["last_published"].format(value=fmt_value(last, lang), year=last.year)
        return f'<p class="change none">{esc(text)}</p>'
    if latest.prev_year is None:
        return f'<p class="change none">{esc(words["first"])}</p>'
    if latest.comparable is False:
        return f'<p class="change none">{esc(words["not_comparable"].format(year=latest.prev_year))}</p>'
    direction, assessment, change = card.direction, card.assessment, card.change
    if direction is None or assessment is None or change is None:
        return f'<p class="change none">{esc(words["no_change"])}</p>'
    since = _since(card, lang)
    verdict = words["unchanged"] if direction == "flat" else words[VERDICT.get(assessment, assessment)]
    return (
        f'<p class="change {assessment}" data-direction="{direction}" data-assessment="{assessment}">'
        f'<span class="arrow" role="img" aria-label="{esc(words[direction])}">{ARROWS[direction]}</span> '
        f'<span class="delta">{esc(fmt_change(change, lang))}</span> {esc(since)} · '
        f'<span class="verdict">{esc(verdict)}</span></p>'
    )


def _stats_html(card: Card, lang: str) -> str:
    words = TEXT[lang]
    latest = card.latest
    parts: list[str] = []
    if latest is None:
        return ""
    if card.change is not None:
        if latest.p_value is not None and latest.q_value is not None and card.significant is not None:
            key = "significant" if card.significant else "not_significant"
            text = words[key].format(q=fmt_p(latest.q_value, lang).replace("p", "q", 1), p=fmt_p(latest.p_value, lang))
            parts.append(
                f'<p class="stat significance" data-significant="{str(bool(card.significant)).lower()}">{esc(text)}</p>'
            )
        else:
            parts.append(f'<p class="stat significance" data-significant="unknown">{esc(words["untested"])}</p>')
    extra = []
    if latest.ci_low is not None and latest.ci_high is not None:
        ci = words["ci"].format(low=fmt_number(latest.ci_low, lang), high=fmt_number(latest.ci_high, lang))
        extra.append(("≈ " if latest.ci_approximate else "") + ci)
    if latest.n is not None:
        extra.append(words["n"].format(n=latest.n))
    elif latest.edition_respondents is not None:  # who answered the edition, not the n of this figure
        extra.append(words["edition_n"].format(n=latest.edition_respondents, year=latest.year))
    if extra:
        parts.append(f'<p class="stat">{esc(" · ".join(extra))}</p>')
    return "".join(parts)


def _marks_html(point: Point, lang: str) -> str:
    """Tags for a figure whose provenance is inferred or whose sources disagree."""
    words = TEXT[lang]
    marks = []
    if point.inferred:
        marks.append(
            f'<span class="tag inferred" data-inferred="true" title="{esc(words["inferred_title"])}">'
            f"{esc(words['inferred'])}*</span>"
        )
    if point.conflict:
        marks.append(
            f'<span class="tag conflict" data-conflict="true" title="{esc(words["conflict_title"])}">'
            f"{esc(words['conflict'])}</span>"
        )
    return " ".join(marks)


def _table_html(card: Card, lang: str) -> str:
    """The series as a table; n, interval and p columns only where the series has them."""
    words = TEXT[lang]
    has_n = any(p.n is not None for p in card.points)
    has_ci = any(p.ci_low is not None for p in card.points)
    has_p = any(p.p_value is not None for p in card.points)
    columns = ["col_year", "col_value", *(["col_n"] if has_n else []), *(["col_ci"] if has_ci else [])]
    columns += ["col_change", *(["col_p"] if has_p else []), "col_comparable", "col_source"]
    head = "".join(f'<th scope="col">{esc(words[k])}</th>' for k in columns)
    rows = []
    for p in card.points:
        marks = _marks_html(p, lang)
        cells = [
            f'<th scope="row">{p.year}</th>',
            f'<td class="num">{esc(fmt_value(p, lang))}{" " + marks if marks else ""}</td>',
        ]
        if has_n:
            cells.append(f'<td class="num">{"" if p.n is None else p.n}</td>')
        if has_ci:
            ci = (
                ""
                if p.ci_low is None or p.ci_high is None
                else ("≈ " if p.ci_approximate else "") + f"{fmt_number(p.ci_low, lang)}–{fmt_number(p.ci_high, lang)}"
            )
            cells.append(f'<td class="num">{esc(ci)}</td>')
        cells.append(f'<td class="num">{esc("" if p.change_pp is None else fmt_change(p.change_pp, lang))}</td>')
        if has_p:
            p_text = "" if p.p_value is None else fmt_p(p.p_value, lang).removeprefix("p = ")
            cells.append(f'<td class="num">{esc(p_text)}</td>')
        comparable = "" if p.comparable is None else words["yes" if p.comparable else "no"]
        file_name = f'<br><span class="file">{safe_text(p.file_name)}</span>' if p.file_name else ""
        cells += [f"<td>{esc(comparable)}</td>", f"<td>{source_html(p.source)}{file_name}</td>"]
        rows.append(
            f'<tr data-year="{p.year}" data-status="{esc(p.status)}" data-inferred="{str(p.inferred).lower()}">'
            f"{''.join(cells)}</tr>"
        )
    notes = "".join(
        f'<p class="breaknote">{esc(words["break_text"].format(year=y))} {esc(r)}</p>' for y, r in card.crossed_breaks
    )
    if any(p.inferred for p in card.points):
        notes += f'<p class="inferrednote">{esc(words["inferred_note"])}</p>'
    return (
        f"<details><summary>{esc(words['table'])}</summary>"
        f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        f"{notes}</details>"
    )


def card_html(card: Card, codebook: Codebook, lang: str) -> str:
    words = TEXT[lang]
    latest = card.latest
    survey = _label(codebook.surveys.get(card.indicator.survey), lang, card.indicator.survey)
    tags = [f'<span class="tag segment">{esc(_segment_label(card, codebook, lang))}</span>']
    if card.segment is not None:
        tags.append(f'<span class="tag survey">{esc(survey)}</span>')
    for year, reason in card.crossed_breaks:
        tags.append(
            f'<span class="tag break" data-break-year="{year}" title="{esc(reason)}">'
            f"⚠ {esc(words['break'].format(year=year))}</span>"
        )
    tags.append(_stale_tag(card, lang))
    if latest is None:
        figure = f'<div class="figure"><span class="value status">{esc(words["no_figures"])}</span></div>'
    else:
        cls = "value" if latest.published else "value status"
        marks = _marks_html(latest, lang)
        figure = (
            f'<div class="figure"><span class="{cls}" data-status="{esc(latest.status)}">'
            f"{esc(fmt_value(latest, lang))}</span>"
            f'<span class="year">{esc(words["in_year"].format(year=latest.year))}</span>'
            f"{' ' + marks if marks else ''}</div>"
        )
    years = [p.year for p in card.points if p.published]
    breaknotes = "".join(  # said in the card where the series has figures on both sides of the break
        f'<p class="breaknote" title="{esc(reason)}">{esc(words["break_text"].format(year=year))}</p>'
        for year, reason in card.breaks
        if years and min(years) < year <= max(years)
    )
    chart = ""
    if card.chart:
        chart = f'<img src="{esc(card.chart)}" alt="{esc(chart_alt(card, codebook, lang))}" loading="lazy">'
    table = _table_html(card, lang) if card.points else ""
    source = ""
    if latest is not None:
        source = f"<footer>{esc(words['source'])}: {source_html(latest.source)}</footer>"
    value_attr = "" if latest is None or latest.value is None else fmt_number(latest.value, "en").replace(MINUS, "-")
    return (
        f'<article class="card {card.assessment or "none"}" id="card-{esc(card.key)}" '
        f'data-indicator="{esc(card.indicator.id)}" data-segment="{esc(card.segment or "")}" '
        f'data-answer="{esc(card.answer.id if card.answer else "")}" data-value="{esc(value_attr)}" '
        f'data-direction="{card.direction or ""}" data-assessment="{card.assessment or ""}">'
        f'<div class="tags">{"".join(tags)}</div>'
        f"<h3>{esc(_card_label(card, lang))}</h3>"
        f"{figure}{_change_html(card, lang)}{_stats_html(card, lang)}{breaknotes}{chart}{table}{source}"
        "</article>"
    )


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


def _stale_tag(card: Card, lang: str) -> str:
    """A badge on a key figure from an older edition, so it is not read as current."""
    latest = card.latest
    if latest is None or not card.stale:
        return ""
    text = STALE_TEXT[lang].format(year=latest.year, age=card.age_editions, newest=max(card.editions))
    return f'<span class="tag stale" data-age-editions="{card.age_editions}">{esc(text)}</span>'


def headline_text(card: Card, codebook: Codebook, lang: str) -> str:
    latest = card.latest
    assert latest is not None and latest.prev_year is not None
    words = TEXT[lang]
    assessment = card.assessment or "neutral"
    prev = _previous(card)
    before = fmt_value(prev, lang) if prev is not None else f"{fmt_number(latest.prev_value or 0.0, lang)} %"
    return (
        f"{ARROWS[card.direction or 'flat']} {_card_label(card, lang)} ({_segment_label(card, codebook, lang)}): "
        f"{before} ({latest.prev_year}) → {fmt_value(latest, lang)} ({latest.year}), "
        f"{fmt_change(card.change or 0.0, lang)} – {words[VERDICT.get(assessment, assessment)]}"
    )


def changes_tested_text(trend: pd.DataFrame, lang: str) -> str:
    """How many changes were tested and how many hold after the correction, in plain words.

    Counted over every current row of `trend` (all indicators, segments and
    answers), per year, because the number of tests is what makes a raw p < 0.05
    misleading and the reader should see it."""
    words = TEXT[lang]
    if trend.empty or "change_p_value" not in trend.columns:
        return words["tested_none"]
    tested = trend[trend["change_p_value"].notna()]
    if tested.empty:
        return words["tested_none"]
    flags = tested["change_significant"] if "change_significant" in tested.columns else pd.Series(dtype=object)
    significant = int(sum(bool(v) for v in flags if _opt(v) is not None))
    per_year = tested.groupby("year").size().sort_index()
    years = ", ".join(f"{int(str(y))}: {int(k)}" for y, k in per_year.items())
    return words["tested"].format(tested=len(tested), years=years, significant=significant)


def render_html(cards: list[Card], data: ReportData, codebook: Codebook, lang: str, built_at: datetime) -> str:
    words = TEXT[lang]
    releases = _records(data.releases)
    topics_html = []
    toc = []
    for topic, entry in codebook.topics.items():
        topic_cards = [c for c in cards if c.topic == topic]
        if not topic_cards:
            continue
        label = _label(entry, lang, topic)
        toc.append(f'<a href="#topic-{esc(topic)}">{esc(label)}</a>')
        topics_html.append(
            f'<section class="topic" id="topic-{esc(topic)}" aria-labelledby="h-{esc(topic)}">'
            f'<h2 id="h-{esc(topic)}">{esc(label)}</h2><div class="cards">'
            + "".join(card_html(c, codebook, lang) for c in topic_cards)
            + "</div></section>"
        )
    top = headlines(cards)
    if top:
        items = "".join(f"<li>{esc(headline_text(c, codebook, lang))}</li>" for c in top)
        headlines_html = (
            f'<section class="headlines"><h2>{esc(words["headlines"])}</h2><ul>{items}</ul>'
            f'<p class="tested">{esc(changes_tested_text(data.trend, lang))}</p></section>'
        )
    else:
        headlines_html = (
            f'<section class="headlines"><h2>{esc(words["headlines"])}</h2>'
            f"<p>{esc(words['no_headlines'])}</p>"
            f'<p class="tested">{esc(changes_tested_text(data.trend, lang))}</p></section>'
        )
    release_rows = "".join(
        f'<tr><td class="num">{"" if _opt(r["year"]) is None else int(r["year"])}</td>'
        f"<td>{safe_text(r['file_name'])}</td>"
        f'<td><code>{esc(r["sha256"])}</code></td><td class="num">{int(r["rows"])}</td>'
        f"<td>{esc(_when(r['loaded_at']))}</td></tr>"
        for r in releases
    )
    shown = {(c.indicator.id, year) for c in cards for year, _ in c.breaks}
    break_rows: dict[tuple[int, str], list[str]] = {}
    for brk in _records(data.breaks):
        indicator = codebook.indicators.get(str(brk["indicator"]))
        if indicator is None or (indicator.id, int(brk["year"])) not in shown:
            continue
        if brk["scope"] == "survey":
            survey = _label(codebook.surveys.get(indicator.survey), lang, indicator.survey)
            applies = words["break_survey"].format(survey=survey)
        else:
            applies = _label(indicator, lang, indicator.id)
        listed = break_rows.setdefault((int(brk["year"]), str(brk["reason"])), [])
        if applies not in listed:
            listed.append(applies)
    breaks_html = "".join(
        f"<p><strong>{esc(words['break'].format(year=year))}</strong> ({esc('; '.join(applies))}): {esc(reason)}</p>"
        for (year, reason), applies in sorted(break_rows.items())
    )
    about = (
        f'<section class="about" id="about"><h2>{esc(words["releases"])}</h2>'
        f'<table><thead><tr><th scope="col">{esc(words["col_year"])}</th><th scope="col">{esc(words["col_file"])}</th>'
        f'<th scope="col">{esc(words["col_sha"])}</th><th scope="col">{esc(words["col_rows"])}</th>'
        f'<th scope="col">{esc(words["col_loaded"])}</th></tr></thead><tbody>{release_rows}</tbody></table>'
        + (f"<h2>{esc(words['breaks'])}</h2>{breaks_html}" if breaks_html else "")
        + f"<p>{esc(words['method'])}</p>"
        + dictionary_link_html(lang)
        + "</section>"
    )
    indicators = len({c.indicator.id for c in cards})
    built = built_at.astimezone(UTC)
    meta = (
        f'{esc(words["built"])} <time datetime="{esc(built.isoformat(timespec="seconds"))}">'
        f"{esc(built.strftime('%Y-%m-%d %H:%M UTC'))}</time> "
        f"{esc(words['from_releases'].format(count=len(releases)))} "
        f"({', '.join(safe_text(r['file_name']) for r in releases)}) · "
        f"{esc(words['figures'].format(cards=len(cards), indicators=indicators))}"
    )
    return PAGE.substitute(
        lang="nb" if lang == "no" else "en",
        title=esc(words["title"]),
        css=CSS,
        intro=esc(words["intro"]),
        meta=meta,
        contents=esc(words["contents"]),
        toc="".join(toc),
        headlines=headlines_html,
        topics="\n".join(topics_html),
        about=about,
        footer=esc(words["footer"].format(warehouse=data.warehouse.name)),
    )


def _when(value: Any) -> str:
    value = _opt(value)
    if value is None:
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


# --- the whole report ------------------------------------------------------------------
def write_report(
    warehouse: Path | Lake,
    out_dir: Path,
    lang: str = "no",
    codebook: Codebook | None = None,
    built_at: datetime | None = None,
) -> Report:
    """Build the report from the warehouse into `out_dir`: index.html and charts/*.png.

    Charts of series that no longer exist are removed; the HTML is replaced in
    one rename, so a reader never sees half a page."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    codebook = codebook or load_codebook()
    built_at = built_at or datetime.now(UTC)
    data = read_report_data(warehouse)
    cards = build_cards(data, codebook)
    chart_dir = out_dir / CHART_DIR
    chart_dir.mkdir(parents=True, exist_ok=True)
    charts: list[Path] = []
    for card in cards:
        if not card.points:
            continue
        path = chart_dir / f"{card.key}.png"
        draw_chart(card, path, lang)
        card.chart = f"{CHART_DIR}/{path.name}"
        charts.append(path)
    for stale in set(chart_dir.glob("*.png")) - set(charts):
        stale.unlink()
    page = render_html(cards, data, codebook, lang, built_at)
    target = out_dir / HTML_NAME
    tmp = target.with_name(f".{HTML_NAME}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    if isinstance(warehouse, Path):  # a lake has no file to describe or snapshot beside the report
        write_dictionary(warehouse, out_dir / DICTIONARY_DIR, lang, report_link=f"../{HTML_NAME}")
        write_report_downloads(warehouse, out_dir)
    return Report(target, charts, cards, lang, built_at, _records(data.releases))


def _md(text: str) -> str:
    """Text from data for Markdown: no HTML, no links or emphasis."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]{}|#~!])", r"\\\1", text)


def headline_markdown(report: Report, codebook: Codebook | None = None) -> str:
    """The headline changes as Markdown, for the Prefect artifact `key-figures`."""
    codebook = codebook or load_codebook()
    words = TEXT[report.lang]
    lines = [f"# {words['title']}", ""]
    files = ", ".join(_md(str(r["file_name"])) for r in report.releases)
    lines.append(
        f"{words['built']} {report.built_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')} "
        f"{words['from_releases'].format(count=len(report.releases))} ({files})."
    )
    lines += ["", f"`{report.path}`", "", f"## {words['headlines']}", ""]
    top = headlines(report.cards)
    lines += [f"- {_md(headline_text(c, codebook, report.lang))}" for c in top] or [words["no_headlines"]]
    return "\n".join(lines) + "\n"
