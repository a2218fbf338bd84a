-- latest: one row per indicator, survey, segment and answer: its newest figure with a value, and how old that is.
CREATE OR REPLACE VIEW latest AS
-- trend is a view over views: computed once here, not once per reference (half the time).
WITH figures AS MATERIALIZED (
    SELECT * FROM trend
),
survey_editions AS (
    SELECT DISTINCT survey, year FROM figures
),
shown AS (
    SELECT * FROM figures WHERE value IS NOT NULL
),
newest AS (
    SELECT * FROM shown
    QUALIFY row_number() OVER (PARTITION BY indicator, survey, segment, answer ORDER BY year DESC) = 1
)
SELECT
    f.indicator,
    f.survey,
    f.segment,
    f.answer,
    f.topic,
    f.year,
    f.value,
    f.qualifier,
    f.value_status,
    f.n,
    f.ci_low,
    f.ci_high,
    (SELECT max(s.year) FROM survey_editions AS s WHERE s.survey = f.survey) AS newest_edition,
    (SELECT count(*) FROM survey_editions AS s WHERE s.survey = f.survey AND s.year > f.year) AS age_editions,
    f.label_no,
    f.label_en,
    f.source,
    f.release_id,
    f.interval_basis
FROM newest AS f;
COMMENT ON VIEW latest IS 'The newest figure with a value per indicator, survey, segment and answer (one row each), with its age in editions of its survey: 0 means it is from the newest edition of that survey, 3 that three later editions did not publish it. Built from trend.';
COMMENT ON COLUMN latest.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN latest.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN latest.segment IS 'Respondent group: all, municipalities, state, age_16_24, age_67_plus, ...';
COMMENT ON COLUMN latest.answer IS 'Answer option (e.g. high/some/low) for distributions; NULL for single shares.';
COMMENT ON COLUMN latest.topic IS 'Codebook topic id of the indicator, e.g. trust, sustainability, information_security.';
COMMENT ON COLUMN latest.year IS 'Edition of the newest figure with a value (suppressed and missing figures are skipped).';
COMMENT ON COLUMN latest.value IS 'Percent (weighted share for respondent-level estimates); never NULL here.';
COMMENT ON COLUMN latest.qualifier IS 'below (i underkant av), above (i overkant av) or approx (ca., e.g. 9 av 10); NULL for exact figures.';
COMMENT ON COLUMN latest.value_status IS 'published, estimated or nil (only figures with a value are shown).';
COMMENT ON COLUMN latest.n IS 'Respondents, where published; unweighted answers for respondent-level estimates; NULL when suppressed.';
COMMENT ON COLUMN latest.ci_low IS '95 % interval, lower bound, percent: Korn-Graubard with design degrees of freedom for respondent-level estimates (Wilson on the Kish effective n for those loaded before design-based estimation), Wilson score for published figures with n (approximate, on the edition''s respondents, where interval_basis = edition_n); NULL where no n is known or the cell is suppressed.';
COMMENT ON COLUMN latest.ci_high IS '95 % interval, upper bound, percent: Korn-Graubard with design degrees of freedom for respondent-level estimates (Wilson on the Kish effective n for those loaded before design-based estimation), Wilson score for published figures with n (approximate, on the edition''s respondents, where interval_basis = edition_n); NULL where no n is known or the cell is suppressed.';
COMMENT ON COLUMN latest.newest_edition IS 'Newest edition (year) of the survey that has any figure in trend.';
COMMENT ON COLUMN latest.age_editions IS 'Number of editions of the survey after year that have figures: 0 = current.';
COMMENT ON COLUMN latest.label_no IS 'Norwegian indicator label.';
COMMENT ON COLUMN latest.label_en IS 'English indicator label.';
COMMENT ON COLUMN latest.source IS 'URL or citation of the publication the figure was taken from; for respondent-level estimates the file and method.';
COMMENT ON COLUMN latest.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN latest.interval_basis IS 'What ci_low/ci_high rest on: n (the figure''s own published n), respondents (computed from the respondent-level file), edition_n (APPROXIMATE: the published figure has no n, the interval uses how many answered the edition, see view approximate_intervals; no test of change is made on it), NULL = no interval.';
