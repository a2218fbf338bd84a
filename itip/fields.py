"""The column dictionary: every warehouse column described once (PUDL's metadata/fields.py).

`FIELDS` gives each column name one type and one description. Which tables and views have
which columns, what one row of each is, and where a column means something else in one of
them (`rejections.value` is the offending cell, not a percent) is `itip/tables.py`, which
also resolves a table's column to its description (`field_of`, `describe`).

Everything that describes a column is taken from these two modules:

- the Pandera models (`schemas/models.py`) take their descriptions from `describe`;
- the `COMMENT` statements in `warehouse/sql/*.sql` are written from them by
  `python -m itip.fields_render` (`make fields`), and `tests/unit/test_fields.py` fails when a
  file's comment, or the comment a fresh warehouse really carries, differs;
- the README's table of tables and views is written from them the same way.

Why the comments stay in the SQL files (generated, and checked by a test) rather
than being applied by `itip/db.py` at schema creation: the SQL files stay whole
(one object per file with its meaning, readable by anyone with a DuckDB client),
the schema hash that decides when an existing warehouse is brought up to date
already covers them, and the lake and file paths apply them exactly as before.
Editing a description in one place only fails `tests/unit/test_fields.py`.

The module is long because it is data (one entry per column, as PUDL's is). The columns of
a release *file* (the input, before it is a warehouse row) are `itip/fields_release.py`; the
generators that write the COMMENTs and the README's tables are `itip/fields_render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    #: DuckDB's name of the type, as `duckdb_columns().data_type` gives it.
    type: str
    description: str


FIELDS: dict[str, Field] = {
    # --- the figures (estimates and the views over them) -------------------------------
    "release_id": Field("INTEGER", "Release (file version) the row came from (see releases)."),
    "source_row": Field(
        "INTEGER",
        "Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases "
        "the number of the estimate within the release (no respondent row is stored).",
    ),
    "year": Field("INTEGER", "Survey edition."),
    "survey": Field("VARCHAR", "organisations (public agencies and municipalities) or citizens (population sample)."),
    "segment": Field("VARCHAR", "Respondent group: all, municipalities, state, age_16_24, age_67_plus, ..."),
    "indicator": Field("VARCHAR", "Codebook indicator id."),
    "answer": Field("VARCHAR", "Answer option (e.g. high/some/low) for distributions; NULL for single shares."),
    "question": Field(
        "VARCHAR",
        "Question wording as given in the file, when it gave one (published figures); the column name for "
        "respondent-level estimates.",
    ),
    "value": Field("DOUBLE", "Percent 0-100; NULL when suppressed, missing or not applicable (never 0 for those)."),
    "value_status": Field(
        "VARCHAR",
        "published, nil (SSB -, a true zero), suppressed (SSB :), missing (SSB ..) or not_applicable (SSB .); "
        "estimated for a weighted estimate from a respondent-level file.",
    ),
    "qualifier": Field(
        "VARCHAR",
        "below (i underkant av), above (i overkant av) or approx (ca., e.g. 9 av 10); NULL for exact figures.",
    ),
    "n": Field(
        "INTEGER",
        "Respondents behind the figure, where published; for respondent-level estimates the unweighted number "
        "of answers in the denominator; NULL for a cell suppressed by disclosure control (never stored).",
    ),
    "ci_low": Field(
        "DOUBLE",
        "Lower bound of the 95 % interval, percent: Wilson score for published figures, Korn-Graubard with "
        "design degrees of freedom for respondent-level estimates; NULL without n or with a qualifier.",
    ),
    "ci_high": Field(
        "DOUBLE",
        "Upper bound of the 95 % interval, percent: Wilson score for published figures, Korn-Graubard with "
        "design degrees of freedom for respondent-level estimates; NULL without n or with a qualifier.",
    ),
    "source": Field(
        "VARCHAR",
        "URL or citation of the publication the figure was taken from; for respondent-level estimates the "
        "file and method.",
    ),
    "note": Field("VARCHAR", "Note from the release file."),
    "n_effective": Field(
        "DOUBLE",
        "Kish effective sample size (sum of weights)^2 / (sum of squared weights) of a respondent-level "
        "estimate; the interval and the test of change use it instead of n. NULL for published figures.",
    ),
    "inferred": Field(
        "BOOLEAN",
        "True when the release file marks the figure as inferred: its edition year, segment or wording was "
        "taken from context rather than stated by the source (column inferred/utledet). NULL for "
        "respondent-level estimates and releases loaded before the column existed.",
    ),
    "preferred": Field(
        "BOOLEAN",
        "True on the figure trend shows where the release gives the same figure (year, survey, segment, "
        "indicator, answer) from more than one source (column preferred/foretrukket; exactly one per such "
        "figure, checked at load). See view conflicts.",
    ),
    "base": Field(
        "VARCHAR",
        "Answer base of the figure: answered (only those who gave an answer on the scale are in the "
        "denominator) or with_dont_know ('vet ikke' is in the denominator too). Respondent-level estimates: "
        "the codebook base applied when they were computed. Published figures: the codebook's published_base "
        "for the indicator and year (re-declared when the codebook changes). NULL = unknown. A change between "
        "two years of different bases, or of a known and an unknown one, is not tested (see trend.break_reason).",
    ),
    "se": Field(
        "DOUBLE",
        "Design-based standard error of value in percentage points (Taylor linearisation with the "
        "codebook-declared strata, PSUs and finite population correction) of a respondent-level estimate. "
        "NULL for published figures (see current_estimates.se), suppressed cells and respondent-level releases "
        "loaded before the column existed.",
    ),
    "design_effect": Field(
        "DOUBLE",
        "Design effect of a respondent-level estimate: its design variance over p(1-p)/n, the variance of a "
        "simple random sample of the same n (weights, strata, clusters and FPC together). NULL for published "
        "figures, suppressed cells, shares of 0 or 100 % and releases loaded before the column existed.",
    ),
    "df": Field(
        "INTEGER",
        "Design degrees of freedom of a respondent-level estimate: the PSUs of its domain minus the strata of "
        "its domain (R survey's degf of the subset design; n - 1 without a declared design), at least 1. The "
        "Korn-Graubard interval and the test of change refer to Student's t on it. NULL for published figures "
        "(see current_estimates.df), suppressed cells and respondent-level releases loaded before the column "
        "existed.",
    ),
    "kind": Field(
        "VARCHAR",
        "published: figures as published in the report and by partners; respondents: weighted estimates "
        "computed from a respondent-level file (itip_<YEAR>_respondents.*), whose respondent rows are never "
        "stored; editions: the editions file (table editions), what is known about each edition.",
    ),
    "suppressed": Field(
        "BOOLEAN",
        "True for a respondent-level cell suppressed by disclosure control (primary or secondary) or, in "
        "warehouses written before it, with n below the small-cell threshold: trend shows it as NULL with "
        "status suppressed.",
    ),
    "conflict": Field(
        "BOOLEAN",
        "True when the release gives this figure from more than one source with different values or wording; "
        "trend shows the one the file marks preferred, view conflicts lists every alternative with its source.",
    ),
    # --- the change against the previous year (changes, trend) -------------------------
    "prev_year": Field(
        "INTEGER", "Latest earlier year with a value for the same indicator, survey, segment and answer."
    ),
    "prev_value": Field("DOUBLE", "Value in prev_year, percent."),
    "change_pp": Field("DOUBLE", "Change since prev_year in percentage points."),
    "change_p_value": Field(
        "DOUBLE",
        "Raw two-sided p-value of the change, before correction for multiple testing: t = change / "
        "sqrt(se1^2 + se2^2) on the design-based standard errors where either year is a respondent-level "
        "estimate with se, against Student's t with the smaller df of the two years (current_estimates.df; "
        "normal where neither is known; independent samples assumed, conservative for re-asked units); "
        "otherwise the pooled two-proportion z-test on n (on the effective n for respondent-level estimates "
        "loaded before se existed). NULL unless both years have n, exact values and are comparable. Do not call "
        "a change significant from it: use change_significant.",
    ),
    "comparable_with_prev": Field(
        "BOOLEAN",
        "False across a comparability break (e.g. the organisation survey population change) and where the "
        "answer base differs between prev_year and year (see break_reason); NULL without prev_year.",
    ),
    "change_q_value": Field(
        "DOUBLE",
        "Benjamini-Hochberg adjusted p-value (q-value) of change_p_value, within the year and survey: every "
        "change tested for one edition of one survey is one family. NULL where untested.",
    ),
    "change_significant": Field(
        "BOOLEAN",
        "True where change_q_value < 0.05 (the only meaning of significant in itip), false where tested and "
        "not significant, NULL where untested.",
    ),
    "break_reason": Field(
        "VARCHAR",
        "Why the estimate is not comparable with prev_year (comparable_with_prev false): the codebook break's "
        "reason, or that the answer base differs between the two years (or is unknown in one of them). NULL "
        "where comparable or without prev_year.",
    ),
    "interval_basis": Field(
        "VARCHAR",
        "What ci_low/ci_high rest on: n (the figure's own published n), respondents (computed from the "
        "respondent-level file), edition_n (APPROXIMATE: the published figure has no n, the interval uses how "
        "many answered the edition, see view approximate_intervals; no test of change is made on it), "
        "NULL = no interval.",
    ),
    "edition_respondents": Field(
        "INTEGER",
        "How many answered this edition (year and survey) in total, from the current editions release; NULL "
        "where not published. Not the n of this figure (see n).",
    ),
    "newest_edition": Field("INTEGER", "Newest edition (year) of the survey that has any figure in trend."),
    "age_editions": Field("BIGINT", "Number of editions of the survey after year that have figures: 0 = current."),
    # --- conflicts, approximate intervals ----------------------------------------------
    "shown": Field("BOOLEAN", "True for the alternative trend shows."),
    "why_shown": Field("VARCHAR", "The rule that chose it; NULL on the alternatives not shown."),
    "alternatives": Field("BIGINT", "How many sources give this figure in the release."),
    "edition_n": Field(
        "INTEGER",
        "Respondents of the edition (or of the figure's segment) the interval uses in place of the figure's unknown n.",
    ),
    # --- the codebook (indicators, breaks) -----------------------------------------------
    "topic": Field("VARCHAR", "Codebook topic id of the indicator, e.g. trust, sustainability, information_security."),
    "label_no": Field("VARCHAR", "Norwegian indicator label."),
    "label_en": Field("VARCHAR", "English indicator label."),
    "unit": Field("VARCHAR", "Unit of value: percent of respondents."),
    "better": Field(
        "VARCHAR", "higher or lower: which direction of change is good news; NULL when it depends on the answer."
    ),
    "answers": Field("VARCHAR[]", "Answer option ids for indicators published as a distribution."),
    "aliases": Field("VARCHAR[]", "Every published wording, as year: text."),
    "scope": Field("VARCHAR", "survey (applies to every indicator of the survey) or indicator."),
    "reason": Field("VARCHAR", "Why the series breaks, e.g. a change of population."),
    # --- editions --------------------------------------------------------------------------
    "respondents": Field(
        "INTEGER", "How many answered the edition in total, where published; see respondents_qualifier."
    ),
    "respondents_qualifier": Field(
        "VARCHAR", "above (published as 'over 500': a lower bound), below or approx; NULL for an exact count."
    ),
    "respondents_municipalities": Field(
        "INTEGER", "Of them, municipalities (segment municipalities), where published."
    ),
    "respondents_state_regional": Field(
        "INTEGER", "Of them, state and regional public bodies (segment state), where published."
    ),
    "response_rate_low": Field("DOUBLE", "Response rate in percent; the lower end when published as a range (45-50)."),
    "response_rate_high": Field(
        "DOUBLE",
        "Response rate in percent; the upper end when published as a range, else equal to response_rate_low.",
    ),
    "response_rate_qualifier": Field(
        "VARCHAR", "above ('over 50 %'), below or approx ('45-50 %'); NULL for an exact rate."
    ),
    "population_note": Field("VARCHAR", "Who was asked or answered, as published."),
    # --- releases, rejections -----------------------------------------------------------
    "file_name": Field("VARCHAR", "File name in raw/."),
    "sha256": Field("VARCHAR", "SHA-256 of the file content; an unchanged hash means nothing to load."),
    "rows": Field("INTEGER", "Data rows in the file (loaded rows for loaded releases)."),
    "status": Field(
        "VARCHAR",
        "loaded (current), rejected (nothing loaded, see rejections) or superseded (replaced by a corrected "
        "file; its estimates are kept as history).",
    ),
    "loaded_at": Field("TIMESTAMP WITH TIME ZONE", "When the ingest processed the file."),
    "flow_run_id": Field("VARCHAR", "Prefect flow run that processed the file."),
    "message": Field("VARCHAR", "Summary: why rejected, or which release this one superseded."),
    "decided_by": Field(
        "VARCHAR",
        "For a rejected release: fingerprint of what judged the file (codebook, checks and schema versions). A "
        "file is only reported as still rejected while these are the same; after a codebook change (for example "
        "a new alias) it is checked again. NULL for releases recorded before version 5, which are checked again.",
    ),
    "source_column": Field("VARCHAR", "Column the problem is in, by its stable name; NULL for whole rows or files."),
    "check_id": Field("VARCHAR", "Identifier of the failed check, e.g. value_format, indicator_known, duplicate_key."),
    # --- internal bookkeeping (meta, file_stats) ----------------------------------------
    "key": Field("VARCHAR", "Setting name."),
    "path": Field("VARCHAR", "Absolute path of the release file as the ingest found it."),
    "size": Field("BIGINT", "File size in bytes when its hash was taken."),
    "mtime_ns": Field("BIGINT", "Modification time (nanoseconds since the epoch) when its hash was taken."),
    "inode": Field("BIGINT", "Inode number: a file replaced by another (rename) has another one."),
    "ctime_ns": Field(
        "BIGINT",
        "Status change time (nanoseconds): changes on every write, rename or chmod, and cannot be set back by a "
        "user (unlike mtime).",
    ),
    "recorded_ns": Field(
        "BIGINT", "When the stat was taken (nanoseconds): a file whose mtime is not older than this is hashed again."
    ),
}
