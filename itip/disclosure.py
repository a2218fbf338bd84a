"""Disclosure control of respondent-level estimates, applied before anything is stored.

Follows Statistics Norway's (SSB) practice for tables: *primary* suppression of cells
that are too small to publish (too few answers, a 0 or 100 % share of a small group, or
weights so concentrated that a few respondents decide the share: Kish's effective n),
then *secondary* (complementary) suppression so that no hidden cell can be worked out
from shown totals and siblings. A suppressed cell keeps
its row (so the grid stays complete and the report can show SSB's `:`), but its value,
n, effective n and interval are dropped here, so the warehouse file never holds them.

The suppression unit is one segment of one indicator in one year and survey, with all
its answers together: n is shared by the answers of a distribution, and the answers of
a distribution add up, so hiding one answer but not the others would not hide it.

Additive relations come from the codebook: each segment variable's segments add up to
the segment it lies `within` (default `all`), e.g. all = state + municipalities and
municipalities = small + medium + large. With weights a parent is a weighted mean of its
children, so the shares and n of shown cells suffice to derive a hidden one; the rule
is therefore the classic one: no relation may have exactly one hidden cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from itip.respondents.spec import RespondentSpec

#: Columns emptied in a suppressed cell: everything that would let the value be derived.
HIDDEN_COLUMNS = ("value", "n", "n_effective", "ci_low", "ci_high", "se", "design_effect", "df")
SUPPRESSED = "suppressed"
UNIT = ["year", "survey", "indicator"]


@dataclass(frozen=True)
class Relation:
    """parent = sum of children (in n, and in weighted totals) within one survey."""

    survey: str
    parent: str
    children: tuple[str, ...]


def relations(spec: RespondentSpec) -> list[Relation]:
    """The additive relations the codebook's segment variables declare."""
    out = []
    for var in spec.segments:
        children = tuple(dict.fromkeys(var.codes.values()))
        out.append(Relation(var.survey, var.within, children))
    return out


def primary(
    frame: pd.DataFrame, min_cell_n: int, min_cell_n_extreme: int, min_effective_n: int | None = None
) -> set[tuple[object, ...]]:
    """(year, survey, indicator, segment) of cells too small to show on their own: fewer than
    `min_cell_n` answers; a share of 0 or 100 % in fewer than `min_cell_n_extreme`; or a Kish
    effective n below `min_effective_n` (default `min_cell_n`): a cell where one respondent, or
    a few, carry most of the weight publishes their answers whatever its n (see `dominated`)."""
    n = frame["n"].astype(float)
    value = frame["value"].astype(float)
    extreme = (np.isclose(value, 0.0, atol=1e-9) | np.isclose(value, 100.0, atol=1e-9)) & (n < min_cell_n_extreme)
    small = (n < min_cell_n) | extreme
    if "n_effective" in frame.columns:
        small |= dominated(frame["n_effective"], min_cell_n if min_effective_n is None else min_effective_n)
    keys = frame.loc[small, [*UNIT, "segment"]]
    return {tuple(k) for k in keys.itertuples(index=False, name=None)}


def dominated(n_effective: pd.Series, threshold: int) -> pd.Series:
    """Cells whose weights are concentrated on a few respondents: Kish's effective n,
    (Σw)² / Σw², below `threshold`.

    Why Kish's n and not a separate (n, k) dominance rule (Hundepool et al. 2012, ch. 4): with
    s_i the weight shares of a cell, n_eff = 1 / Σ s_i², and if the k largest hold a share S,
    Σ s_i² ≥ S²/k, so n_eff ≤ k / S². A cell passes only if, for every k at once, its k heaviest
    respondents hold at most √(k / threshold) of the weight: at 10, one respondent at most
    31.6 %, two 44.7 %, three 54.8 %. That is every (k, √(k/T)) dominance rule in one number the
    warehouse already stores, and it ties the rule to the existing one: a cell must carry the
    information of at least `threshold` equally weighted answers. A respondent with more than
    half a cell's weight decides which answer is the largest, so a 10-person cell with one such
    respondent publishes that person's answer (issue 14); it is hidden here. Stored cells with
    no effective n (none in practice) are not judged by this rule."""
    values = pd.to_numeric(n_effective, errors="coerce").astype(float)
    return values.notna() & (values < threshold)


def secondary(hidden: set[str], n: dict[str, float], rels: Iterable[Relation]) -> set[str]:
    """Hide more segments until no relation has exactly one hidden cell.

    `n` holds the segments present (with their unweighted n); segments absent from the
    data are no part of any sum. The shown child with the smallest n goes first (least
    information lost, SSB's usual choice); with no shown child left, the parent goes.
    """
    hidden = set(hidden)
    rels = list(rels)
    changed = True
    while changed:
        changed = False
        for rel in rels:
            if rel.parent not in n:
                continue
            members = [c for c in rel.children if c in n]
            if not members:
                continue
            cells = [rel.parent, *members]
            if sum(c in hidden for c in cells) != 1:
                continue
            shown = sorted((c for c in members if c not in hidden), key=lambda c: (n[c], c))
            hidden.add(shown[0] if shown else rel.parent)
            changed = True
    return hidden


def suppress(
    frame: pd.DataFrame,
    rels: list[Relation],
    min_cell_n: int,
    min_cell_n_extreme: int,
    min_effective_n: int | None = None,
) -> pd.DataFrame:
    """The estimates with primary and secondary suppression applied.

    `frame` has year, survey, indicator, segment, answer, value (percent), n,
    n_effective, ci_low, ci_high and value_status. Suppressed rows keep their key and
    get value_status `suppressed` with every column in HIDDEN_COLUMNS emptied.
    """
    out = frame.copy()
    if out.empty:
        return out
    first = primary(out, min_cell_n, min_cell_n_extreme, min_effective_n)
    # cells stored suppressed already (a warehouse suppressed again under new rules) count as hidden
    done_before = out.loc[out["value_status"] == SUPPRESSED, [*UNIT, "segment"]]
    first |= {tuple(k) for k in done_before.itertuples(index=False, name=None)}
    hide: set[tuple[object, ...]] = set()
    for key, group in out.groupby(UNIT, sort=False):
        unit = tuple(key)
        survey = str(unit[1])
        # a cell stored suppressed has no n any more: it is hidden already, so it counts as 0
        n = {str(seg): 0.0 if pd.isna(v) else float(v) for seg, v in group.groupby("segment")["n"].max().items()}
        start = {seg for seg in n if (*unit, seg) in first}
        if not start:
            continue
        done = secondary(start, n, [r for r in rels if r.survey == survey])
        hide |= {(*unit, seg) for seg in done}
    if not hide:
        return out
    keys = pd.Series(list(out[[*UNIT, "segment"]].itertuples(index=False, name=None)), index=out.index)
    mask = keys.isin(hide)
    for column in HIDDEN_COLUMNS:
        if column not in out.columns:
            continue
        if column in ("n", "df"):
            out[column] = out[column].astype("Int64")
            out.loc[mask, column] = pd.NA
        else:
            out[column] = out[column].astype(float)
            out.loc[mask, column] = np.nan
    out.loc[mask, "value_status"] = SUPPRESSED
    return out


def apply(frame: pd.DataFrame, spec: RespondentSpec) -> pd.DataFrame:
    """Suppression as the codebook's `respondents` section sets it."""
    return suppress(frame, relations(spec), spec.min_cell_n, spec.min_cell_n_extreme, spec.min_effective_n)
