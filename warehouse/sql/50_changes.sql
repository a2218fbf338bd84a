-- changes: one row per current estimate: its previous year, change and test; rebuilt in every load transaction.
CREATE TABLE IF NOT EXISTS changes (
    release_id INTEGER NOT NULL,
    source_row INTEGER NOT NULL,
    prev_year INTEGER,
    prev_value DOUBLE,
    change_pp DOUBLE,
    change_p_value DOUBLE,
    comparable_with_prev BOOLEAN
);
COMMENT ON TABLE changes IS 'One row per current estimate with its change against the latest earlier year that has a value; computed in Python (statsmodels) and rebuilt whenever the current releases or the codebook change. Read it through trend.';
COMMENT ON COLUMN changes.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN changes.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
COMMENT ON COLUMN changes.prev_year IS 'Latest earlier year with a value for the same indicator, survey, segment and answer.';
COMMENT ON COLUMN changes.prev_value IS 'Value in prev_year, percent.';
COMMENT ON COLUMN changes.change_pp IS 'Change since prev_year in percentage points.';
COMMENT ON COLUMN changes.change_p_value IS 'Raw two-sided p-value of the change, before correction for multiple testing: t = change / sqrt(se1^2 + se2^2) on the design-based standard errors where either year is a respondent-level estimate with se, against Student''s t with the smaller df of the two years (current_estimates.df; normal where neither is known; independent samples assumed, conservative for re-asked units); otherwise the pooled two-proportion z-test on n (on the effective n for respondent-level estimates loaded before se existed). NULL unless both years have n, exact values and are comparable. Do not call a change significant from it: use change_significant.';
COMMENT ON COLUMN changes.comparable_with_prev IS 'False across a comparability break (e.g. the organisation survey population change) and where the answer base differs between prev_year and year (see break_reason); NULL without prev_year.';
-- Added for multiple comparisons (issue 8); ADD COLUMN keeps warehouses built before it.
ALTER TABLE changes ADD COLUMN IF NOT EXISTS change_q_value DOUBLE;
ALTER TABLE changes ADD COLUMN IF NOT EXISTS change_significant BOOLEAN;
COMMENT ON COLUMN changes.change_q_value IS 'Benjamini-Hochberg adjusted p-value (q-value) of change_p_value, within the year and survey: every change tested for one edition of one survey is one family. NULL where untested.';
COMMENT ON COLUMN changes.change_significant IS 'True where change_q_value < 0.05 (the only meaning of significant in itip), false where tested and not significant, NULL where untested.';
-- Added for the answer base (issue 8); ADD COLUMN keeps warehouses built before it.
ALTER TABLE changes ADD COLUMN IF NOT EXISTS break_reason VARCHAR;
COMMENT ON COLUMN changes.break_reason IS 'Why the estimate is not comparable with prev_year (comparable_with_prev false): the codebook break''s reason, or that the answer base differs between the two years (or is unknown in one of them). NULL where comparable or without prev_year.';
