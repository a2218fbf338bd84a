"""The report redraws only the charts whose series changed (issue 9): a chart is named
by the content of its series and the drawing code, and one already on disk is reused."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from itip.codebook import Codebook
from itip.report import charts as chart_module
from itip.report.build import Report, chart_name, write_report
from tests.conftest import REPO
from tests.unit.test_history import load_all

NEWEST = "itip_2025.csv"


@dataclass(frozen=True)
class Built:
    raw: Path
    warehouse: Path
    report_dir: Path
    report: Report


def pictures(report_dir: Path) -> dict[str, int]:
    """Every chart file on disk and when it was written."""
    return {p.name: p.stat().st_mtime_ns for p in (report_dir / "charts").glob("*.png")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, codebook: Codebook) -> Built:
    """The bundled releases but the newest, loaded, and their report drawn once."""
    base = tmp_path_factory.mktemp("charts")
    raw = base / "raw"
    shutil.copytree(REPO / "raw", raw, ignore=shutil.ignore_patterns(NEWEST))
    load_all(raw, base / "itip.duckdb", codebook)
    report = write_report(base / "itip.duckdb", base / "report", codebook=codebook)
    return Built(raw, base / "itip.duckdb", base / "report", report)


def copy(built: Built, to: Path) -> Built:
    shutil.copytree(built.raw, to / "raw")
    shutil.copy2(built.warehouse, to / "itip.duckdb")
    shutil.copytree(built.report_dir, to / "report")
    return Built(to / "raw", to / "itip.duckdb", to / "report", built.report)


def test_a_second_build_reuses_every_chart_and_a_new_year_redraws_only_its_series(
    tmp_path: Path, built: Built, codebook: Codebook
) -> None:
    assert built.report.charts_drawn == len(built.report.charts) > 0
    mine = copy(built, tmp_path)
    before = pictures(mine.report_dir)

    again = write_report(mine.warehouse, mine.report_dir, codebook=codebook)
    assert again.charts_drawn == 0
    assert pictures(mine.report_dir) == before  # not one file rewritten

    shutil.copy2(REPO / "raw" / NEWEST, mine.raw / NEWEST)
    load_all(mine.raw, mine.warehouse, codebook)
    added = write_report(mine.warehouse, mine.report_dir, codebook=codebook)
    after = pictures(mine.report_dir)
    changed = {c.chart for c in added.cards} - {c.chart for c in built.report.cards}
    assert 0 < added.charts_drawn == len(changed) < len(added.charts)
    kept = set(before) & set(after)
    assert kept and all(before[name] == after[name] for name in kept)
    # Charts of series that changed are gone: the page refers to exactly the files on disk.
    assert set(after) == {Path(c.chart).name for c in added.cards if c.chart}


def test_a_change_to_the_drawing_code_or_the_language_redraws(
    tmp_path: Path, built: Built, codebook: Codebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The charts carry words ("Brudd"/"Break", statuses): each language has its own.
    assert all(chart_name(c, "no") != chart_name(c, "en") for c in built.report.cards if c.points)
    mine = copy(built, tmp_path)
    monkeypatch.setattr(chart_module, "_code_version", lambda: "another version of the drawing code")
    redrawn = write_report(mine.warehouse, mine.report_dir, codebook=codebook)
    assert redrawn.charts_drawn == len(built.report.charts)
    assert not set(pictures(mine.report_dir)) & set(pictures(built.report_dir))


def test_a_shared_chart_cache_serves_another_report_of_the_same_figures(
    tmp_path: Path, built: Built, codebook: Codebook
) -> None:
    """ITIP_CHART_CACHE: a report of the same figures in another folder copies every chart
    from the shared cache, byte for byte, instead of drawing it; a new series is drawn and added."""
    cache = tmp_path / "cache"
    first = write_report(built.warehouse, tmp_path / "one", codebook=codebook, chart_cache=cache)
    assert first.charts_drawn == len(first.charts) and sorted(p.name for p in cache.glob("*.png")) == sorted(
        p.name for p in first.charts
    )
    second = write_report(built.warehouse, tmp_path / "two", codebook=codebook, chart_cache=cache)
    assert second.charts_drawn == 0
    for one, two in zip(first.charts, second.charts, strict=True):
        assert one.name == two.name and one.read_bytes() == two.read_bytes()
    assert not list(cache.glob(".*.tmp")), "no half-written file is left in the cache"


def test_chart_cache_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    from itip.settings import Settings

    assert Settings.from_env({"ITIP_CHART_CACHE": str(tmp_path)}).chart_cache == tmp_path
    assert Settings.from_env({}).chart_cache is None
