-- changes: one row per current estimate of a codebook indicator with its change against the latest earlier year that has a value.
-- A window over years (change_pairs) joined to breaks; the p- and q-values come from change_tests.
CREATE OR REPLACE VIEW changes AS
WITH reasons AS (
    SELECT
        p.*,
        (
            SELECT string_agg(b.reason, '; ' ORDER BY b.year, b.scope)
            FROM breaks AS b
            WHERE b.indicator = p.indicator AND p.prev_year < b.year AND b.year <= p.year
        ) AS crossed,
        CASE
            WHEN p.prev_year IS NULL THEN NULL
            WHEN p.prev_base IS NOT NULL AND p.base IS NOT NULL AND p.prev_base <> p.base
                THEN 'Answer base differs: ' || p.prev_base || ' in ' || p.prev_year || ', ' || p.base || ' in ' || p.year
            WHEN (p.prev_base IS NULL) <> (p.base IS NULL)
                THEN 'Answer base unknown in ' || CASE WHEN p.prev_base IS NULL THEN p.prev_year ELSE p.year END
                    || ' (not declared in the codebook), known in the other year'
        END AS base_reason
    FROM change_pairs AS p
)
SELECT
    r.release_id,
    r.source_row,
    r.prev_year,
    r.prev_value,
    CASE WHEN r.prev_year IS NOT NULL AND r.value IS NOT NULL THEN round(r.value - r.prev_value, 10) END AS change_pp,
    t.change_p_value,
    CASE WHEN r.prev_year IS NOT NULL THEN r.crossed IS NULL AND r.base_reason IS NULL END AS comparable_with_prev,
    t.change_q_value,
    t.change_significant,
    nullif(concat_ws('; ', r.crossed, r.base_reason), '') AS break_reason
FROM reasons AS r
LEFT JOIN change_tests AS t ON t.release_id = r.release_id AND t.source_row = r.source_row;
COMMENT ON VIEW changes IS 'One row per current estimate of a codebook indicator with its change against the latest earlier year that has a value: a window over years (change_pairs) joined to breaks, with the p- and q-values of change_tests. Read it through trend.';
COMMENT ON COLUMN changes.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN changes.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
COMMENT ON COLUMN changes.prev_year IS 'Latest earlier year with a value for the same indicator, survey, segment and answer.';
COMMENT ON COLUMN changes.prev_value IS 'Value in prev_year, percent.';
COMMENT ON COLUMN changes.change_pp IS 'Change since prev_year in percentage points.';
COMMENT ON COLUMN changes.change_p_value IS 'Raw two-sided p-value of the change, before correction for multiple testing: t = change / sqrt(se1^2 + se2^2) on the design-based standard errors where either year is a respondent-level estimate with se, against Student''s t with the smaller df of the two years (current_estimates.df; normal where neither is known; independent samples assumed, conservative for re-asked units); otherwise the pooled two-proportion z-test on n (on the effective n for respondent-level estimates loaded before se existed). NULL unless both years have n, exact values and are comparable. Do not call a change significant from it: use change_significant.';
COMMENT ON COLUMN changes.comparable_with_prev IS 'False across a comparability break (e.g. the organisation survey population change) and where the answer base differs between prev_year and year (see break_reason); NULL without prev_year.';
COMMENT ON COLUMN changes.change_q_value IS 'Benjamini-Hochberg adjusted p-value (q-value) of change_p_value, within the year and survey: every change tested for one edition of one survey is one family. NULL where untested.';
COMMENT ON COLUMN changes.change_significant IS 'True where change_q_value < 0.05 (the only meaning of significant in itip), false where tested and not significant, NULL where untested.';
COMMENT ON COLUMN changes.break_reason IS 'Why the estimate is not comparable with prev_year (comparable_with_prev false): the codebook break''s reason, or that the answer base differs between the two years (or is unknown in one of them). NULL where comparable or without prev_year.';
