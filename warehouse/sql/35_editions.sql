-- editions: one row per survey edition (year, survey) of an editions release file, with what is known about who answered.
CREATE TABLE IF NOT EXISTS editions (
    release_id INTEGER NOT NULL,
    source_row INTEGER NOT NULL,
    year INTEGER NOT NULL,
    survey VARCHAR NOT NULL,
    respondents INTEGER,
    respondents_qualifier VARCHAR,
    respondents_municipalities INTEGER,
    respondents_state_regional INTEGER,
    response_rate_low DOUBLE,
    response_rate_high DOUBLE,
    response_rate_qualifier VARCHAR,
    population_note VARCHAR,
    source VARCHAR NOT NULL
);
COMMENT ON TABLE editions IS 'One row per survey edition (year and survey) in an editions release file (raw/itip_editions.csv): respondents, per-segment respondents and response rate where published. Rows of superseded editions files stay as history; view current_editions has the current ones.';
COMMENT ON COLUMN editions.release_id IS 'Release (version of the editions file) the row came from.';
COMMENT ON COLUMN editions.source_row IS 'Row number in the editions file, as a spreadsheet or editor shows it.';
COMMENT ON COLUMN editions.year IS 'Survey edition.';
COMMENT ON COLUMN editions.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN editions.respondents IS 'How many answered the edition in total, where published; see respondents_qualifier.';
COMMENT ON COLUMN editions.respondents_qualifier IS 'above (published as ''over 500'': a lower bound), below or approx; NULL for an exact count.';
COMMENT ON COLUMN editions.respondents_municipalities IS 'Of them, municipalities (segment municipalities), where published.';
COMMENT ON COLUMN editions.respondents_state_regional IS 'Of them, state and regional public bodies (segment state), where published.';
COMMENT ON COLUMN editions.response_rate_low IS 'Response rate in percent; the lower end when published as a range (45-50).';
COMMENT ON COLUMN editions.response_rate_high IS 'Response rate in percent; the upper end when published as a range, else equal to response_rate_low.';
COMMENT ON COLUMN editions.response_rate_qualifier IS 'above (''over 50 %''), below or approx (''45-50 %''); NULL for an exact rate.';
COMMENT ON COLUMN editions.population_note IS 'Who was asked or answered, as published.';
COMMENT ON COLUMN editions.source IS 'URL or citation of the publication.';
