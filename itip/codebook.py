"""The codebook: stable indicator ids and every published wording of them.

Yearly releases drift in wording; the codebook maps each wording (alias) onto a
stable id, the way PUDL maps yearly column names by metadata instead of code
branches. Everything a release may say in a vocabulary column (survey, segment,
qualifier) is resolved here too, so Norwegian and English spellings are data.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from itip.paths import CODEBOOK
from itip.problems import ItipError
from itip.respondents.spec import BASES, RespondentSpec, parse_respondent_spec

_QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def normalise_text(text: str) -> str:
    """The form in which wordings are compared: case, spacing, quote style and a
    trailing '?' or '.' are not differences of meaning."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    text = text.strip("\"'").strip()
    return text.rstrip("?.").strip()


@dataclass(frozen=True)
class Answer:
    id: str
    label_no: str
    label_en: str
    better: str | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    survey: str
    topic: str
    label_no: str
    label_en: str
    unit: str
    better: str | None
    answers: tuple[Answer, ...]
    aliases: tuple[tuple[int, str, str | None], ...]  # (year, text, answer)
    breaks: tuple[tuple[int, str], ...]  # (year, reason)
    note: str | None
    #: Answer base of the published figures (codebook `published_base`): (year or None for
    #: every year, base). Empty = unknown. See `Codebook.published_base`.
    published_base: tuple[tuple[int | None, str], ...] = ()


@dataclass(frozen=True)
class Break:
    survey: str | None
    indicator: str | None
    year: int
    reason: str


@dataclass
class Codebook:
    indicators: dict[str, Indicator]
    surveys: dict[str, dict[str, Any]]
    segments: dict[str, dict[str, Any]]
    qualifiers: dict[str, dict[str, Any]]
    topics: dict[str, dict[str, Any]]
    survey_breaks: tuple[Break, ...]
    sha256: str
    #: How respondent-level files are read (None when the codebook has no `respondents` section).
    respondents: RespondentSpec | None = None
    #: The survey's first edition: release files of earlier years are refused (see itip.release.year_refusal).
    first_year: int = 2008
    _alias_index: dict[str, tuple[str, str | None]] = field(default_factory=dict, repr=False)
    _vocab_index: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    # --- resolving what a file says -------------------------------------------------
    def resolve(self, vocabulary: str, text: str) -> str | None:
        """The canonical id for `text` in a vocabulary (survey, segment, qualifier), or None."""
        return self._vocab_index[vocabulary].get(normalise_text(text))

    def resolve_question(self, text: str) -> tuple[str, str | None] | None:
        """(indicator, answer-or-None) for a published wording, or None when unmatched."""
        return self._alias_index.get(normalise_text(text))

    def closest_question(self, text: str) -> tuple[str, str] | None:
        """The codebook wording nearest to `text` and its indicator, to suggest a fix."""
        match = process.extractOne(normalise_text(text), list(self._alias_index), scorer=fuzz.token_set_ratio)
        if match is None:
            return None
        alias = match[0]
        return self._alias_index[alias][0], alias

    def closest_indicator(self, text: str) -> str | None:
        match = process.extractOne(text.strip().lower(), list(self.indicators), scorer=fuzz.WRatio)
        return None if match is None else match[0]

    def published_base(self, indicator: str, year: int) -> str | None:
        """The declared answer base of the published figure of `indicator` in `year`
        (a base declared for that year wins over one declared for every year); None =
        unknown. Published figures and respondent estimates of different or unknown
        bases are not compared (the view changes, warehouse/sql/88_changes.sql)."""
        ind = self.indicators.get(indicator)
        if ind is None:
            return None
        by_year = dict(ind.published_base)
        return by_year.get(year, by_year.get(None))

    def breaks_for(self, indicator: str) -> list[Break]:
        ind = self.indicators[indicator]
        own = [Break(None, indicator, year, reason) for year, reason in ind.breaks]
        return own + [b for b in self.survey_breaks if b.survey == ind.survey]

    def all_breaks(self) -> list[Break]:
        return [b for ind in self.indicators for b in self.breaks_for(ind)]


def _vocabulary(entries: dict[str, dict[str, Any]], name: str, path: Path) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, entry in entries.items():
        for spelling in [key, *(entry.get("aliases") or [])]:
            norm = normalise_text(str(spelling))
            if index.get(norm, key) != key:
                raise ItipError(f"{path}: {name} spelling {spelling!r} is used for both {index[norm]!r} and {key!r}")
            index[norm] = key
    return index


def _published_base(raw: object, where: str) -> tuple[tuple[int | None, str], ...]:
    """`published_base: with_dont_know` (every published year) or `{2023: with_dont_know}`
    (only those years); absent = unknown."""
    if raw is None:
        return ()
    pairs: list[tuple[int | None, object]] = (
        [(None, raw)] if isinstance(raw, str) else list(raw.items()) if isinstance(raw, dict) else [(None, raw)]
    )
    out: list[tuple[int | None, str]] = []
    for year, base in pairs:
        if base not in BASES or (year is not None and not isinstance(year, int)):
            raise ItipError(
                f"{where}: published_base must be one of {', '.join(BASES)} or a mapping year: base, not {raw!r}"
            )
        out.append((year, str(base)))
    return tuple(out)


def _require(entry: dict[str, Any], keys: list[str], where: str) -> None:
    missing = [k for k in keys if not entry.get(k)]
    if missing:
        raise ItipError(f"{where}: missing {', '.join(missing)}")


def parse_codebook(text: str, path: Path) -> Codebook:
    """Build a Codebook from YAML text, refusing contradictions (an alias used
    for two indicators would make loading depend on dictionary order). A value of
    the wrong type anywhere (a number where a list belongs, an alias without `text`)
    is one line naming the codebook, never a traceback."""
    try:
        return _parse_codebook(text, path)
    except ItipError:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, IndexError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc).strip().splitlines()[0]
        raise ItipError(
            f"{path}: a value has the wrong type or a key is missing ({type(exc).__name__}: {detail}); "
            "see the layout in README.md, The codebook"
        ) from None


#: libyaml's safe loader (the C one, ten times faster on the codebook: 0.03 s instead of 0.3 s on
#: every command that loads it), or PyYAML's own where libyaml is missing. Both build the same
#: plain data; neither constructs Python objects from tags.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml_error(exc: yaml.YAMLError) -> str:
    """A YAML error as one line: where, and what the parser expected."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    context = getattr(exc, "context", None)
    return where + (f"{context}: {what}" if context else str(what))


def _parse_codebook(text: str, path: Path) -> Codebook:
    try:
        data = yaml.load(text, Loader=_LOADER)  # a safe loader (above)
    except yaml.YAMLError as exc:
        raise ItipError(f"{path}: not valid YAML at {_yaml_error(exc)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("indicators"), dict):
        raise ItipError(f"{path}: expected a mapping with an 'indicators' section")
    surveys = data.get("surveys") or {}
    segments = data.get("segments") or {}
    qualifiers = data.get("qualifiers") or {}
    topics = data.get("topics") or {}
    indicators: dict[str, Indicator] = {}
    alias_index: dict[str, tuple[str, str | None]] = {}
    for ind_id, e in data["indicators"].items():
        where = f"{path}: indicator {ind_id}"
        if not isinstance(e, dict):
            raise ItipError(f"{where}: expected a mapping")
        _require(e, ["survey", "topic", "label_no", "label_en"], where)
        if not isinstance(e.get("aliases"), list):
            # an empty list is allowed: some figures were only ever published without their wording
            raise ItipError(f"{where}: missing aliases (a list of published wordings; [] when none was published)")
        if e["survey"] not in surveys:
            raise ItipError(f"{where}: unknown survey {e['survey']!r}")
        if e["topic"] not in topics:
            raise ItipError(f"{where}: unknown topic {e['topic']!r}")
        if e.get("better") not in (None, "higher", "lower"):
            raise ItipError(f"{where}: better must be 'higher' or 'lower'")
        answers = tuple(
            Answer(a["id"], a.get("label_no", a["id"]), a.get("label_en", a["id"]), a.get("better"))
            for a in e.get("answers") or []
        )
        answer_ids = {a.id for a in answers}
        aliases = []
        reworded: list[tuple[int, str]] = []
        for a in e["aliases"]:
            text_ = str(a["text"])
            answer = a.get("answer")
            if answer is not None and answer not in answer_ids:
                raise ItipError(f"{where}: alias {text_!r} names unknown answer {answer!r}")
            norm = normalise_text(text_)
            if norm in alias_index and alias_index[norm] != (ind_id, answer):
                raise ItipError(f"{where}: alias {text_!r} is already used by {alias_index[norm][0]!r}")
            alias_index[norm] = (ind_id, answer)
            aliases.append((int(a["year"]), text_, answer))
            # A wording marked as a substantive rewording starts a new series: a break from its year.
            # `editorial` (same question, other words, e.g. a press paraphrase) needs a reason and breaks nothing.
            rewording = a.get("rewording")
            if rewording not in (None, "substantive", "editorial"):
                raise ItipError(f"{where}: alias {text_!r}: rewording must be substantive or editorial")
            if rewording is not None and not str(a.get("reason") or "").strip():
                raise ItipError(f"{where}: alias {text_!r}: a rewording needs a reason")
            if rewording == "substantive":
                reworded.append((int(a["year"]), f"Question reworded: {str(a['reason']).strip()}"))
        breaks = tuple((int(b["year"]), str(b["reason"]).strip()) for b in e.get("breaks") or [])
        published_base = _published_base(e.get("published_base"), where)
        breaks += tuple(b for b in reworded if b[0] not in {y for y, _ in breaks})
        indicators[ind_id] = Indicator(
            id=ind_id,
            survey=e["survey"],
            topic=e["topic"],
            label_no=e["label_no"],
            label_en=e["label_en"],
            unit=e.get("unit", "percent"),
            better=e.get("better"),
            answers=answers,
            aliases=tuple(aliases),
            breaks=breaks,
            note=(str(e["note"]).strip() if e.get("note") else None),
            published_base=published_base,
        )
    survey_breaks = []
    for b in data.get("survey_breaks") or []:
        if b.get("survey") not in surveys:
            raise ItipError(f"{path}: survey_breaks names unknown survey {b.get('survey')!r}")
        survey_breaks.append(Break(b["survey"], None, int(b["year"]), str(b["reason"]).strip()))
    return Codebook(
        indicators=indicators,
        surveys=surveys,
        segments=segments,
        qualifiers=qualifiers,
        topics=topics,
        survey_breaks=tuple(survey_breaks),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        respondents=parse_respondent_spec(data.get("respondents"), data["indicators"], segments, surveys, path),
        first_year=_first_year(data.get("first_year", 2008), path),
        _alias_index=alias_index,
        _vocab_index={
            "survey": _vocabulary(surveys, "survey", path),
            "segment": _vocabulary(segments, "segment", path),
            "qualifier": _vocabulary(qualifiers, "qualifier", path),
        },
    )


def _first_year(value: object, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
        raise ItipError(f"{path}: first_year must be a year (1900-2100), not {value!r}")
    return value


def load_codebook(path: Path | None = None) -> Codebook:
    path = path or CODEBOOK
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ItipError(f"{path}: cannot read codebook: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ItipError(f"{path}: the codebook is not UTF-8 text (byte {exc.start + 1})") from None
    return parse_codebook(text, path)
