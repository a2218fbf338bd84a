-- trend: one row per indicator, survey, segment, answer and year, from current (loaded) releases.
CREATE OR REPLACE VIEW trend AS
SELECT
    e.indicator,
    e.survey,
    e.segment,
    e.answer,
    e.year,
    CASE WHEN e.suppressed THEN NULL ELSE e.value END AS value,
    e.qualifier,
    CASE WHEN e.suppressed THEN 'suppressed' ELSE e.value_status END AS value_status,
    CASE WHEN e.suppressed THEN NULL ELSE e.n END AS n,
    CASE WHEN e.suppressed THEN NULL ELSE coalesce(e.ci_low, ai.ci_low) END AS ci_low,
    CASE WHEN e.suppressed THEN NULL ELSE coalesce(e.ci_high, ai.ci_high) END AS ci_high,
    c.prev_year,
    c.prev_value,
    c.change_pp,
    c.change_p_value,
    c.comparable_with_prev,
    i.label_no,
    i.label_en,
    i.topic,
    e.source,
    e.kind,
    e.release_id,
    CASE WHEN e.suppressed THEN NULL ELSE e.n_effective END AS n_effective,
    c.change_q_value,
    c.change_significant,
    e.conflict,
    e.inferred,
    ed.respondents AS edition_respondents,
    e.base,
    c.break_reason,
    CASE
        WHEN e.suppressed THEN NULL
        WHEN e.ci_low IS NOT NULL THEN CASE WHEN e.kind = 'respondents' THEN 'respondents' ELSE 'n' END
        WHEN ai.ci_low IS NOT NULL THEN 'edition_n'
    END AS interval_basis,
    CASE WHEN e.suppressed THEN NULL ELSE e.se END AS se,
    CASE WHEN e.suppressed THEN NULL ELSE e.design_effect END AS design_effect,
    CASE WHEN e.suppressed THEN NULL ELSE e.df END AS df
FROM current_estimates AS e
LEFT JOIN indicators AS i ON i.indicator = e.indicator
LEFT JOIN changes AS c ON c.release_id = e.release_id AND c.source_row = e.source_row
LEFT JOIN current_editions AS ed ON ed.year = e.year AND ed.survey = e.survey
LEFT JOIN approximate_intervals AS ai ON ai.release_id = e.release_id AND ai.source_row = e.source_row;
COMMENT ON VIEW trend IS 'The cross-year series: one row per indicator, survey, segment, answer and year from current releases, with interval and change since the latest earlier year that has a value. Values in percent, changes in percentage points. Published figures and respondent-level estimates in one series; where both exist for the same year the respondent-level estimate is shown (see current_estimates). Respondent-level cells with fewer respondents than the small-cell threshold are shown as suppressed.';
COMMENT ON COLUMN trend.indicator IS 'Codebook indicator id.';
COMMENT ON COLUMN trend.survey IS 'organisations (public agencies and municipalities) or citizens (population sample).';
COMMENT ON COLUMN trend.segment IS 'Respondent group: all, municipalities, state, age_16_24, age_67_plus, ...';
COMMENT ON COLUMN trend.answer IS 'Answer option (e.g. high/some/low) for distributions; NULL for single shares.';
COMMENT ON COLUMN trend.year IS 'Survey edition.';
COMMENT ON COLUMN trend.value IS 'Percent (weighted share for respondent-level estimates); NULL when suppressed, missing or not applicable (see value_status).';
COMMENT ON COLUMN trend.qualifier IS 'below (i underkant av), above (i overkant av) or approx (ca., e.g. 9 av 10); NULL for exact figures.';
COMMENT ON COLUMN trend.value_status IS 'published, estimated (respondent-level), nil, suppressed (also a respondent-level cell below the small-cell threshold), missing or not_applicable.';
COMMENT ON COLUMN trend.n IS 'Respondents, where published; unweighted answers for respondent-level estimates; NULL when suppressed.';
COMMENT ON COLUMN trend.ci_low IS '95 % interval, lower bound, percent: Korn-Graubard with design degrees of freedom for respondent-level estimates (Wilson on the Kish effective n for those loaded before design-based estimation), Wilson score for published figures with n (approximate, on the edition''s respondents, where interval_basis = edition_n); NULL where no n is known or the cell is suppressed.';
COMMENT ON COLUMN trend.ci_high IS '95 % interval, upper bound, percent: Korn-Graubard with design degrees of freedom for respondent-level estimates (Wilson on the Kish effective n for those loaded before design-based estimation), Wilson score for published figures with n (approximate, on the edition''s respondents, where interval_basis = edition_n); NULL where no n is known or the cell is suppressed.';
COMMENT ON COLUMN trend.prev_year IS 'Latest earlier year with a value for the same indicator, survey, segment and answer.';
COMMENT ON COLUMN trend.prev_value IS 'Value in prev_year, percent.';
COMMENT ON COLUMN trend.change_pp IS 'Change since prev_year in percentage points.';
COMMENT ON COLUMN trend.change_p_value IS 'Raw two-sided p-value of the change, before correction for multiple testing: t = change / sqrt(se1^2 + se2^2) on the design-based standard errors where either year is a respondent-level estimate with se, against Student''s t with the smaller df of the two years (current_estimates.df; normal where neither is known; independent samples assumed, conservative for re-asked units); otherwise the pooled two-proportion z-test on n (on the effective n for respondent-level estimates loaded before se existed). NULL unless both years have n, exact values and are comparable. Do not call a change significant from it: use change_significant.';
COMMENT ON COLUMN trend.comparable_with_prev IS 'False across a comparability break (e.g. the organisation survey population change) and where the answer base differs between prev_year and year (see break_reason); NULL without prev_year.';
COMMENT ON COLUMN trend.label_no IS 'Norwegian indicator label.';
COMMENT ON COLUMN trend.label_en IS 'English indicator label.';
COMMENT ON COLUMN trend.topic IS 'Codebook topic id of the indicator, e.g. trust, sustainability, information_security.';
COMMENT ON COLUMN trend.source IS 'URL or citation of the publication the figure was taken from; for respondent-level estimates the file and method.';
COMMENT ON COLUMN trend.kind IS 'Kind of release the figure came from: published or respondents.';
COMMENT ON COLUMN trend.release_id IS 'Release (file version) the row came from (see releases).';
COMMENT ON COLUMN trend.n_effective IS 'Kish effective sample size of a respondent-level estimate; NULL for published figures and suppressed cells.';
COMMENT ON COLUMN trend.change_q_value IS 'Benjamini-Hochberg adjusted p-value (q-value) of change_p_value, within the year and survey: every change tested for one edition of one survey is one family. NULL where untested.';
COMMENT ON COLUMN trend.change_significant IS 'True where change_q_value < 0.05 (the only meaning of significant in itip), false where tested and not significant, NULL where untested.';
COMMENT ON COLUMN trend.conflict IS 'True when the release gives this figure from more than one source with different values or wording; trend shows the one the file marks preferred, view conflicts lists every alternative with its source.';
COMMENT ON COLUMN trend.inferred IS 'True when the figure''s edition year, segment or wording was inferred from context rather than stated by its source (marked in the release file; "medium confidence" in docs/sources); false otherwise. The report marks such figures.';
COMMENT ON COLUMN trend.edition_respondents IS 'How many answered this edition (year and survey) in total, from the current editions release; NULL where not published. Not the n of this figure (see n).';
COMMENT ON COLUMN trend.base IS 'Answer base of the figure: answered (only those who gave an answer on the scale are in the denominator) or with_dont_know (''vet ikke'' is in the denominator too). Respondent-level estimates: the codebook base applied when they were computed. Published figures: the codebook''s published_base for the indicator and year (re-declared when the codebook changes). NULL = unknown. A change between two years of different bases, or of a known and an unknown one, is not tested (see trend.break_reason).';
COMMENT ON COLUMN trend.break_reason IS 'Why the estimate is not comparable with prev_year (comparable_with_prev false): the codebook break''s reason, or that the answer base differs between the two years (or is unknown in one of them). NULL where comparable or without prev_year.';
COMMENT ON COLUMN trend.interval_basis IS 'What ci_low/ci_high rest on: n (the figure''s own published n), respondents (computed from the respondent-level file), edition_n (APPROXIMATE: the published figure has no n, the interval uses how many answered the edition, see view approximate_intervals; no test of change is made on it), NULL = no interval.';
COMMENT ON COLUMN trend.se IS 'Standard error of value, percentage points: design-based (Taylor linearisation with the codebook-declared strata, PSUs and finite population correction) for respondent-level estimates; sqrt(p(1-p)/n) for a published figure with its own n and no qualifier (simple random sample assumed); NULL where unknown or suppressed.';
COMMENT ON COLUMN trend.design_effect IS 'Design variance over the variance p(1-p)/n of a simple random sample of the same n, for respondent-level estimates (below 1 where a stratum is nearly a census, above 1 with clustering or unequal weights); NULL where unknown (published figures) or suppressed.';
COMMENT ON COLUMN trend.df IS 'Degrees of freedom of se (see current_estimates.df): design degrees of freedom (domain PSUs minus strata) for respondent-level estimates, n - 1 for published figures with their own n; NULL where unknown or suppressed. A test of change on design-based standard errors refers to Student''s t with the smaller df of the two years (normal where neither is known).';
