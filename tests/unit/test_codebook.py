"""The codebook: the one place indicators, wordings and breaks are defined."""

from __future__ import annotations

from pathlib import Path

import pytest

from itip.codebook import Codebook, normalise_text, parse_codebook
from itip.problems import ItipError
from tests.conftest import REPO

MINIMAL = """
surveys:
  citizens: {aliases: [innbyggere]}
topics:
  trust: {label_no: Tillit, label_en: Trust}
indicators:
  a:
    survey: citizens
    topic: trust
    label_no: A
    label_en: A
    aliases:
      - {year: 2020, text: "Har du tillit?"}
"""


def test_wording_differences_that_do_not_change_meaning_are_ignored() -> None:
    assert normalise_text("  I hvilken  grad har du TILLIT?  ") == "i hvilken grad har du tillit"
    assert normalise_text("«Sitat»") == normalise_text('"sitat"')


def test_bundled_codebook_defines_every_bundled_indicator(codebook: Codebook) -> None:
    assert len(codebook.indicators) == 70  # 28 of the first sweep of published figures, 42 of the second
    trust = codebook.indicators["trust_personal_data_safe"]
    assert trust.survey == "citizens" and trust.topic == "trust" and trust.better == "higher"
    assert {year for year, _, _ in trust.aliases} == {2020, 2021}


def test_organisation_population_change_is_a_break(codebook: Codebook) -> None:
    """Every organisation series breaks between the old (500 largest) and new (all public) population."""
    breaks = codebook.breaks_for("user_service_weighted_over_cost")
    assert [b.year for b in breaks] == [2018]
    assert "population" in breaks[0].reason.lower()
    assert codebook.breaks_for("trust_personal_data_safe") == []


def test_answer_wording_resolves_to_indicator_and_answer(codebook: Codebook) -> None:
    assert codebook.resolve_question("Lykkes i å realisere planlagte gevinster i noen grad.") == (
        "benefits_realised",
        "some",
    )


def test_reworded_question_is_one_alias_line() -> None:
    """Adding a year with new wording is one line in the codebook."""
    text = MINIMAL + '      - {year: 2021, text: "Hvor stor tillit har du?"}\n'
    cb = parse_codebook(text, Path("cb.yaml"))
    assert cb.resolve_question("hvor stor tillit har du") == ("a", None)
    assert cb.resolve_question("har du tillit") == ("a", None)


def test_alias_used_by_two_indicators_is_refused() -> None:
    text = (
        MINIMAL
        + """  b:
    survey: citizens
    topic: trust
    label_no: B
    label_en: B
    aliases: [{year: 2021, text: "har du tillit"}]
"""
    )
    with pytest.raises(ItipError, match="already used by 'a'"):
        parse_codebook(text, Path("cb.yaml"))


def test_indicator_of_unknown_survey_is_refused() -> None:
    with pytest.raises(ItipError, match="unknown survey"):
        parse_codebook(MINIMAL.replace("survey: citizens", "survey: robots"), Path("cb.yaml"))


def test_vocabularies_accept_norwegian(codebook: Codebook) -> None:
    assert codebook.resolve("survey", "Virksomheter") == "organisations"
    assert codebook.resolve("segment", "statlige") == "state"
    assert codebook.resolve("qualifier", "i underkant av") == "below"
    assert codebook.resolve("qualifier", "ca.") == "approx"


def test_answer_base_decides_which_non_answers_stay_in_the_denominator(codebook: Codebook) -> None:
    """benefits_realised is published with 'vet ikke' in the base (10 + 71 + 13 = 94 %), so its
    respondent files keep code 8 in the denominator; the default base drops 8 and 9."""
    spec = codebook.respondents
    assert spec is not None
    benefits = spec.questions["benefits_realised"]
    assert (benefits.base, benefits.exclude) == ("with_dont_know", (9,))
    trust = spec.questions["trust_personal_data_safe"]
    assert (trust.base, trust.exclude) == ("answered", (8, 9))


def _one_indicator(tmp_path: Path, alias_extra: str) -> Codebook:
    text = MINIMAL + '      - {year: 2022, text: "Ny ordlyd?"' + alias_extra + "}\n"
    return parse_codebook(text, Path("cb.yaml"))


def test_substantive_rewording_is_a_break_editorial_is_not(tmp_path: Path) -> None:
    book = _one_indicator(tmp_path, ", rewording: substantive, reason: now asks about all data")
    [brk] = [b for b in book.breaks_for("a") if b.indicator == "a"]
    assert (brk.year, brk.reason) == (2022, "Question reworded: now asks about all data")
    book = _one_indicator(tmp_path, ", rewording: editorial, reason: same question")
    assert not [b for b in book.breaks_for("a") if b.indicator == "a"]
    with pytest.raises(ItipError, match="a rewording needs a reason"):
        _one_indicator(tmp_path, ", rewording: substantive")


def test_the_2021_trust_rewording_has_a_documented_reason(codebook: Codebook) -> None:
    """Issue 8: the 2021 trust wording is declared editorial (no break) with its reason in the codebook."""
    text = (REPO / "schemas" / "codebook.yaml").read_text(encoding="utf-8")
    assert "rewording: editorial" in text and "Digdir's page reports 2020 and 2021 as one series" in text
    assert not [b for b in codebook.breaks_for("trust_personal_data_safe") if b.indicator]
