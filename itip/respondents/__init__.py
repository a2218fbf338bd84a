"""Respondent-level releases: one row per respondent -> weighted estimates per indicator, segment and year.

`check.check_respondents` is the whole pure pipeline for one file, reached by the Prefect
flow and `itip check` through `itip.check.check`. One module per job:

1. `read`: read only the columns the codebook declares (`spec`) into an
   in-memory DuckDB (`table.RespondentTable`); every other column is dropped unread and reported
   by name (its values are never read into the table or written anywhere);
2. `checks`: check the file with SQL, every failing row reported with file, row and column:
   empty or repeated ids (shown as keyed hashes, never in clear), unknown survey
   and segment codes, weights that are not positive numbers, kommunenummer not
   4 digits, answers that are not codes of the question's scale; for SPSS files
   also the value labels against the codebook's scale (a reversed or relabelled
   scale is caught) and the user-missing codes;
3. `estimate`: aggregate in one scan to weighted sums per survey, segment, stratum and
   question (per PSU first when the codebook declares PSUs) and turn them into
   estimates: weighted share, unweighted n, Kish effective n, the design-based
   (Taylor-linearised) standard error and design effect, and the 95 %
   Korn-Graubard interval with design degrees of freedom (itip.design).

Respondent rows never leave step 1-3: only the aggregates are returned.

This package never touches the warehouse (itip.db). Its `__init__` imports nothing:
itip.codebook imports `spec`, and the pipeline modules import itip.codebook.
"""
