"""Disclosure control (itip.disclosure): primary and secondary suppression, and a differencing
attack on a real warehouse. All respondent data here is SYNTHETIC, made up inline by the tests."""

from __future__ import annotations

import struct
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from flows.ingest import ingest
from itip import ingest as lib
from itip.db import open_warehouse
from itip.db_read import run_query
from itip.disclosure import Relation, relations, secondary, suppress
from itip.lake import Lake, snapshots
from tests.conftest import write

ORG = [
    Relation("organisations", "all", ("state", "municipalities")),
    Relation("organisations", "municipalities", ("municipality_small", "municipality_medium", "municipality_large")),
]


def derivable(hidden: set[str], present: set[str], rels: list[Relation]) -> set[str]:
    """Hidden cells a linear attack can solve for: e_i lies in the row space of the relations
    restricted to the hidden cells (shown cells are known constants). Independent of the heuristic."""
    cells = sorted(hidden)
    rows = []
    for rel in rels:
        members = [rel.parent, *[c for c in rel.children if c in present]]
        if rel.parent not in present:
            continue
        rows.append([(1.0 if c == rel.parent else -1.0) if c in members else 0.0 for c in cells])
    if not rows or not cells:
        return set()
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = set()
    for i, cell in enumerate(cells):
        unit = np.zeros(len(cells))
        unit[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.add(cell)
    return out


def frame(cells: dict[str, tuple[int, float]], answers: tuple[str | None, ...] = (None,)) -> pd.DataFrame:
    """Synthetic estimates: segment -> (n, value) for one organisation indicator in 2024."""
    records = [
        {
            "year": 2024,
            "survey": "organisations",
            "indicator": "x",
            "segment": seg,
            "answer": ans,
            "value": value,
            "n": n,
            "n_effective": n * 0.8,
            "ci_low": max(value - 5, 0.0),
            "ci_high": min(value + 5, 100.0),
            "value_status": "estimated",
        }
        for seg, (n, value) in cells.items()
        for ans in answers
    ]
    out = pd.DataFrame.from_records(records)
    out["n"] = out["n"].astype("Int64")
    return out


def hidden_segments(result: pd.DataFrame) -> set[str]:
    return set(result.loc[result["value_status"] == "suppressed", "segment"])


#: Organisation cells (n, value) where one municipality size group is below the threshold of 10.
ONE_SMALL_MUNICIPALITY = {
    "all": (100, 50.0),
    "state": (40, 40.0),
    "municipalities": (60, 56.0),
    "municipality_small": (5, 60.0),
    "municipality_medium": (20, 55.0),
    "municipality_large": (35, 56.0),
}


def test_one_hidden_child_takes_its_smallest_sibling_with_it() -> None:
    cells = ONE_SMALL_MUNICIPALITY
    result = suppress(frame(cells), ORG, 10, 20)
    assert hidden_segments(result) == {"municipality_small", "municipality_medium"}
    assert derivable(hidden_segments(result), set(cells), ORG) == set()
    hidden = result[result["value_status"] == "suppressed"]
    assert hidden[["value", "n", "n_effective", "ci_low", "ci_high"]].isna().all().all()
    shown = result[result["value_status"] == "estimated"]
    assert shown[["value", "n", "n_effective"]].notna().all().all()


def test_suppressing_again_under_new_rules_keeps_cells_stored_suppressed_without_their_n() -> None:
    """A warehouse suppressed before holds hidden cells with n emptied; when the rules change
    (a stricter threshold) the stored estimates are suppressed again, and those cells stay hidden."""
    cells = ONE_SMALL_MUNICIPALITY
    stored = suppress(frame(cells), ORG, 10, 20)
    assert stored.loc[stored["value_status"] == "suppressed", "n"].isna().all()
    again = suppress(stored, ORG, 36, 36)  # now the large municipalities (35) are too few as well
    assert hidden_segments(again) >= hidden_segments(stored) | {"municipality_large"}
    assert derivable(hidden_segments(again), set(cells), ORG) == set()


def test_nested_hierarchies_are_closed_until_nothing_is_derivable() -> None:
    """A small state sector hides municipalities (its only sibling), which then must not be
    derivable as the sum of the size classes: a size class goes too."""
    cells = {
        "all": (100, 50.0),
        "state": (8, 40.0),
        "municipalities": (92, 51.0),
        "municipality_small": (30, 50.0),
        "municipality_medium": (31, 52.0),
        "municipality_large": (31, 51.0),
    }
    hidden = hidden_segments(suppress(frame(cells), ORG, 10, 20))
    assert hidden == {"state", "municipalities", "municipality_small"}
    assert derivable(hidden, set(cells), ORG) == set()
    # without the secondary step the state cell would be all - municipalities
    assert derivable({"state"}, set(cells), ORG) == {"state"}


def test_a_hidden_only_child_hides_its_parent() -> None:
    n = {"all": 30.0, "municipalities": 30.0, "municipality_small": 5.0}
    assert secondary({"municipality_small"}, n, ORG) == {"municipality_small", "municipalities", "all"}


def test_zero_or_hundred_percent_is_hidden_only_in_groups_below_the_second_threshold() -> None:
    cells = {
        "all": (200, 50.0),
        "state": (15, 100.0),  # every one of 15 said yes: primary
        "municipalities": (185, 46.0),
        "municipality_small": (25, 0.0),  # 0 % but 25 >= 20: shown
        "municipality_medium": (15, 50.0),  # 15 < 20 but not extreme: shown
        "municipality_large": (145, 50.0),
    }
    hidden = hidden_segments(suppress(frame(cells), ORG, 10, 20))
    assert "state" in hidden and "municipalities" in hidden  # the parent's only other child
    assert "municipality_small" in hidden or "municipality_medium" in hidden  # municipalities not derivable
    assert "municipality_large" not in hidden
    assert derivable(hidden, set(cells), ORG) == set()


def test_all_answers_of_a_distribution_go_together() -> None:
    cells = {"all": (100, 50.0), "state": (5, 40.0), "municipalities": (95, 51.0)}
    result = suppress(frame(cells, answers=("high", "some", "low")), ORG, 10, 20)
    hidden = result[result["value_status"] == "suppressed"]
    assert sorted(hidden["answer"]) == sorted(["high", "some", "low"] * 2)


def test_the_codebook_declares_the_nesting(codebook) -> None:
    found = {(r.survey, r.parent): set(r.children) for r in relations(codebook.respondents)}
    assert found[("organisations", "municipalities")] == {
        "municipality_small",
        "municipality_medium",
        "municipality_large",
    }
    assert found[("organisations", "all")] == {"state", "municipalities"}
    assert found[("citizens", "all")] == {"age_16_24", "age_25_44", "age_45_66", "age_67_plus"}


# --- end to end: a SYNTHETIC respondent file through the real flow, then an attack ------------
HEADER = (
    "respondent_id,survey,sector,size_class,kommunenummer,age_group,weight,q_tillit_opplysninger,q_gevinster_realisert"
)
GROUPS = {  # segment variable codes -> respondents; the small size class (6) and one age group (7) are small
    ("organisations", 1, None): 40,
    ("organisations", 2, 1): 6,
    ("organisations", 2, 2): 25,
    ("organisations", 2, 3): 45,
    ("citizens", 1, None): 30,
    ("citizens", 2, None): 30,
    ("citizens", 3, None): 7,
    ("citizens", 4, None): 30,
}


def synthetic_file() -> tuple[str, pd.DataFrame]:
    rng = np.random.default_rng(8)
    rows, people = [HEADER], []
    i = 0
    for (survey, code, size), count in GROUPS.items():
        for _ in range(count):
            i += 1
            answer = int(rng.integers(1, 6))
            weight = float(np.round(rng.uniform(0.5, 2.5), 3))
            if survey == "organisations":
                size_text = "" if size is None else str(size)
                rows.append(f"S{i:05d},organisations,{code},{size_text},,,{weight},,{answer}")
            else:
                rows.append(f"S{i:05d},citizens,,,,{code},{weight},{answer},")
            people.append({"survey": survey, "code": code, "size": size, "answer": answer, "weight": weight})
    return "\n".join(rows) + "\n", pd.DataFrame.from_records(people)


def true_values(people: pd.DataFrame) -> dict[str, list[float]]:
    """Weighted shares (percent) per segment, computed here from the synthetic file."""
    org = people[people["survey"] == "organisations"]
    cit = people[people["survey"] == "citizens"]
    groups = {
        "organisations/all": org,
        "organisations/state": org[org["code"] == 1],
        "organisations/municipalities": org[org["code"] == 2],
        "organisations/municipality_small": org[org["size"] == 1],
        "organisations/municipality_medium": org[org["size"] == 2],
        "organisations/municipality_large": org[org["size"] == 3],
        "citizens/all": cit,
        "citizens/age_16_24": cit[cit["code"] == 1],
        "citizens/age_25_44": cit[cit["code"] == 2],
        "citizens/age_45_66": cit[cit["code"] == 3],
        "citizens/age_67_plus": cit[cit["code"] == 4],
    }
    counts = {"citizens": [[3, 4, 5]], "organisations": [[4, 5], [3], [1, 2]]}  # codebook counts
    out = {}
    for key, g in groups.items():
        w = g["weight"].to_numpy()
        out[key] = [100 * w[g["answer"].isin(c).to_numpy()].sum() / w.sum() for c in counts[key.split("/")[0]]]
    return out


@pytest.mark.usefixtures("prefect_harness")
def test_a_differencing_attack_on_the_warehouse_recovers_no_suppressed_cell(tmp_path: Path, codebook) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    text, people = synthetic_file()
    write(raw, "itip_2024_respondents.csv", text)
    wh = tmp_path / "itip.duckdb"
    assert [o.status for o in ingest(raw_dir=raw, warehouse=wh)] == [lib.LOADED]
    rels = relations(codebook.respondents)
    pairs = pd.DataFrame.from_records(
        [{"survey": r.survey, "parent": r.parent, "child": c} for r in rels for c in r.children]
    )
    with duckdb.connect(str(wh), read_only=True) as con:
        con.register("rel", pairs)
        for view in ("estimates", "trend"):
            # per indicator, answer and relation: how many of parent + present children are hidden
            lonely = con.execute(
                f"""
                WITH cells AS (SELECT indicator, survey, answer, year, segment, value IS NULL AS hidden FROM {view}),
                members AS (
                    SELECT DISTINCT survey, parent, parent AS segment FROM rel
                    UNION ALL SELECT survey, parent, child FROM rel
                )
                SELECT c.indicator, c.answer, m.parent, count(*) FILTER (WHERE c.hidden) AS hidden
                FROM cells c JOIN members m ON m.survey = c.survey AND m.segment = c.segment
                GROUP BY ALL HAVING count(*) FILTER (WHERE c.hidden) = 1
                """  # view is one of two literals above
            ).fetchall()
            assert lonely == [], f"{view}: a hidden cell is parent minus shown siblings: {lonely}"
        stored = con.execute(
            "SELECT survey, segment, value, n, n_effective, ci_low, ci_high, value_status FROM estimates "
            "WHERE indicator IN ('trust_personal_data_safe', 'benefits_realised')"
        ).df()
        shown_trend = con.execute("SELECT value_status, value FROM trend WHERE value_status = 'suppressed'").df()
        numbers = []
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            for column, kind in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [table]
            ).fetchall():
                if kind in ("DOUBLE", "FLOAT", "DECIMAL"):
                    numbers += [
                        v for (v,) in con.execute(f'SELECT "{column}" FROM "{table}"').fetchall() if v is not None
                    ]
    hidden = stored[stored["value_status"] == "suppressed"]
    assert set(hidden["segment"]) >= {"municipality_small", "age_45_66"}  # primary
    assert len(set(hidden[hidden["survey"] == "organisations"]["segment"])) >= 2  # secondary
    assert hidden[["value", "n", "n_effective", "ci_low", "ci_high"]].isna().all().all()
    assert shown_trend["value"].isna().all() and len(shown_trend) == len(hidden)
    for survey, segs in hidden.groupby("survey")["segment"]:
        present = set(stored.loc[stored["survey"] == survey, "segment"])
        assert derivable(set(segs), present, [r for r in rels if r.survey == survey]) == set()
    # the true shares of the hidden cells are nowhere in the warehouse: not in any numeric column,
    # not as float64 bytes or text in the file
    truth = true_values(people)
    data = wh.read_bytes()
    secret = [v for key, vs in truth.items() for v in vs if key.split("/")[1] in set(hidden["segment"])]
    assert secret
    for value in secret:
        assert not any(abs(value - x) < 1e-9 for x in numbers), value
        assert struct.pack("<d", value) not in data
        assert repr(value).encode() not in data and f"{value:.6f}".encode() not in data
    # the scan can find what is there: a shown value is among the numbers
    shown_value = truth["organisations/all"][0]
    assert any(abs(shown_value - x) < 1e-9 for x in numbers)


def true_counts(people: pd.DataFrame) -> dict[str, int]:
    """Respondents per segment (every synthetic answer is on the scale, so all are in the base)."""
    org = people[people["survey"] == "organisations"]
    cit = people[people["survey"] == "citizens"]
    return {
        "organisations/all": len(org),
        "organisations/state": int((org["code"] == 1).sum()),
        "organisations/municipalities": int((org["code"] == 2).sum()),
        "organisations/municipality_small": int((org["size"] == 1).sum()),
        "organisations/municipality_medium": int((org["size"] == 2).sum()),
        "organisations/municipality_large": int((org["size"] == 3).sum()),
        "citizens/all": len(cit),
        **{f"citizens/{s}": int((cit["code"] == c).sum()) for c, s in enumerate(AGES, start=1)},
    }


AGES = ["age_16_24", "age_25_44", "age_45_66", "age_67_plus"]
ANSWER_INDEX = {None: 0, "high": 0, "some": 1, "low": 2}


@pytest.mark.usefixtures("prefect_harness")
def test_a_warehouse_from_before_disclosure_control_loses_its_small_cells_when_opened_for_writing(
    tmp_path: Path, codebook
) -> None:
    """Warehouses written before disclosure control (contract version 3) hold the true value and
    n of every small cell in estimates. The fixture makes one: a current warehouse whose
    suppressed rows get their true values and n written back, stored uncompressed so that the
    bytes are plainly in the file, with the schema and disclosure marks of an old version.
    The next ingest (which opens the file for writing) must suppress them by the same rules and
    leave no byte of them in the file."""
    raw = tmp_path / "raw"
    raw.mkdir()
    text, people = synthetic_file()
    write(raw, "itip_2024_respondents.csv", text)
    wh = tmp_path / "itip.duckdb"
    assert [o.status for o in ingest(raw_dir=raw, warehouse=wh)] == [lib.LOADED]
    truth, counts = true_values(people), true_counts(people)
    with duckdb.connect(str(wh)) as con:
        before = con.execute(
            "SELECT source_row, survey, segment, answer, value_status FROM estimates ORDER BY source_row"
        ).fetchall()
        hidden = [r for r in before if r[4] == "suppressed"]
        assert len(hidden) >= 6
        old = pd.DataFrame.from_records(
            [
                {
                    "source_row": row,
                    "value": truth[f"{survey}/{segment}"][ANSWER_INDEX[answer]],
                    "n": counts[f"{survey}/{segment}"],
                }
                for row, survey, segment, answer, _ in hidden
            ]
        )
        con.execute("SET force_compression = 'uncompressed'")
        con.register("old", old)
        con.execute(
            "UPDATE estimates SET value = old.value, n = old.n, n_effective = old.n, ci_low = 0, ci_high = 100, "
            "value_status = 'estimated' FROM old WHERE estimates.source_row = old.source_row"
        )
        con.execute("UPDATE meta SET value = 'an older schema' WHERE key = 'schema_sha256'")
        con.execute("DELETE FROM meta WHERE key = 'disclosure_rules'")
        con.execute("CHECKPOINT")
    secret = list(old["value"])
    data = wh.read_bytes()
    assert all(struct.pack("<d", v) in data for v in secret)  # the search finds them where they are

    assert [o.status for o in ingest(raw_dir=raw, warehouse=wh)] == [lib.UNCHANGED]

    data = wh.read_bytes()
    for value in secret:
        assert struct.pack("<d", value) not in data, value
    with duckdb.connect(str(wh), read_only=True) as con:
        after = con.execute(
            "SELECT source_row, survey, segment, answer, value_status FROM estimates ORDER BY source_row"
        ).fetchall()
        assert after == before  # the same cells as the rules hide at load, no more, no fewer
        emptied = con.execute(
            "SELECT count(*) FROM estimates WHERE value_status = 'suppressed' "
            "AND (value IS NOT NULL OR n IS NOT NULL OR n_effective IS NOT NULL OR ci_low IS NOT NULL)"
        ).fetchone()
        assert emptied == (0,)
        numbers = [
            v
            for (v,) in con.execute(
                "SELECT value FROM estimates UNION ALL SELECT prev_value FROM changes UNION ALL SELECT value FROM trend"
            ).fetchall()
            if v is not None
        ]
        assert not any(abs(s - x) < 1e-9 for s in secret for x in numbers)
        assert any(abs(truth["organisations/all"][0] - x) < 1e-9 for x in numbers)  # shown cells stay
        # a whole warehouse: marks and comments of the current contract
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'disclosure_rules'").fetchone() == (1,)
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'estimates' AND column_name = 'base'"
        ).fetchone()
        assert comment is not None and "Answer base" in str(comment[0])
    assert not list(tmp_path.glob("itip.duckdb.next*"))  # no working copy left behind


@pytest.mark.usefixtures("prefect_harness")
def test_on_a_lake_no_older_snapshot_keeps_a_value_the_rules_now_hide(tmp_path: Path) -> None:
    """DuckLake keeps every snapshot for time travel. A lake whose stored values were written
    under looser rules (here: the true values written back into the suppressed cells, the
    disclosure mark removed, as in a lake from before disclosure control) must, once the rules
    are applied again, keep those values in no snapshot that `--as-of` can read and in no
    Parquet file of its data path."""
    raw = tmp_path / "raw"
    raw.mkdir()
    text, people = synthetic_file()
    write(raw, "itip_2024_respondents.csv", text)
    lake = Lake(str(tmp_path / "meta.ducklake"), str(tmp_path / "lake-data") + "/")
    assert [o.status for o in ingest(raw_dir=raw, warehouse=lake)] == [lib.LOADED]
    truth, counts = true_values(people), true_counts(people)
    with open_warehouse(lake) as wh:
        hidden = wh.con.execute(
            "SELECT source_row, survey, segment, answer FROM estimates WHERE value_status = 'suppressed'"
        ).fetchall()
        assert len(hidden) >= 6
        old = pd.DataFrame.from_records(
            [
                {
                    "source_row": row,
                    "value": truth[f"{survey}/{segment}"][ANSWER_INDEX[answer]],
                    "n": counts[f"{survey}/{segment}"],
                }
                for row, survey, segment, answer in hidden
            ]
        )
        wh.con.register("old", old)
        wh.con.execute(
            "UPDATE estimates SET value = old.value, n = old.n, value_status = 'estimated' FROM old "
            "WHERE estimates.source_row = old.source_row"
        )
        wh.con.execute("DELETE FROM meta WHERE key = 'disclosure_rules'")
    secret = list(old["value"])
    leaky = max(snapshots(lake))[0]
    assert any(abs(s - v) < 1e-9 for s in secret for (v,) in run_query(lake, "SELECT value FROM estimates")[1] if v)

    assert [o.status for o in ingest(raw_dir=raw, warehouse=lake)] == [lib.UNCHANGED]

    remaining = [snapshot for snapshot, _ in snapshots(lake)]
    assert leaky not in remaining
    for snapshot in remaining:
        values = [v for (v,) in run_query(lake, "SELECT value FROM estimates", as_of=str(snapshot))[1] if v]
        assert not any(abs(s - v) < 1e-9 for s in secret for v in values), snapshot
    with duckdb.connect() as con:
        files = [str(p) for p in (tmp_path / "lake-data").rglob("*.parquet")]
        stored = [
            v
            for f in files
            for row in con.execute("SELECT * FROM read_parquet(?)", [f]).fetchall()
            for v in row
            if isinstance(v, float)
        ]
    assert stored and not any(abs(s - v) < 1e-9 for s in secret for v in stored)
