"""The whole page: header, headline changes, one section per topic, and the releases
and breaks it was built from, rendered from Jinja2 templates (itip/templates/report_*.j2)
with autoescaping: text from data is escaped where the template writes it. CSS is inline
so the page needs no network.

Python decides what is said (the cards, the numbers as text, which break applies where);
the templates decide the markup. The helpers handed to the templates take the page's
language already bound, so a template never formats a number itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from itip.codebook import Codebook
from itip.dictionary import DICTIONARY_DIR, INDEX, WORDS
from itip.export import DOWNLOAD_DIR, REPORT_DOWNLOADS
from itip.report.cards import Card, Distribution, Point, ReportData, Shown, _opt, _records, headlines, series_of
from itip.report.charts import chart_alt, share_colour
from itip.report.formatting import (
    _card_label,
    _label,
    _previous,
    _segment_label,
    _since,
    fmt_change,
    fmt_number,
    fmt_p,
    fmt_value,
    formula_safe,
    source_parts,
)
from itip.report.words import ARROWS, MINUS, STALE_TEXT, TEXT, VERDICT
from itip.templating import environment

#: The page's style sheet, inlined into the page (no network, no second file to lose).
CSS = Path(__file__).with_name("report.css").read_text(encoding="utf-8")


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


def _stat_text(point: Point, lang: str) -> str:
    """The interval and n of a figure in one line, or the edition's respondents when the
    figure has no n of its own."""
    words = TEXT[lang]
    extra = []
    if point.ci_low is not None and point.ci_high is not None:
        ci = words["ci"].format(low=fmt_number(point.ci_low, lang), high=fmt_number(point.ci_high, lang))
        extra.append(("≈ " if point.ci_approximate else "") + ci)
    if point.n is not None:
        extra.append(words["n"].format(n=point.n))
    elif point.edition_respondents is not None:  # who answered the edition, not the n of this figure
        extra.append(words["edition_n"].format(n=point.edition_respondents, year=point.year))
    return " · ".join(extra)


def _ci_text(point: Point, lang: str) -> str:
    if point.ci_low is None or point.ci_high is None:
        return ""
    low, high = fmt_number(point.ci_low, lang), fmt_number(point.ci_high, lang)
    return ("≈ " if point.ci_approximate else "") + f"{low}–{high}"


def _stale_text(item: Shown, lang: str) -> str:
    """The badge on a key figure from an older edition, so it is not read as current."""
    if not item.stale:
        return ""
    year = item.year if isinstance(item, Distribution) else (item.latest.year if item.latest else None)
    return STALE_TEXT[lang].format(year=year, age=item.age_editions, newest=max(item.editions))


def _verdict(card: Card, lang: str) -> str:
    words = TEXT[lang]
    assessment = card.assessment or "neutral"
    return words["unchanged"] if card.direction == "flat" else words[VERDICT.get(assessment, assessment)]


def _data_value(card: Card) -> str:
    """The latest value as a plain number for scripts reading the page (data-value)."""
    latest = card.latest
    return "" if latest is None or latest.value is None else fmt_number(latest.value, "en").replace(MINUS, "-")


def _table_rows(item: Shown) -> list[tuple[Card, Point]]:
    """The rows of the card's table: year by year, a distribution's answers in codebook order."""
    if isinstance(item, Card):
        return [(item, p) for p in item.points]
    rank = {id(share): i for i, share in enumerate(item.shares)}
    rows = [(share, p) for share in item.shares for p in share.points]
    return sorted(rows, key=lambda row: (row[1].year, rank[id(row[0])]))


def _table_columns(item: Shown) -> list[str]:
    """n, interval and p columns only where the series has them; the answer for a distribution."""
    points = item.points
    columns = ["col_year", *(["answer"] if isinstance(item, Distribution) else []), "col_value"]
    columns += ["col_n"] if any(p.n is not None for p in points) else []
    columns += ["col_ci"] if any(p.ci_low is not None for p in points) else []
    columns += ["col_change"]
    columns += ["col_p"] if any(p.p_value is not None for p in points) else []
    return [*columns, "col_comparable", "col_source"]


def _latest_sources(item: Distribution) -> list[str]:
    """The sources of the shares' latest figures, each once."""
    found: list[str] = []
    for share in item.shares:
        if share.latest is not None and share.latest.source not in found:
            found.append(share.latest.source)
    return found


def _helpers(codebook: Codebook, lang: str) -> dict[str, Any]:
    """What the templates may call, with the page's language bound."""
    return {
        "w": TEXT[lang],
        "arrows": ARROWS,
        "value": lambda p: fmt_value(p, lang),
        "change_text": lambda v: fmt_change(v, lang),
        "p_text": lambda v: fmt_p(v, lang),
        "q_text": lambda v: fmt_p(v, lang).replace("p", "q", 1),
        "ci_text": lambda p: _ci_text(p, lang),
        "stat_text": lambda p: _stat_text(p, lang),
        "since": lambda c: _since(c, lang),
        "verdict": lambda c: _verdict(c, lang),
        "label": lambda entry: _label(entry, lang, getattr(entry, "id", "")),
        "card_label": lambda c: _card_label(c, lang),
        "segment_label": lambda c: _segment_label(c, codebook, lang),
        "survey_label": lambda c: _label(codebook.surveys.get(c.indicator.survey), lang, c.indicator.survey),
        "stale_text": lambda item: _stale_text(item, lang),
        "chart_alt": lambda item: chart_alt(item, codebook, lang),
        "last_published": lambda c: next((p for p in reversed(c.points) if p.published), None),
        "data_value": _data_value,
        "table_rows": _table_rows,
        "table_columns": _table_columns,
        "latest_sources": _latest_sources,
        "share_colour": share_colour,
        "source_parts": source_parts,
        "formula_safe": formula_safe,
        "is_distribution": lambda item: isinstance(item, Distribution),
    }


def card_html(card: Shown, codebook: Codebook, lang: str) -> str:
    """One card alone, as the page shows it (for tests and for embedding one figure elsewhere)."""
    macros = environment().get_template("report_cards.html.j2").make_module(_helpers(codebook, lang))
    render = getattr(macros, "distribution" if isinstance(card, Distribution) else "card")
    return str(render(card))


def render_html(cards: list[Shown], data: ReportData, codebook: Codebook, lang: str, built_at: datetime) -> str:
    """The page: `cards` as shown (a series or a distribution each), in codebook topic order."""
    words = TEXT[lang]
    topics = []
    for topic, entry in codebook.topics.items():
        topic_cards = [c for c in cards if c.topic == topic]
        if topic_cards:
            topics.append({"id": topic, "label": _label(entry, lang, topic), "cards": topic_cards})
    series = series_of(cards)
    releases = [
        {
            "year": None if _opt(r["year"]) is None else int(r["year"]),
            "file_name": r["file_name"],
            "sha256": r["sha256"],
            "rows": int(r["rows"]),
            "loaded_at": _when(r.get("loaded_at")),
        }
        for r in _records(data.releases)
    ]
    shown = {(c.indicator.id, year) for c in series for year, _ in c.breaks}
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
    built = built_at.astimezone(UTC)
    return (
        environment()
        .get_template("report_page.html.j2")
        .render(
            _helpers(codebook, lang),
            html_lang="nb" if lang == "no" else "en",
            css=Markup(CSS),  # our own file, not data: written as it is
            built=built,
            releases=releases,
            figure_count=len(series),
            indicator_count=len({c.indicator.id for c in series}),
            topics=topics,
            headlines=[headline_text(c, codebook, lang) for c in headlines(series)],
            tested=changes_tested_text(data.trend, lang),
            breaks=[
                {"year": year, "reason": reason, "applies": applies}
                for (year, reason), applies in sorted(break_rows.items())
            ],
            dictionary_words=WORDS.get(lang, WORDS["en"]),
            dictionary_href=f"{DICTIONARY_DIR}/{INDEX}",
            downloads=REPORT_DOWNLOADS,
            download_dir=DOWNLOAD_DIR,
            warehouse_name=data.warehouse.name,
        )
    )


def _when(value: Any) -> str:
    value = _opt(value)
    if value is None:
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M UTC")
