-- current_editions: one row per survey edition (year, survey) from the current (loaded) editions release.
CREATE OR REPLACE VIEW current_editions AS
SELECT ed.*
FROM editions AS ed
INNER JOIN releases AS r ON r.release_id = ed.release_id AND r.status = 'loaded';
COMMENT ON VIEW current_editions IS 'The editions rows of the current editions release: one row per year and survey. trend.edition_respondents comes from here.';
COMMENT ON COLUMN current_editions.release_id IS 'Release (version of the editions file) the row came from.';
COMMENT ON COLUMN current_editions.source_row IS 'Row number in the editions file, as a spreadsheet or editor shows it.';
COMMENT ON COLUMN current_editions.year IS 'Survey edition.';
COMMENT ON COLUMN current_editions.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN current_editions.respondents IS 'How many answered the edition in total, where published; see respondents_qualifier.';
COMMENT ON COLUMN current_editions.respondents_qualifier IS 'above (published as ''over 500'': a lower bound), below or approx; NULL for an exact count.';
COMMENT ON COLUMN current_editions.respondents_municipalities IS 'Of them, municipalities (segment municipalities), where published.';
COMMENT ON COLUMN current_editions.respondents_state_regional IS 'Of them, state and regional public bodies (segment state), where published.';
COMMENT ON COLUMN current_editions.response_rate_low IS 'Response rate in percent; the lower end when published as a range (45-50).';
COMMENT ON COLUMN current_editions.response_rate_high IS 'Response rate in percent; the upper end when published as a range, else equal to response_rate_low.';
COMMENT ON COLUMN current_editions.response_rate_qualifier IS 'above (''over 50 %''), below or approx (''45-50 %''); NULL for an exact rate.';
COMMENT ON COLUMN current_editions.population_note IS 'Who was asked or answered, as published.';
COMMENT ON COLUMN current_editions.source IS 'URL or citation of the publication.';
