"""Building the key-figures report: one offline HTML page with a card and a chart per figure.

Most people who follow IT i praksis never write SQL. This module turns the
warehouse into a static page in the manner of Digdir's key-figure pages: per
topic, one card per indicator and segment (a published distribution is one card
with a row and a line per answer) with the latest value, the change since the previous comparable
year, whether it is significant, whether it is good or bad news, and a small
chart of the whole series with its intervals, comparability breaks and
suppressed years.

The page needs no network: CSS is inline and the charts are PNG files (drawn by
matplotlib's Agg renderer, no GUI) in `charts/` beside `index.html`. The HTML comes from Jinja2 templates
(itip/templates/report_*.j2) with autoescaping, so every text that comes from data
(sources, file names, labels) is escaped; only http(s) sources become links.

Pure library code: it reads the warehouse through `itip.db` (read-only) and
never imports Prefect.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from itip.codebook import Codebook, load_codebook
from itip.dictionary import DICTIONARY_DIR, write_dictionary
from itip.export import write_report_downloads
from itip.report.cards import (
    Card,
    Distribution,
    Point,
    Report,
    ReportData,
    Shown,
    _records,
    build_cards,
    headlines,
    read_report_data,
    series_of,
    shown_cards,
)
from itip.report.charts import BREAK, LINE, NEUTRAL, _runs, chart_name, label_sides
from itip.report.drawing import draw_charts
from itip.report.formatting import formula_safe, source_parts
from itip.report.page import card_html, changes_tested_text, headline_text, render_html
from itip.report.words import LANGUAGES, TEXT

if TYPE_CHECKING:
    from itip.lake import Lake

__all__ = [
    "BREAK",
    "LINE",
    "NEUTRAL",
    "Card",
    "Distribution",
    "Point",
    "Report",
    "ReportData",
    "_runs",
    "build_cards",
    "card_html",
    "changes_tested_text",
    "chart_name",
    "formula_safe",
    "headline_markdown",
    "headline_text",
    "headlines",
    "label_sides",
    "read_report_data",
    "render_html",
    "series_of",
    "shown_cards",
    "source_parts",
    "write_report",
]

HTML_NAME = "index.html"
CHART_DIR = "charts"


# --- the whole report ------------------------------------------------------------------
def write_report(
    warehouse: Path | Lake,
    out_dir: Path,
    lang: str = "no",
    codebook: Codebook | None = None,
    built_at: datetime | None = None,
    chart_cache: Path | None = None,
) -> Report:
    """Build the report from the warehouse into `out_dir`: index.html and charts/*.png.

    Charts are named by the content of their series (`chart_name`): one already on
    disk under its name is reused, so adding a year redraws only the series it touched.
    `chart_cache` (ITIP_CHART_CACHE) is a folder of charts shared by every report built on
    the machine: a chart there under its name is copied instead of drawn, and a drawn one is
    added (several warehouses of the same figures, or a test suite, draw each series once).

    Charts of series that no longer exist are removed; the HTML is replaced in
    one rename, so a reader never sees half a page."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    codebook = codebook or load_codebook()
    built_at = built_at or datetime.now(UTC)
    data = read_report_data(warehouse)
    cards = shown_cards(build_cards(data, codebook))
    chart_dir = out_dir / CHART_DIR
    chart_dir.mkdir(parents=True, exist_ok=True)
    charts: list[Path] = []
    todo: list[tuple[Shown, Path]] = []
    for card in cards:
        if not card.points:
            continue
        path = chart_dir / chart_name(card, lang)
        if not path.is_file() and not _from_cache(chart_cache, path):  # same series, same code: same chart
            todo.append((card, path))
        card.chart = f"{CHART_DIR}/{path.name}"
        charts.append(path)
    draw_charts(todo, lang)  # with a helper process when there are many (itip.report.drawing)
    for _card, path in todo:
        _to_cache(chart_cache, path)
    drawn = len(todo)
    for stale in set(chart_dir.glob("*.png")) - set(charts):
        stale.unlink(missing_ok=True)  # another build into the same folder may have removed it first
    page = render_html(cards, data, codebook, lang, built_at)
    target = out_dir / HTML_NAME
    tmp = target.with_name(f".{HTML_NAME}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    if isinstance(warehouse, Path):  # a lake has no file to describe or snapshot beside the report
        write_dictionary(warehouse, out_dir / DICTIONARY_DIR, lang, report_link=f"../{HTML_NAME}")
        write_report_downloads(warehouse, out_dir)
    return Report(target, charts, cards, lang, built_at, _records(data.releases), charts_drawn=drawn)


def _from_cache(cache: Path | None, path: Path) -> bool:
    """Copy the chart named like `path` from the shared cache; False when it is not there."""
    if cache is None:
        return False
    try:
        shutil.copyfile(cache / path.name, path)
    except FileNotFoundError:
        return False
    return True


def _to_cache(cache: Path | None, path: Path) -> None:
    """Add a drawn chart to the shared cache, whole or not at all (a rename), so two builds at
    once never see half a file; a cache that cannot be written costs only the reuse."""
    if cache is None:
        return
    tmp = cache / f".{path.name}.{os.getpid()}.tmp"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, tmp)
        os.replace(tmp, cache / path.name)
    except OSError:
        tmp.unlink(missing_ok=True)


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
    top = headlines(series_of(report.cards))
    lines += [f"- {_md(headline_text(c, codebook, report.lang))}" for c in top] or [words["no_headlines"]]
    return "\n".join(lines) + "\n"
