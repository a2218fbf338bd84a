-- breaks: one row per indicator and year from which its series is not comparable with earlier years.
CREATE TABLE IF NOT EXISTS breaks (
    indicator VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    scope VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
COMMENT ON TABLE breaks IS 'One row per indicator and break year, from the codebook: a change between prev_year and year is not comparable when a break year lies after prev_year and at or before year.';
COMMENT ON COLUMN breaks.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN breaks.year IS 'First edition on the new basis.';
COMMENT ON COLUMN breaks.scope IS 'survey (applies to every indicator of the survey) or indicator.';
COMMENT ON COLUMN breaks.reason IS 'Why the series breaks, e.g. a change of population.';
