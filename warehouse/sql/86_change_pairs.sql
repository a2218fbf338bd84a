-- change_pairs (internal): one row per current estimate of a codebook indicator, beside the latest earlier year of its series that has a value.
-- The window over years that changes and the tests of change (itip/stats.py: change_tests) both read.
-- Suppressed cells count as having no value, so no change reveals them.
CREATE OR REPLACE VIEW change_pairs AS
WITH series AS (
    SELECT
        release_id,
        source_row,
        indicator,
        survey,
        segment,
        answer,
        year,
        CASE WHEN suppressed THEN NULL ELSE value END AS value,
        coalesce(n_effective, n) AS n,
        qualifier,
        base,
        CASE WHEN suppressed THEN NULL ELSE se END AS se,
        CASE WHEN suppressed THEN NULL ELSE df END AS df,
        kind
    FROM current_estimates
    WHERE indicator IN (SELECT indicator FROM indicators)
),
previous AS (
    SELECT
        *,
        last_value(CASE WHEN value IS NOT NULL THEN year END IGNORE NULLS) OVER (
            PARTITION BY indicator, survey, segment, answer
            ORDER BY year
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS prev_year
    FROM series
)
SELECT
    e.release_id,
    e.source_row,
    e.indicator,
    e.survey,
    e.segment,
    e.answer,
    e.year,
    e.value,
    e.n,
    e.qualifier,
    e.base,
    e.se,
    e.df,
    e.kind,
    e.prev_year,
    p.value AS prev_value,
    p.n AS prev_n,
    p.qualifier AS prev_qualifier,
    p.base AS prev_base,
    p.se AS prev_se,
    p.df AS prev_df,
    p.kind AS prev_kind
FROM previous AS e
LEFT JOIN series AS p
    ON p.indicator = e.indicator
    AND p.survey = e.survey
    AND p.segment IS NOT DISTINCT FROM e.segment
    AND p.answer IS NOT DISTINCT FROM e.answer
    AND p.year = e.prev_year;
COMMENT ON VIEW change_pairs IS 'Internal: one row per current estimate of a codebook indicator beside the latest earlier year of the same indicator, survey, segment and answer that has a value (a window over years), with what the test of change needs of both years. Suppressed cells count as having no value. Read by view changes and by the tests of change (change_tests).';
COMMENT ON COLUMN change_pairs.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN change_pairs.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
COMMENT ON COLUMN change_pairs.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN change_pairs.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN change_pairs.segment IS 'Respondent group: all, municipalities, state, age_16_24, age_67_plus, ...';
COMMENT ON COLUMN change_pairs.answer IS 'Answer option (e.g. high/some/low) for distributions; NULL for single shares.';
COMMENT ON COLUMN change_pairs.year IS 'Survey edition.';
COMMENT ON COLUMN change_pairs.value IS 'Percent; NULL where the cell is suppressed.';
COMMENT ON COLUMN change_pairs.n IS 'Effective n where there is one (respondent-level estimates), else n.';
COMMENT ON COLUMN change_pairs.qualifier IS 'below (i underkant av), above (i overkant av) or approx (ca., e.g. 9 av 10); NULL for exact figures.';
COMMENT ON COLUMN change_pairs.base IS 'Answer base of the figure: answered (only those who gave an answer on the scale are in the denominator) or with_dont_know (''vet ikke'' is in the denominator too). Respondent-level estimates: the codebook base applied when they were computed. Published figures: the codebook''s published_base for the indicator and year (re-declared when the codebook changes). NULL = unknown. A change between two years of different bases, or of a known and an unknown one, is not tested (see trend.break_reason).';
COMMENT ON COLUMN change_pairs.se IS 'Standard error of value, percentage points (current_estimates.se); NULL where suppressed.';
COMMENT ON COLUMN change_pairs.df IS 'Degrees of freedom of se (current_estimates.df); NULL where suppressed.';
COMMENT ON COLUMN change_pairs.kind IS 'Kind of release the figure came from: published or respondents.';
COMMENT ON COLUMN change_pairs.prev_year IS 'Latest earlier year with a value for the same indicator, survey, segment and answer.';
COMMENT ON COLUMN change_pairs.prev_value IS 'Value in prev_year, percent.';
COMMENT ON COLUMN change_pairs.prev_n IS 'n (effective where there is one) in prev_year.';
COMMENT ON COLUMN change_pairs.prev_qualifier IS 'qualifier in prev_year.';
COMMENT ON COLUMN change_pairs.prev_base IS 'Answer base in prev_year (NULL = unknown).';
COMMENT ON COLUMN change_pairs.prev_se IS 'Standard error in prev_year, percentage points.';
COMMENT ON COLUMN change_pairs.prev_df IS 'Degrees of freedom of prev_se.';
COMMENT ON COLUMN change_pairs.prev_kind IS 'Kind of release of the figure in prev_year: published or respondents.';
