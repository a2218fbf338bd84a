-- conflicts: one row per alternative of a figure that a current release gives from more than one source.
CREATE OR REPLACE VIEW conflicts AS
WITH loaded AS (
    SELECT
        e.*,
        r.file_name,
        count(*) OVER (PARTITION BY e.release_id, e.year, e.survey, e.segment, e.indicator, e.answer) AS alternatives
    FROM estimates AS e
    INNER JOIN releases AS r ON r.release_id = e.release_id AND r.status = 'loaded'
)
SELECT
    indicator,
    survey,
    segment,
    answer,
    year,
    value,
    qualifier,
    n,
    source,
    note,
    coalesce(preferred, false) AS shown,
    CASE WHEN coalesce(preferred, false) THEN 'marked preferred in the release file' END AS why_shown,
    alternatives,
    release_id,
    file_name,
    source_row
FROM loaded
WHERE alternatives > 1;
COMMENT ON VIEW conflicts IS 'Figures that a current release gives from more than one source (same year, survey, segment, indicator and answer; different sources): one row per alternative, all kept in estimates. trend shows the alternative the release file marks preferred (column preferred/foretrukket) and flags it with conflict = true. A key repeated with the same source is not a conflict but a duplicate, and the file is rejected.';
COMMENT ON COLUMN conflicts.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN conflicts.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN conflicts.segment IS 'Respondent group: all, municipalities, state, age_16_24, age_67_plus, ...';
COMMENT ON COLUMN conflicts.answer IS 'Answer option (e.g. high/some/low) for distributions; NULL for single shares.';
COMMENT ON COLUMN conflicts.year IS 'Survey edition.';
COMMENT ON COLUMN conflicts.value IS 'This alternative''s value, percent.';
COMMENT ON COLUMN conflicts.qualifier IS 'below (i underkant av), above (i overkant av) or approx (ca., e.g. 9 av 10); NULL for exact figures.';
COMMENT ON COLUMN conflicts.n IS 'Respondents behind the figure, where published; for respondent-level estimates the unweighted number of answers in the denominator; NULL for a cell suppressed by disclosure control (never stored).';
COMMENT ON COLUMN conflicts.source IS 'URL or citation of the publication the figure was taken from; for respondent-level estimates the file and method.';
COMMENT ON COLUMN conflicts.note IS 'Note from the release file.';
COMMENT ON COLUMN conflicts.shown IS 'True for the alternative trend shows.';
COMMENT ON COLUMN conflicts.why_shown IS 'The rule that chose it; NULL on the alternatives not shown.';
COMMENT ON COLUMN conflicts.alternatives IS 'How many sources give this figure in the release.';
COMMENT ON COLUMN conflicts.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN conflicts.file_name IS 'File name in raw/.';
COMMENT ON COLUMN conflicts.source_row IS 'Row number in the release file, as a spreadsheet or editor shows it; for respondent-level releases the number of the estimate within the release (no respondent row is stored).';
