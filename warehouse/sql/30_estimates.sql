-- estimates: one row per figure of a loaded or superseded release (grain: release, year, survey, segment, indicator, answer).
CREATE TABLE IF NOT EXISTS estimates (
    release_id INTEGER NOT NULL,
    source_row INTEGER NOT NULL,
    year INTEGER NOT NULL,
    survey VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    indicator VARCHAR NOT NULL,
    answer VARCHAR,
    question VARCHAR,
    value DOUBLE,
    value_status VARCHAR NOT NULL,
    qualifier VARCHAR,
    n INTEGER,
    ci_low DOUBLE,
    ci_high DOUBLE,
    source VARCHAR NOT NULL,
    note VARCHAR
);
COMMENT ON TABLE estimates IS 'One row per figure in a release file. History is kept: rows of superseded releases stay, trend shows only current ones.';
COMMENT ON COLUMN estimates.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN estimates.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
COMMENT ON COLUMN estimates.year IS 'Survey edition.';
COMMENT ON COLUMN estimates.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN estimates.segment IS 'Respondent group: all, municipalities, state, age_16_24, age_67_plus, ...';
COMMENT ON COLUMN estimates.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN estimates.answer IS 'Answer option (e.g. high/some/low) for distributions; NULL for single shares.';
COMMENT ON COLUMN estimates.question IS 'Question wording as given in the file, when it gave one (published figures); the column name for respondent-level estimates.';
COMMENT ON COLUMN estimates.value IS 'Percent 0-100; NULL when suppressed, missing or not applicable (never 0 for those).';
COMMENT ON COLUMN estimates.value_status IS 'published, nil (SSB -, a true zero), suppressed (SSB :), missing (SSB ..) or not_applicable (SSB .); estimated for a weighted estimate from a respondent-level file.';
COMMENT ON COLUMN estimates.qualifier IS 'below (i underkant av), above (i overkant av) or approx (ca., e.g. 9 av 10); NULL for exact figures.';
COMMENT ON COLUMN estimates.n IS 'Respondents behind the figure, where published; for respondent-level estimates the unweighted number of answers in the denominator; NULL for a cell suppressed by disclosure control (never stored).';
COMMENT ON COLUMN estimates.ci_low IS 'Lower bound of the 95 % interval, percent: Wilson score for published figures, Korn-Graubard with design degrees of freedom for respondent-level estimates; NULL without n or with a qualifier.';
COMMENT ON COLUMN estimates.ci_high IS 'Upper bound of the 95 % interval, percent: Wilson score for published figures, Korn-Graubard with design degrees of freedom for respondent-level estimates; NULL without n or with a qualifier.';
COMMENT ON COLUMN estimates.source IS 'URL or citation of the publication the figure was taken from; for respondent-level estimates the file and method.';
COMMENT ON COLUMN estimates.note IS 'Note from the release file.';
-- Added for respondent-level releases; ADD COLUMN keeps warehouses built before it.
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS n_effective DOUBLE;
COMMENT ON COLUMN estimates.n_effective IS 'Kish effective sample size (sum of weights)^2 / (sum of squared weights) of a respondent-level estimate; the interval and the test of change use it instead of n. NULL for published figures.';
-- Added for conflicting sources and inferred provenance; ADD COLUMN keeps warehouses built before them.
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS inferred BOOLEAN;
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS preferred BOOLEAN;
COMMENT ON COLUMN estimates.inferred IS 'True when the release file marks the figure as inferred: its edition year, segment or wording was taken from context rather than stated by the source (column inferred/utledet). NULL for respondent-level estimates and releases loaded before the column existed.';
COMMENT ON COLUMN estimates.preferred IS 'True on the figure trend shows where the release gives the same figure (year, survey, segment, indicator, answer) from more than one source (column preferred/foretrukket; exactly one per such figure, checked at load). See view conflicts.';
-- Added for the answer base (issue 8); ADD COLUMN keeps warehouses built before it (their rows stay NULL = unknown).
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS base VARCHAR;
COMMENT ON COLUMN estimates.base IS 'Answer base of the figure: answered (only those who gave an answer on the scale are in the denominator) or with_dont_know (''vet ikke'' is in the denominator too). Respondent-level estimates: the codebook base applied when they were computed. Published figures: the codebook''s published_base for the indicator and year (re-declared when the codebook changes). NULL = unknown. A change between two years of different bases, or of a known and an unknown one, is not tested (see trend.break_reason).';
-- Added for design-based estimation (issue 8); ADD COLUMN keeps warehouses built before them (NULL there).
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS se DOUBLE;
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS design_effect DOUBLE;
COMMENT ON COLUMN estimates.se IS 'Design-based standard error of value in percentage points (Taylor linearisation with the codebook-declared strata, PSUs and finite population correction) of a respondent-level estimate. NULL for published figures (see current_estimates.se), suppressed cells and respondent-level releases loaded before the column existed.';
COMMENT ON COLUMN estimates.design_effect IS 'Design effect of a respondent-level estimate: its design variance over p(1-p)/n, the variance of a simple random sample of the same n (weights, strata, clusters and FPC together). NULL for published figures, suppressed cells, shares of 0 or 100 % and releases loaded before the column existed.';
-- Added for the t reference of tests of change (issue 8, contract version 5); ADD COLUMN keeps warehouses built before it (NULL there).
ALTER TABLE estimates ADD COLUMN IF NOT EXISTS df INTEGER;
COMMENT ON COLUMN estimates.df IS 'Design degrees of freedom of a respondent-level estimate: the PSUs of its domain minus the strata of its domain (R survey''s degf of the subset design; n - 1 without a declared design), at least 1. The Korn-Graubard interval and the test of change refer to Student''s t on it. NULL for published figures (see current_estimates.df), suppressed cells and respondent-level releases loaded before the column existed.';
