-- releases: one row per release file version seen by an ingest (loaded, rejected or superseded).
CREATE TABLE IF NOT EXISTS releases (
    release_id INTEGER NOT NULL,
    year INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    rows INTEGER NOT NULL,
    status VARCHAR NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL,
    flow_run_id VARCHAR,
    message VARCHAR
);
COMMENT ON TABLE releases IS 'One row per version of a release file that an ingest processed. At most one release per year and kind has status loaded: the current one, which trend reads.';
COMMENT ON COLUMN releases.release_id IS 'Identifier of this file version (1, 2, ... in the order processed); estimates and rejections refer to it.';
COMMENT ON COLUMN releases.year IS 'Survey edition, from the file name; NULL for the editions file (itip_editions.*), which covers every edition.';
COMMENT ON COLUMN releases.kind IS 'published: figures as published in the report and by partners; respondents: weighted estimates computed from a respondent-level file (itip_<YEAR>_respondents.*), whose respondent rows are never stored; editions: the editions file (table editions), what is known about each edition.';
COMMENT ON COLUMN releases.file_name IS 'File name in raw/.';
COMMENT ON COLUMN releases.sha256 IS 'SHA-256 of the file content; an unchanged hash means nothing to load.';
COMMENT ON COLUMN releases.rows IS 'Data rows in the file (loaded rows for loaded releases).';
COMMENT ON COLUMN releases.status IS 'loaded (current), rejected (nothing loaded, see rejections) or superseded (replaced by a corrected file; its estimates are kept as history).';
COMMENT ON COLUMN releases.loaded_at IS 'When the ingest processed the file.';
COMMENT ON COLUMN releases.flow_run_id IS 'Prefect flow run that processed the file.';
COMMENT ON COLUMN releases.message IS 'Summary: why rejected, or which release this one superseded.';
-- The editions file (itip_editions.csv) covers every edition: its release has no year.
ALTER TABLE releases ALTER COLUMN year DROP NOT NULL;
-- What judged a rejected file (contract version 5): a rejection is remembered only together with it.
ALTER TABLE releases ADD COLUMN IF NOT EXISTS decided_by VARCHAR;
COMMENT ON COLUMN releases.decided_by IS 'For a rejected release: fingerprint of what judged the file (codebook, checks and schema versions). A file is only reported as still rejected while these are the same; after a codebook change (for example a new alias) it is checked again. NULL for releases recorded before version 5, which are checked again.';
