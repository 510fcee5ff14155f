"""Aggregates of per-row results: enterprise, industry (division), county and city × month and year.

Every aggregate frame is wide, one row per key, with these value columns:

=============================== ======= ======================================================
column                          dtype   meaning and unit
=============================== ======= ======================================================
co2_combustion_t                Float64 tCO2 from fuel combustion
co2_process_t                   Float64 tCO2(e) from process sources (clinker, carbonates,
                                        aluminium anode and PFCs, steel carbon balance)
co2_electricity_purchased_t     Float64 tCO2 from purchased electricity
co2_electricity_exported_t      Float64 tCO2 attributed to exported electricity (≤ 0)
co2_heat_purchased_t            Float64 tCO2 from purchased heat
co2_heat_exported_t             Float64 tCO2 attributed to exported heat (≤ 0)
co2_recovery_t                  Float64 tCO2 recovered and utilised (≤ 0)
co2_biomass_t                   Float64 tCO2 from biomass: reported, **not** in the total
co2_total_t                     Float64 sum of the above except biomass (GB/T 32150)
tce_coal, tce_oil, tce_gas,     Float64 energy by type, tonnes of standard coal equivalent
tce_electricity, tce_heat,              (GB/T 2589; exports negative)
tce_other
tce_total                       Float64 sum of the energy columns
n_enterprises                   UInt32  enterprises contributing (all but enterprise frames)
=============================== ======= ======================================================

Keys: ``credit_code`` (enterprise), ``industry_code`` (GB/T 4754 division: the first three
characters, "C30"), ``region_code`` (county, GB/T 2260) with its ``city_code``, ``city_code``;
``period`` (``YYYY-MM``) and ``year`` (Int32) for monthly frames, ``year`` for yearly ones.

The mapping frame gives each enterprise's place: ``credit_code``, ``region_code`` (county),
``city_code``, ``industry_code`` (any GB/T 4754 level; the division is taken). Regions and
industries are built from enterprise totals, so enterprises sum exactly to counties, counties to
cities (up to floating-point summation order).
"""

from __future__ import annotations

import polars as pl

from kiln.engine.emissions import ENERGY_TYPES, SOURCE_CATEGORIES
from kiln.engine.errors import ERROR_SCHEMA, EngineError, ErrorCode

CATEGORIES = [c for c in SOURCE_CATEGORIES if c != "none"]
ENERGY = [e for e in ENERGY_TYPES if e != "none"]
CO2_COLUMNS = [f"co2_{c}_t" for c in CATEGORIES]
TCE_COLUMNS = [f"tce_{e}" for e in ENERGY]
VALUE_COLUMNS = [*CO2_COLUMNS, "co2_total_t", *TCE_COLUMNS, "tce_total"]
MAPPING_COLUMNS = ("credit_code", "region_code", "city_code", "industry_code")
AGGREGATES = ("enterprise_month", "enterprise_year", "industry_month", "industry_year", "county_month",
              "county_year", "city_month", "city_year")


def enterprise_month(results: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Per enterprise and month, split by source category and energy type (lazy)."""
    lf = results.lazy()
    cat = pl.col("source_category")
    energy = pl.col("energy_type")
    wide = [pl.when(cat == c).then(pl.col("co2_t")).otherwise(0.0).alias(f"co2_{c}_t") for c in CATEGORIES]
    wide += [pl.when(energy == e).then(pl.col("energy_tce")).otherwise(0.0).alias(f"tce_{e}") for e in ENERGY]
    return (
        lf.select("credit_code", "period", "year", *wide)
        .group_by("credit_code", "period")
        .agg(pl.col("year").first(), *[pl.col(c).sum() for c in (*CO2_COLUMNS, *TCE_COLUMNS)])
        .with_columns(_totals())
    )


def _totals() -> list[pl.Expr]:
    return [
        pl.sum_horizontal([c for c in CO2_COLUMNS if c != "co2_biomass_t"]).alias("co2_total_t"),
        pl.sum_horizontal(TCE_COLUMNS).alias("tce_total"),
    ]


def _sum(frame: pl.LazyFrame, keys: list[str], count: pl.Expr) -> pl.LazyFrame:
    return frame.group_by(keys).agg(count.alias("n_enterprises"), *[pl.col(c).sum() for c in VALUE_COLUMNS])


def _mapping(mapping: pl.DataFrame, dtype: pl.DataType) -> pl.DataFrame:
    missing = [c for c in MAPPING_COLUMNS if c not in mapping.columns]
    if missing:
        raise EngineError(pl.DataFrame(
            {"row": [None], "credit_code": [None], "period": [None], "item": [None],
             "code": [str(ErrorCode.MISSING_COLUMN)], "message": [f"mapping lacks columns {missing}"]},
            schema=ERROR_SCHEMA,
        ))
    # Join on the results' own dictionary type; codes the results do not contain drop out.
    return mapping.select(
        pl.col("credit_code").cast(pl.String).cast(dtype, strict=False),
        pl.col("region_code").cast(pl.String),
        pl.col("city_code").cast(pl.String),
        pl.col("industry_code").cast(pl.String).str.slice(0, 3).alias("industry_code"),
    ).drop_nulls("credit_code").unique("credit_code", keep="first")


def aggregate(results: pl.DataFrame, mapping: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """All aggregates (``AGGREGATES``) of per-row results; raises if an enterprise is unmapped."""
    places = _mapping(mapping, results.schema["credit_code"])
    em = enterprise_month(results).collect()
    codes = em.select(pl.col("credit_code").unique())
    unmapped = codes.join(places, on="credit_code", how="anti")
    if unmapped.height:
        raise EngineError(unmapped.select(
            pl.lit(None, dtype=pl.UInt32).alias("row"),
            pl.col("credit_code").cast(pl.String),
            pl.lit(None, dtype=pl.String).alias("period"),
            pl.lit(None, dtype=pl.String).alias("item"),
            pl.lit(str(ErrorCode.UNMAPPED_ENTERPRISE)).alias("code"),
            pl.format("enterprise {} has no region/industry mapping", pl.col("credit_code").cast(pl.String))
            .alias("message"),
        ))
    em_lazy = em.lazy()
    ey = (
        em_lazy.group_by("credit_code", "year")
        .agg(*[pl.col(c).sum() for c in (*CO2_COLUMNS, *TCE_COLUMNS)])
        .with_columns(_totals())
    )
    place_keys = ["region_code", "city_code", "industry_code"]
    cube_m = _sum(em_lazy.join(places.lazy(), on="credit_code"), [*place_keys, "period", "year"], pl.len())
    cube_y = _sum(ey.join(places.lazy(), on="credit_code"), [*place_keys, "year"], pl.len())
    total = pl.col("n_enterprises").sum()
    queries = {
        "enterprise_year": ey,
        "industry_month": _sum(cube_m, ["industry_code", "period", "year"], total),
        "industry_year": _sum(cube_y, ["industry_code", "year"], total),
        "county_month": _sum(cube_m, ["region_code", "city_code", "period", "year"], total),
        "county_year": _sum(cube_y, ["region_code", "city_code", "year"], total),
        "city_month": _sum(cube_m, ["city_code", "period", "year"], total),
        "city_year": _sum(cube_y, ["city_code", "year"], total),
    }
    collected = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    out = {"enterprise_month": em, **collected}
    return {name: _order(name, out[name]) for name in AGGREGATES}


def _order(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    keys = {
        "enterprise_month": ["credit_code", "period", "year"],
        "enterprise_year": ["credit_code", "year"],
        "industry_month": ["industry_code", "period", "year"],
        "industry_year": ["industry_code", "year"],
        "county_month": ["region_code", "city_code", "period", "year"],
        "county_year": ["region_code", "city_code", "year"],
        "city_month": ["city_code", "period", "year"],
        "city_year": ["city_code", "year"],
    }[name]
    count = [] if name.startswith("enterprise") else ["n_enterprises"]
    return frame.select(*keys, *count, *VALUE_COLUMNS)


def totals_by_category(results: pl.DataFrame) -> pl.DataFrame:
    """Total tCO2 and tce per source category (for command-line summaries)."""
    return (
        results.group_by("source_category")
        .agg(pl.col("co2_t").sum(), pl.col("energy_tce").sum(), pl.len().alias("rows"))
        .sort("source_category")
    )
