"""Synthetic respondent-level files for tests and benchmarks (`itip synth`).

Files look like real deliveries: both surveys in one file, segment variables
(sector, KOSTRA size class, kommunenummer with its leading zero, age group),
weights, "vet ikke"/not-asked codes, question columns named per year as the
codebook says (so reworded questions change name), and columns the codebook
does not declare (name, e-mail, phone, free text) that the ingest must drop.
Every file is marked synthetic: a `synthetic` column that is true in every
row, and for SPSS files also the file label. Respondent ids look like real
ones (`R2026-004711`: year and a random, unique number), not row numbers.

With `design=True` (`itip synth --design`) the files also carry a sampling design, with
the columns the codebook's `respondents.design` names: the organisation survey in two
strata, state agencies sampled at 5 % and municipalities as a near-census stratum (84 %
of the population of PSUs answer, as about 300 of 357 municipalities do), each
respondent its own PSU; the citizen survey in four regions, each sampled in clusters of
about 25 respondents whose answers share a cluster effect (so the design effect is
above 1). The design is as SYNTHETIC as the answers: no real sampling frame.

Generation is vectorised with numpy; CSV is written by DuckDB (itip.respondents.read.write_csv),
so a million respondents take seconds. Synthetic data never goes into raw/.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from itip.codebook import Codebook
from itip.paths import RAW_DIR, default_raw
from itip.problems import ItipError
from itip.respondents.spec import Question, RespondentSpec

#: Share of organisation respondents in a synthetic file (the rest are citizens).
ORGANISATION_SHARE = 0.3
FORMATS = ("csv", "xlsx", "sav")
MISSING_DONT_KNOW = 0.05  # "vet ikke"
MISSING_NOT_ASKED = 0.01  # routed past the question
SYNTHETIC_LABEL = "SYNTHETIC itip synth data - not real respondents"
FIRST_NAMES = np.array(["Kari", "Ola", "Ingrid", "Lars", "Nora", "Jonas", "Emma", "Aksel", "Sofie", "Henrik"])
LAST_NAMES = np.array(["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Bakken"])


def parse_years(text: str) -> list[int]:
    """'2008-2027', '2024' or '2020,2022' -> years."""
    years: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise ItipError(f"years must look like 2008-2027, 2024 or 2020,2022, not {text!r}") from None
        if not 1990 <= lo <= hi <= 2100:
            raise ItipError(f"years out of range: {part!r}")
        years.extend(range(lo, hi + 1))
    if not years:
        raise ItipError("no years given")
    return sorted(set(years))


def _refuse_raw(out: Path) -> None:
    target = out.resolve()
    for raw in {RAW_DIR.resolve(), default_raw().resolve()}:
        if target == raw or raw in target.parents:
            raise ItipError(f"{out}: synthetic data never goes into the release folder {raw}; choose another --out")


def _stable(text: str) -> float:
    """A number in [0, 1) fixed per text, so an indicator's synthetic level is the same every run."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 16**8


def _answers(
    q: Question, spec: RespondentSpec, year: int, segment_effect: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Answer codes for the respondents of the question's survey."""
    scale = spec.scales[q.scale]
    n = len(segment_effect)
    level = 0.3 + 0.5 * _stable(q.indicator)
    slope = (_stable(q.indicator + "slope") - 0.5) * 0.02
    answers = list(q.counts)
    counted = {a: np.array(q.counts[a]) for a in answers}
    codes = np.empty(n, dtype=np.int64)
    if answers == [None]:
        p = np.clip(level + slope * (year - 2017) + segment_effect, 0.02, 0.98)
        yes = rng.random(n) < p
        rest = np.array([c for c in scale.valid if c not in q.counts[None]])
        yes_codes = counted[None]
        codes[yes] = yes_codes[rng.integers(0, len(yes_codes), int(yes.sum()))]
        codes[~yes] = rest[rng.integers(0, len(rest), int((~yes).sum()))]
    else:
        weights = np.array([0.2 + _stable(q.indicator + str(a)) for a in answers])
        pick = rng.choice(len(answers), size=n, p=weights / weights.sum())
        for k, a in enumerate(answers):
            mask = pick == k
            codes[mask] = counted[a][rng.integers(0, len(counted[a]), int(mask.sum()))]
    u = rng.random(n)
    dont_know = [c for c in q.exclude if "vet ikke" in scale.labels.get(c, "").lower()] or list(q.exclude)[:1]
    not_asked = [c for c in q.exclude if c not in dont_know]
    if dont_know:
        codes[u < MISSING_DONT_KNOW] = dont_know[0]
    if not_asked:
        codes[(u >= MISSING_DONT_KNOW) & (u < MISSING_DONT_KNOW + MISSING_NOT_ASKED)] = not_asked[0]
    return codes


def _nullable(values: np.ndarray, mask: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype("int64"), ~mask)


#: Sampling fractions of the synthetic design: state agencies, municipalities (near census),
#: citizens' clusters; respondents per citizen cluster; spread of the cluster effect.
STATE_FRACTION, MUNICIPAL_FRACTION, CLUSTER_FRACTION = 0.05, 0.84, 0.02
CLUSTER_SIZE, CLUSTER_EFFECT = 25, 0.08
REGIONS = 4


def _design(
    spec: RespondentSpec, is_org: np.ndarray, sector: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, object], np.ndarray]:
    """The design columns (stratum, PSU, population size in PSUs) and each respondent's cluster effect."""
    d = spec.design
    if not (d.stratum and d.psu and d.population):
        raise ItipError("--design needs the codebook's respondents.design to name stratum, psu and population")
    n = len(is_org)
    stratum = np.empty(n, dtype=object)
    psu = np.char.add("u", np.arange(n).astype(str)).astype(object)  # own PSU unless clustered
    population = np.zeros(n)
    effect = np.zeros(n)
    for name, mask, fraction in (
        ("org_state", is_org & (sector == 1), STATE_FRACTION),
        ("org_municipal", is_org & (sector == 2), MUNICIPAL_FRACTION),
    ):
        stratum[mask] = name
        population[mask] = max(int(mask.sum()), round(mask.sum() / fraction))
    region = rng.integers(1, REGIONS + 1, size=n)
    for r in range(1, REGIONS + 1):
        mask = ~is_org & (region == r)
        count = int(mask.sum())
        clusters = max(2, count // CLUSTER_SIZE)
        cluster = rng.integers(0, clusters, size=count)
        stratum[mask] = f"region_{r}"
        psu[mask] = np.char.add(f"r{r}c", cluster.astype(str))
        population[mask] = round(clusters / CLUSTER_FRACTION)
        effect[mask] = rng.normal(0, CLUSTER_EFFECT, clusters)[cluster]
    columns: dict[str, object] = {
        d.stratum: stratum.astype(str),
        d.psu: psu.astype(str),
        d.population: population.astype(np.int64),
    }
    return columns, effect


def synth_year(
    codebook: Codebook, year: int, respondents: int, rng: np.random.Generator, design: bool = False
) -> pd.DataFrame:
    """One year's synthetic respondent file as a data frame (declared columns, then undeclared ones)."""
    spec = codebook.respondents
    if spec is None:
        raise ItipError("the codebook declares no respondent-level files")
    n = respondents
    is_org = np.zeros(n, dtype=bool)
    is_org[rng.choice(n, size=max(1, round(n * ORGANISATION_SHARE)) if n > 1 else 1, replace=False)] = True
    width = max(6, len(str(10 * n)))
    numbers = rng.choice(10**width, size=n, replace=False)
    ids = np.char.add(f"R{year}-", np.char.zfill(numbers.astype(str), width))
    columns: dict[str, object] = {spec.id_column: ids}
    columns[spec.survey_column] = np.where(is_org, "organisations", "citizens")
    sector = np.where(rng.random(n) < 0.4, 1, 2)
    municipal = is_org & (sector == 2)
    size = rng.choice([1, 2, 3], size=n, p=[0.5, 0.3, 0.2])
    age = rng.choice([1, 2, 3, 4], size=n, p=[0.15, 0.35, 0.32, 0.18])
    kommune = np.char.zfill(rng.integers(101, 5500, size=n).astype(str), 4)
    columns["sector"] = _nullable(sector, is_org)
    columns["size_class"] = _nullable(size, municipal)
    columns["kommunenummer"] = pd.Series(kommune, dtype="string").where(municipal, pd.NA).array
    columns["age_group"] = _nullable(age, ~is_org)
    weight = np.where(is_org, 1.0, rng.lognormal(0.0, 0.35, size=n))
    columns[spec.weight_column] = np.round(weight / weight.mean(), 4)
    columns[spec.synthetic_column] = np.ones(n, dtype=bool)
    # segment effects: small, so segments differ a little, as in real data
    effect = np.where(is_org, (sector - 1.5) * 0.06 + (size - 2) * 0.03, (2.5 - age) * 0.05)
    if design:
        design_columns, cluster_effect = _design(spec, is_org, sector, rng)
        columns.update(design_columns)
        effect = effect + cluster_effect
    for q in spec.questions.values():
        column = q.column(year)
        if column is None:
            continue
        asked = is_org if q.survey == "organisations" else ~is_org
        codes = np.zeros(n, dtype=np.int64)
        codes[asked] = _answers(q, spec, year, effect[asked], rng)
        columns[column] = _nullable(codes, asked)
    serial = numbers.astype(str)
    first = FIRST_NAMES[numbers % len(FIRST_NAMES)]
    last = LAST_NAMES[(numbers // 7) % len(LAST_NAMES)]
    columns["navn"] = np.char.add(np.char.add(np.char.add(first, " "), last), np.char.add("-", serial))
    columns["epost"] = np.char.add(np.char.add(np.char.lower(first), "."), np.char.add(serial, "@eksempel.invalid"))
    columns["telefon"] = np.char.add("+47 9", np.char.zfill((numbers % 10**7).astype(str), 7))
    columns["fritekst"] = np.char.add("Kommentar fra respondent ", np.char.add(serial, ": tjenestene bør bli enklere"))
    return pd.DataFrame(columns)


def _write(frame: pd.DataFrame, path: Path, fmt: str, codebook: Codebook) -> None:
    from itip.respondents.read import write_csv

    if fmt == "csv":
        write_csv(frame, path)
    elif fmt == "xlsx":
        frame.to_excel(path, sheet_name="data", index=False)
    else:
        import pyreadstat

        spec = codebook.respondents
        assert spec is not None
        out = frame.copy()
        labels: dict[str, dict[float, str]] = {}
        missing: dict[str, list[Any]] = {}
        for q in spec.questions.values():
            for _, column in q.columns:
                if column is not None and column in out.columns:
                    scale = spec.scales[q.scale]
                    labels[column] = {float(c): t for c, t in scale.labels.items()}
                    missing[column] = [float(c) for c in scale.missing]
        for col in out.columns:
            if isinstance(out[col].dtype, pd.Int64Dtype) or out[col].dtype == bool:
                out[col] = out[col].astype("float64")
            elif not pd.api.types.is_float_dtype(out[col]):
                out[col] = out[col].astype("object").where(out[col].notna(), "").astype(str)
        pyreadstat.write_sav(
            out,
            str(path),
            file_label=SYNTHETIC_LABEL,
            variable_value_labels=labels,
            missing_ranges={c: v for c, v in missing.items()},
        )


def write_synthetic(
    codebook: Codebook,
    years: list[int],
    respondents: int,
    out: Path,
    seed: int = 2026,
    fmt: str = "csv",
    design: bool = False,
) -> list[Path]:
    """Write one synthetic respondent file per year into `out` (never raw/); with `design`,
    strata, clusters and a near-census stratum (see the module docstring)."""
    if respondents < 1:
        raise ItipError("--respondents must be at least 1")
    if fmt not in FORMATS:
        raise ItipError(f"--format must be one of {', '.join(FORMATS)}")
    _refuse_raw(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = []
    for year in years:
        path = out / f"itip_{year}_respondents.{fmt}"
        _write(synth_year(codebook, year, respondents, rng, design), path, fmt, codebook)
        written.append(path)
    return written
