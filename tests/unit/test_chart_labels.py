"""A chart's value labels can be read: none is drawn over another, a series short enough
keeps one on (nearly) every point, and a long one is labelled as a sparkline (newest,
oldest, highest, lowest). Values are SYNTHETIC."""

from __future__ import annotations

import itertools
from typing import Any

from itip.report.cards import Point
from itip.report.charts import _frame, label_sides, value_label, value_labels


def point(year: int, value: float) -> Point:
    return Point(
        year=year,
        value=value,
        qualifier=None,
        status="published",
        n=1000,
        ci_low=value - 3,
        ci_high=value + 3,
        prev_year=None,
        prev_value=None,
        change_pp=None,
        p_value=None,
        comparable=True,
        source="SYNTHETIC",
        file_name=None,
    )


def drawn_boxes(ax: Any, labels: list[tuple[Point, bool, str]]) -> list[Any]:
    """The labels drawn as the chart draws them, measured by matplotlib itself."""
    renderer = ax.figure.canvas.get_renderer()
    boxes = []
    for p, above, text in labels:
        artist = value_label(ax, p, above, text)
        boxes.append(artist.get_window_extent(renderer))
        artist.remove()
    return boxes


def assert_apart(boxes: list[Any]) -> None:
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"labels drawn over each other: {a} and {b}"


def test_a_long_zigzag_is_labelled_as_a_sparkline() -> None:
    values = [34.3, 52.7, 42.2, 56.2, 57.5, 23.9, 20.8, 70.2, 35.6, 34.1, 79.7, 48.2, 70.2, 48.6, 58.3, 29.0, 58.1]
    values += [72.1, 51.4, 64.5, 60.3]
    run = [point(2008 + i, v) for i, v in enumerate(values)]
    ax = _frame(2008, 2028).ax
    labels = value_labels(ax, [run], "no")
    assert {p.year for p, _, _ in labels} == {2028, 2008, 2018, 2014}  # newest, oldest, highest, lowest
    assert [text for p, _, text in labels if p.year == 2018] == ["79,7"]
    assert_apart(drawn_boxes(ax, labels))


def test_a_short_series_keeps_a_label_on_every_point() -> None:
    run = [point(2014 + i, v) for i, v in enumerate([40.0, 42.5, 45.0, 47.5, 50.0, 52.5, 55.0, 57.5, 60.0, 62.5])]
    ax = _frame(2014, 2023).ax
    labels = value_labels(ax, [run], "no")
    assert sorted(p.year for p, _, _ in labels) == [p.year for p in run]
    assert_apart(drawn_boxes(ax, labels))


def test_labels_that_would_touch_are_left_out_newest_kept() -> None:
    # twelve years close together: neighbours alternate sides, and what still touches goes
    values = [23.8, 65.5, 55.6, 38.1, 21.9, 71.9, 48.4, 63.1, 72.7, 62.8, 75.3, 43.7]
    run = [point(2014 + i, v) for i, v in enumerate(values)]
    ax = _frame(2014, 2025).ax
    labels = value_labels(ax, [run], "en")
    years = {p.year for p, _, _ in labels}
    assert {2025, 2014, 2024, 2018} <= years  # newest, oldest, highest, lowest
    assert len(years) >= 9, "a series that fits keeps most of its labels"
    assert_apart(drawn_boxes(ax, labels))


def test_labels_across_a_gap_and_no_points() -> None:
    ax = _frame(2014, 2020).ax
    assert value_labels(ax, [], "no") == []
    runs = [[point(2014, 30.0), point(2015, 31.0)], [point(2018, 33.0)]]
    labels = value_labels(ax, runs, "no")
    assert {p.year for p, _, _ in labels} == {2014, 2015, 2018}
    assert_apart(drawn_boxes(ax, labels))


def test_a_sparkline_puts_the_peak_above_and_the_trough_below() -> None:
    # the peak's neighbours are within 15 points, so label_sides alone would put its label below;
    # labels of one decimal are too wide for a label per year at 21 years
    values = [50.5] * 8 + [60.5, 70.5, 62.5] + [50.5] * 9 + [30.5]
    run = [point(2008 + i, v) for i, v in enumerate(values)]
    assert label_sides(run)[9] is False  # what the alternation alone would do to the peak
    sides = {p.year: above for p, above, _ in value_labels(_frame(2008, 2028).ax, [run], "no")}
    assert sides == {2008: True, 2017: True, 2028: False}  # oldest; 70,5 above; 30,5 (newest, lowest) below
