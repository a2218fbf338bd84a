-- current_estimates: the estimates trend and changes are built from: one per indicator, survey, segment, answer and year.
CREATE OR REPLACE VIEW current_estimates AS
WITH loaded AS (
    SELECT
        e.*,
        r.kind,
        count(*) OVER (PARTITION BY e.release_id, e.year, e.survey, e.segment, e.indicator, e.answer) > 1 AS conflict
    FROM estimates AS e
    INNER JOIN releases AS r ON r.release_id = e.release_id AND r.status = 'loaded'
),
current AS (
    -- of a figure given by several sources, the one the release file marks preferred
    SELECT * FROM loaded WHERE NOT conflict OR coalesce(preferred, false)
),
threshold AS (
    SELECT coalesce(max(TRY_CAST(value AS INTEGER)), 10) AS min_cell_n FROM meta WHERE key = 'min_cell_n'
)
SELECT
    c.release_id,
    c.source_row,
    c.year,
    c.survey,
    c.segment,
    c.indicator,
    c.answer,
    c.question,
    c.value,
    c.value_status,
    c.qualifier,
    c.n,
    c.n_effective,
    c.ci_low,
    c.ci_high,
    -- published figures: the simple-random-sample standard error where n was published
    coalesce(
        c.se,
        CASE
            WHEN c.kind = 'published' AND c.qualifier IS NULL AND c.n > 0 AND c.value BETWEEN 0 AND 100
                THEN 100 * sqrt(c.value / 100 * (1 - c.value / 100) / c.n)
        END
    ) AS se,
    c.design_effect,
    c.source,
    c.note,
    c.kind,
    coalesce(c.kind = 'respondents' AND (c.value_status = 'suppressed' OR c.n < t.min_cell_n), false) AS suppressed,
    c.conflict,
    coalesce(c.inferred, false) AS inferred,
    c.base,
    -- published figures: n - 1, the degrees of freedom of the simple random sample their se assumes
    coalesce(
        c.df,
        CASE
            WHEN c.kind = 'published' AND c.qualifier IS NULL AND c.n > 1 AND c.value BETWEEN 0 AND 100
                THEN c.n - 1
        END
    ) AS df
FROM current AS c
CROSS JOIN threshold AS t
WHERE NOT (
    c.kind = 'published'
    AND EXISTS (
        SELECT 1 FROM current AS r
        WHERE r.kind = 'respondents'
            AND r.indicator = c.indicator
            AND r.survey = c.survey
            AND r.segment = c.segment
            AND r.answer IS NOT DISTINCT FROM c.answer
            AND r.year = c.year
    )
);
COMMENT ON VIEW current_estimates IS 'Estimates of current (loaded) releases after precedence: where a respondent-level estimate and a published figure exist for the same indicator, survey, segment, answer and year, the respondent-level estimate is used and the published figure stays in estimates only. Where a release gives the same figure from several sources (a conflict), the one it marks preferred is used; view conflicts lists all of them. suppressed marks respondent-level cells hidden by disclosure control (itip.disclosure: stored without value, n or interval) and, for warehouses written before it, cells with fewer respondents than meta.min_cell_n (codebook respondents.min_cell_n, default 10).';
COMMENT ON COLUMN current_estimates.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN current_estimates.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
COMMENT ON COLUMN current_estimates.year IS 'Survey edition.';
COMMENT ON COLUMN current_estimates.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN current_estimates.segment IS 'Respondent group: all, municipalities, state, age_16_24, age_67_plus, ...';
COMMENT ON COLUMN current_estimates.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN current_estimates.answer IS 'Answer option (e.g. high/some/low) for distributions; NULL for single shares.';
COMMENT ON COLUMN current_estimates.question IS 'Question wording as given in the file, when it gave one (published figures); the column name for respondent-level estimates.';
COMMENT ON COLUMN current_estimates.value IS 'Percent, as stored in estimates (NULL for cells suppressed before storage; trend also hides cells of older warehouses).';
COMMENT ON COLUMN current_estimates.value_status IS 'published, nil (SSB -, a true zero), suppressed (SSB :), missing (SSB ..) or not_applicable (SSB .); estimated for a weighted estimate from a respondent-level file.';
COMMENT ON COLUMN current_estimates.qualifier IS 'below (i underkant av), above (i overkant av) or approx (ca., e.g. 9 av 10); NULL for exact figures.';
COMMENT ON COLUMN current_estimates.n IS 'Respondents behind the figure, where published; for respondent-level estimates the unweighted number of answers in the denominator; NULL for a cell suppressed by disclosure control (never stored).';
COMMENT ON COLUMN current_estimates.n_effective IS 'Kish effective sample size (sum of weights)^2 / (sum of squared weights) of a respondent-level estimate; the interval and the test of change use it instead of n. NULL for published figures.';
COMMENT ON COLUMN current_estimates.ci_low IS 'Lower bound of the 95 % interval, percent: Wilson score for published figures, Korn-Graubard with design degrees of freedom for respondent-level estimates; NULL without n or with a qualifier.';
COMMENT ON COLUMN current_estimates.ci_high IS 'Upper bound of the 95 % interval, percent: Wilson score for published figures, Korn-Graubard with design degrees of freedom for respondent-level estimates; NULL without n or with a qualifier.';
COMMENT ON COLUMN current_estimates.se IS 'Standard error of value, percentage points: design-based (estimates.se) for respondent-level estimates; sqrt(p(1-p)/n) for a published figure with its own n and no qualifier (a simple random sample assumed: its design is not published); NULL otherwise.';
COMMENT ON COLUMN current_estimates.design_effect IS 'Design effect of a respondent-level estimate: its design variance over p(1-p)/n, the variance of a simple random sample of the same n (weights, strata, clusters and FPC together). NULL for published figures, suppressed cells, shares of 0 or 100 % and releases loaded before the column existed.';
COMMENT ON COLUMN current_estimates.source IS 'URL or citation of the publication the figure was taken from; for respondent-level estimates the file and method.';
COMMENT ON COLUMN current_estimates.note IS 'Note from the release file.';
COMMENT ON COLUMN current_estimates.kind IS 'Kind of release the figure came from: published or respondents.';
COMMENT ON COLUMN current_estimates.suppressed IS 'True for a respondent-level cell suppressed by disclosure control (primary or secondary) or, in warehouses written before it, with n below the small-cell threshold: trend shows it as NULL with status suppressed.';
COMMENT ON COLUMN current_estimates.conflict IS 'True when the release gives this figure from more than one source with different values or wording; trend shows the one the file marks preferred, view conflicts lists every alternative with its source.';
COMMENT ON COLUMN current_estimates.base IS 'Answer base of the figure: answered (only those who gave an answer on the scale are in the denominator) or with_dont_know (''vet ikke'' is in the denominator too). Respondent-level estimates: the codebook base applied when they were computed. Published figures: the codebook''s published_base for the indicator and year (re-declared when the codebook changes). NULL = unknown. A change between two years of different bases, or of a known and an unknown one, is not tested (see trend.break_reason).';
COMMENT ON COLUMN current_estimates.inferred IS 'True when the figure''s edition year, segment or wording was inferred from context rather than stated by its source (marked in the release file; "medium confidence" in docs/sources); false otherwise. The report marks such figures.';
COMMENT ON COLUMN current_estimates.df IS 'Degrees of freedom of se: the design degrees of freedom (estimates.df: domain PSUs minus strata) for respondent-level estimates; n - 1 for a published figure with its own n and no qualifier (the simple random sample its se assumes); NULL otherwise (respondent-level releases loaded before the column existed: their tests of change use the normal reference).';
