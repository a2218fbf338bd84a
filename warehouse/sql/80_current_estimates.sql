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
COMMENT ON COLUMN current_estimates.release_id IS 'Release the estimate came from.';
COMMENT ON COLUMN current_estimates.source_row IS 'Row of the estimate in its release (see estimates.source_row).';
COMMENT ON COLUMN current_estimates.year IS 'Survey edition.';
COMMENT ON COLUMN current_estimates.survey IS 'organisations or citizens.';
COMMENT ON COLUMN current_estimates.segment IS 'Respondent group.';
COMMENT ON COLUMN current_estimates.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN current_estimates.answer IS 'Answer option for distributions; NULL for single shares.';
COMMENT ON COLUMN current_estimates.question IS 'Question wording (published) or column name (respondent-level).';
COMMENT ON COLUMN current_estimates.value IS 'Percent, as stored in estimates (NULL for cells suppressed before storage; trend also hides cells of older warehouses).';
COMMENT ON COLUMN current_estimates.value_status IS 'As in estimates.';
COMMENT ON COLUMN current_estimates.qualifier IS 'below, above or approx; NULL for exact figures.';
COMMENT ON COLUMN current_estimates.n IS 'Respondents (unweighted).';
COMMENT ON COLUMN current_estimates.n_effective IS 'Kish effective sample size; NULL for published figures.';
COMMENT ON COLUMN current_estimates.ci_low IS 'Lower 95 % bound, percent (Wilson for published figures, Korn-Graubard for respondent-level estimates).';
COMMENT ON COLUMN current_estimates.ci_high IS 'Upper 95 % bound, percent (Wilson for published figures, Korn-Graubard for respondent-level estimates).';
COMMENT ON COLUMN current_estimates.se IS 'Standard error of value, percentage points: design-based (estimates.se) for respondent-level estimates; sqrt(p(1-p)/n) for a published figure with its own n and no qualifier (a simple random sample assumed: its design is not published); NULL otherwise.';
COMMENT ON COLUMN current_estimates.design_effect IS 'Design effect of a respondent-level estimate (estimates.design_effect); NULL (unknown) for published figures.';
COMMENT ON COLUMN current_estimates.source IS 'Publication, or respondent file and method.';
COMMENT ON COLUMN current_estimates.note IS 'Note from the release file.';
COMMENT ON COLUMN current_estimates.kind IS 'published or respondents.';
COMMENT ON COLUMN current_estimates.suppressed IS 'True for a respondent-level cell suppressed by disclosure control (primary or secondary) or, in warehouses written before it, with n below the small-cell threshold: trend shows it as NULL with status suppressed.';
COMMENT ON COLUMN current_estimates.conflict IS 'True when the release gives this figure from more than one source; this is the preferred one (see view conflicts).';
COMMENT ON COLUMN current_estimates.base IS 'Answer base: answered or with_dont_know; NULL = unknown (see estimates.base).';
COMMENT ON COLUMN current_estimates.inferred IS 'True when the release file marks the figure as inferred (edition year, segment or wording from context).';
COMMENT ON COLUMN current_estimates.df IS 'Degrees of freedom of se: the design degrees of freedom (estimates.df: domain PSUs minus strata) for respondent-level estimates; n - 1 for a published figure with its own n and no qualifier (the simple random sample its se assumes); NULL otherwise (respondent-level releases loaded before the column existed: their tests of change use the normal reference).';
