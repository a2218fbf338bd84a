"""The key-figures report: cards, charts, breaks, qualifiers, suppression, languages,
the ingest flow's last step, and the page as a real browser renders it."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from flows.ingest import ingest
from itip.cli import app
from itip.codebook import Codebook
from itip.report.build import (
    BREAK,
    ReportData,
    _runs,
    build_cards,
    card_html,
    changes_tested_text,
    headline_markdown,
    write_report,
)
from itip.stats import change_p_value, q_values
from tests.conftest import REPO, Bundled, write

REFERENCES = (
    REPO / "docs" / "sources" / "itip_published_figures.csv",
    REPO / "docs" / "sources" / "itip_published_figures_more.csv",
)
CONFLICTS = REPO / "docs" / "sources" / "itip_conflicting_figures.csv"
CHROMIUM = Path("/usr/bin/chromium")
runner = CliRunner()


# --- reading the page ---------------------------------------------------------------------
VOID = {"img", "meta", "br", "hr", "input", "link", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    #: The answer whose part of a distribution's card this element is in (data-answer of
    #: itself or an ancestor inside the card); None for what the card's answers share.
    answer: str | None = None

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


@dataclass
class CardView:
    attrs: dict[str, str]
    text: str = ""
    elements: list[Element] = field(default_factory=list)

    def find(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [e for e in self.elements if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)]

    def one(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = self.find(tag, cls)
        assert len(found) == 1, (tag, cls, found)
        return found[0]

    def share(self, answer: str) -> CardView:
        """One answer of a distribution's card, read as if it were a card: its row of
        shares (whose attributes it takes), its rows of the table, and what the answers
        share (title, tags, notes, chart, source)."""
        (row,) = [
            e for e in self.elements if e.tag == "tr" and "share" in e.classes and e.attrs["data-answer"] == answer
        ]
        text = self.text
        for other in self.elements:
            if other.answer not in (None, answer) and "data-answer" in other.attrs:
                text = text.replace(other.text, " ", 1)
        return CardView(
            {**self.attrs, **row.attrs, "class": self.attrs["class"]},
            text,
            [e for e in self.elements if e.answer in (None, answer)],
        )


class PageParser(HTMLParser):
    """Cards (<article class="card">) with every element inside them and its text,
    plus every element of the whole page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cards: list[CardView] = []
        self.elements: list[Element] = []
        self.text: list[str] = []
        self._stack: list[Element] = []
        self._card: CardView | None = None
        self._card_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag == "article" and "card" in element.classes:
            self._card = CardView(element.attrs)
            self._card_depth = len(self._stack)
        elif self._card is not None:
            inherited = self._stack[-1].answer if len(self._stack) > self._card_depth + 1 else None
            element.answer = element.attrs.get("data-answer") or inherited
            self._card.elements.append(element)
        if tag not in VOID:
            self._stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            element = self._stack.pop()
            if element.tag == tag:
                break
        if tag == "article" and self._card is not None and len(self._stack) == self._card_depth:
            self.cards.append(self._card)
            self._card = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for element in self._stack:
            element.text += data
        if self._card is not None:
            self._card.text += data


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def card(page: PageParser, indicator: str, segment: str = "all", answer: str = "") -> CardView:
    """The card of a series; with `answer`, that answer's part of its distribution's card."""
    found = [
        c
        for c in page.cards
        if c.attrs["data-indicator"] == indicator
        and c.attrs["data-segment"] == segment
        and c.attrs["data-answer"] == ""
    ]
    assert len(found) == 1, (indicator, segment, answer, len(found))
    if answer:
        assert found[0].attrs.get("data-kind") == "distribution", (indicator, segment, answer)
        return found[0].share(answer)
    assert found[0].attrs.get("data-kind") != "distribution", (indicator, segment)
    return found[0]


def cards_shown(series: Any) -> int:
    """How many cards the page shows for these series: one per series, but one per
    indicator and segment for the answers of a distribution."""
    return len({(indicator, segment, "") for indicator, segment, _answer in series})


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- the bundled figures, independently of the report code ------------------------------
def reference_series() -> dict[tuple[str, str, str], list[dict[str, str]]]:
    """Both sweeps of published figures; where a figure was published with two values, the
    one the bundled release marks preferred (the later publication, itip_conflicting_figures.csv)."""
    rows: list[dict[str, str]] = []
    for path in REFERENCES:
        with path.open(encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    with CONFLICTS.open(encoding="utf-8") as fh:
        for later in csv.DictReader(fh):
            key = [later[k] for k in ("year", "survey", "segment", "indicator", "answer")]
            (row,) = [r for r in rows if [r[k] for k in ("year", "survey", "segment", "indicator", "answer")] == key]
            row["value"] = later["value"]
    series: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        series.setdefault((row["indicator"], row["segment"], row["answer"]), []).append(row)
    return {k: sorted(v, key=lambda r: int(r["year"])) for k, v in series.items()}


def shown(row: dict[str, str], lang: str = "no") -> str:
    """How the published figure should read on the page: '47 %', '36,4 %', 'under 30 %', 'ca. 90 %'."""
    number = float(row["value"])
    text = str(int(number)) if number.is_integer() else str(number)
    if lang == "no":
        text = text.replace(".", ",")
    qualifier = {
        "no": {"below": "under ", "approx": "ca. ", "above": "over "},
        "en": {"below": "under ", "approx": "about ", "above": "over "},
    }[lang]
    return qualifier.get(row["qualifier"], "") + text + " %"


# --- fixtures ---------------------------------------------------------------------------
@dataclass
class Built:
    warehouse: Path
    report_dir: Path
    page: str
    artifact: str


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory, bundled_run: Bundled) -> Built:
    """The bundled raw/ folder through the ingest flow, which builds the report as its last step
    (the session's one ingest of it, tests/conftest.py, copied for this module)."""
    warehouse = bundled_run.copy_to(tmp_path_factory.mktemp("report") / "wh")
    report_dir = warehouse.parent / "report"
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    return Built(warehouse, report_dir, page, bundled_run.artifact)


@pytest.fixture(scope="module")
def page(bundled: Built) -> PageParser:
    return parse(bundled.page)


# --- the Done-when points on the bundled data ---------------------------------------------
def test_ingest_flow_writes_the_report_and_the_markdown_artifact(bundled: Built) -> None:
    assert (bundled.report_dir / "index.html").is_file()
    charts = sorted((bundled.report_dir / "charts").glob("*.png"))
    assert len(charts) == cards_shown(reference_series())  # a chart per card
    assert all(Image.open(p).format == "PNG" for p in charts)
    markdown = bundled.artifact
    assert markdown.startswith("# IT i praksis – nøkkeltall")
    assert "itip\\_2023.csv" in markdown and "itip\\_2014.csv" in markdown
    # "Latest changes" covers the newest edition of each survey only (organisations 2025, citizens 2024),
    # which hold only first figures of their series: no change to list, and the artifact says so.
    items = [line for line in markdown.splitlines() if line.startswith("- ")]
    assert items == []
    assert "Ingen sammenlignbare endringer i de siste tallene." in markdown


def test_every_codebook_indicator_is_shown_with_its_real_values(page: PageParser, codebook: Codebook) -> None:
    assert {c.attrs["data-indicator"] for c in page.cards} == set(codebook.indicators)
    series = reference_series()
    assert len(page.cards) == cards_shown(series)
    for (indicator, segment, answer), rows in series.items():
        view = card(page, indicator, segment, answer)
        latest = rows[-1]
        assert squash(view.one("span", "value").text) == shown(latest), indicator
        assert squash(view.one("span", "year").text) == f"i {latest['year']}"
        label = codebook.indicators[indicator].label_no
        assert label in view.one("h3").text
        table_rows = {e.attrs["data-year"]: e for e in view.find("tr") if "data-year" in e.attrs}
        assert sorted(table_rows) == [r["year"] for r in rows]
        for row in rows:
            assert shown(row) in table_rows[row["year"]].text, (indicator, row["year"])
            assert row["source_url"] in [a.attrs["href"] for a in view.find("a")], (indicator, row["year"])


def test_trust_falls_from_50_to_47_without_n_is_not_called_negative(bundled: Built, page: PageParser) -> None:
    """No n is published for trust, so the fall cannot be tested: it is shown as a change of
    unknown significance, never as a negative development in red (issue 8)."""
    trust = card(page, "trust_personal_data_safe")
    assert trust.attrs["data-direction"] == "down"
    assert trust.attrs["data-assessment"] == "untested"
    assert "bad" not in trust.attrs["class"].split()
    change = trust.one("p", "change")
    assert {"change", "untested"} <= change.classes
    assert change.attrs["data-direction"] == "down"
    assert trust.one("span", "arrow").text == "↓"
    assert trust.one("span", "arrow").attrs["aria-label"] == "fallende"
    assert trust.one("span", "delta").text == "−3 pp"
    assert squash(change.text) == "↓ −3 pp siden 2020 (50 %) · endring, signifikans ukjent"
    assert "negativ utvikling" not in trust.text
    assert squash(trust.one("span", "value").text) == "47 %"
    assert "signifikans ukjent" in trust.one("p", "significance").text
    img = trust.one("img")
    assert "2020: 50 %; 2021: 47 %" in img.attrs["alt"]
    assert (bundled.report_dir / img.attrs["src"]).is_file()
    # Lower is better, but a fall in 'never or rarely share data' without n is not called good news.
    sharing = card(page, "data_sharing_never_or_rarely")
    assert (sharing.attrs["data-direction"], sharing.attrs["data-assessment"]) == ("down", "untested")
    assert sharing.one("span", "delta").text == "−5 pp"
    # Unchanged is neither good nor bad.
    rights = card(page, "trust_rights_safeguarded")
    assert (rights.attrs["data-direction"], rights.attrs["data-assessment"]) == ("flat", "neutral")
    # A first figure has no arrow.
    first = card(page, "uses_common_components")
    assert first.attrs["data-direction"] == "" and not first.find("span", "arrow")


def break_pixels(path: Path) -> int:
    """Pixels of a chart in the colour of the break line."""
    target = tuple(int(BREAK[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(path).convert("RGB")
    return sum(1 for pixel in image.getdata() if all(abs(a - b) <= 12 for a, b in zip(pixel, target, strict=True)))


def test_organisation_series_show_the_population_break(bundled: Built, page: PageParser) -> None:
    # No bundled organisation series has figures on both sides of 2018: each is comparable within
    # itself, so no card carries a break badge, note or dashed line (issue 13: the badge sat on 26 cards).
    for indicator in ("data_sharing_never_or_rarely", "user_service_weighted_over_cost", "uses_common_components"):
        view = card(page, indicator)
        assert not view.find("span", "break")
        assert "Stiplet linje" not in view.one("img").attrs["alt"]
        assert "Brudd i serien fra 2018" not in view.one("details").text
        assert break_pixels(bundled.report_dir / view.one("img").attrs["src"]) == 0
    assert not [c for c in page.cards if c.find("span", "break")]
    # Citizen survey: no break, no line.
    trust = card(page, "trust_personal_data_safe")
    assert not trust.find("span", "break")
    assert break_pixels(bundled.report_dir / trust.one("img").attrs["src"]) == 0
    assert "Brudd 2018" in bundled.page and "gjelder alle indikatorer i Virksomhetsundersøkelsen" in bundled.page


def test_qualifiers_are_shown_with_the_value(page: PageParser) -> None:
    assert squash(card(page, "clear_sustainability_strategy").one("span", "value").text) == "under 30 %"
    assert squash(card(page, "digital_skills_medium_or_better").one("span", "value").text) == "ca. 90 %"
    assert squash(card(page, "digitalisation_key_for_sdgs").one("span", "value").text) == "36,4 %"


def test_a_published_distribution_is_one_card_with_its_shares(bundled: Built, page: PageParser) -> None:
    """Issue 13: benefits_realised was published as the shares of three answers; the page shows
    them together, as published, in one card with a row and a line per answer."""
    (whole,) = [c for c in page.cards if c.attrs["data-indicator"] == "benefits_realised"]
    assert whole.attrs["data-kind"] == "distribution"
    assert squash(whole.one("h3").text) == "Lykkes i å realisere planlagte gevinster"
    shares = [e for e in whole.find("tr", "share")]
    assert [e.attrs["data-answer"] for e in shares] == ["high", "some", "low"]
    assert [squash(e.text).split(" %")[0] for e in shares] == [
        "I stor eller svært stor grad 10",
        "I noen grad 71",
        "I liten eller svært liten grad 13",
    ]
    high = card(page, "benefits_realised", answer="high")
    assert squash(high.one("span", "value").text) == "10 %"
    assert "95 % KI 6,9–14,3 % · n = 251" in high.text
    assert "71 %" not in high.text  # another answer's share is not read as this one's
    # One chart with a line in each answer's colour, the colour of its row's swatch.
    (img,) = whole.find("img")
    chart = Image.open(bundled.report_dir / img.attrs["src"]).convert("RGB")
    for row in shares:
        (swatch,) = [e for e in whole.find("span", "swatch") if e.answer == row.attrs["data-answer"]]
        colour = swatch.attrs["style"].split("background-color:")[1].strip()
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert sum(1 for px in chart.getdata() if px == rgb) > 30, row.attrs["data-answer"]
    assert "I noen grad: 2023: 71 % | I liten eller svært liten grad: 2022: 18 %; 2023: 13 %" in img.attrs["alt"]
    # The table has every answer's figures, year by year.
    rows = [(e.attrs["data-year"], e.attrs["data-answer"]) for e in whole.find("tr") if "data-year" in e.attrs]
    assert rows == sorted(rows, key=lambda r: r[0]) and {a for _, a in rows} == {"high", "some", "low"}


def test_report_names_build_time_and_every_release(bundled: Built, page: PageParser) -> None:
    for path in sorted((REPO / "raw").glob("itip_*")):
        assert path.name in bundled.page
        assert hashlib.sha256(path.read_bytes()).hexdigest() in bundled.page
    built = [e for e in page.elements if e.tag == "time"]
    assert len(built) == 1
    stamp = datetime.fromisoformat(built[0].attrs["datetime"])
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 3600


def test_report_is_offline_and_accessible(bundled: Built, page: PageParser) -> None:
    assert not [e for e in page.elements if e.tag in ("script", "link", "iframe", "object", "embed")]
    assert "@import" not in bundled.page and "url(" not in bundled.page
    images = [e for e in page.elements if e.tag == "img"]
    assert len(images) == len(page.cards)
    for img in images:
        assert not re.match(r"^[a-z]+:", img.attrs["src"]), img.attrs["src"]
        assert (bundled.report_dir / img.attrs["src"]).is_file()
        assert len(img.attrs["alt"]) > 20
    for view in page.cards:
        assert view.find("details") and view.find("table") and view.find("th")
        assert view.one("footer").text.startswith("Kilde: ")
        links = [a.attrs["href"] for a in view.find("a")]
        assert links and all(h.startswith(("http://", "https://")) for h in links)
    assert page.elements[0].tag == "html" and page.elements[0].attrs["lang"] == "nb"


def test_lang_en_gives_english_labels(bundled: Built, tmp_path: Path) -> None:
    out = tmp_path / "en"
    result = runner.invoke(app, ["report", "--out", str(out), "--lang", "en", "--warehouse", str(bundled.warehouse)])
    assert result.exit_code == 0, result.output
    assert str(out / "index.html") in result.output
    english = parse((out / "index.html").read_text(encoding="utf-8"))
    assert english.elements[0].attrs["lang"] == "en"
    trust = card(english, "trust_personal_data_safe")
    assert "Trust that public digital services keep personal data safe" in trust.one("h3").text
    assert squash(trust.one("p", "change").text) == "↓ −3 pp since 2020 (50 %) · change, significance unknown"
    assert trust.one("span", "arrow").attrs["aria-label"] == "falling"
    assert squash(card(english, "digital_skills_medium_or_better").one("span", "value").text) == "about 90 %"
    assert squash(card(english, "digitalisation_key_for_sdgs").one("span", "value").text) == "36.4 %"
    text = " ".join(english.text)
    for english_label in ("Information security", "Data sharing", "Digital inclusion", "Sustainability", "Trust"):
        assert english_label in text
    for norwegian in ("Informasjonssikkerhet", "Tillit til at", "nøkkeltall", "siden 2020", "Kilde"):
        assert norwegian not in text
    assert "Organisation survey" in text and "Break 2018" in text


def test_report_command_defaults_and_errors(bundled: Built, tmp_path: Path) -> None:
    warehouse = tmp_path / "copy" / "itip.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(bundled.warehouse, warehouse)
    result = runner.invoke(app, ["report", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert (warehouse.parent / "report" / "index.html").is_file()
    assert runner.invoke(app, ["report", "--lang", "de", "--warehouse", str(warehouse)]).exit_code == 2
    missing = runner.invoke(app, ["report", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r")])
    assert missing.exit_code == 1
    assert "no warehouse yet" in missing.output and "Traceback" not in missing.output


# --- suppressed values and text from outside files -----------------------------------------
def test_suppressed_values_are_shown_as_suppressed_and_sources_are_escaped(
    tmp_path: Path, prefect_harness: None
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ("itip_2020.csv", "itip_2021.csv"):
        shutil.copy(REPO / "raw" / name, raw / name)
    evil = '=HYPERLINK("http://evil.example","x")<script>alert(1)</script>'
    write(
        raw,
        "itip_2024.csv",
        "survey,indicator,value,source\n"
        "citizens,trust_personal_data_safe,:,https://example.org/itip-2024\n"
        f'citizens,trust_rights_safeguarded,55,"{evil.replace(chr(34), chr(34) * 2)}"\n'
        "organisations,data_reuse_high,..,javascript:alert(1)\n",
    )
    report_dir = tmp_path / "site"
    outcomes = ingest(raw_dir=raw, warehouse=tmp_path / "wh" / "itip.duckdb", report_dir=report_dir)
    assert {o.status for o in outcomes} == {"loaded"}
    html_text = (report_dir / "index.html").read_text(encoding="utf-8")
    assert not (tmp_path / "wh" / "report").exists()
    page = parse(html_text)

    trust = card(page, "trust_personal_data_safe")
    value = trust.one("span", "value")
    assert squash(value.text) == "prikket (:)"
    assert value.attrs["data-status"] == "suppressed"
    assert trust.attrs["data-value"] == ""
    assert trust.attrs["data-direction"] == "" and not trust.find("span", "arrow")
    assert squash(trust.one("p", "change").text) == "Ingen endring kan beregnes. Siste publiserte tall: 47 % i 2021"
    rows = {e.attrs["data-year"]: e for e in trust.find("tr") if "data-year" in e.attrs}
    assert rows["2024"].attrs["data-status"] == "suppressed"
    assert "prikket (:)" in rows["2024"].text and "0 %" not in rows["2024"].text
    assert "2024: prikket (:)" in trust.one("img").attrs["alt"]
    assert " 0 %" not in trust.text
    assert squash(card(page, "data_reuse_high").one("span", "value").text) == "mangler (..)"

    # Text from a release file never becomes markup, a link to something other than http(s), or a formula.
    assert "<script>" not in html_text
    assert not [e for e in page.elements if e.attrs.get("href", "").startswith("javascript")]
    rights = card(page, "trust_rights_safeguarded")
    source_cells = [e.text for e in rights.find("td") if "evil.example" in e.text]
    assert source_cells and all(cell.startswith("'=HYPERLINK") for cell in source_cells)
    assert "&lt;script&gt;" in html_text
    assert not [a for a in rights.find("a") if "evil" in a.attrs.get("href", "")]
    assert not [a for a in card(page, "data_reuse_high").find("a") if a.attrs.get("href", "").startswith("javascript")]


def test_nothing_changed_means_no_new_report(tmp_path: Path, prefect_harness: None) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "raw" / "itip_2016.csv", raw / "itip_2016.csv")
    warehouse = tmp_path / "itip.duckdb"
    ingest(raw_dir=raw, warehouse=warehouse)
    index = tmp_path / "report" / "index.html"
    assert index.is_file()
    index.unlink()
    outcomes = ingest(raw_dir=raw, warehouse=warehouse)
    assert [o.status for o in outcomes] == ["unchanged"]
    assert not index.exists()


def test_a_report_that_cannot_be_written_does_not_fail_the_ingest(tmp_path: Path, prefect_harness: None) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REPO / "raw" / "itip_2016.csv", raw / "itip_2016.csv")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the report folder should be", encoding="utf-8")
    outcomes = ingest(raw_dir=raw, warehouse=tmp_path / "itip.duckdb", report_dir=blocked)
    assert [o.status for o in outcomes] == ["loaded"]
    assert blocked.read_text(encoding="utf-8").startswith("a file")


# --- cases the bundled data does not have: significance, breaks crossed, answers' `better` ---
def synthetic(codebook: Codebook) -> ReportData:
    """Figures with n in both years, a series across the 2018 break and a distribution."""
    rows: list[dict[str, Any]] = []

    def add(indicator: str, answer: str | None, year: int, value: float, n: int | None, prev: tuple[int, float] | None):
        comparable = None if prev is None else not (prev[0] < 2018 <= year)
        p = None
        if prev is not None and n is not None and comparable:
            p = change_p_value(prev[1], n, value, n)
        rows.append(
            {
                "indicator": indicator,
                "survey": "organisations",
                "segment": "all",
                "answer": answer,
                "year": year,
                "value": value,
                "qualifier": None,
                "value_status": "published",
                "n": n,
                "ci_low": None,
                "ci_high": None,
                "prev_year": None if prev is None else prev[0],
                "prev_value": None if prev is None else prev[1],
                "change_pp": None if prev is None else value - prev[1],
                "change_p_value": p,
                "comparable_with_prev": comparable,
                "source": "https://example.org/s",
                "release_id": 1,
            }
        )

    add("user_service_weighted_over_cost", None, 2015, 55, None, None)
    add("user_service_weighted_over_cost", None, 2020, 60, None, (2015, 55))
    for answer, before, after in (("high", 20, 10), ("some", 70, 71), ("low", 5, 13)):
        add("benefits_realised", answer, 2021, before, 500, None)
        add("benefits_realised", answer, 2023, after, 500, (2021, before))
    breaks = pd.DataFrame(
        [
            {"indicator": i, "year": 2018, "scope": "survey", "reason": "Population changed"}
            for i in codebook.indicators
            if codebook.indicators[i].survey == "organisations"
        ]
    )
    releases = pd.DataFrame(
        [{"release_id": 1, "year": 2023, "kind": "published", "file_name": "f.csv", "sha256": "0" * 64, "rows": 1}]
    )
    trend = pd.DataFrame(rows)
    trend["change_q_value"], trend["change_significant"] = q_values(
        trend["change_p_value"], trend["year"], trend["survey"]
    )
    return ReportData(trend, breaks, releases, Path("itip.duckdb"))


def test_significance_breaks_and_answer_direction(codebook: Codebook) -> None:
    cards = {c.key: c for c in build_cards(synthetic(codebook), codebook)}
    high = cards["benefits_realised__all__high"]
    assert (high.direction, high.assessment, high.significant) == ("down", "bad", True)
    assert "statistisk signifikant (q &lt; 0,001; p &lt; 0,001)" in card_html(high, codebook, "no")
    assert "negativ utvikling" in card_html(high, codebook, "no")
    low = cards["benefits_realised__all__low"]  # the answer's better is 'lower': a rise is bad news
    assert (low.direction, low.assessment, low.significant) == ("up", "bad", True)
    some = cards["benefits_realised__all__some"]  # 70 -> 71 %: not significant, so no verdict at all
    assert (some.direction, some.assessment, some.significant) == ("up", "not_significant", False)
    html_some = card_html(some, codebook, "en")
    assert "not statistically significant (q = 0.7" in html_some and "; p = 0.7" in html_some
    assert "change, not significant" in html_some
    assert "positive development" not in html_some and "negative development" not in html_some

    crossed = cards["user_service_weighted_over_cost__all"]
    assert crossed.change is None and crossed.direction is None
    text = card_html(crossed, codebook, "no")
    assert "Ikke sammenlignbart med 2015 (brudd i serien)" in text
    assert "Brudd i serien fra 2018: tall før og etter er ikke sammenlignbare." in text
    assert [[p.year for p in run] for run in _runs(crossed)] == [[2015], [2020]]  # no line across the break

    # Indicators without figures still get a card that says so.
    empty = cards["trust_personal_data_safe__none"]
    assert not empty.points and "Ingen tall publisert ennå" in card_html(empty, codebook, "no")


def test_raw_p_below_005_is_not_significant_when_q_is_not(codebook: Codebook) -> None:
    """A change with raw p = 0.03 among many tested changes (q = 0.4) is shown grey as
    'change, not significant': it gets neither a colour nor 'negative development'."""
    data = synthetic(codebook)
    high = data.trend["indicator"].eq("benefits_realised") & data.trend["answer"].eq("high")
    later = high & data.trend["year"].eq(2023)
    data.trend.loc[later, ["change_p_value", "change_q_value", "change_significant"]] = [0.03, 0.4, False]
    card_ = {c.key: c for c in build_cards(data, codebook)}["benefits_realised__all__high"]
    assert (card_.direction, card_.assessment, card_.significant) == ("down", "not_significant", False)
    html_no = card_html(card_, codebook, "no")
    assert "endring, ikke signifikant" in html_no and "negativ utvikling" not in html_no
    assert "ikke statistisk signifikant (q = 0,400; p = 0,030)" in html_no
    assert 'class="card not_significant"' in html_no


def test_report_says_how_many_changes_were_tested(codebook: Codebook) -> None:
    data = synthetic(codebook)
    text = changes_tested_text(data.trend, "en")
    # Three answers of benefits_realised are tested in 2023; two hold after the correction.
    assert text.startswith("3 changes were tested (2023: 3).")
    assert "Benjamini-Hochberg, q < 0.05, per year and survey): 2 of them do." in text
    assert changes_tested_text(data.trend.assign(change_p_value=None), "no").startswith("Ingen endring kunne testes")


def test_headline_markdown_escapes_text(bundled: Built, tmp_path: Path, codebook: Codebook) -> None:
    report = write_report(bundled.warehouse, tmp_path / "r", codebook=codebook)
    report.releases = [{"file_name": "[x](javascript:alert(1))*<b>"}]
    markdown = headline_markdown(report, codebook)
    assert "\\[x\\](javascript:alert(1))\\*&lt;b&gt;" in markdown


# --- the page as a browser renders it ----------------------------------------------------
def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.slow
def test_report_in_headless_chromium(bundled: Built, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed ({CHROMIUM} missing; `make browser` installs Debian's chromium)")
    url = (bundled.report_dir / "index.html").as_uri()
    dumped = chromium("--dump-dom", url, profile=tmp_path / "profile")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = parse(dumped.stdout)
    assert len(dom.cards) == cards_shown(reference_series())
    trust = card(dom, "trust_personal_data_safe")
    assert squash(trust.one("span", "value").text) == "47 %"
    assert squash(trust.one("p", "change").text) == "↓ −3 pp siden 2020 (50 %) · endring, signifikans ukjent"
    assert trust.attrs["data-assessment"] == "untested"
    assert squash(card(dom, "clear_sustainability_strategy").one("span", "value").text) == "under 30 %"
    # A break badge only where the series crosses the break (figures on both sides of it).
    assert not card(dom, "data_sharing_never_or_rarely").find("span", "break")
    for view in dom.cards:
        years = [int(e.attrs["data-year"]) for e in view.find("tr") if "data-year" in e.attrs]
        for badge in view.find("span", "break"):
            assert years and min(years) < int(badge.attrs["data-break-year"]) <= max(years), view.attrs
    for (indicator, segment, answer), rows in reference_series().items():
        assert squash(card(dom, indicator, segment, answer).one("span", "value").text) == shown(rows[-1])

    shot = tmp_path / "report.png"
    taken = chromium(f"--screenshot={shot}", "--window-size=1280,2000", url, profile=tmp_path / "profile2")
    assert taken.returncode == 0, taken.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # a rendered page with charts, not a blank one
    print(f"screenshot: {shot}")
