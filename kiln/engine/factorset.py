"""Factor sets: the frame schema, loading the shipped CSV files, checking and resolving a set.

A factor set is one long frame, one row per value. The same frame can come from the CSV files in
``kiln/factors/data`` (``load``) or from the database of the ``factors`` app (which stores
versioned, immutable sets and builds this frame from them).

============ ======= ====================================================================
column       dtype   meaning
============ ======= ====================================================================
factor_set   String  name (and version) of the set, e.g. ``CN-DEFAULT-2024``; one per frame
item         String  Kiln item code the value belongs to (``kiln.engine.items``), or ``*``
                     for a constant that applies to every item (``carbon_to_co2``)
parameter    String  which value: ``ncv``, ``carbon_content``, ``oxidation_rate``, ``ef``,
                     ``tce_per_unit`` … (``PARAMETER_UNITS`` lists them all)
series       String  ``""`` except for grid electricity factors, whose series names say
                     which basis they use: ``MEE_ETS_GRID/CN``, ``MEE_NBS_AVG/330000`` …
year_from    Int32   first calendar year the value applies to (inclusive); null = open
year_to      Int32   last calendar year the value applies to (inclusive); null = open
value        Float64 the value, in ``unit``
unit         String  the parameter's canonical unit (checked: ``expected_unit``)
source       String  where the value was read (document, URL, source key of domain.md)
confidence   String  ``P`` official text, ``S`` secondary source, ``U`` unverified
                     placeholder, ``DERIVED`` computed (stoichiometry)
note         String  caveats (may be empty)
============ ======= ====================================================================

Values are in canonical units so the formulas never convert: NCV in GJ/t or GJ/1e4Nm3, carbon
content in tC/GJ, oxidation rate and mass fractions as fractions (not percent), grid factors in
tCO2/MWh, heat factor in tCO2/GJ, PFC emission factors in kg/t Al, GWPs in tCO2e/t gas.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import polars as pl

from kiln.engine import items as catalogue
from kiln.engine.errors import ERROR_SCHEMA, ErrorCode, empty_errors

DATA_DIR = Path(__file__).resolve().parent.parent / "factors" / "data"
DEFAULT_FACTOR_SET = "CN-DEFAULT-2024"
DEFAULT_GRID_SERIES = "MEE_ETS_GRID/CN"

FACTOR_SET_SCHEMA: dict[str, pl.DataType] = {
    "factor_set": pl.String(),
    "item": pl.String(),
    "parameter": pl.String(),
    "series": pl.String(),
    "year_from": pl.Int32(),
    "year_to": pl.Int32(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "source": pl.String(),
    "confidence": pl.String(),
    "note": pl.String(),
}

CONFIDENCE = ("P", "S", "U", "DERIVED")

# Canonical unit of every factor-set parameter; ``None`` where it depends on the item.
PARAMETER_UNITS: dict[str, str | None] = {
    "ncv": None,
    "carbon_content": "tC/GJ",
    "oxidation_rate": "fraction",
    "ef": None,
    "tce_per_unit": None,
    "gj_per_tce": "GJ/tce",
    "carbon_to_co2": "tCO2/tC",
    "cao_to_co2": "tCO2/tCaO",
    "mgo_to_co2": "tCO2/tMgO",
    "co2_per_carbonate": "tCO2/t",
    "purity": "fraction",
    "cao": "fraction",
    "mgo": "fraction",
    "cao_noncarbonate": "fraction",
    "mgo_noncarbonate": "fraction",
    "anode_net_consumption": "t/t",
    "anode_sulphur": "fraction",
    "anode_ash": "fraction",
    "mass_carbon_content": "tC/t",
    "cf4_slope": "kgCF4/tAl/(min/cell-day)",
    "c2f6_ratio": "kgC2F6/kgCF4",
    "ef_cf4": "kgCF4/tAl",
    "ef_c2f6": "kgC2F6/tAl",
    "gwp_cf4": "tCO2e/t",
    "gwp_c2f6": "tCO2e/t",
}
FACTOR_PARAMETERS = list(PARAMETER_UNITS)
SET_WIDE = ("carbon_to_co2", "gj_per_tce")  # parameters that may be given for item "*"


def expected_unit(item: str, parameter: str) -> str | None:
    """The unit a factor-set value for (item, parameter) must be stated in; ``None`` if not allowed."""
    if parameter not in PARAMETER_UNITS:
        return None
    unit = PARAMETER_UNITS[parameter]
    if unit is not None:
        return unit
    if item not in catalogue.ITEMS:
        return None
    canonical = catalogue.ITEMS[item].unit
    if parameter == "ncv":
        return (
            catalogue.parameter_unit(item, "ncv")
            if catalogue.ITEMS[item].formula in ("combustion", "biomass")
            else None
        )
    if parameter == "ef":
        return (
            {"MWh": "tCO2/MWh", "GJ": "tCO2/GJ"}.get(canonical)
            if catalogue.ITEMS[item].formula in ("electricity", "heat")
            else None
        )
    if parameter == "tce_per_unit":
        return {"MWh": "tce/MWh", "GJ": "tce/GJ"}.get(canonical)
    return None


def grid_series_name(name: str) -> str:
    """``MEE_ETS_GRID`` → ``MEE_ETS_GRID/CN``: a series without an area means the national one."""
    return name if "/" in name else f"{name}/CN"


# --------------------------------------------------------------------------------------------
# Loading the shipped CSV files


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _year(text: str) -> int | None:
    return int(text) if text.strip() else None


@lru_cache(maxsize=8)
def _load_cached(name: str, data_dir: str) -> pl.DataFrame:
    root = Path(data_dir)
    sets = {row["name"]: row for row in _read(root / "factor_sets.csv")}
    if name not in sets:
        raise KeyError(f"unknown factor set {name!r}; known: {', '.join(sorted(sets))}")
    rows: list[dict] = []

    def add(
        item, parameter, value, unit, source, confidence, note="", series="", year_from=None, year_to=None
    ):
        rows.append(
            {
                "factor_set": name,
                "item": item,
                "parameter": parameter,
                "series": series,
                "year_from": year_from,
                "year_to": year_to,
                "value": float(value),
                "unit": unit,
                "source": source,
                "confidence": confidence,
                "note": note,
            }
        )

    covered: set[str] = set()
    for table in sets[name]["fuel_tables"].split(";"):
        path = root / f"fuels_set_{table.strip().lower()}.csv"
        fuels = [row for row in _read(path) if row["item"] not in covered]  # earlier tables win
        for row in fuels:
            source = f"{row['source_key']}: {row['source']}"
            for parameter in ("ncv", "carbon_content", "oxidation_rate"):
                add(
                    row["item"],
                    parameter,
                    row[parameter],
                    row[f"{parameter}_unit"],
                    source,
                    row["confidence"],
                    row["note"],
                )
        covered |= {row["item"] for row in fuels}

    for row in _read(root / "grid_factors.csv"):
        add(
            "electricity_purchased",
            "ef",
            row["value"],
            row["unit"],
            row["source"],
            row["confidence"],
            row["note"],
            series=f"{row['series']}/{row['area']}",
            year_from=_year(row["year_from"]),
            year_to=_year(row["year_to"]),
        )

    for file in ("heat_factors.csv", "aluminium_pfc.csv", "process_constants.csv", "energy_conversion.csv"):
        for row in _read(root / file):
            add(
                row["item"],
                row["parameter"],
                row["value"],
                row["unit"],
                row["source"],
                row["confidence"],
                row.get("note", ""),
                year_from=_year(row["year_from"]),
                year_to=_year(row["year_to"]),
            )
    return pl.DataFrame(rows, schema=FACTOR_SET_SCHEMA)


def load(name: str = DEFAULT_FACTOR_SET, data_dir: Path | str | None = None) -> pl.DataFrame:
    """The named factor set built from the CSV files shipped in ``kiln/factors/data``."""
    return _load_cached(name, str(data_dir or DATA_DIR))


def available(data_dir: Path | str | None = None) -> dict[str, dict[str, str]]:
    """Named sets defined in ``factor_sets.csv``: name → {fuel_tables, default_grid_series, description}."""
    return {row["name"]: row for row in _read(Path(data_dir or DATA_DIR) / "factor_sets.csv")}


def default_grid_series(name: str, data_dir: Path | str | None = None) -> str:
    sets = available(data_dir)
    return sets[name]["default_grid_series"] if name in sets else DEFAULT_GRID_SERIES


def grid_series(factor_set: pl.DataFrame) -> list[str]:
    """Grid-factor series present in the set."""
    return sorted(
        factor_set.filter((pl.col("item") == "electricity_purchased") & (pl.col("parameter") == "ef"))
        .get_column("series")
        .unique()
        .to_list()
    )


def name_of(factor_set: pl.DataFrame) -> str:
    names = factor_set.get_column("factor_set").unique().to_list()
    return names[0] if len(names) == 1 else ""


# --------------------------------------------------------------------------------------------
# Checking


def check(factor_set: pl.DataFrame) -> pl.DataFrame:
    """Problems with a factor-set frame as an error frame (code ``bad_factor_set``); empty when fine."""
    problems: list[str] = []
    missing = [c for c in FACTOR_SET_SCHEMA if c not in factor_set.columns and c != "note"]
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    else:
        names = factor_set.get_column("factor_set").unique().to_list()
        if len(names) != 1:
            problems.append(f"a factor-set frame holds exactly one set, found {names}")
        for row in factor_set.select("item", "parameter", "series", "value", "unit", "confidence").iter_rows(
            named=True
        ):
            label = f"{row['item']}.{row['parameter']}"
            if row["item"] != "*" and row["item"] not in catalogue.ITEMS:
                problems.append(f"{label}: unknown item")
                continue
            if row["item"] == "*":
                unit = PARAMETER_UNITS.get(row["parameter"]) if row["parameter"] in SET_WIDE else None
            else:
                unit = expected_unit(row["item"], row["parameter"])
            if unit is None:
                problems.append(f"{label}: parameter does not apply to this item")
            elif row["unit"] != unit:
                problems.append(f"{label}: unit {row['unit']!r}, expected {unit!r}")
            value = row["value"]
            if value is None or value != value or value in (float("inf"), float("-inf")) or value < 0:
                problems.append(f"{label}: value {value!r} is not a finite number ≥ 0")
            is_grid = row["item"] == "electricity_purchased" and row["parameter"] == "ef"
            if is_grid != bool(row["series"]):
                problems.append(f"{label}: series must be set for grid factors and only for them")
            if row["confidence"] not in CONFIDENCE:
                problems.append(f"{label}: confidence {row['confidence']!r} not in {CONFIDENCE}")
        overlaps = _overlaps(factor_set)
        problems += [f"{i}.{p} [{s}]: year ranges overlap" for i, p, s in overlaps]
    if not problems:
        return empty_errors()
    return pl.DataFrame(
        {
            "row": [None] * len(problems),
            "credit_code": None,
            "period": None,
            "item": None,
            "code": str(ErrorCode.BAD_FACTOR_SET),
            "message": problems,
        },
        schema=ERROR_SCHEMA,
    )


def _overlaps(factor_set: pl.DataFrame) -> list[tuple[str, str, str]]:
    lo, hi = -(10**6), 10**6
    spans = factor_set.select(
        "item",
        "parameter",
        "series",
        lo=pl.col("year_from").fill_null(lo),
        hi=pl.col("year_to").fill_null(hi),
    ).sort("item", "parameter", "series", "lo")
    bad = (
        spans.with_columns(prev_hi=pl.col("hi").shift(1).over("item", "parameter", "series"))
        .filter(pl.col("prev_hi") >= pl.col("lo"))
        .select("item", "parameter", "series")
        .unique()
    )
    return [tuple(r) for r in bad.iter_rows()]


# --------------------------------------------------------------------------------------------
# Resolving: the values in force for given items and years


def resolve(
    factor_set: pl.DataFrame, item_codes: list[str], years: list[int], grid_series: str
) -> pl.DataFrame:
    """Values in force per (item, year), one column per parameter (null where the set has none).

    Columns: ``item`` (String), ``year`` (Int32), then every name in ``FACTOR_PARAMETERS``
    (Float64, in the canonical units above). ``*`` rows apply to every item unless the item has
    its own value. Only the grid rows of ``grid_series`` are used.
    """
    schema = {"item": pl.String, "year": pl.Int32, **{p: pl.Float64 for p in FACTOR_PARAMETERS}}
    if not item_codes or not years:
        return pl.DataFrame(schema=schema)
    wanted = pl.DataFrame({"item": item_codes}).join(
        pl.DataFrame({"year": years}, schema={"year": pl.Int32}), how="cross"
    )
    rows = factor_set.filter((pl.col("series") == "") | (pl.col("series") == grid_series))
    specific = rows.filter(pl.col("item") != "*").join(wanted, on="item")
    generic = rows.filter(pl.col("item") == "*").drop("item").join(wanted, how="cross")
    in_force = (
        pl.concat(
            [
                specific.with_columns(priority=pl.lit(0)),
                generic.select(specific.columns).with_columns(priority=pl.lit(1)),
            ]
        )
        .filter(
            (pl.col("year_from").is_null() | (pl.col("year") >= pl.col("year_from")))
            & (pl.col("year_to").is_null() | (pl.col("year") <= pl.col("year_to")))
        )
        .sort("priority")
        .group_by("item", "year", "parameter", maintain_order=True)
        .agg(pl.col("value").first())
    )
    wide = in_force.pivot(on="parameter", index=["item", "year"], values="value") if in_force.height else None
    out = wanted
    if wide is not None:
        out = wanted.join(wide, on=["item", "year"], how="left", maintain_order="left")
    return (
        out.with_columns(
            [pl.lit(None, dtype=pl.Float64).alias(p) for p in FACTOR_PARAMETERS if p not in out.columns]
        )
        .select(list(schema))
        .cast(schema)
    )  # type: ignore[arg-type]
