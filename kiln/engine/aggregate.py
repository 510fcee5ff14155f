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

import numpy as np
import polars as pl

from kiln.engine.emissions import ENERGY_TYPES, SOURCE_CATEGORIES
from kiln.engine.errors import ERROR_SCHEMA, EngineError, ErrorCode

CATEGORIES = [c for c in SOURCE_CATEGORIES if c != "none"]
ENERGY = [e for e in ENERGY_TYPES if e != "none"]
CO2_COLUMNS = [f"co2_{c}_t" for c in CATEGORIES]
TCE_COLUMNS = [f"tce_{e}" for e in ENERGY]
VALUE_COLUMNS = [*CO2_COLUMNS, "co2_total_t", *TCE_COLUMNS, "tce_total"]
MAPPING_COLUMNS = ("credit_code", "region_code", "city_code", "industry_code")
AGGREGATES = (
    "enterprise_month",
    "enterprise_year",
    "industry_month",
    "industry_year",
    "county_month",
    "county_year",
    "city_month",
    "city_year",
)


def enterprise_month(results: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per enterprise and month, split by source category and energy type, sorted by code and period.

    The enterprise-month cells form a dense grid (codes × months) as long as most enterprises
    report most months; then the sums are one ``numpy.bincount`` per measure over the cell index
    (computed with Polars), several times faster than hashing every row (Polars has no
    scatter-add). Sparse or unusual inputs take the Polars ``group_by`` path; both give the same
    frame.
    """
    return _enterprise_month_indexed(results)[0]


def _enterprise_month_indexed(results: pl.DataFrame | pl.LazyFrame):
    """(frame, code index, period index, sorted codes, sorted periods): the indexes per frame row."""
    if isinstance(results, pl.LazyFrame):
        results = results.collect()
    dense = _dense_cells(results)
    if dense is None:
        em = _enterprise_month_grouped(results)
        code_index, codes = _rank(em.get_column("credit_code"))
        period_index, periods = _rank(em.get_column("period"))
        return (
            em,
            code_index,
            period_index,
            pl.Series(codes).cast(em.schema["credit_code"]),
            pl.Series(periods).cast(em.schema["period"]),
        )
    cell, n_cells, codes, periods = dense
    n_periods = len(periods)
    n_cat, n_energy = len(SOURCE_CATEGORIES), len(ENERGY_TYPES)

    def sums(column: str, values: str, n: int, cell: np.ndarray) -> np.ndarray:
        # Category-major bins: each category's sums are one contiguous row, so columns need no
        # copy; one index array at a time keeps the peak memory low.
        index = results.get_column(column).to_physical().to_numpy().astype(np.int64)
        index *= n_cells
        index += cell
        out = np.bincount(index, weights=results.get_column(values).to_numpy(), minlength=n_cells * n)
        return out.reshape(n, n_cells)

    co2 = sums("source_category", "co2_t", n_cat, cell)
    tce = sums("energy_type", "energy_tce", n_energy, cell)
    present = np.flatnonzero(np.bincount(cell, minlength=n_cells))
    del cell
    code_index, period_index = present // n_periods, present % n_periods
    code_series = pl.Series(code_index, dtype=pl.UInt32)
    period_series = pl.Series(period_index, dtype=pl.UInt32)
    years = pl.Series([int(p[:4]) for p in periods.cast(pl.String).to_list()], dtype=pl.Int32)
    columns = {
        "credit_code": codes.gather(code_series),
        "period": periods.gather(period_series),
        "year": years.gather(period_series),
    }
    # Copies of the selected cells (views would keep the whole bin arrays alive).
    columns |= {f"co2_{c}_t": co2[SOURCE_CATEGORIES.index(c)][present] for c in CATEGORIES}
    columns |= {f"tce_{e}": tce[ENERGY_TYPES.index(e)][present] for e in ENERGY}
    del co2, tce
    return pl.DataFrame(columns).with_columns(_totals()), code_index, period_index, codes, periods


def _rank_table(phys: list[int], values: list[str]) -> tuple[pl.Series, list[int]]:
    """Lookup table physical code → rank of its value among the sorted values; and the sort order."""
    order = sorted(range(len(values)), key=values.__getitem__)
    rank = np.zeros(max(phys) + 1, dtype=np.uint32)
    rank[np.asarray(phys, dtype=np.int64)[order]] = np.arange(len(phys))
    return pl.Series(rank), order


def _dense_cells(results: pl.DataFrame):
    """(cell index per row, number of cells, sorted codes, sorted periods) for the dense path, or None."""
    from kiln.engine.normalise import dictionary

    code_col, period_col = results.get_column("credit_code"), results.get_column("period")
    if not isinstance(code_col.dtype, pl.Categorical | pl.Enum) or not isinstance(
        period_col.dtype, pl.Categorical | pl.Enum
    ):
        return None
    code_phys, code_values, code_null = dictionary(code_col)
    period_phys, period_values, period_null = dictionary(period_col)
    n_cells = len(code_phys) * len(period_phys)
    if code_null or period_null or n_cells == 0 or n_cells * 16 > max(4 * results.height, 1 << 20):
        return None
    code_rank, code_order = _rank_table(code_phys, code_values)
    period_rank, period_order = _rank_table(period_phys, period_values)
    cell = (
        results.select(
            pl.lit(code_rank).gather(pl.col("credit_code").to_physical()) * len(period_phys)
            + pl.lit(period_rank).gather(pl.col("period").to_physical())
        )
        .to_series()
        .to_numpy()
    )
    codes = pl.Series("credit_code", [code_values[i] for i in code_order], dtype=pl.String).cast(
        code_col.dtype
    )
    periods = pl.Series("period", [period_values[i] for i in period_order], dtype=pl.String).cast(
        period_col.dtype
    )
    return cell, n_cells, codes, periods


def _enterprise_month_grouped(results: pl.DataFrame) -> pl.DataFrame:
    cat = pl.col("source_category")
    energy = pl.col("energy_type")
    wide = [pl.when(cat == c).then(pl.col("co2_t")).otherwise(0.0).alias(f"co2_{c}_t") for c in CATEGORIES]
    wide += [pl.when(energy == e).then(pl.col("energy_tce")).otherwise(0.0).alias(f"tce_{e}") for e in ENERGY]
    return (
        results.lazy()
        .select("credit_code", "period", "year", *wide)
        .group_by("credit_code", "period")
        .agg(pl.col("year").first(), *[pl.col(c).sum() for c in (*CO2_COLUMNS, *TCE_COLUMNS)])
        .with_columns(_totals())
        .sort(pl.col("credit_code").cast(pl.String), pl.col("period").cast(pl.String))
        .collect()
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
        raise EngineError(
            pl.DataFrame(
                {
                    "row": [None],
                    "credit_code": [None],
                    "period": [None],
                    "item": [None],
                    "code": [str(ErrorCode.MISSING_COLUMN)],
                    "message": [f"mapping lacks columns {missing}"],
                },
                schema=ERROR_SCHEMA,
            )
        )
    # Join on the results' own dictionary type; codes the results do not contain drop out.
    return (
        mapping.select(
            pl.col("credit_code").cast(pl.String).cast(dtype, strict=False),
            pl.col("region_code").cast(pl.String),
            pl.col("city_code").cast(pl.String),
            pl.col("industry_code").cast(pl.String).str.slice(0, 3).alias("industry_code"),
        )
        .drop_nulls("credit_code")
        .unique("credit_code", keep="first")
    )


def _unmapped(codes: pl.Series) -> EngineError:
    return EngineError(
        pl.DataFrame({"credit_code": codes.cast(pl.String)}).select(
            pl.lit(None, dtype=pl.UInt32).alias("row"),
            "credit_code",
            pl.lit(None, dtype=pl.String).alias("period"),
            pl.lit(None, dtype=pl.String).alias("item"),
            pl.lit(str(ErrorCode.UNMAPPED_ENTERPRISE)).alias("code"),
            pl.format("enterprise {} has no region/industry mapping", "credit_code").alias("message"),
        )
    )


def _rank(series: pl.Series) -> tuple[np.ndarray, list[str]]:
    """Per row, the rank of its value among the sorted distinct values; and those values."""
    from kiln.engine.normalise import dictionary

    phys, values, _ = dictionary(series)
    order = np.argsort(np.array(values, dtype=object), kind="stable")
    rank = np.zeros(max(phys) + 1 if phys else 1, dtype=np.int64)
    rank[np.asarray(phys, dtype=np.int64)[order]] = np.arange(len(phys))
    return rank[series.to_physical().to_numpy()], [values[i] for i in order]


def aggregate(results: pl.DataFrame, mapping: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """All aggregates (``AGGREGATES``) of per-row results; raises if an enterprise is unmapped.

    Everything above the enterprise-month frame is summed from it with single integer keys
    (place × period), so region and industry totals are exactly sums of enterprise totals.
    """
    em, code_index, period_index, codes, periods = _enterprise_month_indexed(results)
    value_columns = [*CO2_COLUMNS, *TCE_COLUMNS]
    if em.is_empty():
        return {name: _order(name, _empty(name, em)) for name in AGGREGATES}
    places = _mapping(mapping, em.schema["credit_code"])
    placed = pl.DataFrame({"credit_code": codes}).join(
        places, on="credit_code", how="left", maintain_order="left"
    )
    missing = placed.filter(pl.col("region_code").is_null())
    if missing.height:
        raise _unmapped(missing.get_column("credit_code"))
    place_keys = ["region_code", "city_code", "industry_code"]
    place_table = placed.select(place_keys).unique(maintain_order=True).with_row_index("place")
    place_of_code = placed.join(place_table, on=place_keys, how="left", maintain_order="left").get_column(
        "place"
    )
    place = place_of_code.to_numpy().astype(np.int64)[code_index]
    period_names = periods.cast(pl.String).to_list()
    years = sorted({int(p[:4]) for p in period_names})
    year_of_period = np.searchsorted(np.array(years), np.array([int(p[:4]) for p in period_names]))
    year_index = year_of_period[period_index]
    n_periods, n_years = len(period_names), len(years)

    sums = [pl.col(c).sum() for c in value_columns]
    keyed = em.select(value_columns).with_columns(
        # em is sorted by code and period, so (code, year) keys come in order: sorted group_by.
        pl.Series("_ey", code_index * n_years + year_index).set_sorted(),
        _pm=pl.Series(place * n_periods + period_index),
        _py=pl.Series(place * n_years + year_index),
    )
    year_values = pl.Series(years, dtype=pl.Int32)
    ey_q = keyed.lazy().group_by("_ey", maintain_order=True).agg(pl.col("_py").first(), *sums)
    cube_m_q = keyed.lazy().group_by("_pm").agg(pl.len().alias("n_enterprises"), *sums)
    ey, cube_m = pl.collect_all([ey_q, cube_m_q])
    cube_y = ey.lazy().group_by("_py").agg(pl.len().alias("n_enterprises"), *sums).collect()
    ey = ey.select(
        pl.lit(codes).gather(pl.col("_ey") // n_years).alias("credit_code"),
        pl.lit(year_values).gather(pl.col("_ey") % n_years).alias("year"),
        *value_columns,
    ).with_columns(_totals())
    cube_m = (
        cube_m.with_columns(
            place=pl.col("_pm") // n_periods,
            period=pl.lit(periods).gather(pl.col("_pm") % n_periods),
            year=pl.lit(pl.Series(year_of_period, dtype=pl.UInt32)).gather(pl.col("_pm") % n_periods),
        )
        .with_columns(year=pl.lit(year_values).gather(pl.col("year")))
        .join(place_table, on="place")
        .with_columns(_totals())
    )
    cube_y = (
        cube_y.with_columns(
            place=pl.col("_py") // n_years,
            year=pl.lit(year_values).gather(pl.col("_py") % n_years),
        )
        .join(place_table, on="place")
        .with_columns(_totals())
    )
    total = pl.col("n_enterprises").sum()
    cube_m_lazy, cube_y_lazy = cube_m.lazy(), cube_y.lazy()
    queries = {
        "industry_month": _sum(cube_m_lazy, ["industry_code", "period", "year"], total),
        "industry_year": _sum(cube_y_lazy, ["industry_code", "year"], total),
        "county_month": _sum(cube_m_lazy, ["region_code", "city_code", "period", "year"], total),
        "county_year": _sum(cube_y_lazy, ["region_code", "city_code", "year"], total),
        "city_month": _sum(cube_m_lazy, ["city_code", "period", "year"], total),
        "city_year": _sum(cube_y_lazy, ["city_code", "year"], total),
    }
    collected = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    out = {"enterprise_month": em, "enterprise_year": ey, **collected}
    return {name: _order(name, out[name]) for name in AGGREGATES}


def _empty(name: str, em: pl.DataFrame) -> pl.DataFrame:
    keys = {
        "industry_code": pl.String,
        "region_code": pl.String,
        "city_code": pl.String,
        "credit_code": em.schema["credit_code"],
        "period": em.schema["period"],
        "year": pl.Int32,
    }
    wanted = _KEYS[name] + ([] if name.startswith("enterprise") else ["n_enterprises"])
    schema = {k: keys.get(k, pl.UInt32) for k in wanted} | {c: pl.Float64 for c in VALUE_COLUMNS}
    return pl.DataFrame(schema=schema)


_KEYS = {
    "enterprise_month": ["credit_code", "period", "year"],
    "enterprise_year": ["credit_code", "year"],
    "industry_month": ["industry_code", "period", "year"],
    "industry_year": ["industry_code", "year"],
    "county_month": ["region_code", "city_code", "period", "year"],
    "county_year": ["region_code", "city_code", "year"],
    "city_month": ["city_code", "period", "year"],
    "city_year": ["city_code", "year"],
}


def _order(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Key columns first; region and industry frames sorted by their keys (enterprise frames already are)."""
    keys = _KEYS[name]
    count = [] if name.startswith("enterprise") else ["n_enterprises"]
    frame = frame.select(*keys, *count, *VALUE_COLUMNS)
    if not name.startswith("enterprise"):
        order = [pl.col(k) for k in keys if k not in ("period", "year")] + [pl.col("year")]
        if "period" in keys:
            order.append(pl.col("period").cast(pl.String))
        frame = frame.sort(order)
    return frame


def totals_by_category(results: pl.DataFrame) -> pl.DataFrame:
    """Total tCO2 and tce per source category (for command-line summaries)."""
    return (
        results.group_by("source_category")
        .agg(pl.col("co2_t").sum(), pl.col("energy_tce").sum(), pl.len().alias("rows"))
        .sort("source_category")
    )
