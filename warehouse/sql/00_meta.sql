-- meta: one row per setting the warehouse keeps about itself (schema and codebook hashes).
-- No PRIMARY KEY, CHECK or SEQUENCE in any table: DuckLake has none of them and one set of
-- files serves the DuckDB file and the lake; the code keeps the keys unique (see itip/db.py).
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
COMMENT ON TABLE meta IS 'One row per internal setting: hashes of the schema SQL and of the codebook last applied.';
COMMENT ON COLUMN meta.key IS 'Setting name.';
COMMENT ON COLUMN meta.value IS 'Setting value.';
