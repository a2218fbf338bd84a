"""One card as HTML: the latest figure, its change and significance, badges, chart and table.

Every text from data goes through `esc`/`safe_text`/`source_html` (itip.report.formatting)."""

from __future__ import annotations

from itip.codebook import Codebook
from itip.report.cards import Card, Point
from itip.report.charts import chart_alt
from itip.report.formatting import (
    _card_label,
    _label,
    _segment_label,
    _since,
    esc,
    fmt_change,
    fmt_number,
    fmt_p,
    fmt_value,
    safe_text,
    source_html,
)
from itip.report.words import ARROWS, MINUS, STALE_TEXT, TEXT, VERDICT


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


def _stale_tag(card: Card, lang: str) -> str:
    """A badge on a key figure from an older edition, so it is not read as current."""
    latest = card.latest
    if latest is None or not card.stale:
        return ""
    text = STALE_TEXT[lang].format(year=latest.year, age=card.age_editions, newest=max(card.editions))
    return f'<span class="tag stale" data-age-editions="{card.age_editions}">{esc(text)}</span>'
