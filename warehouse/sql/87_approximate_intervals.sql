-- approximate_intervals: one row per current published figure that has no n of its own but whose
-- edition publishes how many answered (in total, or in the figure's segment).
CREATE OR REPLACE VIEW approximate_intervals AS
WITH published AS (
    SELECT e.release_id, e.source_row, e.year, e.survey, e.segment, e.value
    FROM current_estimates AS e
    WHERE e.kind = 'published'
        AND e.value IS NOT NULL
        AND e.n IS NULL
        AND e.ci_low IS NULL
        AND e.qualifier IS NULL
        AND e.value BETWEEN 0 AND 100
),
sized AS (
    SELECT
        p.*,
        CASE p.segment
            -- a count published as 'over 500' is a bound, not a count: no interval from it
            WHEN 'all' THEN CASE WHEN ed.respondents_qualifier IS NULL THEN ed.respondents END
            WHEN 'municipalities' THEN ed.respondents_municipalities
            WHEN 'state' THEN ed.respondents_state_regional
        END AS edition_n,
        1.959963984540054 AS z
    FROM published AS p
    INNER JOIN current_editions AS ed ON ed.year = p.year AND ed.survey = p.survey
),
wilson AS (
    -- the 95 % Wilson score interval (as itip.stats.wilson_interval), on the edition's n
    SELECT
        s.*,
        (s.value / 100 + s.z * s.z / (2 * s.edition_n)) / (1 + s.z * s.z / s.edition_n) AS centre,
        s.z / (1 + s.z * s.z / s.edition_n)
        * sqrt(
            (s.value / 100) * (1 - s.value / 100) / s.edition_n + s.z * s.z / (4 * s.edition_n * s.edition_n)
        ) AS half
    FROM sized AS s
    WHERE s.edition_n > 0
)
SELECT
    release_id,
    source_row,
    edition_n,
    greatest(0.0, (centre - half) * 100) AS ci_low,
    least(100.0, (centre + half) * 100) AS ci_high
FROM wilson;
COMMENT ON VIEW approximate_intervals IS 'Approximate 95 % intervals of published figures whose own n was not published: the Wilson score interval on the number who answered the edition (view current_editions: respondents for segment all, unless published as a bound such as ''over 500''; respondents_municipalities and respondents_state_regional for those segments). Approximate because not everyone who answered the edition answered every question (item non-response, filter questions, the answer base): the true n of a figure is at most this. trend shows these intervals with interval_basis = edition_n; no test of change is made on them (docs/respondents.md).';
COMMENT ON COLUMN approximate_intervals.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN approximate_intervals.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
COMMENT ON COLUMN approximate_intervals.edition_n IS 'Respondents of the edition (or of the figure''s segment) the interval uses in place of the figure''s unknown n.';
COMMENT ON COLUMN approximate_intervals.ci_low IS 'Lower bound of the approximate 95 % Wilson interval, percent.';
COMMENT ON COLUMN approximate_intervals.ci_high IS 'Upper bound of the approximate 95 % Wilson interval, percent.';
