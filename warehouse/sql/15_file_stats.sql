-- file_stats: the stat cache (issue 9), one row per release file path. Like git's index, it lets an
-- ingest take a file as unchanged without reading it when size, mtime, inode and ctime are those
-- recorded with its hash and the mtime was older than the moment they were recorded (a file
-- written in the same clock tick as its stat is hashed again: the racy-timestamp rule).
CREATE TABLE IF NOT EXISTS file_stats (
    path VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    inode BIGINT NOT NULL,
    ctime_ns BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    recorded_ns BIGINT NOT NULL
);
COMMENT ON TABLE file_stats IS 'Internal stat cache, one row per release file path: an unchanged stat of a file whose mtime was older than recorded_ns means its content hash is still sha256. itip ingest --verify ignores it and hashes every file.';
COMMENT ON COLUMN file_stats.path IS 'Absolute path of the release file as the ingest found it.';
COMMENT ON COLUMN file_stats.size IS 'File size in bytes when its hash was taken.';
COMMENT ON COLUMN file_stats.mtime_ns IS 'Modification time (nanoseconds since the epoch) when its hash was taken.';
COMMENT ON COLUMN file_stats.inode IS 'Inode number: a file replaced by another (rename) has another one.';
COMMENT ON COLUMN file_stats.ctime_ns IS 'Status change time (nanoseconds): changes on every write, rename or chmod, and cannot be set back by a user (unlike mtime).';
COMMENT ON COLUMN file_stats.sha256 IS 'SHA-256 of the bytes read when the stat was taken.';
COMMENT ON COLUMN file_stats.recorded_ns IS 'When the stat was taken (nanoseconds): a file whose mtime is not older than this is hashed again.';
