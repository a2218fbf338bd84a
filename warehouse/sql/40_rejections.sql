-- rejections: one row per problem found in a rejected release file.
-- Column names need no quoting (source_row, source_column, check_id; renamed from row, column,
-- check in contract version 2, see docs/warehouse-changelog.md; older files are migrated by itip/db.py).
CREATE TABLE IF NOT EXISTS rejections (
    release_id INTEGER NOT NULL,
    file_name VARCHAR NOT NULL,
    source_row INTEGER,
    source_column VARCHAR,
    check_id VARCHAR NOT NULL,
    value VARCHAR,
    message VARCHAR NOT NULL
);
COMMENT ON TABLE rejections IS 'One row per problem of a rejected release file; nothing of a rejected file is in estimates.';
COMMENT ON COLUMN rejections.release_id IS 'The rejected release (see releases).';
COMMENT ON COLUMN rejections.file_name IS 'File name in raw/.';
COMMENT ON COLUMN rejections.source_row IS 'Row number in the file as an editor shows it (header = row 1); NULL for problems of the whole file.';
COMMENT ON COLUMN rejections.source_column IS 'Column the problem is in, by its stable name; NULL for whole rows or files.';
COMMENT ON COLUMN rejections.check_id IS 'Identifier of the failed check, e.g. value_format, indicator_known, duplicate_key.';
COMMENT ON COLUMN rejections.value IS 'The offending cell as written, where there is one.';
COMMENT ON COLUMN rejections.message IS 'What is wrong, in words.';
