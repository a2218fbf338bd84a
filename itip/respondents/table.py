"""A respondent file as a table in a private in-memory DuckDB: its checks and its aggregation.

A respondent file never enters the warehouse: it is read into a private in-memory
database (itip.respondents.read), checked there with SQL (each check returns the failing
rows with their row numbers) and reduced to weighted sums per survey, segment and
question; only those aggregates leave this package. Identifiers in these statements are
column names from the codebook (restricted to [a-z][a-z0-9_]*, see itip.respondents.spec),
compared case-insensitively with the file's header; every value is a bound parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from itip.db import ident as _ident

_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT")
_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UBIGINT")

#: A bound parameter in a check's condition (`$low`); names are ours, never from the file.
_PARAM = re.compile(r"\$([a-z_]+)")
#: How many rows fail a check, and the first of them as (row number, cell as text).
Found = tuple[int, list[tuple[int, str | None]]]


@dataclass(frozen=True)
class RowCheck:
    """A condition on the rows of `raw` that a valid row does not meet, and the column whose
    cell a failing row shows. Built by the methods below from codebook names; values bound."""

    condition: str
    column: str
    params: Mapping[str, object] = field(default_factory=dict)


class RespondentTable:
    """One respondent file in an in-memory DuckDB (table `raw`, declared columns only)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, row_offset: int):
        self.con = con
        #: Added to DuckDB's rowid to give the row number a user sees (2 = header on row 1).
        self.row_offset = row_offset
        self.types = {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE raw").fetchall()}

    @property
    def columns(self) -> list[str]:
        return list(self.types)

    def rows(self) -> int:
        row = self.con.execute("SELECT count(*) FROM raw").fetchone()
        return int(row[0]) if row else 0

    def _numeric(self, column: str) -> bool:
        return self.types[column].startswith(_NUMERIC_TYPES)

    def _empty(self, column: str) -> str:
        """The cell is empty (a typed number need not be cast to text to tell)."""
        return f"{_ident(column)} IS NULL" if self._numeric(column) else f"{self._text(column)} IS NULL"

    def _text(self, column: str) -> str:
        """The column as trimmed text, numbers without a trailing `.0`: how codes are compared."""
        col = _ident(column)
        if self._numeric(column):
            return (
                f"CASE WHEN {col} = floor({col}) THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({col} AS VARCHAR) END"
            )
        return f"nullif(lower(trim(CAST({col} AS VARCHAR))), '')"

    def _number(self, column: str) -> str:
        col = _ident(column)
        if self._numeric(column):
            return f"CAST({col} AS DOUBLE)"
        return f"TRY_CAST(replace(trim(CAST({col} AS VARCHAR)), ',', '.') AS DOUBLE)"

    def failing(self, checks: Sequence[RowCheck], limit: int) -> list[Found]:
        """For each check: how many rows fail it and the first `limit` of them as (row, cell as text).

        One scan counts the failures of every check (a FILTER aggregate each): a file of a
        million respondents has some sixty checks, and a scan per check took 3 s of its
        ingest. Only a check that fails is read again, for its first rows."""
        if not checks:
            return []
        params: dict[str, object] = {}
        counts = []
        for i, check in enumerate(checks):
            # each check's parameters get their own names, by its position ($low -> $low_3)
            condition = _PARAM.sub(rf"$\g<1>_{i}", check.condition)
            params.update({f"{name}_{i}": value for name, value in check.params.items()})
            counts.append(f"count(*) FILTER (WHERE {condition})")
        row = self.con.execute(f"SELECT {', '.join(counts)} FROM raw", params).fetchone()
        totals = [int(t) for t in row] if row else [0] * len(checks)
        return [
            self._rows(check, total, limit) if total else (0, []) for check, total in zip(checks, totals, strict=True)
        ]

    def _rows(self, check: RowCheck, total: int, limit: int) -> Found:
        rows = self.con.execute(
            f"SELECT rowid + $offset, CAST({_ident(check.column)} AS VARCHAR) FROM raw WHERE {check.condition} "
            "ORDER BY rowid LIMIT $limit",
            {**check.params, "offset": self.row_offset, "limit": limit},
        ).fetchall()
        return total, [(int(r[0]), None if r[1] is None else str(r[1])) for r in rows]

    def empty(self, column: str) -> RowCheck:
        return RowCheck(self._empty(column), column)

    def duplicates(self, column: str) -> RowCheck:
        text = self._text(column)
        condition = f"{text} IN (SELECT {text} FROM raw WHERE {text} IS NOT NULL GROUP BY ALL HAVING count(*) > 1)"
        return RowCheck(condition, column)

    def not_in(self, column: str, allowed: list[str]) -> RowCheck:
        """Rows whose (non-empty) code is not one of `allowed` (compared as lower-case text)."""
        text = self._text(column)
        condition = f"{text} IS NOT NULL AND NOT list_contains($allowed::VARCHAR[], {text})"
        return RowCheck(condition, column, {"allowed": [a.lower() for a in allowed]})

    def not_number(self, column: str) -> RowCheck:
        if self._numeric(column):  # typed by DuckDB's reader: every cell is a number or empty
            return RowCheck("FALSE", column)
        return RowCheck(f"NOT ({self._empty(column)}) AND {self._number(column)} IS NULL", column)

    def not_positive(self, column: str) -> RowCheck:
        """Rows whose number is missing, zero, negative or not finite."""
        num = self._number(column)
        condition = f"{self._empty(column)} OR ({num} IS NOT NULL AND NOT ({num} > 0 AND isfinite({num})))"
        return RowCheck(condition, column)

    def outside(self, column: str, low: float, high: float) -> RowCheck:
        """Rows whose positive, finite number lies outside [low, high] (the other failures have their own checks)."""
        num = self._number(column)
        condition = f"{num} > 0 AND isfinite({num}) AND ({num} < $low OR {num} > $high)"
        return RowCheck(condition, column, {"low": low, "high": high})

    def not_positive_if_given(self, column: str) -> RowCheck:
        """Rows whose (non-empty) cell is not a positive, finite number."""
        num = self._number(column)
        condition = f"NOT ({self._empty(column)}) AND ({num} IS NULL OR NOT ({num} > 0 AND isfinite({num})))"
        return RowCheck(condition, column)

    def not_weight(self, column: str) -> RowCheck:
        """Rows whose cell is empty or not a finite number of at least 0 (a replicate weight:
        0 is a deleted unit, an empty cell is not a weight)."""
        num = self._number(column)
        return RowCheck(f"{self._empty(column)} OR NOT coalesce({num} >= 0 AND isfinite({num}), FALSE)", column)

    def not_matching(self, column: str, pattern: str) -> RowCheck:
        col = _ident(column)
        condition = f"{col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), $pattern)"
        return RowCheck(condition, column, {"pattern": pattern})

    def not_code(self, column: str, codes: list[int]) -> RowCheck:
        """Rows whose answer is a number but not a code of the scale."""
        if self.types[column].startswith(_INTEGER_TYPES):  # no cast of every cell to DOUBLE
            condition = f"{_ident(column)} IS NOT NULL AND NOT list_contains($codes::BIGINT[], {_ident(column)})"
            return RowCheck(condition, column, {"codes": [int(c) for c in codes]})
        num = self._number(column)
        condition = f"{num} IS NOT NULL AND NOT list_contains($codes::DOUBLE[], {num})"
        return RowCheck(condition, column, {"codes": [float(c) for c in codes]})

    def values_of(self, column: str) -> list[str]:
        """Distinct codes of a column as text (for small vocabularies such as survey)."""
        text = self._text(column)
        rows = self.con.execute(f"SELECT DISTINCT {text} FROM raw WHERE {text} IS NOT NULL").fetchall()
        return [str(r[0]) for r in rows]

    def aggregate(
        self,
        *,
        survey: tuple[str, dict[str, str]],
        weight: str | None,
        segments: list[tuple[str, dict[str, str]]],
        questions: list[tuple[str, list[int], list[list[int]]]],
        stratum: str | None = None,
        psu: str | None = None,
    ) -> pd.DataFrame:
        """Weighted sums per survey, segment and stratum: what the share and its
        design-based variance need, in one pass over the respondents.

        `survey` and each segment are (column, code -> id); `questions` are
        (column, codes in the denominator, [codes counted, per share]); `stratum`
        and `psu` are the design's columns (None: one stratum, each respondent
        their own PSU). Returns one row per survey × (all respondents or one
        segment) × stratum with `survey`, `variable` (segment column, NULL for
        all), `segment`, `stratum`, and per question i: n_i (unweighted answers),
        sw_i (Σw), sw2_i (Σw²), m_i (PSUs with an answer), and per share j
        swy_i_j (Σw over counted codes); and for the Taylor linearisation the sums
        over PSUs of PSU totals W = Σw, Y = Σw·y within the domain: ww_i (ΣW²),
        yw_i_j (ΣY·W) and yy_i_j (ΣY²). itip.respondents.estimate turns these into the
        variance Σ_h (1-f_h)·n_h/(n_h-1)·Σ_i (z_hi - z̄_h)² with z = (Y - p·W)/Σw.

        Without PSUs every respondent is one, so the PSU-level squares are sums of
        squares of single rows: one GROUP BY survey × stratum × every segment
        variable together (a few dozen groups) suffices, and the totals per survey
        and per single segment variable are added up here (the sums are additive).
        With PSUs, a PSU's totals must be formed within each domain before they are
        squared: DuckDB groups by PSU (and segment), then squares and sums per stratum,
        once for all respondents and once per segment variable.
        """
        if psu is None:
            return self._aggregate_rows(survey, weight, segments, questions, stratum)
        return self._aggregate_psus(survey, weight, segments, questions, stratum, psu)

    def _design_select(
        self,
        weight: str | None,
        questions: list[tuple[str, list[int], list[list[int]]]],
        stratum: str | None,
    ) -> list[str]:
        def value(column: str) -> str:
            return _ident(column) if self._numeric(column) else self._number(column)

        select = [f"{self._number(weight)} AS _w" if weight else "1.0 AS _w"]
        select.append(f"coalesce({self._text(stratum)}, '') AS _stratum" if stratum else "'' AS _stratum")
        select += [f"{value(column)} AS _q{i}" for i, (column, _, _) in enumerate(questions)]
        return select

    def _aggregate_rows(
        self,
        survey: tuple[str, dict[str, str]],
        weight: str | None,
        segments: list[tuple[str, dict[str, str]]],
        questions: list[tuple[str, list[int], list[list[int]]]],
        stratum: str | None,
    ) -> pd.DataFrame:
        select = [f"{self._text(survey[0])} AS _survey", *self._design_select(weight, questions, stratum)]
        for i, (column, _) in enumerate(segments):
            select.append(f"{self._text(column)} AS _seg{i}")
        aggs = []
        for i, (_, valid, shares) in enumerate(questions):
            ok = f"_q{i} IN ({_codes(valid)})"
            aggs += [
                f"sum(CASE WHEN {ok} THEN 1 ELSE 0 END) AS n_{i}",
                f"sum(CASE WHEN {ok} THEN _w END) AS sw_{i}",
                f"sum(CASE WHEN {ok} THEN _w * _w END) AS sw2_{i}",
            ]
            for j, counted in enumerate(shares):
                aggs.append(f"sum(CASE WHEN _q{i} IN ({_codes(counted)}) THEN _w END) AS swy_{i}_{j}")
                aggs.append(f"sum(CASE WHEN _q{i} IN ({_codes(counted)}) THEN _w * _w END) AS yy_{i}_{j}")
        seg_cols = [f"_seg{i}" for i in range(len(segments))]
        keys = ["_survey", "_stratum", *seg_cols]
        base = f"WITH base AS (SELECT {', '.join(select)} FROM raw)"
        sql = f"{base} SELECT {', '.join(keys + aggs)} FROM base GROUP BY ALL"
        raw_cells = self.con.execute(sql).df()
        sums = [c for c in raw_cells.columns if c not in keys]
        # codes -> ids on the few groups, not on every row
        mapped = {
            "_survey": raw_cells["_survey"].map({k.lower(): v for k, v in survey[1].items()}),
            "_stratum": raw_cells["_stratum"].astype(str),
        }
        for i, (_, table) in enumerate(segments):
            mapped[f"_seg{i}"] = raw_cells[f"_seg{i}"].map({k.lower(): v for k, v in table.items()})
        cells = pd.concat([pd.DataFrame(mapped), raw_cells[sums].astype("float64").fillna(0.0)], axis=1)
        cells = cells[cells["_survey"].notna()]
        by = ["_survey", "_stratum"]
        out = [cells.groupby(by, as_index=False)[sums].sum().assign(variable=None, segment="all")]
        for i, (column, _) in enumerate(segments):
            part = cells[cells[f"_seg{i}"].notna()].groupby([*by, f"_seg{i}"], as_index=False)[sums].sum()
            out.append(part.rename(columns={f"_seg{i}": "segment"}).assign(variable=column))
        result = pd.concat(out, ignore_index=True).rename(columns={"_survey": "survey", "_stratum": "stratum"})
        # one respondent = one PSU: its totals are its own weight, so ΣW² = Σw², ΣY·W = ΣY² = Σw²·y
        extra = {}
        for i, (_, _, shares) in enumerate(questions):
            extra[f"ww_{i}"] = result[f"sw2_{i}"]
            extra[f"m_{i}"] = result[f"n_{i}"]
            for j in range(len(shares)):
                extra[f"yw_{i}_{j}"] = result[f"yy_{i}_{j}"]
        return pd.concat([result, pd.DataFrame(extra)], axis=1)

    def _aggregate_psus(
        self,
        survey: tuple[str, dict[str, str]],
        weight: str | None,
        segments: list[tuple[str, dict[str, str]]],
        questions: list[tuple[str, list[int], list[list[int]]]],
        stratum: str | None,
        psu: str,
    ) -> pd.DataFrame:
        params: dict[str, object] = {}

        def mapped(column: str, table: dict[str, str], name: str) -> str:
            # codes -> ids in SQL (bound lists): a PSU's rows must meet in one domain
            params[f"{name}_codes"] = [k.lower() for k in table]
            params[f"{name}_ids"] = list(table.values())
            ids, known = f"${name}_ids::VARCHAR[]", f"${name}_codes::VARCHAR[]"
            return f"({ids})[list_position({known}, {self._text(column)})]"

        select = [f"{mapped(survey[0], survey[1], 'survey')} AS _survey"]
        select += self._design_select(weight, questions, stratum)
        select.append(f"coalesce({self._text(psu)}, '#' || CAST(rowid AS VARCHAR)) AS _psu")
        for i, (column, table) in enumerate(segments):
            select.append(f"{mapped(column, table, f'seg{i}')} AS _seg{i}")
        unit_sums, cell_sums = [], []
        for i, (_, valid, shares) in enumerate(questions):
            ok = f"_q{i} IN ({_codes(valid)})"
            unit_sums += [
                f"sum(CASE WHEN {ok} THEN 1 ELSE 0 END) AS n_{i}",
                f"coalesce(sum(CASE WHEN {ok} THEN _w END), 0) AS sw_{i}",
                f"sum(CASE WHEN {ok} THEN _w * _w END) AS sw2_{i}",
            ]
            cell_sums += [
                f"sum(n_{i}) AS n_{i}",
                f"sum(sw_{i}) AS sw_{i}",
                f"sum(sw2_{i}) AS sw2_{i}",
                f"sum(sw_{i} * sw_{i}) AS ww_{i}",
                f"count(*) FILTER (WHERE n_{i} > 0) AS m_{i}",
            ]
            for j, counted in enumerate(shares):
                unit_sums.append(f"coalesce(sum(CASE WHEN _q{i} IN ({_codes(counted)}) THEN _w END), 0) AS swy_{i}_{j}")
                cell_sums += [
                    f"sum(swy_{i}_{j}) AS swy_{i}_{j}",
                    f"sum(swy_{i}_{j} * sw_{i}) AS yw_{i}_{j}",
                    f"sum(swy_{i}_{j} * swy_{i}_{j}) AS yy_{i}_{j}",
                ]
        unit = ["_survey", "_stratum", "_psu"]
        # one query per domain variable (all, then each segment variable) rather than GROUPING SETS
        # in one: a file of a million respondents who are each their own PSU would otherwise hold
        # every PSU's sums once per set at the same time (3.5 GB at a million)
        out = []
        base = f"WITH base AS (SELECT {', '.join(select)} FROM raw WHERE _survey IS NOT NULL)"
        variables: list[str | None] = [None, *(column for column, _ in segments)]
        for k, variable in enumerate(variables):
            seg = [] if variable is None else [f"_seg{k - 1}"]
            sql = (
                f"{base}, units AS (SELECT {', '.join(unit + seg)}, {', '.join(unit_sums)} FROM base "
                f"GROUP BY {', '.join(unit + seg)}) "
                f"SELECT _survey, _stratum, {', '.join([*seg, *cell_sums])} FROM units "
                f"{'WHERE ' + seg[0] + ' IS NOT NULL ' if seg else ''}GROUP BY ALL"
            )
            cells = self.con.execute(sql, params).df()
            if seg:
                cells = cells.rename(columns={seg[0]: "segment"}).assign(variable=variable)
            else:
                cells = cells.assign(variable=None, segment="all")
            out.append(cells)
        result = pd.concat(out, ignore_index=True)
        keys = ["_survey", "_stratum", "variable", "segment"]
        sums = [c for c in result.columns if c not in keys]
        result = pd.concat([result[keys], result[sums].astype("float64").fillna(0.0)], axis=1)
        return result.rename(columns={"_survey": "survey", "_stratum": "stratum"})

    def strata(
        self, *, survey: tuple[str, dict[str, str]], stratum: str | None, psu: str | None, population: str | None
    ) -> pd.DataFrame:
        """Per survey and stratum: respondents, PSUs (n_h) and the declared population
        size N_h (smallest and largest value given, and how many rows gave one)."""
        key = f"coalesce({self._text(stratum)}, '')" if stratum else "''"
        units = f"count(DISTINCT coalesce({self._text(psu)}, '#' || CAST(rowid AS VARCHAR)))" if psu else "count(*)"
        size = self._number(population) if population else "CAST(NULL AS DOUBLE)"
        sql = (
            f"SELECT {self._text(survey[0])} AS survey, {key} AS stratum, count(*) AS respondents, "
            f"{units} AS psus, min({size}) AS population_min, max({size}) AS population_max, "
            f"count({size}) AS population_rows FROM raw GROUP BY ALL"
        )
        frame = self.con.execute(sql).df()
        frame["survey"] = frame["survey"].map({k.lower(): v for k, v in survey[1].items()})
        frame = frame[frame["survey"].notna()]
        return frame.groupby(["survey", "stratum"], as_index=False).agg(
            respondents=("respondents", "sum"),
            psus=("psus", "sum"),
            population_min=("population_min", "min"),
            population_max=("population_max", "max"),
            population_rows=("population_rows", "sum"),
        )


def _codes(values: list[int]) -> str:
    # whole numbers from the codebook (checked when it is parsed), not from the file
    return ", ".join(str(int(v)) for v in values) or "NULL"
