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
COMMENT ON COLUMN conflicts.survey IS 'organisations or citizens.';
COMMENT ON COLUMN conflicts.segment IS 'Respondent group.';
COMMENT ON COLUMN conflicts.answer IS 'Answer option for distributions; NULL for single shares.';
COMMENT ON COLUMN conflicts.year IS 'Survey edition.';
COMMENT ON COLUMN conflicts.value IS 'This alternative''s value, percent.';
COMMENT ON COLUMN conflicts.qualifier IS 'below, above or approx; NULL for exact figures.';
COMMENT ON COLUMN conflicts.n IS 'Respondents, where published.';
COMMENT ON COLUMN conflicts.source IS 'The publication (and version) this alternative comes from.';
COMMENT ON COLUMN conflicts.note IS 'Note from the release file.';
COMMENT ON COLUMN conflicts.shown IS 'True for the alternative trend shows.';
COMMENT ON COLUMN conflicts.why_shown IS 'The rule that chose it; NULL on the alternatives not shown.';
COMMENT ON COLUMN conflicts.alternatives IS 'How many sources give this figure in the release.';
COMMENT ON COLUMN conflicts.release_id IS 'Release the alternative is in.';
COMMENT ON COLUMN conflicts.file_name IS 'Release file name.';
COMMENT ON COLUMN conflicts.source_row IS 'Row of the alternative in the release file.';
