"""The report's own words, one data file per language (itip/report/words/<lang>.yaml).

Translators edit the YAML, not Python; every language must have the same keys
(tests/integration/test_report.py checks it). Labels of indicators, topics, segments and
answers come from the codebook instead.
"""

from __future__ import annotations

from pathlib import Path

import yaml

LANGUAGES = ("no", "en")
WORDS_DIR = Path(__file__).with_name("words")


def _load(lang: str) -> dict[str, str]:
    with (WORDS_DIR / f"{lang}.yaml").open(encoding="utf-8") as fh:
        return {str(k): str(v) for k, v in yaml.safe_load(fh).items()}


#: The page's own words, per language.
TEXT: dict[str, dict[str, str]] = {lang: _load(lang) for lang in LANGUAGES}
#: The badge on a key figure from an older edition (key `stale` of the words).
STALE_TEXT = {lang: words["stale"] for lang, words in TEXT.items()}

ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
#: The words for an assessment where they differ from its name.
VERDICT = {"not_significant": "change_not_significant", "untested": "change_untested"}
MINUS = "−"  # U+2212, the typographic minus
