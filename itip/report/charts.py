"""The small line chart on each card: PNG drawn by matplotlib's Agg renderer (no GUI,
no network), with 95 % intervals, comparability breaks and years without a figure.
A distribution's card has a line per answer, in the colour of its row in the card."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter
from PIL import Image

from itip.codebook import Codebook
from itip.report.cards import Card, Distribution, Point, Shown
from itip.report.formatting import _card_label, _label, _segment_label, fmt_number, fmt_value
from itip.report.words import TEXT

#: Colours of the charts: axis text, the series, and comparability breaks.
NEUTRAL, LINE, BREAK = "#57606a", "#1f4e79", "#9a6700"
#: A distribution's answers, in order: LINE first, then Okabe-Ito colours (told apart
#: with the common colour-vision deficiencies), none close to BREAK.
SHARES = (LINE, "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000")


def share_colour(index: int) -> str:
    """The colour of a distribution's `index`-th answer, in its chart and its row."""
    return SHARES[index % len(SHARES)]


# --- which charts must be drawn ---------------------------------------------------------
@functools.cache
def _code_version() -> str:
    """What a chart's pixels depend on besides its series: this drawing code, the number
    formatting it calls, and matplotlib itself. A change to any of them redraws every chart."""
    digest = hashlib.sha256(matplotlib.__version__.encode())
    for module in ("charts.py", "formatting.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    return digest.hexdigest()


def _series(card: Shown) -> list[Card]:
    return card.shares if isinstance(card, Distribution) else [card]


def chart_digest(card: Shown, lang: str) -> str:
    """The chart's identity: everything `draw_chart` reads (each series' answer and its
    points' values, qualifiers, intervals and statuses, the breaks, the span, the page's
    words) and the code version. Two cards with the same digest draw the same pixels, so a
    chart on disk under this digest is reused instead of redrawn (issue 9: add a year,
    redraw only what changed)."""
    payload = {
        "code": _code_version(),
        "lang": lang,
        "words": TEXT[lang],
        "span": card.span,
        "breaks": card.breaks,
        "series": [
            [
                None if s.answer is None else s.answer.id,
                [(p.year, p.value, p.qualifier, p.status, p.ci_low, p.ci_high, p.inferred) for p in s.points],
            ]
            for s in _series(card)
        ],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def chart_name(card: Shown, lang: str) -> str:
    """File name of the card's chart, addressed by content: a changed series gets a new
    name, so neither this run nor a browser's cache can show an old picture under it."""
    return f"{card.key}-{chart_digest(card, lang)[:16]}.png"


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


@dataclass
class _Frame:
    """An empty chart of one year span (axes, ticks, grid), drawn once as pixels."""

    fig: Figure
    canvas: FigureCanvasAgg
    ax: Any
    background: Any


#: Frames per year span, per thread (a frame is a canvas, which two threads must not share).
_frames = threading.local()


def _frame(first: int, last: int) -> _Frame:
    """The empty chart from `first` to `last`, drawn on first use and kept: every chart of
    the span restores its pixels and draws only its own artists over them (matplotlib's
    blitting). Axes, ticks and their labels were most of the drawing time of each chart."""
    cache: dict[tuple[int, int], _Frame] = _frames.__dict__.setdefault("cache", {})
    found = cache.get((first, last))
    if found is not None:
        return found
    fig = Figure(figsize=(3.6, 1.75), dpi=200)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlim(first - 0.6, last + 0.6)
    ax.set_ylim(0, 105)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f} %"))
    step = 1 if last - first < 10 else (2 if last - first < 24 else 5)  # eleven year labels or more would touch
    ax.set_xticks(list(range(first, last + 1, step)))
    ax.set_xticklabels([str(y) for y in range(first, last + 1, step)])
    ax.tick_params(axis="both", labelsize=7.5, colors=NEUTRAL, length=2)
    ax.grid(axis="y", color="#d0d7de", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#8c959f")
    fig.subplots_adjust(left=0.13, right=0.98, top=0.96, bottom=0.14)
    canvas.draw()
    frame = cache[(first, last)] = _Frame(fig, canvas, ax, canvas.copy_from_bbox(fig.bbox))
    return frame


def partial_path(path: Path, pid: int) -> Path:
    """Where process `pid` writes the chart `path` before renaming it into place."""
    return path.with_name(f".{path.name}.{pid}.tmp")


@contextmanager
def _chart(card: Shown, path: Path, lang: str) -> Iterator[Any]:
    """The axes to draw `card`'s series on; on leaving, what was drawn is written to `path`
    as a PNG over the frame's pixels, whole or not at all, and the frame is emptied again."""
    words = TEXT[lang]
    years = [p.year for p in card.points]
    first, last = card.span or (min(years), max(years))
    first, last = min([first, *years]), max([last, *years])
    frame = _frame(first, last)
    ax, canvas = frame.ax, frame.canvas
    before = set(ax.get_children())
    try:
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
        yield ax
        canvas.restore_region(frame.background)
        renderer = canvas.get_renderer()
        for artist in sorted((a for a in ax.get_children() if a not in before), key=lambda a: a.get_zorder()):
            artist.draw(renderer)  # in zorder, as a full draw would
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = partial_path(path, os.getpid())
        # RGB, as the page is opaque: half the time of matplotlib's RGBA PNG, and smaller. PIL writes
        # no software stamp, so the bytes are the same whoever draws the chart. zlib level 3: 40 %
        # less time than the default 6 for files 2 % larger (a report redraws up to 160 of them).
        opaque = np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[..., :3])
        Image.fromarray(opaque).save(tmp, format="png", dpi=(frame.fig.dpi, frame.fig.dpi), compress_level=3)
        os.replace(tmp, path)  # a reader never sees half a chart
    finally:
        for artist in ax.get_children():
            if artist not in before:
                artist.remove()
        ax.containers.clear()


def _band(ax: Any, run: list[Point], colour: str, alpha: float) -> None:
    """The run's 95 % intervals: a band where two or more years have one, else error bars."""
    with_ci = [p for p in run if p.ci_low is not None and p.ci_high is not None]
    if len(with_ci) >= 2:
        ax.fill_between(
            [p.year for p in with_ci],
            [p.ci_low or 0.0 for p in with_ci],
            [p.ci_high or 0.0 for p in with_ci],
            color=colour,
            alpha=alpha,
            linewidth=0,
        )
        return
    for p in with_ci:
        assert p.ci_low is not None and p.ci_high is not None and p.value is not None
        ax.errorbar(
            [p.year],
            [p.value],
            yerr=[[p.value - p.ci_low], [p.ci_high - p.value]],
            color=colour,
            alpha=0.5,
            capsize=3,
            linewidth=1.2,
        )


def _markers(ax: Any, run: list[Point], colour: str) -> None:
    """Filled dots for exact figures, hollow ones for 'under', 'over' or 'about': one artist
    for each kind, not one per point (a 21-year chart spent a sixth of its drawing on them)."""
    for hollow in (False, True):
        points = [p for p in run if bool(p.qualifier) == hollow]
        if points:
            ax.plot(
                [p.year for p in points],
                [p.value or 0.0 for p in points],
                linestyle="none",
                marker="o",
                markersize=5,
                color=colour,
                markerfacecolor="white" if hollow else colour,
                markeredgewidth=1.5,
                zorder=4,
            )


def _value_label(p: Point, lang: str) -> str:
    prefix = {"below": "<", "above": ">", "approx": "~"}.get(p.qualifier or "", "")
    return prefix + fmt_number(p.value or 0.0, lang) + ("*" if p.inferred else "")


def draw_chart(card: Shown, path: Path, lang: str) -> None:
    """A small line chart of the whole series with 95 % intervals, breaks and gaps;
    for a distribution, a line per answer."""
    if isinstance(card, Distribution):
        _draw_distribution(card, path, lang)
        return
    with _chart(card, path, lang) as ax:
        _draw_series(ax, card, lang)


def _draw_series(ax: Any, card: Card, lang: str) -> None:
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

    runs = _runs(card)
    for run in runs:
        _band(ax, run, LINE, 0.15)
        ax.plot([p.year for p in run], [p.value or 0.0 for p in run], color=LINE, linewidth=2, zorder=3)
        _markers(ax, run, LINE)
    for p, above, text in value_labels(ax, runs, lang):
        value_label(ax, p, above, text)


def value_label(ax: Any, p: Point, above: bool, text: str) -> Any:
    """Draw one value label (chosen by `value_labels`) above or below its point's interval."""
    return ax.annotate(
        text,
        (p.year, _label_anchor(p, above)),
        textcoords="offset points",
        xytext=(0, LABEL_OFFSET_PT if above else -LABEL_OFFSET_PT),
        va="bottom" if above else "top",
        ha="center",
        color="#24292f",
        annotation_clip=False,  # always inside the axes: skips a containment test per label
        **VALUE_LABEL_FONT,
    )


#: The value labels' font, and their distance from the point's interval (points).
VALUE_LABEL_FONT: dict[str, Any] = {"fontsize": 8, "fontweight": "bold"}
LABEL_OFFSET_PT = 6.0
#: Room left between two value labels (points).
LABEL_GAP_PT = 4.0
#: (text, dpi) -> width and height in pixels of a value label, measured once.
_label_sizes: dict[tuple[str, float], tuple[float, float]] = {}


def _label_anchor(p: Point, above: bool) -> float:
    value = p.value or 0.0
    return max(value, p.ci_high or value) if above else min(value, p.ci_low or value)


def value_labels(ax: Any, runs: list[list[Point]], lang: str) -> list[tuple[Point, bool, str]]:
    """The value labels to draw: (point, above the line, text). While a label fits in the
    width of two years, every point gets one. A longer series (21 years on this chart's width)
    would print them over each other, so it is labelled as a sparkline: the newest, the
    oldest, the highest and the lowest value. Either way a label that would touch one placed
    before it (in that order, then from the newest back) is left out. Every value is still in
    the chart's alt text; the unreadable labels were also most of a long chart's drawing."""
    candidates = [(p, above) for run in runs for p, above in zip(run, label_sides(run), strict=True)]
    if not candidates:
        return []
    dpi = ax.figure.dpi
    renderer = ax.figure.canvas.get_renderer()
    font = FontProperties(size=VALUE_LABEL_FONT["fontsize"], weight=VALUE_LABEL_FONT["fontweight"])
    offset, gap = LABEL_OFFSET_PT * dpi / 72.0, LABEL_GAP_PT * dpi / 72.0

    def size(text: str) -> tuple[float, float]:
        found = _label_sizes.get((text, dpi))
        if found is None:
            width, height, _descent = renderer.get_text_width_height_descent(text, font, ismath=False)
            found = _label_sizes[(text, dpi)] = (width, height)
        return found

    newest_first = sorted(candidates, key=lambda c: -c[0].year)
    newest, oldest = newest_first[0], newest_first[-1]
    highest = max(candidates, key=lambda c: c[0].value or 0.0)
    lowest = min(candidates, key=lambda c: c[0].value or 0.0)
    year_px = abs(ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0])
    # Neighbouring years' labels that would clash sit on opposite sides of the line (label_sides),
    # so labels on one side are two years apart.
    fits = 2 * year_px >= size(_value_label(newest[0], lang))[0] + gap
    if fits:
        order = [newest, oldest, highest, lowest, *newest_first]
    else:  # a sparkline: its neighbours unlabelled, the trough's label goes below it, the peak's above
        sides = {id(p): above for p, above in (newest, oldest)}
        sides[id(lowest[0])] = (lowest[0].value or 0.0) < 12
        sides[id(highest[0])] = True
        order = [(p, sides[id(p)]) for p, _ in (newest, oldest, highest, lowest)]
    placed: list[tuple[float, float, float, float]] = []
    kept: list[tuple[Point, bool, str]] = []
    seen: set[int] = set()
    for p, above in order:
        if id(p) in seen:
            continue
        seen.add(id(p))
        text = _value_label(p, lang)
        width, height = size(text)
        x, y = ax.transData.transform((p.year, _label_anchor(p, above)))
        low = y + offset if above else y - offset - height
        box = (x - width / 2, low, x + width / 2, low + height)
        if all(
            box[2] + gap <= b[0] or b[2] + gap <= box[0] or box[3] + gap <= b[1] or b[3] + gap <= box[1] for b in placed
        ):
            placed.append(box)
            kept.append((p, above, text))
    return kept


#: End labels of a distribution's lines closer than this (percentage points) are spread apart.
LABEL_GAP_PP = 9.0


def _spread(values: list[float]) -> list[float]:
    """Label heights for these values (in order): each at its value, moved apart just enough
    that no two are closer than LABEL_GAP_PP, and kept within the axis."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    placed = [0.0] * len(values)
    floor = -1e9
    for i in order:
        placed[i] = max(values[i], floor + LABEL_GAP_PP)
        floor = placed[i]
    overflow = max([*placed, 100.0]) - 100.0  # pushed past the top: shift the stack down
    return [max(y - overflow, 0.0) for y in placed]


def _draw_distribution(card: Distribution, path: Path, lang: str) -> None:
    """A line per answer in its colour (the card's table says which is which), with
    light interval bands; each answer's value labelled at the end of each run only, moved
    apart where two answers end close together, so several lines stay readable."""
    with _chart(card, path, lang) as ax:
        _draw_shares(ax, card, lang)


def _draw_shares(ax: Any, card: Distribution, lang: str) -> None:
    ends: dict[int, list[tuple[Point, str]]] = {}
    for index, share in enumerate(card.shares):
        colour = share_colour(index)
        for run in _runs(share):
            _band(ax, run, colour, 0.10)
            ax.plot([p.year for p in run], [p.value or 0.0 for p in run], color=colour, linewidth=1.8, zorder=3)
            _markers(ax, run, colour)
            ends.setdefault(run[-1].year, []).append((run[-1], colour))
    for year, labels in ends.items():
        heights = _spread([p.value or 0.0 for p, _ in labels])
        for (p, colour), height in zip(labels, heights, strict=True):
            ax.annotate(
                _value_label(p, lang),
                (year, p.value or 0.0),
                xytext=(year + 0.25, height),
                textcoords="data",
                va="center",
                ha="left",
                fontsize=7.5,
                fontweight="bold",
                color=colour,
                annotation_clip=False,  # always inside the axes: skips a containment test per label
            )


def chart_alt(card: Shown, codebook: Codebook, lang: str) -> str:
    """The chart in words, for a screen reader: every figure of every series."""
    words = TEXT[lang]

    def points(series: Card) -> str:
        return "; ".join(
            f"{p.year}: {fmt_value(p, lang)}" + (f" ({words['inferred']})" if p.inferred else "") for p in series.points
        )

    if isinstance(card, Distribution):
        label = _label(card.indicator, lang, card.indicator.id)
        described = " | ".join(
            f"{_label(s.answer, lang, s.answer.id if s.answer else '')}: {points(s)}" for s in card.shares
        )
    else:
        label, described = _card_label(card, lang), points(card)
    text = words["chart_alt"].format(label=label, segment=_segment_label(card, codebook, lang), points=described)
    for year, _ in card.crossed_breaks:
        text += " " + words["chart_alt_break"].format(year=year)
    return text
