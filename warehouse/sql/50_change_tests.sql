-- change_tests: one row per tested change (a current estimate comparable with its previous year, both exact with n or se); rebuilt in every load transaction.
-- The only part of a change that needs Python: the p-value (normal or Student's t) and the Benjamini-Hochberg
-- q-value over each year and survey. Everything else about a change is the view changes (88_changes.sql).
CREATE TABLE IF NOT EXISTS change_tests (
    release_id INTEGER NOT NULL,
    source_row INTEGER NOT NULL,
    change_p_value DOUBLE,
    change_q_value DOUBLE,
    change_significant BOOLEAN
);
COMMENT ON TABLE change_tests IS 'One row per tested change: a current estimate comparable with its previous year, both years exact with n or a standard error. Holds the only part of a change computed in Python (the p-value, normal or Student''s t, and the Benjamini-Hochberg q-value per year and survey); rebuilt whenever the current releases or the codebook change. The rest of each change is view changes.';
COMMENT ON COLUMN change_tests.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN change_tests.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
COMMENT ON COLUMN change_tests.change_p_value IS 'Raw two-sided p-value of the change, before correction for multiple testing: t = change / sqrt(se1^2 + se2^2) on the design-based standard errors where either year is a respondent-level estimate with se, against Student''s t with the smaller df of the two years (current_estimates.df; normal where neither is known; independent samples assumed, conservative for re-asked units); otherwise the pooled two-proportion z-test on n (on the effective n for respondent-level estimates loaded before se existed). NULL unless both years have n, exact values and are comparable. Do not call a change significant from it: use change_significant.';
COMMENT ON COLUMN change_tests.change_q_value IS 'Benjamini-Hochberg adjusted p-value (q-value) of change_p_value, within the year and survey: every change tested for one edition of one survey is one family. NULL where untested.';
COMMENT ON COLUMN change_tests.change_significant IS 'True where change_q_value < 0.05 (the only meaning of significant in itip), false where tested and not significant, NULL where untested.';
