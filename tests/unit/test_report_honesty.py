"""The report does not overstate: old key figures are marked, "latest changes" is the newest
edition only, break badges only where a series crosses the break, gaps where years are missing.
Synthetic figures (labelled so), built on tests.integration.test_report.synthetic."""

from __future__ import annotations

from typing import Any

import pandas as pd

from itip.codebook import Codebook
from itip.report.build import Card, Distribution, ReportData, _runs, build_cards, card_html, headlines, shown_cards
from itip.report.charts import _spread
from tests.integration.test_report import synthetic


def _with(data: ReportData, rows: list[dict[str, Any]]) -> ReportData:
    base = data.trend.iloc[0].to_dict()
    extra = [
        {
            **base,
            "answer": None,
            "prev_year": None,
            "prev_value": None,
            "change_pp": None,
            "change_p_value": None,
            "comparable_with_prev": None,
            "n": None,
            **row,
        }
        for row in rows
    ]
    return ReportData(
        pd.concat([data.trend, pd.DataFrame(extra)], ignore_index=True), data.breaks, data.releases, data.warehouse
    )


def _synthetic(codebook: Codebook) -> ReportData:
    """SYNTHETIC: editions of the organisation survey 2014, 2015, 2016, 2020, 2021, 2023."""
    return _with(
        synthetic(codebook),
        [
            # two figures both after the 2018 break: comparable within themselves
            {"indicator": "data_sharing_never_or_rarely", "year": 2020, "value": 40.0},
            {
                "indicator": "data_sharing_never_or_rarely",
                "year": 2021,
                "value": 35.0,
                "prev_year": 2020,
                "prev_value": 40.0,
                "change_pp": -5.0,
                "comparable_with_prev": True,
            },
            # published 2014 and 2016, not in 2015: a gap, and four editions old by 2023
            {"indicator": "uses_common_components", "year": 2014, "value": 30.0},
            {
                "indicator": "uses_common_components",
                "year": 2016,
                "value": 33.0,
                "prev_year": 2014,
                "prev_value": 30.0,
                "change_pp": 3.0,
                "comparable_with_prev": True,
            },
        ],
    )


def test_break_badge_only_on_series_that_cross_the_break(codebook: Codebook) -> None:
    cards = {c.key: c for c in build_cards(_synthetic(codebook), codebook)}
    crossed = cards["user_service_weighted_over_cost__all"]  # 2015 and 2020: across 2018
    assert crossed.crossed_breaks == [(2018, "Population changed")]
    assert 'class="tag break" data-break-year="2018"' in card_html(crossed, codebook, "no")
    after = cards["data_sharing_never_or_rarely__all"]  # 2020 and 2021 only
    assert after.breaks == [(2018, "Population changed")]  # the survey has the break ...
    assert after.crossed_breaks == []  # ... the series does not cross it
    html = card_html(after, codebook, "no")
    assert "tag break" not in html and "Brudd i serien" not in html and "Stiplet linje" not in html


def test_old_key_figures_are_marked_as_not_current(codebook: Codebook) -> None:
    cards = {c.key: c for c in build_cards(_synthetic(codebook), codebook)}
    old = cards["uses_common_components__all"]
    assert old.age_editions == 3  # editions after 2016: 2020, 2021, 2023
    assert old.stale
    html = card_html(old, codebook, "no")
    assert 'class="tag stale" data-age-editions="3"' in html
    assert "Ikke oppdatert: tall fra 2016, 3 utgaver eldre enn 2023" in html
    assert "Not current: figure from 2016" in card_html(old, codebook, "en")
    current = cards["benefits_realised__all__high"]  # 2023: the newest edition
    assert current.age_editions == 0 and not current.stale
    assert "tag stale" not in card_html(current, codebook, "no")
    one_behind = cards["data_sharing_never_or_rarely__all"]  # 2021: one edition (2023) later
    assert one_behind.age_editions == 1 and not one_behind.stale


def test_latest_changes_cover_the_newest_edition_only(codebook: Codebook) -> None:
    cards = build_cards(_synthetic(codebook), codebook)
    top = headlines(cards)
    assert top, "the 2023 changes are listed"
    assert {c.latest.year for c in top if c.latest} == {2023}
    assert "data_sharing_never_or_rarely" not in {c.indicator.id for c in top}  # a 2021 change
    assert "uses_common_components" not in {c.indicator.id for c in top}  # a 2016 change


def test_missing_years_are_gaps_in_the_chart(codebook: Codebook) -> None:
    cards = {c.key: c for c in build_cards(_synthetic(codebook), codebook)}
    gapped = cards["uses_common_components__all"]
    assert [[p.year for p in run] for run in _runs(gapped)] == [[2014], [2016]]
    joined = cards["data_sharing_never_or_rarely__all"]
    assert [[p.year for p in run] for run in _runs(joined)] == [[2020, 2021]]


def test_a_distribution_is_one_card_whose_answers_keep_their_own_verdicts(codebook: Codebook) -> None:
    shown = shown_cards(build_cards(synthetic(codebook), codebook))
    (whole,) = [c for c in shown if isinstance(c, Distribution)]
    assert [s.answer.id for s in whole.shares if s.answer] == ["high", "some", "low"]
    assert not [c for c in shown if isinstance(c, Card) and c.answer is not None]  # no card per answer
    html = card_html(whole, codebook, "en")
    assert html.count("<article") == 1 and 'data-kind="distribution"' in html
    # Each share keeps its own change and verdict: a significant fall of 'high' is bad news,
    # a rise of 'some' that may be chance is not called anything.
    assert 'data-answer="high" data-value="10" data-direction="down" data-assessment="bad"' in html
    assert 'data-answer="some" data-value="71" data-direction="up" data-assessment="not_significant"' in html
    assert html.count("negative development") == 2 and "positive development" not in html
    assert html.count("<img") == 0  # no chart drawn in this unit test; write_report adds one per card


def test_end_labels_of_a_distribution_chart_do_not_collide() -> None:
    assert _spread([10.0, 13.0, 71.0]) == [10.0, 19.0, 71.0]
    assert _spread([99.0, 98.0]) == [100.0, 91.0]  # kept within the axis
    assert _spread([50.0]) == [50.0]
