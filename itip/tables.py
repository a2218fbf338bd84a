"""The warehouse's tables and views (PUDL's resources beside its fields): for each, what one
row is (its grain, for the README), its COMMENT, its columns, and where a column means
something else there than in the column dictionary (`itip/fields.py`). A view built from
another names it in `like`: its columns mean what they mean there unless it says otherwise,
so `latest` follows `trend`, `trend` follows `current_estimates` and that follows
`estimates`, as the data does. `field_of` resolves a column of a table to its type and
description; everything generated from the dictionary goes through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from itip.fields import FIELDS, Field


@dataclass(frozen=True)
class Table:
    kind: str  # "table" or "view"
    #: What one row is, for the README.
    grain: str
    #: The COMMENT ON TABLE/VIEW.
    description: str
    columns: tuple[str, ...]
    #: A table or view whose columns these mean, unless overridden.
    like: str | None = None
    #: Where a column means something else here: its description (and type, if a `Field`).
    overrides: Mapping[str, str | Field] = field(default_factory=dict)
    #: Internal bookkeeping, left out of the README.
    internal: bool = False


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SE_SRS = "sqrt(p(1-p)/n) for a published figure with its own n and no qualifier"

#: In the README's order; `warehouse/sql` has one file per entry.
TABLES: dict[str, Table] = {
    "meta": Table(
        "table",
        "one row per internal setting",
        "One row per internal setting: hashes of the schema SQL and of the codebook last applied.",
        _names("key value"),
        overrides={"value": Field("VARCHAR", "Setting value.")},
        internal=True,
    ),
    "file_stats": Table(
        "table",
        "one row per release file path (the stat cache)",
        "Internal stat cache, one row per release file path: an unchanged stat of a file whose mtime was older "
        "than recorded_ns means its content hash is still sha256. itip ingest --verify ignores it and hashes "
        "every file.",
        _names("path size mtime_ns inode ctime_ns sha256 recorded_ns"),
        overrides={"sha256": "SHA-256 of the bytes read when the stat was taken."},
        internal=True,
    ),
    "releases": Table(
        "table",
        "one row per processed version of a release file (status loaded, rejected or superseded); `year` is "
        "NULL for the editions file (kind `editions`)",
        "One row per version of a release file that an ingest processed. At most one release per year and kind "
        "has status loaded: the current one, which trend reads.",
        _names("release_id year kind file_name sha256 rows status loaded_at flow_run_id message decided_by"),
        overrides={
            "release_id": "Identifier of this file version (1, 2, ... in the order processed); estimates and "
            "rejections refer to it.",
            "year": "Survey edition, from the file name; NULL for the editions file (itip_editions.*), which covers "
            "every edition.",
        },
    ),
    "indicators": Table(
        "table",
        "one row per codebook indicator",
        "One row per indicator of the codebook (schemas/codebook.yaml), the stable ids every release is mapped onto.",
        _names("indicator survey topic label_no label_en unit better answers aliases note"),
        overrides={
            "indicator": "Stable indicator id (snake_case, English).",
            "note": "Comparability and provenance notes.",
        },
    ),
    "breaks": Table(
        "table",
        "one row per indicator and break year",
        "One row per indicator and break year, from the codebook: a change between prev_year and year is not "
        "comparable when a break year lies after prev_year and at or before year.",
        _names("indicator year scope reason"),
        overrides={"year": "First edition on the new basis."},
    ),
    "estimates": Table(
        "table",
        "one row per figure of a loaded or superseded release (release, year, survey, segment, indicator, "
        "answer), with the file's `inferred` and `preferred` marks",
        "One row per figure in a release file. History is kept: rows of superseded releases stay, trend shows "
        "only current ones.",
        _names(
            "release_id source_row year survey segment indicator answer question value value_status qualifier n "
            "ci_low ci_high source note n_effective inferred preferred base se design_effect df"
        ),
    ),
    "editions": Table(
        "table",
        "one row per edition (year, survey) of an editions release",
        "One row per survey edition (year and survey) in an editions release file (raw/itip_editions.csv): "
        "respondents, per-segment respondents and response rate where published. Rows of superseded editions "
        "files stay as history; view current_editions has the current ones.",
        _names(
            "release_id source_row year survey respondents respondents_qualifier respondents_municipalities "
            "respondents_state_regional response_rate_low response_rate_high response_rate_qualifier "
            "population_note source"
        ),
        overrides={
            "release_id": "Release (version of the editions file) the row came from.",
            "source_row": "Row number in the editions file, as a spreadsheet or editor shows it.",
            "source": "URL or citation of the publication.",
        },
    ),
    "current_editions": Table(
        "view",
        "the rows of the current editions release",
        "The editions rows of the current editions release: one row per year and survey. "
        "trend.edition_respondents comes from here.",
        _names(
            "release_id source_row year survey respondents respondents_qualifier respondents_municipalities "
            "respondents_state_regional response_rate_low response_rate_high response_rate_qualifier "
            "population_note source"
        ),
        like="editions",
    ),
    "conflicts": Table(
        "view",
        "one row per alternative of a figure a current release gives from more than one source",
        "Figures that a current release gives from more than one source (same year, survey, segment, indicator "
        "and answer; different sources): one row per alternative, all kept in estimates. trend shows the "
        "alternative the release file marks preferred (column preferred/foretrukket) and flags it with conflict "
        "= true. A key repeated with the same source is not a conflict but a duplicate, and the file is rejected.",
        _names(
            "indicator survey segment answer year value qualifier n source note shown why_shown alternatives "
            "release_id file_name source_row"
        ),
        like="estimates",
        overrides={"value": "This alternative's value, percent."},
    ),
    "rejections": Table(
        "table",
        "one row per problem of a rejected file (columns renamed from `row, column, check` in contract version "
        "2; see `docs/warehouse-changelog.md`)",
        "One row per problem of a rejected release file; nothing of a rejected file is in estimates.",
        _names("release_id file_name source_row source_column check_id value message"),
        overrides={
            "release_id": "The rejected release (see releases).",
            "source_row": "Row number in the file as an editor shows it (header = row 1); NULL for problems of "
            "the whole file.",
            "value": Field("VARCHAR", "The offending cell as written, where there is one."),
            "message": "What is wrong, in words.",
        },
    ),
    "change_tests": Table(
        "table",
        "one row per tested change: its p- and q-value; rebuilt in every load transaction (read it through "
        "`changes` or `trend`)",
        "One row per tested change: a current estimate comparable with its previous year, both years exact with "
        "n or a standard error. Holds the only part of a change computed in Python (the p-value, normal or "
        "Student's t, and the Benjamini-Hochberg q-value per year and survey); rebuilt whenever the current "
        "releases or the codebook change. The rest of each change is view changes.",
        _names("release_id source_row change_p_value change_q_value change_significant"),
    ),
    "current_estimates": Table(
        "view",
        "the estimates `trend` and `changes` use: current releases, respondent-level before published for the "
        "same key and year, with `suppressed` for small cells",
        "Estimates of current (loaded) releases after precedence: where a respondent-level estimate and a "
        "published figure exist for the same indicator, survey, segment, answer and year, the respondent-level "
        "estimate is used and the published figure stays in estimates only. Where a release gives the same "
        "figure from several sources (a conflict), the one it marks preferred is used; view conflicts lists all "
        "of them. suppressed marks respondent-level cells hidden by disclosure control (itip.disclosure: stored "
        "without value, n or interval) and, for warehouses written before it, cells with fewer respondents than "
        "meta.min_cell_n (codebook respondents.min_cell_n, default 10).",
        _names(
            "release_id source_row year survey segment indicator answer question value value_status qualifier n "
            "n_effective ci_low ci_high se design_effect source note kind suppressed conflict inferred base df"
        ),
        like="estimates",
        overrides={
            "value": "Percent, as stored in estimates (NULL for cells suppressed before storage; trend also hides "
            "cells of older warehouses).",
            "se": "Standard error of value, percentage points: design-based (estimates.se) for respondent-level "
            f"estimates; {_SE_SRS} (a simple random sample assumed: its design is not published); NULL otherwise.",
            "df": "Degrees of freedom of se: the design degrees of freedom (estimates.df: domain PSUs minus strata) "
            "for respondent-level estimates; n - 1 for a published figure with its own n and no qualifier (the "
            "simple random sample its se assumes); NULL otherwise (respondent-level releases loaded before the "
            "column existed: their tests of change use the normal reference).",
            "kind": "Kind of release the figure came from: published or respondents.",
            "inferred": "True when the figure's edition year, segment or wording was inferred from context rather "
            'than stated by its source (marked in the release file; "medium confidence" in docs/sources); false '
            "otherwise. The report marks such figures.",
        },
    ),
    "trend": Table(
        "view",
        "one row per indicator, survey, segment, answer and year of current releases",
        "The cross-year series: one row per indicator, survey, segment, answer and year from current releases, "
        "with interval and change since the latest earlier year that has a value. Values in percent, changes in "
        "percentage points. Published figures and respondent-level estimates in one series; where both exist "
        "for the same year the respondent-level estimate is shown (see current_estimates). Respondent-level "
        "cells with fewer respondents than the small-cell threshold are shown as suppressed.",
        _names(
            "indicator survey segment answer year value qualifier value_status n ci_low ci_high prev_year "
            "prev_value change_pp change_p_value comparable_with_prev label_no label_en topic source kind "
            "release_id n_effective change_q_value change_significant conflict inferred edition_respondents base "
            "break_reason interval_basis se design_effect df"
        ),
        like="current_estimates",
        overrides={
            "value": "Percent (weighted share for respondent-level estimates); NULL when suppressed, missing or not "
            "applicable (see value_status).",
            "value_status": "published, estimated (respondent-level), nil, suppressed (also a respondent-level cell "
            "below the small-cell threshold), missing or not_applicable.",
            "n": "Respondents, where published; unweighted answers for respondent-level estimates; NULL when "
            "suppressed.",
            "ci_low": "95 % interval, lower bound, percent: Korn-Graubard with design degrees of freedom for "
            "respondent-level estimates (Wilson on the Kish effective n for those loaded before design-based "
            "estimation), Wilson score for published figures with n (approximate, on the edition's respondents, "
            "where interval_basis = edition_n); NULL where no n is known or the cell is suppressed.",
            "ci_high": "95 % interval, upper bound, percent: Korn-Graubard with design degrees of freedom for "
            "respondent-level estimates (Wilson on the Kish effective n for those loaded before design-based "
            "estimation), Wilson score for published figures with n (approximate, on the edition's respondents, "
            "where interval_basis = edition_n); NULL where no n is known or the cell is suppressed.",
            "n_effective": "Kish effective sample size of a respondent-level estimate; NULL for published figures "
            "and suppressed cells.",
            "se": "Standard error of value, percentage points: design-based (Taylor linearisation with the "
            "codebook-declared strata, PSUs and finite population correction) for respondent-level estimates; "
            f"{_SE_SRS} (simple random sample assumed); NULL where unknown or suppressed.",
            "design_effect": "Design variance over the variance p(1-p)/n of a simple random sample of the same n, "
            "for respondent-level estimates (below 1 where a stratum is nearly a census, above 1 with clustering "
            "or unequal weights); NULL where unknown (published figures) or suppressed.",
            "df": "Degrees of freedom of se (see current_estimates.df): design degrees of freedom (domain PSUs "
            "minus strata) for respondent-level estimates, n - 1 for published figures with their own n; NULL "
            "where unknown or suppressed. A test of change on design-based standard errors refers to Student's t "
            "with the smaller df of the two years (normal where neither is known).",
        },
    ),
    "approximate_intervals": Table(
        "view",
        "one row per current published figure without n whose edition published its respondents: the "
        "approximate Wilson interval on that count",
        "Approximate 95 % intervals of published figures whose own n was not published: the Wilson score "
        "interval on the number who answered the edition (view current_editions: respondents for segment all, "
        "unless published as a bound such as 'over 500'; respondents_municipalities and "
        "respondents_state_regional for those segments). Approximate because not everyone who answered the "
        "edition answered every question (item non-response, filter questions, the answer base): the true n of "
        "a figure is at most this. trend shows these intervals with interval_basis = edition_n; no test of "
        "change is made on them (docs/respondents.md).",
        _names("release_id source_row edition_n ci_low ci_high"),
        overrides={
            "ci_low": "Lower bound of the approximate 95 % Wilson interval, percent.",
            "ci_high": "Upper bound of the approximate 95 % Wilson interval, percent.",
        },
    ),
    "change_pairs": Table(
        "view",
        "one row per current estimate of a codebook indicator, beside the latest earlier year of its series "
        "with a value",
        "Internal: one row per current estimate of a codebook indicator beside the latest earlier year of the "
        "same indicator, survey, segment and answer that has a value (a window over years), with what the test "
        "of change needs of both years. Suppressed cells count as having no value. Read by view changes and by "
        "the tests of change (change_tests).",
        _names(
            "release_id source_row indicator survey segment answer year value n qualifier base se df kind "
            "prev_year prev_value prev_n prev_qualifier prev_base prev_se prev_df prev_kind"
        ),
        like="current_estimates",
        overrides={
            "value": "Percent; NULL where the cell is suppressed.",
            "n": Field("DOUBLE", "Effective n where there is one (respondent-level estimates), else n."),
            "se": "Standard error of value, percentage points (current_estimates.se); NULL where suppressed.",
            "df": "Degrees of freedom of se (current_estimates.df); NULL where suppressed.",
            "prev_n": Field("DOUBLE", "n (effective where there is one) in prev_year."),
            "prev_qualifier": Field("VARCHAR", "qualifier in prev_year."),
            "prev_base": Field("VARCHAR", "Answer base in prev_year (NULL = unknown)."),
            "prev_se": Field("DOUBLE", "Standard error in prev_year, percentage points."),
            "prev_df": Field("INTEGER", "Degrees of freedom of prev_se."),
            "prev_kind": Field("VARCHAR", "Kind of release of the figure in prev_year: published or respondents."),
        },
        internal=True,
    ),
    "changes": Table(
        "view",
        "one row per current estimate of a codebook indicator with its change (read it through `trend`)",
        "One row per current estimate of a codebook indicator with its change against the latest earlier year "
        "that has a value: a window over years (change_pairs) joined to breaks, with the p- and q-values of "
        "change_tests. Read it through trend.",
        _names(
            "release_id source_row prev_year prev_value change_pp change_p_value comparable_with_prev "
            "change_q_value change_significant break_reason"
        ),
    ),
    "latest": Table(
        "view",
        "one row per indicator, survey, segment and answer: its newest figure with a value, `newest_edition` of "
        "its survey and `age_editions` (how many later editions of the survey have figures; 0 = current)",
        "The newest figure with a value per indicator, survey, segment and answer (one row each), with its age "
        "in editions of its survey: 0 means it is from the newest edition of that survey, 3 that three later "
        "editions did not publish it. Built from trend.",
        _names(
            "indicator survey segment answer topic year value qualifier value_status n ci_low ci_high "
            "newest_edition age_editions label_no label_en source release_id interval_basis"
        ),
        like="trend",
        overrides={
            "year": "Edition of the newest figure with a value (suppressed and missing figures are skipped).",
            "value": "Percent (weighted share for respondent-level estimates); never NULL here.",
            "value_status": "published, estimated or nil (only figures with a value are shown).",
        },
    ),
}


def field_of(table: str, column: str) -> Field:
    """The type and description of a column of a table or view: its own override, else
    what the column means in the table it is `like`, else the shared entry."""
    spec = TABLES[table]
    if column not in spec.columns:
        raise KeyError(f"{table}.{column} is not in itip/fields.py's dictionary: itip/tables.py lists no such column")
    override = spec.overrides.get(column)
    if isinstance(override, Field):
        return override
    if spec.like is not None and column in TABLES[spec.like].columns:
        inherited = field_of(spec.like, column)
    else:
        inherited = FIELDS[column]
    return Field(inherited.type, override) if override is not None else inherited


def describe(table: str, column: str) -> str:
    return field_of(table, column).description
