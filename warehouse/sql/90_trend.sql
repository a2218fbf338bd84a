-- trend: one row per indicator, survey, segment, answer and year, from current (loaded) releases.
CREATE OR REPLACE VIEW trend AS
SELECT
    e.indicator,
    e.survey,
    e.segment,
    e.answer,
    e.year,
    e.value,
    e.qualifier,
    e.value_status,
    e.n,
    e.ci_low,
    e.ci_high,
    c.prev_year,
    c.prev_value,
    c.change_pp,
    c.change_p_value,
    c.comparable_with_prev,
    i.label_no,
    i.label_en,
    e.source,
    r.kind,
    e.release_id
FROM estimates AS e
INNER JOIN releases AS r ON r.release_id = e.release_id AND r.status = 'loaded'
LEFT JOIN indicators AS i ON i.indicator = e.indicator
LEFT JOIN changes AS c ON c.release_id = e.release_id AND c.source_row = e.source_row;
COMMENT ON VIEW trend IS 'The cross-year series: one row per indicator, survey, segment, answer and year from current releases, with interval and change since the latest earlier year that has a value. Values in percent, changes in percentage points.';
COMMENT ON COLUMN trend.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN trend.survey IS 'organisations or citizens.';
COMMENT ON COLUMN trend.segment IS 'Respondent group.';
COMMENT ON COLUMN trend.answer IS 'Answer option for distributions; NULL for single shares.';
COMMENT ON COLUMN trend.year IS 'Survey edition.';
COMMENT ON COLUMN trend.value IS 'Percent; NULL when suppressed, missing or not applicable (see value_status).';
COMMENT ON COLUMN trend.qualifier IS 'below, above or approx; NULL for exact figures.';
COMMENT ON COLUMN trend.value_status IS 'published, nil, suppressed, missing or not_applicable.';
COMMENT ON COLUMN trend.n IS 'Respondents, where published.';
COMMENT ON COLUMN trend.ci_low IS '95 % Wilson score interval, lower bound, percent; NULL where n is unknown.';
COMMENT ON COLUMN trend.ci_high IS '95 % Wilson score interval, upper bound, percent; NULL where n is unknown.';
COMMENT ON COLUMN trend.prev_year IS 'Latest earlier year with a value.';
COMMENT ON COLUMN trend.prev_value IS 'Value in prev_year.';
COMMENT ON COLUMN trend.change_pp IS 'Change since prev_year in percentage points.';
COMMENT ON COLUMN trend.change_p_value IS 'Two-sided two-proportion z-test p-value of the change; NULL where n is unknown in either year.';
COMMENT ON COLUMN trend.comparable_with_prev IS 'False across a comparability break (e.g. the organisation survey population change); NULL without prev_year.';
COMMENT ON COLUMN trend.label_no IS 'Norwegian indicator label.';
COMMENT ON COLUMN trend.label_en IS 'English indicator label.';
COMMENT ON COLUMN trend.source IS 'URL or citation of the publication.';
COMMENT ON COLUMN trend.kind IS 'Kind of release the figure came from: published.';
COMMENT ON COLUMN trend.release_id IS 'Release the figure came from (see releases).';
