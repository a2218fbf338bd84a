"""What the warehouse holds of the codebook, and what follows from it: the indicators and
breaks, the disclosure rules stored respondent-level estimates were suppressed by, the answer
bases of published figures, and the tests of change. Split from itip.db, whose
`Warehouse.sync_codebook` calls `sync_codebook` here; column names in these statements are
constants, never input."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import duckdb

from itip.codebook import Codebook

# pandas and numpy are imported where the codebook is written: reading needs neither (itip.db).
if TYPE_CHECKING:
    import pandas as pd

    from itip.db import Warehouse

#: meta key holding the disclosure rules (thresholds and segment nesting) the stored respondent-level
#: estimates were suppressed by; absent in warehouses written before disclosure control (contract 4).
DISCLOSURE_META = "disclosure_rules"


def disclosure_rules(codebook: Codebook) -> str:
    """A fingerprint of the codebook's disclosure rules: when it differs from the one stored, the
    stored estimates are suppressed again (a warehouse from before disclosure control has none)."""
    spec = codebook.respondents
    if spec is None:
        return "none"
    from itip.disclosure import relations

    rels = sorted((r.survey, r.parent, r.children) for r in relations(spec))
    text = repr((spec.min_cell_n, spec.min_cell_n_extreme, rels, ("min_effective_n", spec.min_effective_n)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def refresh_change_tests(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute table change_tests, the p- and q-values of view changes, from the comparable
    changes of the current estimates (the views change_pairs and changes). Run in the load
    transaction whenever the current releases or the codebook changed."""
    from itip.stats import change_tests  # statistics libraries load only when something changes

    pairs = con.execute(
        "SELECT p.* FROM change_pairs AS p JOIN changes AS c USING (release_id, source_row) "
        "WHERE c.comparable_with_prev AND c.change_pp IS NOT NULL"
    ).df()
    tests = change_tests(pairs)
    con.execute("DELETE FROM change_tests")
    con.register("_change_tests", tests)
    con.execute("INSERT INTO change_tests BY NAME SELECT * FROM _change_tests")
    con.unregister("_change_tests")


def sync_codebook(wh: Warehouse, codebook: Codebook) -> bool:
    """Replace indicators and breaks when the codebook changed; True if it did. Stored
    respondent-level estimates are suppressed again when the disclosure rules differ from
    the ones they were stored under (migration of warehouses from before disclosure control)."""
    rules = disclosure_rules(codebook)
    if wh.get_meta("codebook_sha256") == codebook.sha256 and wh.get_meta(DISCLOSURE_META) == rules:
        return False
    import pandas as pd

    indicators = pd.DataFrame.from_records(
        [
            {
                "indicator": i.id,
                "survey": i.survey,
                "topic": i.topic,
                "label_no": i.label_no,
                "label_en": i.label_en,
                "unit": i.unit,
                "better": i.better,
                "answers": [a.id for a in i.answers],
                "aliases": [f"{year}: {text}" for year, text, _ in i.aliases],
                "note": i.note,
            }
            for i in codebook.indicators.values()
        ]
    )
    breaks = pd.DataFrame.from_records(
        [
            {
                "indicator": ind,
                "year": b.year,
                "scope": "indicator" if b.indicator else "survey",
                "reason": b.reason,
            }
            for ind in codebook.indicators
            for b in codebook.breaks_for(ind)
        ],
        columns=["indicator", "year", "scope", "reason"],
    )
    with wh.transaction():
        wh.con.execute("DELETE FROM indicators")
        wh.con.register("_indicators", indicators)
        wh.con.execute("INSERT INTO indicators BY NAME SELECT * FROM _indicators")
        wh.con.unregister("_indicators")
        wh.con.execute("DELETE FROM breaks")
        wh.con.register("_breaks", breaks)
        wh.con.execute("INSERT INTO breaks BY NAME SELECT * FROM _breaks")
        wh.con.unregister("_breaks")
        if codebook.respondents is not None:
            wh.set_meta("min_cell_n", str(codebook.respondents.min_cell_n))
        if wh.get_meta(DISCLOSURE_META) != rules:
            if codebook.respondents is not None:
                suppress_stored(wh, codebook)
            wh.set_meta(DISCLOSURE_META, rules)
        declare_published_bases(wh, codebook)
        refresh_change_tests(wh.con)
        wh.set_meta("codebook_sha256", codebook.sha256)
        wh.mark_write()
    return True


def suppress_stored(wh: Warehouse, codebook: Codebook) -> int:
    """Apply disclosure control (itip.disclosure, the rules applied before storage) to every
    stored respondent-level estimate, current and superseded, and empty the hidden columns
    of the cells it suppresses. Warehouses written before disclosure control hold the true
    values of small cells; an owner who needs them re-runs from the raw file. Returns how
    many rows were emptied. Column names here are constants, never input."""
    import numpy as np
    import pandas as pd

    from itip import disclosure

    spec = codebook.respondents
    assert spec is not None
    present = {
        str(r[0])
        for r in wh.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'estimates' "
            "AND database_name = current_database() AND schema_name = current_schema()"
        ).fetchall()
    }
    hidden = [c for c in disclosure.HIDDEN_COLUMNS if c in present]
    stored = wh.con.execute(
        "SELECT e.* FROM estimates AS e INNER JOIN releases AS r ON r.release_id = e.release_id "
        "WHERE r.kind = 'respondents'"
    ).df()
    if stored.empty:
        return 0
    for column in disclosure.HIDDEN_COLUMNS:  # columns this warehouse never had
        if column not in stored.columns:
            stored[column] = np.nan
    rels = disclosure.relations(spec)
    empty: list[pd.DataFrame] = []
    for _, release in stored.groupby("release_id", sort=False):
        out = disclosure.suppress(release, rels, spec.min_cell_n, spec.min_cell_n_extreme, spec.min_effective_n)
        hide = (out["value_status"] == disclosure.SUPPRESSED) & (
            (release["value_status"] != disclosure.SUPPRESSED) | release[hidden].notna().any(axis=1)
        )
        empty.append(release.loc[hide, ["release_id", "source_row"]])
    rows = pd.concat(empty, ignore_index=True)
    if rows.empty:
        return 0
    assignments = ", ".join(f"{c} = NULL" for c in hidden)  # constants from itip.disclosure
    wh.con.register("_hide", rows)
    wh.con.execute(
        f"UPDATE estimates SET {assignments}, value_status = 'suppressed' FROM _hide AS h "
        "WHERE estimates.release_id = h.release_id AND estimates.source_row = h.source_row"
    )
    wh.con.unregister("_hide")
    wh.rewrite_needed = True
    return len(rows)


def declare_published_bases(wh: Warehouse, codebook: Codebook) -> None:
    """Set estimates.base of published figures from the codebook's published_base: what is
    known about how a publication counted can change after it was loaded (respondent-level
    estimates keep the base they were computed with)."""
    stored = wh.con.execute(
        "SELECT e.release_id, e.source_row, e.indicator, e.year, e.base FROM estimates AS e "
        "INNER JOIN releases AS r ON r.release_id = e.release_id WHERE r.kind = 'published'"
    ).df()
    if stored.empty:
        return
    import pandas as pd

    declared = [
        codebook.published_base(str(i), int(y)) if isinstance(i, str) else None
        for i, y in zip(stored["indicator"], stored["year"], strict=True)
    ]
    stored["declared"] = pd.Series(declared, index=stored.index, dtype="object")
    old = stored["base"].where(stored["base"].notna(), None)
    changed = stored[[a != b for a, b in zip(old, stored["declared"], strict=True)]]
    if changed.empty:
        return
    wh.con.register("_bases", changed[["release_id", "source_row", "declared"]])
    wh.con.execute(
        "UPDATE estimates SET base = d.declared FROM _bases AS d "
        "WHERE estimates.release_id = d.release_id AND estimates.source_row = d.source_row"
    )
    wh.con.unregister("_bases")
