"""The measured pipelines: the Polars engine, and the same computation in idiomatic vectorised pandas.

Both take the activity data as loaded from Parquet (dictionary-encoded columns: Polars Enum,
pandas category) and produce per-row tCO2/tce plus the same aggregates (enterprise × month and
year, industry, county, city). The pandas version reuses only the engine's *small* lookup
tables (defaults per item and year, unit multipliers), which take milliseconds; every operation
over the big frame is pandas.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from kiln.engine import factorset, units
from kiln.engine import items as catalogue
from kiln.engine.aggregate import aggregate
from kiln.engine.emissions import FORMULA_INPUTS, compute, emission_factor, energy_factor

GRID = factorset.DEFAULT_GRID_SERIES


def polars_pipeline(activity: pl.DataFrame, mapping: pl.DataFrame, factors: pl.DataFrame) -> dict:
    results = compute(activity, factors, grid_series=GRID)
    aggregates = aggregate(results, mapping)
    return {"results": results, **aggregates}


def summary(out: dict) -> dict:
    """Totals to cross-check the pipelines against each other."""
    ey = out["enterprise_year"]
    return {
        "rows": int(out["results"].shape[0]),
        "co2_total_t": float(ey["co2_total_t"].sum()),
        "co2_biomass_t": float(ey["co2_biomass_t"].sum()),
        "tce_total": float(ey["tce_total"].sum()),
        "enterprise_months": int(out["enterprise_month"].shape[0]),
        "county_months": int(out["county_month"].shape[0]),
    }


# ------------------------------------------------------------------------------------------------
# pandas


def _small_tables(factors: pl.DataFrame, items: list[str], years: list[int]):
    """Defaults per (item, year) with every formula input, as a pandas frame (tiny)."""
    codes = [i for i in items if i in catalogue.ITEMS]
    bases = sorted({catalogue.ITEMS[c].parameter_item for c in codes})
    resolved = factorset.resolve(factors, bases, years, GRID).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("anode_effect_minutes")
    )
    table = pl.DataFrame(
        {
            "item": codes,
            "param_item": [catalogue.ITEMS[c].parameter_item for c in codes],
            "formula": [catalogue.ITEMS[c].formula for c in codes],
            "sign": [float(catalogue.ITEMS[c].sign) for c in codes],
            "category": [catalogue.ITEMS[c].source_category for c in codes],
            "energy_type": [catalogue.ITEMS[c].energy_type or "none" for c in codes],
        }
    ).join(resolved.rename({"item": "param_item"}), on="param_item", how="left")
    table = table.with_columns(
        ef=emission_factor(pl.col("formula")),
        tce=energy_factor(pl.col("formula")),
        ef_pfc=emission_factor(pl.lit("al_pfc")),
    )
    frame = table.to_pandas()
    for column in ("item", "param_item", "formula", "category", "energy_type"):
        frame[column] = frame[column].astype("category")
    return frame


def pandas_pipeline(activity, mapping, factors: pl.DataFrame) -> dict:  # noqa: C901 - one linear pipeline
    import pandas as pd

    df = activity
    is_param = df["item"].str.contains(".", regex=False).astype(bool)
    q = df[~is_param]
    p = df[is_param]
    periods = sorted(df["period"].cat.categories)
    years = sorted({int(x[:4]) for x in periods})
    defaults = _small_tables(factors, list(df["item"].cat.categories), years)

    # Unit multipliers for the (item or parameter, unit) pairs that occur.
    pairs = df[["item", "unit"]].drop_duplicates()
    pairs = pairs.assign(
        conv=[
            units.factor(u, catalogue.canonical_unit(i) or "")
            for i, u in zip(pairs["item"], pairs["unit"], strict=True)
        ]
    )
    year_of = {x: int(x[:4]) for x in periods}

    q = q.merge(pairs, on=["item", "unit"], how="left")
    q["year"] = q["period"].map(year_of).astype("int64")
    q["qc"] = q["quantity"] * q["conv"]
    q = q.merge(defaults, on=["item", "year"], how="left")

    # Measured parameters: one row per (enterprise, month, facility, item) with a column each.
    p = p.merge(pairs, on=["item", "unit"], how="left")
    p["value"] = p["quantity"] * p["conv"]
    names = p["item"].cat.categories
    base = pd.Series([n.split(".")[0] for n in names], index=names)
    p["param_item"] = p["item"].map(base).astype("category")
    p["param"] = p["item"].map(pd.Series([n.split(".")[-1] for n in names], index=names))
    has_facility = "facility" in p.columns
    keys = ["credit_code", "period", "param_item"] + (["facility"] if has_facility else [])
    if has_facility:
        p["facility"] = p["facility"].astype("string").fillna("")
        q["facility"] = q["facility"].astype("string").fillna("")
    measured = p.pivot_table(index=keys, columns="param", values="value", aggfunc="first", observed=True)
    measured.columns = [f"{c}__m" for c in measured.columns]
    measured = measured.reset_index()
    measured["credit_code"] = measured["credit_code"].astype(q["credit_code"].dtype)
    measured["period"] = measured["period"].astype(q["period"].dtype)
    q["param_item"] = q["param_item"].astype(str).astype(measured["param_item"].dtype)
    columns = [c for c in measured.columns if c.endswith("__m")]
    if has_facility:
        # Facility parameters first; missing ones from the enterprise-level row (facility "").
        enterprise = measured[measured["facility"] == ""].drop(columns="facility")
        exact = q[keys].merge(measured, on=keys, how="left")[columns]
        fallback = q[keys[:-1]].merge(enterprise, on=keys[:-1], how="left")[columns]
        q[columns] = exact.combine_first(fallback).to_numpy()
    else:
        q = q.merge(measured, on=keys, how="left")

    # Effective inputs (measured, else default) and the factor per formula.
    for name in measured.columns:
        if name.endswith("__m"):
            base = name[:-3]
            q[base] = q[name].fillna(q[base]) if base in q.columns else q[name]
    inputs = [c[:-3] for c in measured.columns if c.endswith("__m")]
    f = q["formula"]

    def col(name):
        return q[name] if name in q.columns else pd.Series(np.nan, index=q.index)

    fuel = f.isin(["combustion", "biomass"])
    conditions = [
        fuel,
        f.isin(["electricity", "heat"]),
        f == "clinker",
        f == "carbonate",
        f == "al_anode",
        f == "steel",
        f == "recovery",
    ]
    choices = [
        col("ncv") * col("carbon_content") * col("oxidation_rate") * col("carbon_to_co2"),
        col("ef"),
        (col("cao") - col("cao_noncarbonate")) * col("cao_to_co2")
        + (col("mgo") - col("mgo_noncarbonate")) * col("mgo_to_co2"),
        col("purity") * col("co2_per_carbonate"),
        col("anode_net_consumption") * (1 - col("anode_sulphur") - col("anode_ash")) * col("carbon_to_co2"),
        col("mass_carbon_content") * col("carbon_to_co2"),
        pd.Series(1.0, index=q.index),
    ]
    factor = np.select(conditions, choices, default=0.0)
    energy = np.select(
        [fuel, f.isin(["electricity", "heat"])],
        [col("ncv") / col("gj_per_tce"), col("tce_per_unit")],
        default=0.0,
    )
    measured_any = np.zeros(len(q), dtype=bool)
    for formula, needed in FORMULA_INPUTS.items():
        used = [f"{n}__m" for n in needed if n in inputs]
        if used and formula != "al_pfc":
            measured_any |= (f == formula).to_numpy() & q[used].notna().any(axis=1).to_numpy()
    q["co2_t"] = q["sign"] * q["qc"] * factor
    q["energy_tce"] = q["sign"] * q["qc"] * energy
    q["tier"] = np.where(measured_any, "measured", "default")

    # Aluminium: a second row per output row for the anode-effect PFCs.
    al = q[f == "al_anode"]
    if len(al):
        aem = col("anode_effect_minutes")[al.index]
        pfc = np.where(
            aem.notna(),
            (
                col("cf4_slope")[al.index] * aem * col("gwp_cf4")[al.index]
                + col("c2f6_ratio")[al.index] * col("cf4_slope")[al.index] * aem * col("gwp_c2f6")[al.index]
            )
            / 1000.0,
            al["ef_pfc"],
        )
        extra = al.assign(co2_t=al["qc"] * pfc, energy_tce=0.0, energy_type="none", formula="al_pfc")
        q = pd.concat([q, extra], ignore_index=True)

    results = q[
        [
            "credit_code",
            "period",
            "item",
            "quantity",
            "unit",
            "year",
            "qc",
            "co2_t",
            "energy_tce",
            "category",
            "energy_type",
            "formula",
            "tier",
        ]
    ]

    # Aggregates.
    co2 = results.pivot_table(
        index=["credit_code", "period"],
        columns="category",
        values="co2_t",
        aggfunc="sum",
        fill_value=0.0,
        observed=True,
    )
    tce = results.pivot_table(
        index=["credit_code", "period"],
        columns="energy_type",
        values="energy_tce",
        aggfunc="sum",
        fill_value=0.0,
        observed=True,
    )
    em = co2.add_prefix("co2_").join(tce.add_prefix("tce_"), how="outer").fillna(0.0).reset_index()
    co2_cols = [c for c in em.columns if c.startswith("co2_") and c not in ("co2_biomass", "co2_none")]
    tce_cols = [c for c in em.columns if c.startswith("tce_") and c != "tce_none"]
    em["co2_total_t"] = em[co2_cols].sum(axis=1)
    em["tce_total"] = em[tce_cols].sum(axis=1)
    em["year"] = em["period"].map(year_of).astype("int64")
    values = [c for c in em.columns if c.startswith(("co2_", "tce_"))]
    ey = em.groupby(["credit_code", "year"], observed=True)[values].sum().reset_index()
    places = mapping.assign(industry_code=mapping["industry_code"].str[:3])
    emp = em.merge(places, on="credit_code", how="left")
    eyp = ey.merge(places, on="credit_code", how="left")
    out = {"results": results, "enterprise_month": em, "enterprise_year": ey}
    for name, keys in (
        ("industry", ["industry_code"]),
        ("county", ["region_code", "city_code"]),
        ("city", ["city_code"]),
    ):
        month = emp.groupby([*keys, "period"], observed=True)
        out[f"{name}_month"] = month[values].sum().join(month.size().rename("n_enterprises")).reset_index()
        year = eyp.groupby([*keys, "year"], observed=True)
        out[f"{name}_year"] = year[values].sum().join(year.size().rename("n_enterprises")).reset_index()
    return out


def pandas_summary(out: dict) -> dict:
    ey = out["enterprise_year"]
    return {
        "rows": int(out["results"].shape[0]),
        "co2_total_t": float(ey["co2_total_t"].sum()),
        "co2_biomass_t": float(ey["co2_biomass"].sum()) if "co2_biomass" in ey.columns else 0.0,
        "tce_total": float(ey["tce_total"].sum()),
        "enterprise_months": int(out["enterprise_month"].shape[0]),
        "county_months": int(out["county_month"].shape[0]),
    }
