-- meta: one row per setting the warehouse keeps about itself (schema and codebook hashes).
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
COMMENT ON TABLE meta IS 'One row per internal setting: hashes of the schema SQL and of the codebook last applied.';
COMMENT ON COLUMN meta.key IS 'Setting name.';
COMMENT ON COLUMN meta.value IS 'Setting value.';
