"""The respondent-level part of the codebook: what a respondent file may hold.

`schemas/codebook.yaml` declares, besides the published indicators, how
respondent-level files (`itip_<YEAR>_respondents.csv|xlsx|sav`) are read: the
id, survey and weight columns, the segment variables per survey, the answer
scales with their value labels, and per indicator the column name per year,
the codes that count toward the share and the codes that leave the denominator
("vet ikke", not asked). Everything not declared here is dropped at read time.

Column names are the only identifiers that reach SQL from the codebook; they
are restricted to `[a-z][a-z0-9_]*` here, so they can be quoted safely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itip.problems import ItipError

if TYPE_CHECKING:
    from itip.replicates import Replicates

COLUMN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: Answer bases an indicator may declare (codebook `base`): which non-answers are in the denominator.
#: answered: neither "vet ikke" nor "ikke spurt" (the default); with_dont_know: "vet ikke" counts in
#: the denominator (as the published report does for e.g. benefits_realised: 10 + 71 + 13 = 94 %).
BASES = ("answered", "with_dont_know")
DONT_KNOW = "vet ikke"
DEFAULT_MIN_CELL_N = 10
#: Groups below this many respondents do not show a share of exactly 0 % or 100 %: it would tell
#: every member's answer (group disclosure). See itip.disclosure and docs/respondents.md.
DEFAULT_MIN_CELL_N_EXTREME = 20


@dataclass(frozen=True)
class Scale:
    """An answer scale: code -> Norwegian value label; `missing` codes never count as answers."""

    id: str
    labels: dict[int, str]
    missing: tuple[int, ...]

    @property
    def valid(self) -> tuple[int, ...]:
        return tuple(c for c in sorted(self.labels) if c not in self.missing)


@dataclass(frozen=True)
class Question:
    """One indicator as asked of respondents."""

    indicator: str
    survey: str
    scale: str
    #: (first year, column name or None = not asked from that year), oldest first.
    columns: tuple[tuple[int, str | None], ...]
    #: answer id (None for a single share) -> codes that count toward that share.
    counts: dict[str | None, tuple[int, ...]]
    #: codes that leave the denominator (default: from the answer base).
    exclude: tuple[int, ...]
    #: the indicator's declared answer base (one of BASES).
    base: str = "answered"

    def column(self, year: int) -> str | None:
        """The column that holds this question in `year`; None when it was not asked."""
        current: str | None = None
        for first, name in self.columns:
            if first <= year:
                current = name
        return current


@dataclass(frozen=True)
class SegmentVariable:
    """A column whose codes map onto codebook segments, for one survey."""

    column: str
    survey: str
    codes: dict[str, str]  # code as text ("1") -> segment id; the segment id itself is accepted too
    #: The segment these segments add up to (codebook `within`, default `all`): disclosure control
    #: treats parent = children as an additive relation that must not reveal a hidden cell.
    within: str = "all"

    def lookup(self) -> dict[str, str]:
        table = dict(self.codes)
        table.update({seg: seg for seg in self.codes.values()})
        return table


@dataclass(frozen=True)
class CheckedColumn:
    """A declared column that is checked but never aggregated (e.g. kommunenummer)."""

    column: str
    survey: str
    pattern: str
    message: str


#: Keys of the codebook's `respondents.design` naming one column each; `replicates` (itip.replicates) names many.
DESIGN_KEYS = ("stratum", "psu", "population")


@dataclass(frozen=True)
class Design:
    """The sampling design a respondent file may carry (codebook `respondents.design`).

    Each entry names a column of the file; a column left undeclared, or absent from a
    file, takes the default: one stratum per survey, every respondent their own primary
    sampling unit (PSU), no finite population correction (FPC). `population` holds, in
    every row, the number of PSUs in the population of that row's stratum (N_h, as
    R survey's `svydesign(fpc = ~N)`); the sampling fraction f_h = n_h / N_h follows from
    the PSUs in the file, so the declaration stays right when the response changes."""

    stratum: str | None = None
    psu: str | None = None
    population: str | None = None
    #: replicate weights (JK1, BRR, bootstrap): when a file has them they give the variance
    replicates: Replicates | None = None

    def columns(self) -> set[str]:
        found = {c for c in (self.stratum, self.psu, self.population) if c}
        return found | set(self.replicates.columns if self.replicates else ())


@dataclass(frozen=True)
class RespondentSpec:
    id_column: str
    survey_column: str
    weight_column: str
    synthetic_column: str
    min_cell_n: int
    survey_codes: dict[str, str]
    segments: tuple[SegmentVariable, ...]
    checked: tuple[CheckedColumn, ...]
    scales: dict[str, Scale]
    questions: dict[str, Question]
    min_cell_n_extreme: int = DEFAULT_MIN_CELL_N_EXTREME
    design: Design = Design()
    #: Cells whose Kish effective n is below this are suppressed (a few respondents carry the
    #: weight); None = the same as min_cell_n (see `min_effective_n`).
    min_cell_n_effective: int | None = None

    @property
    def min_effective_n(self) -> int:
        """The effective-n threshold in force: declared, else min_cell_n."""
        return self.min_cell_n if self.min_cell_n_effective is None else self.min_cell_n_effective

    def survey_lookup(self) -> dict[str, str]:
        table = dict(self.survey_codes)
        table.update({s: s for s in self.survey_codes.values()})
        return table

    def question_columns(self) -> dict[str, list[tuple[str, int]]]:
        """Every question column name in any year -> [(indicator, first year)]."""
        out: dict[str, list[tuple[str, int]]] = {}
        for q in self.questions.values():
            for first, name in q.columns:
                if name is not None:
                    out.setdefault(name, []).append((q.indicator, first))
        return out

    def declared(self) -> set[str]:
        """Every column name a respondent file may hold; anything else is dropped."""
        names = {self.id_column, self.survey_column, self.weight_column, self.synthetic_column}
        names |= {s.column for s in self.segments} | {c.column for c in self.checked}
        names |= self.design.columns()
        return names | set(self.question_columns())


def _name(value: object, where: str) -> str:
    name = str(value)
    if not COLUMN_NAME.match(name):
        raise ItipError(f"{where}: column name {name!r} must match [a-z][a-z0-9_]*")
    return name


def _codes(values: object, where: str) -> tuple[int, ...]:
    if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
        raise ItipError(f"{where}: expected a list of whole-number codes")
    return tuple(values)


def _threshold(data: dict[str, Any], key: str, default: int | None, where: str) -> int | None:
    """A disclosure threshold of the codebook: a whole number of respondents, at least 1.
    0 or less would publish every cell, a fraction or text is a typing error: all refused here,
    naming the field, rather than accepted or failing later (bool is refused although YAML's
    `true` is an int in Python)."""
    if key not in data:
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ItipError(f"{where}.{key}: {value!r} is not a whole number of respondents of at least 1")
    return value


def _design(entry: object, where: str) -> Design:
    """The codebook's `design` entry, refusing what the pipeline cannot honour."""
    if entry is None:
        return Design()
    if not isinstance(entry, dict):
        raise ItipError(f"{where}: expected a mapping of {', '.join(DESIGN_KEYS)} to column names")
    unknown = sorted(str(k) for k in entry if k not in (*DESIGN_KEYS, "replicates"))
    if unknown:
        raise ItipError(f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(DESIGN_KEYS)}, replicates")
    names = {k: None if entry.get(k) is None else _name(entry[k], f"{where}.{k}") for k in DESIGN_KEYS}
    used = [n for n in names.values() if n]
    if len(used) != len(set(used)):
        raise ItipError(f"{where}: stratum, psu and population must be different columns")
    from itip.replicates import parse_replicates  # numpy: not for commands that only read the codebook

    replicates = None if entry.get("replicates") is None else parse_replicates(entry["replicates"], where, _name)
    if replicates and set(replicates.columns) & set(used):
        raise ItipError(f"{where}.replicates: a replicate weight column is also the stratum, psu or population")
    return Design(**names, replicates=replicates)


def parse_respondent_spec(
    data: dict[str, Any] | None,
    indicators: dict[str, dict[str, Any]],
    segments: dict[str, Any],
    surveys: dict[str, Any],
    path: Path,
) -> RespondentSpec | None:
    """Build the spec from the codebook's `respondents` section and the indicators'
    `respondents` entries, refusing contradictions."""
    if not data:
        return None
    where = f"{path}: respondents"
    cols = data.get("columns") or {}
    survey_codes = {str(k): str(v) for k, v in (data.get("survey_codes") or {}).items()}
    for code, survey in survey_codes.items():
        if survey not in surveys:
            raise ItipError(f"{where}: survey code {code} names unknown survey {survey!r}")
    seg_vars = []
    for name, entry in (data.get("segments") or {}).items():
        col = _name(name, f"{where}.segments")
        if entry.get("survey") not in surveys:
            raise ItipError(f"{where}.segments.{col}: unknown survey {entry.get('survey')!r}")
        codes = {str(k): str(v) for k, v in (entry.get("codes") or {}).items()}
        unknown = sorted(set(codes.values()) - set(segments))
        if unknown:
            raise ItipError(f"{where}.segments.{col}: unknown segments {', '.join(unknown)}")
        within = str(entry.get("within", "all"))
        if within not in segments:
            raise ItipError(f"{where}.segments.{col}: within names unknown segment {within!r}")
        seg_vars.append(SegmentVariable(col, entry["survey"], codes, within))
    checked = [
        CheckedColumn(
            _name(name, f"{where}.checked"),
            str(entry.get("survey", "")),
            str(entry["pattern"]),
            str(entry.get("message", f"{name} has the wrong format")),
        )
        for name, entry in (data.get("checked") or {}).items()
    ]
    scales: dict[str, Scale] = {}
    for sid, entry in (data.get("scales") or {}).items():
        labels = {int(k): str(v) for k, v in (entry.get("labels") or {}).items()}
        missing = _codes(entry.get("missing") or [], f"{where}.scales.{sid}.missing")
        if not labels or not set(missing) <= set(labels):
            raise ItipError(f"{where}.scales.{sid}: needs labels, and missing codes among them")
        scales[sid] = Scale(sid, labels, missing)
    questions: dict[str, Question] = {}
    seen_columns: dict[str, str] = {}
    for ind_id, e in indicators.items():
        r = e.get("respondents")
        if not r:
            continue
        w = f"{path}: indicator {ind_id}.respondents"
        scale = scales.get(str(r.get("scale")))
        if scale is None:
            raise ItipError(f"{w}: unknown scale {r.get('scale')!r}")
        columns: list[tuple[int, str | None]] = []
        for first, name in sorted((r.get("columns") or {}).items()):
            column: str | None = None if name is None else _name(name, w)
            if column is not None and seen_columns.get(column, ind_id) != ind_id:
                raise ItipError(f"{w}: column {column!r} is already used by {seen_columns[column]!r}")
            if column is not None:
                seen_columns[column] = ind_id
            columns.append((int(first), column))
        if not columns:
            raise ItipError(f"{w}: needs columns (first year: column name)")
        raw_counts = r.get("counts")
        answer_ids = {a["id"] for a in e.get("answers") or []}
        if isinstance(raw_counts, dict):
            counts: dict[str | None, tuple[int, ...]] = {
                str(k): _codes(v, f"{w}.counts.{k}") for k, v in raw_counts.items()
            }
            if set(counts) != answer_ids:
                raise ItipError(f"{w}: counts must name each answer ({', '.join(sorted(answer_ids))})")
        else:
            counts = {None: _codes(raw_counts, f"{w}.counts")}
        base = str(e.get("base", "answered"))
        if base not in BASES:
            raise ItipError(f"{path}: indicator {ind_id}.base: {base!r} is not one of {', '.join(BASES)}")
        if "exclude" in r:
            exclude = _codes(r["exclude"], f"{w}.exclude")
        elif base == "with_dont_know":
            exclude = tuple(c for c in scale.missing if scale.labels[c].strip().lower() != DONT_KNOW)
        else:
            exclude = scale.missing
        for answer, counted in counts.items():
            stray = [c for c in counted if c not in scale.labels or c in exclude]
            if stray:
                raise ItipError(f"{w}: counted codes {stray} for {answer or 'the share'} are not answers on {scale.id}")
        questions[ind_id] = Question(
            ind_id,
            str(e["survey"]),
            scale.id,
            tuple(columns),
            counts,
            tuple(exclude),
            base,
        )
    spec = RespondentSpec(
        id_column=_name(cols.get("id", "respondent_id"), where),
        survey_column=_name(cols.get("survey", "survey"), where),
        weight_column=_name(cols.get("weight", "weight"), where),
        synthetic_column=_name(cols.get("synthetic", "synthetic"), where),
        min_cell_n=int(_threshold(data, "min_cell_n", DEFAULT_MIN_CELL_N, where) or DEFAULT_MIN_CELL_N),
        min_cell_n_extreme=int(
            _threshold(data, "min_cell_n_extreme", DEFAULT_MIN_CELL_N_EXTREME, where) or DEFAULT_MIN_CELL_N_EXTREME
        ),
        min_cell_n_effective=_threshold(data, "min_cell_n_effective", None, where),
        survey_codes=survey_codes,
        segments=tuple(seg_vars),
        checked=tuple(checked),
        scales=scales,
        questions=questions,
        design=_design(data.get("design"), f"{where}.design"),
    )
    clash = set(spec.question_columns()) & (spec.declared() - set(spec.question_columns()))
    if clash:
        raise ItipError(f"{where}: question columns also used for ids, surveys or segments: {sorted(clash)}")
    # a segment or checked column may also be a stratum or PSU (e.g. sector, kommunenummer)
    others = {spec.id_column, spec.survey_column, spec.weight_column, spec.synthetic_column}
    taken = sorted(spec.design.columns() & others)
    if taken:
        raise ItipError(f"{where}.design: column(s) {', '.join(taken)} already declared for another purpose")
    return spec
