"""The report's words are data files, one per language: every language says every text,
and each template field a text uses is one the report fills in."""

from __future__ import annotations

import string
from pathlib import Path

from itip.report.words import LANGUAGES, TEXT, WORDS_DIR


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_a_words_file_with_the_same_keys_and_fields() -> None:
    assert sorted(p.stem for p in Path(WORDS_DIR).glob("*.yaml")) == sorted(LANGUAGES)
    norwegian = TEXT["no"]
    for lang in LANGUAGES:
        assert list(TEXT[lang]) == list(norwegian), f"{lang}: keys differ from no.yaml"
        for key, text in TEXT[lang].items():
            assert text.strip(), f"{lang}.{key} is empty"
            assert fields(text) == fields(norwegian[key]), f"{lang}.{key}: other template fields than in no.yaml"
