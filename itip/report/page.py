"""The whole page: header, headline changes, one section per topic, and the releases
and breaks it was built from. CSS is inline so the page needs no network."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from itip.codebook import Codebook
from itip.dictionary import dictionary_link_html
from itip.report.card_html import card_html
from itip.report.cards import Card, ReportData, _opt, _records, headlines
from itip.report.formatting import (
    _card_label,
    _label,
    _previous,
    _segment_label,
    esc,
    fmt_change,
    fmt_number,
    fmt_value,
    safe_text,
)
from itip.report.words import ARROWS, TEXT, VERDICT

#: The page's style sheet, inlined into the page (no network, no second file to lose).
CSS = Path(__file__).with_name("report.css").read_text(encoding="utf-8")

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
