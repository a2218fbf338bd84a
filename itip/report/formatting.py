"""Numbers, labels and text from data, as the report shows them: with a decimal comma
and a typographic minus in Norwegian. Plain text only: the templates escape it
(Jinja2's autoescaping), so nothing here writes markup."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from itip.codebook import Codebook
from itip.report.cards import Card, Point, Shown
from itip.report.words import MINUS, TEXT


def formula_safe(value: object) -> str:
    """Text from outside files with a leading =, +, -, @ neutralised the way `itip sql --csv`
    does: a table copied from the page must not become spreadsheet formulas."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


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


def source_parts(source: str) -> list[tuple[str, str | None]]:
    """A source as (text, link) pieces: an http(s) URL is a link shown by its host, anything
    else is text (formula-safe). A URL followed by words (`https://... (a later version of
    the page)`) is a link and the words. Never a link to another scheme (javascript:)."""
    url, _, rest = source.strip().partition(" ")
    if rest and not re.search(r"\s", url) and urlsplit(url).scheme in ("http", "https"):
        return [*source_parts(url), (formula_safe(rest.strip()), None)]
    parts = urlsplit(source.strip()) if source else None
    if parts is not None and parts.scheme in ("http", "https") and parts.netloc and not re.search(r"\s", source):
        return [(parts.netloc.lower().removeprefix("www."), source.strip())]
    return [(formula_safe(source), None)]


def _card_label(card: Card, lang: str) -> str:
    label = _label(card.indicator, lang, card.indicator.id)
    if card.answer is not None:
        label += f" – {_label(card.answer, lang, card.answer.id)}"
    return label


def _segment_label(card: Shown, codebook: Codebook, lang: str) -> str:
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
