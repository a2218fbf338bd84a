-- indicators: one row per codebook indicator, replaced whenever the codebook changes.
CREATE TABLE IF NOT EXISTS indicators (
    indicator VARCHAR NOT NULL,
    survey VARCHAR NOT NULL,
    topic VARCHAR NOT NULL,
    label_no VARCHAR NOT NULL,
    label_en VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    better VARCHAR,
    answers VARCHAR[],
    aliases VARCHAR[],
    note VARCHAR
);
COMMENT ON TABLE indicators IS 'One row per indicator of the codebook (schemas/codebook.yaml), the stable ids every release is mapped onto.';
COMMENT ON COLUMN indicators.indicator IS 'Stable indicator id (snake_case, English).';
COMMENT ON COLUMN indicators.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN indicators.topic IS 'Codebook topic id of the indicator, e.g. trust, sustainability, information_security.';
COMMENT ON COLUMN indicators.label_no IS 'Norwegian indicator label.';
COMMENT ON COLUMN indicators.label_en IS 'English indicator label.';
COMMENT ON COLUMN indicators.unit IS 'Unit of value: percent of respondents.';
COMMENT ON COLUMN indicators.better IS 'higher or lower: which direction of change is good news; NULL when it depends on the answer.';
COMMENT ON COLUMN indicators.answers IS 'Answer option ids for indicators published as a distribution.';
COMMENT ON COLUMN indicators.aliases IS 'Every published wording, as year: text.';
COMMENT ON COLUMN indicators.note IS 'Comparability and provenance notes.';
