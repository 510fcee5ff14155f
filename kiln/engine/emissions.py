"""Per-row emissions per GB/T 32150 (domain.md §1, §3.3, §3.4): one result row per quantity row.

Formulas (``co2_t = sign × quantity_canonical × factor``; every factor in tCO2 per canonical unit):

=========== =========================================================================================
formula     factor
=========== =========================================================================================
combustion  NCV × CC × OF × 44/12 (GJ/t or GJ/1e4Nm3 × tC/GJ × fraction × tCO2/tC)
biomass     same as combustion, reported under ``biomass`` and never added to totals
electricity grid factor of the chosen series for the period's year (tCO2/MWh); exports negative
heat        heat factor (tCO2/GJ); exports negative
clinker     (CaO − CaO_noncarbonate) × 44/56 + (MgO − MgO_noncarbonate) × 44/40, applied to clinker,
            kiln-head dust and bypass dust alike (tCO2/t)
carbonate   purity × stoichiometric factor: limestone 44/100, dolomite 88/184.4 (tCO2/t)
al_anode    NC × (1 − S − A) × 44/12 (t anode/t Al × fraction × tCO2/tC). **Inferred** from the data
            fields of public code, not read in the guideline (domain.md §3.4)
al_pfc      a second row for each aluminium-output row: slope method, EF_CF4 = 0.143 × AEM kg/t Al,
            EF_C2F6 = 0.1 × EF_CF4, × GWP / 1000 (tCO2e/t Al); default EFs when AEM is not measured
steel       carbon balance: mass carbon content × 44/12 (tCO2/t); inputs +, outputs −. No default
            carbon contents exist: they must be measured or in the factor set
recovery    1 (the row is tonnes of CO2 recovered, counted negative)
none        0 (products and other rows without emissions)
=========== =========================================================================================

Energy (GB/T 2589): fuels NCV-based GJ / 29.3076 GJ/tce; electricity 0.1229 tce/MWh; heat
0.03412 tce/GJ (all from ``energy_conversion.csv``); exports negative.

Measured monthly parameters (``raw_coal.ncv`` …) override the factor-set values for that
enterprise-month only; a row's ``tier`` is ``measured`` when any measured input of its formula
was used, else ``default``.

Result columns (``compute`` returns them in this order):

=================== ========= ==============================================================
column              dtype     meaning and unit
=================== ========= ==============================================================
row                 UInt32    index of the input row in the activity frame (aluminium rows
                              appear twice: ``al_anode`` and, appended at the end, ``al_pfc``)
credit_code         Categ.    as given
period              Categ.    ``YYYY-MM``, as given
item                Categ.    as given
quantity            Float64   as given, in ``unit``
unit                Categ.    as given
source/facility/    as given  passed through when present
note
year                Int32     calendar year of ``period``
quantity_canonical  Float64   quantity in ``unit_canonical``
unit_canonical      Enum      the item's canonical unit (t, 1e4Nm3, MWh, GJ …)
co2_t               Float64   tCO2 (tCO2e for ``al_pfc`` rows); negative for exports, recovery
                              and carbon-balance outputs; biomass CO2 on ``biomass`` rows only
energy_tce          Float64   energy in tonnes of standard coal equivalent (GB/T 2589)
energy_type         Enum      coal / oil / gas / electricity / heat / other / none
source_category     Enum      combustion / process / electricity_purchased /
                              electricity_exported / heat_purchased / heat_exported / recovery
                              / biomass / none
formula             Enum      which formula above produced the row
tier                Enum      default / measured
factor_set          Enum      name of the factor set used
=================== ========= ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from kiln.engine import factorset, units
from kiln.engine import items as catalogue
from kiln.engine.errors import EngineError, ErrorCode, frame_error
from kiln.engine.normalise import (
    BASE_CODES,
    CODE_INDEX,
    CODE_PARAM_ITEM,
    ITEM_BITS,
    N_BASE,
    NO_INDEX,
    OPTIONAL_COLUMNS,
    PARAMETER_NAMES,
    Prepared,
    measured_key,
    parameters,
    prepare,
)

FORMULAS = ("combustion", "biomass", "electricity", "heat", "clinker", "carbonate", "al_anode", "al_pfc",
            "steel", "recovery", "none")
SOURCE_CATEGORIES = ("combustion", "process", "electricity_purchased", "electricity_exported", "heat_purchased",
                     "heat_exported", "recovery", "biomass", "none")
ENERGY_TYPES = ("coal", "oil", "gas", "electricity", "heat", "other", "none")
TIERS = ("default", "measured")

FORMULA_ENUM = pl.Enum(list(FORMULAS))
SOURCE_CATEGORY_ENUM = pl.Enum(list(SOURCE_CATEGORIES))
ENERGY_TYPE_ENUM = pl.Enum(list(ENERGY_TYPES))
TIER_ENUM = pl.Enum(list(TIERS))
CANONICAL_UNIT_ENUM = pl.Enum(list(units.CANONICAL_UNITS))

# Inputs that may be measured monthly (else taken from the factor set) and set-only constants.
FORMULA_INPUTS: dict[str, tuple[str, ...]] = {
    "combustion": ("ncv", "carbon_content", "oxidation_rate"),
    "biomass": ("ncv", "carbon_content", "oxidation_rate"),
    "electricity": ("ef",),
    "heat": ("ef",),
    "clinker": ("cao", "mgo", "cao_noncarbonate", "mgo_noncarbonate"),
    "carbonate": ("purity",),
    "al_anode": ("anode_net_consumption", "anode_sulphur", "anode_ash"),
    "al_pfc": ("anode_effect_minutes",),
    "steel": ("mass_carbon_content",),
    "recovery": (),
    "none": (),
}
FORMULA_CONSTANTS: dict[str, tuple[str, ...]] = {
    "combustion": ("carbon_to_co2", "gj_per_tce"),
    "biomass": ("carbon_to_co2", "gj_per_tce"),
    "electricity": ("tce_per_unit",),
    "heat": ("tce_per_unit",),
    "clinker": ("cao_to_co2", "mgo_to_co2"),
    "carbonate": ("co2_per_carbonate",),
    "al_anode": ("carbon_to_co2",),
    # cf4_slope and c2f6_ratio are used with measured AEM, ef_cf4 and ef_c2f6 without.
    "al_pfc": ("gwp_cf4", "gwp_c2f6", "cf4_slope", "c2f6_ratio", "ef_cf4", "ef_c2f6"),
    "steel": ("carbon_to_co2",),
    "recovery": (),
    "none": (),
}
MEASURED_ONLY = ("anode_effect_minutes",)  # never taken from a factor set
VALUE_COLUMNS = list(dict.fromkeys([*factorset.FACTOR_PARAMETERS, *MEASURED_ONLY]))


def _item_table(attr) -> list:
    return [attr(catalogue.ITEMS[code]) for code in BASE_CODES]


ITEM_FORMULA = pl.Series("formula", _item_table(lambda i: i.formula), dtype=FORMULA_ENUM)
ITEM_SIGN = pl.Series("sign", _item_table(lambda i: float(i.sign)), dtype=pl.Float64)
ITEM_CATEGORY = pl.Series("cat", _item_table(lambda i: i.source_category), dtype=SOURCE_CATEGORY_ENUM)
ITEM_ENERGY = pl.Series("energy", _item_table(lambda i: i.energy_type or "none"), dtype=ENERGY_TYPE_ENUM)
TIER_LUT = pl.Series("tier", TIERS, dtype=TIER_ENUM)
AL_INDEX = CODE_INDEX["aluminium_output"]


# --------------------------------------------------------------------------------------------
# The formulas, as expressions over columns named after the parameters


def _pfc() -> pl.Expr:
    c = pl.col
    aem = c("anode_effect_minutes")
    ef_cf4 = pl.when(aem.is_not_null()).then(c("cf4_slope") * aem).otherwise(c("ef_cf4"))
    ef_c2f6 = pl.when(aem.is_not_null()).then(c("c2f6_ratio") * c("cf4_slope") * aem).otherwise(c("ef_c2f6"))
    return (ef_cf4 * c("gwp_cf4") + ef_c2f6 * c("gwp_c2f6")) / 1000.0


def formula_factor(formula: str) -> pl.Expr:
    """tCO2 (tCO2e for al_pfc) per canonical unit for one formula, from parameter columns."""
    c = pl.col
    return {
        "combustion": lambda: c("ncv") * c("carbon_content") * c("oxidation_rate") * c("carbon_to_co2"),
        "biomass": lambda: c("ncv") * c("carbon_content") * c("oxidation_rate") * c("carbon_to_co2"),
        "electricity": lambda: c("ef"),
        "heat": lambda: c("ef"),
        "clinker": lambda: (c("cao") - c("cao_noncarbonate")) * c("cao_to_co2")
        + (c("mgo") - c("mgo_noncarbonate")) * c("mgo_to_co2"),
        "carbonate": lambda: c("purity") * c("co2_per_carbonate"),
        "al_anode": lambda: c("anode_net_consumption") * (1.0 - c("anode_sulphur") - c("anode_ash"))
        * c("carbon_to_co2"),
        "al_pfc": _pfc,
        "steel": lambda: c("mass_carbon_content") * c("carbon_to_co2"),
        "recovery": lambda: pl.lit(1.0),
        "none": lambda: pl.lit(0.0),
    }[formula]()


def formula_energy(formula: str) -> pl.Expr:
    """tce per canonical unit (GB/T 2589): NCV / 29.3076 for fuels, coefficients for electricity/heat."""
    if formula in ("combustion", "biomass"):
        return pl.col("ncv") / pl.col("gj_per_tce")
    if formula in ("electricity", "heat"):
        return pl.col("tce_per_unit")
    return pl.lit(0.0)


def _by_formula(formula: pl.Expr, build) -> pl.Expr:
    out = pl.lit(None, dtype=pl.Float64)
    for name in FORMULAS:
        out = pl.when(formula == name).then(build(name)).otherwise(out)
    return out


def emission_factor(formula: pl.Expr) -> pl.Expr:
    """``formula_factor`` chosen per row by a formula column (for small frames)."""
    return _by_formula(formula, formula_factor)


def energy_factor(formula: pl.Expr) -> pl.Expr:
    """``formula_energy`` chosen per row by a formula column (for small frames)."""
    return _by_formula(formula, formula_energy)


# --------------------------------------------------------------------------------------------
# Evaluation: lookup tables for defaults and measured values


@dataclass
class Evaluation:
    prepared: Prepared
    factor_set_name: str
    grid_series: str
    defaults: pl.DataFrame  # per (item code, year): parameter_item's values in force, formula, ef, tce, ef_pfc
    measured: pl.DataFrame  # per (credit code, period, facility, parameter item): measured and effective values
    params: pl.DataFrame  # measured-parameter rows (normalise.parameters)
    y0: int
    span: int
    ef_default: pl.Series  # indexed by CODES index × span + (year − y0)
    tce_default: pl.Series
    pfc_default: pl.Series
    parameter_problems: bool  # duplicate, out-of-range, non-numeric or negative parameter values
    match: pl.Series | None = None  # per input row: the measured-table row it uses (null: none)


def _default_table(fs: pl.DataFrame, item_indexes: list[int], years: list[int], grid_series: str) -> pl.DataFrame:
    codes = [BASE_CODES[i] for i in item_indexes]
    base_of = {c: catalogue.ITEMS[c].parameter_item for c in codes}
    resolved = factorset.resolve(fs, sorted(set(base_of.values())), years, grid_series)
    frame = pl.DataFrame(
        {"item": codes, "param_item": [base_of[c] for c in codes], "idx": item_indexes,
         "formula": [catalogue.ITEMS[c].formula for c in codes]},
        schema={"item": pl.String, "param_item": pl.String, "idx": pl.UInt16, "formula": FORMULA_ENUM},
    )
    table = frame.join(resolved.rename({"item": "param_item"}), on="param_item", how="left").with_columns(
        [pl.lit(None, dtype=pl.Float64).alias(p) for p in MEASURED_ONLY]
    )
    return table.with_columns(
        ef=emission_factor(pl.col("formula")),
        tce=energy_factor(pl.col("formula")),
        ef_pfc=pl.when(pl.col("formula") == "al_anode").then(_pfc()).otherwise(None),
    )


PARAM_FORMULA = pl.Series(
    "formula", [catalogue.ITEMS[c].formula if c in catalogue.ITEMS else "none" for c in BASE_CODES],
    dtype=FORMULA_ENUM,
)


def _measured_table(prepared: Prepared, params: pl.DataFrame, defaults: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """One row per (enterprise, period, facility, parameter item) with measured parameters.

    Columns: ``key`` (UInt64), ``<parameter>__m`` (measured values), the parameter columns
    (effective values: measured, else default), and ``ef_m``/``tce_m``/``pfc_m``: factors when at
    least one measured input of the formula was used, else null (the row then falls back to the
    default factors and tier ``default``). Also returns whether any parameter row is unusable
    (duplicate, out of range, not a finite number ≥ 0): the caller then reports the details.
    """
    empty = pl.DataFrame(schema={"key": pl.UInt64, "ef_m": pl.Float64, "tce_m": pl.Float64, "pfc_m": pl.Float64})
    if params.is_empty():
        return empty, False
    present = sorted(set(params.get_column("param").unique().to_list()))
    names = {i: PARAMETER_NAMES[i] for i in present}
    value = pl.col("value")
    fractions = [i for i in present if names[i] in catalogue.FRACTION_PARAMETERS]
    keyed = params.lazy().with_columns(
        key=measured_key(prepared, pl.col("_cc"), pl.col("_period"), pl.col("_fac"), pl.col("param_item")),
        _bad=(~value.is_finite() | (value < 0) | (pl.col("param").is_in(fractions) & (value > 1))).fill_null(True),
        **{f"{names[i]}__m": pl.when(pl.col("param") == i).then(value) for i in present},
    )
    # One pass: the value of each parameter per key, how many rows each key has, bad values.
    wide = (
        keyed.group_by("key")
        .agg(
            pl.col("_cc", "_period", "_fac", "_year", "param_item").first(),
            pl.len().alias("_n"),
            pl.col("_bad").any(),
            *[pl.col(f"{names[i]}__m").max() for i in present],
        )
        .collect()
    )
    counted = pl.sum_horizontal([pl.col(f"{names[i]}__m").is_not_null().cast(pl.UInt32) for i in present])
    problems = bool(wide.select((pl.col("_bad") | (pl.col("_n") != counted)).any()).item())
    measured_cols = [names[i] for i in present if names[i] in VALUE_COLUMNS]
    wide = wide.filter(pl.col("_year").is_not_null()).drop(
        [f"{names[i]}__m" for i in present if names[i] not in VALUE_COLUMNS]
    )
    if not measured_cols:
        return empty, problems
    if len(prepared.facilities) and wide.get_column("_fac").max():
        # A parameter not measured for the facility falls back to the enterprise-level value.
        keys = ["_cc", "_period", "param_item"]
        enterprise = wide.filter(pl.col("_fac") == 0).select(*keys, *[f"{p}__m" for p in measured_cols])
        wide = wide.join(enterprise, on=keys, how="left", suffix="__e").with_columns(
            pl.coalesce(f"{p}__m", f"{p}__m__e").alias(f"{p}__m") for p in measured_cols
        ).drop(f"{p}__m__e" for p in measured_cols)
    measured = set(measured_cols)
    formulas = [f for f in FORMULAS if f != "al_pfc"]
    present_formulas = {PARAM_FORMULA[int(i)] for i in wide.get_column("param_item").unique().to_list()}
    needed = sorted({p for f in present_formulas for p in (*FORMULA_INPUTS[f], *FORMULA_CONSTANTS[f])}
                    | ({"anode_effect_minutes", *FORMULA_CONSTANTS["al_pfc"]} if "al_anode" in present_formulas
                       else set()))
    base_defaults = (
        defaults.filter(pl.col("item") == pl.col("param_item"))
        .select(pl.col("idx").alias("param_item"), pl.col("year").alias("_year"), *needed)
    )
    joined = wide.join(base_defaults, on=["param_item", "_year"], how="left").with_columns(
        **{p: pl.coalesce(f"{p}__m", p) for p in measured_cols if p in needed}
    )
    parts = []
    for formula in formulas:
        if formula not in present_formulas:
            continue
        used = [p for p in FORMULA_INPUTS[formula] if p in measured]
        if not used:
            continue
        part = joined.lazy().filter(pl.col("param_item").is_in(
            [i for i, f in enumerate(PARAM_FORMULA.to_list()) if f == formula]))
        main_measured = pl.any_horizontal([pl.col(f"{p}__m").is_not_null() for p in used])
        ncv_measured = (pl.col("ncv__m").is_not_null() if "ncv" in measured and formula in ("combustion", "biomass")
                        else pl.lit(False))
        aem_measured = (pl.col("anode_effect_minutes__m").is_not_null()
                        if "anode_effect_minutes" in measured and formula == "al_anode" else pl.lit(False))
        parts.append(part.select(
            "key",
            *[f"{p}__m" for p in measured_cols],
            ef_m=pl.when(main_measured).then(formula_factor(formula)),
            tce_m=pl.when(ncv_measured).then(formula_energy(formula)),
            pfc_m=pl.when(aem_measured).then(formula_factor("al_pfc")) if formula == "al_anode"
            else pl.lit(None, dtype=pl.Float64),
        ))
    if not parts:
        return empty, problems
    return pl.concat(pl.collect_all(parts)), problems


def _lut(defaults: pl.DataFrame, column: str, y0: int, span: int) -> pl.Series:
    table = np.full(N_BASE * span, np.nan)
    valid = np.zeros(N_BASE * span, dtype=bool)
    d = defaults.select(pos=pl.col("idx").cast(pl.Int64) * span + (pl.col("year") - y0), v=pl.col(column))
    pos = d["pos"].to_numpy()
    vals = d["v"].to_numpy()
    ok = ~np.isnan(vals.astype(float))
    table[pos[ok]] = vals[ok]
    valid[pos[ok]] = True
    out = pl.Series(column, table)
    missing = np.flatnonzero(~valid)
    return out.scatter(missing, None) if missing.size else out


def _match(prepared: Prepared, measured: pl.DataFrame, params: pl.DataFrame) -> pl.Series | None:
    """For every input row, the measured-table row whose parameters it uses (null: none).

    Only rows whose enterprise reported parameters and whose item takes them are looked up (a
    small join), then scattered into a full-length column: far cheaper than probing every row.
    """
    if measured.is_empty():
        return None
    codes = params.get_column("_cc").unique().to_numpy()
    has = np.zeros(int(codes.max()) + 1, dtype=bool)
    has[codes] = True
    has_params = pl.Series(has)
    cc = pl.col("credit_code").to_physical()
    in_range = cc < len(has)
    param_item = pl.lit(CODE_PARAM_ITEM).gather(pl.col("_item"))
    candidates = (
        prepared.select_rows("quantity")
        .filter(in_range & pl.lit(has_params).gather(pl.when(in_range).then(cc)) & (param_item != NO_INDEX))
        .select("_row", "_fac", key=measured_key(prepared, pl.col("_cc"), pl.col("_period"), pl.col("_fac"),
                                                 param_item))
        .collect()
    )
    positions = measured.select("key").with_row_index("_m")
    found = candidates.join(positions, on="key", how="left")
    if prepared.facilities:
        # Facility rows without facility parameters use the enterprise-level ones.
        fallback = found.filter(pl.col("_m").is_null() & (pl.col("_fac") > 0)).select(
            "_row", key=pl.col("key") - pl.col("_fac").cast(pl.UInt64) * ITEM_BITS
        ).join(positions, on="key", how="inner")
        found = pl.concat([found.filter(pl.col("_m").is_not_null()).select("_row", "_m"), fallback.select("_row", "_m")])
    else:
        found = found.filter(pl.col("_m").is_not_null()).select("_row", "_m")
    match = pl.repeat(None, prepared.data.height, dtype=pl.UInt32, eager=True).alias("_m")
    return match.scatter(found.get_column("_row"), found.get_column("_m"))


def evaluate(
    prepared: Prepared,
    factor_set: pl.DataFrame,
    *,
    grid_series: str | None = None,
) -> Evaluation:
    """Build the default and measured lookup tables for a prepared activity frame."""
    problems = factorset.check(factor_set)
    if not problems.is_empty():
        raise EngineError(problems)
    name = factorset.name_of(factor_set)
    grid = factorset.grid_series_name(grid_series or factorset.default_grid_series(name))
    if grid not in factorset.grid_series(factor_set):
        raise EngineError(frame_error(
            ErrorCode.UNKNOWN_GRID_SERIES,
            f"grid series {grid!r} is not in factor set {name!r} "
            f"(available: {', '.join(factorset.grid_series(factor_set))})",
        ))
    years = prepared.years or [0]
    y0, span = min(years), max(years) - min(years) + 1
    base_items = [i for i in prepared.items_present if i < N_BASE]
    # Items whose measured parameters may occur without a quantity row still need defaults
    # under their parameter item (kiln dust → clinker).
    param_items = {int(CODE_PARAM_ITEM[i]) for i in prepared.items_present}
    item_indexes = sorted({*base_items, *(i for i in param_items if i != NO_INDEX)})
    defaults = _default_table(factor_set, item_indexes, prepared.years, grid)
    params = parameters(prepared)
    measured, parameter_problems = _measured_table(prepared, params, defaults)
    return Evaluation(
        prepared=prepared, factor_set_name=name, grid_series=grid, defaults=defaults, measured=measured,
        params=params, y0=y0, span=span,
        ef_default=_lut(defaults, "ef", y0, span), tce_default=_lut(defaults, "tce", y0, span),
        pfc_default=_lut(defaults, "ef_pfc", y0, span), parameter_problems=parameter_problems,
        match=_match(prepared, measured, params),
    )


def rows(ev: Evaluation, *, helpers: bool = False) -> pl.LazyFrame:
    """The per-row results as a lazy frame (see module docstring), without checking for errors.

    ``helpers`` keeps ``_item`` (and ``_m``, the measured-table row) for error reporting.
    """
    p = ev.prepared
    lf = p.select_rows("quantity")
    fidx = pl.col("_item").cast(pl.Int64) * ev.span + (pl.col("_year") - ev.y0)
    has_measured = ev.match is not None
    if has_measured:
        lf = lf.with_columns(_m=pl.lit(ev.match).gather(pl.col("_row")))
    passthrough = [c for c in OPTIONAL_COLUMNS if c in p.data.columns]
    extra = ["_item", *(["_m"] if has_measured else [])] if helpers else []
    fs_enum = pl.Enum([ev.factor_set_name])

    def build(frame: pl.LazyFrame, ef_d: pl.Series, m_col: str, formula: pl.Expr, tce: bool) -> pl.LazyFrame:
        ef_default = pl.lit(ef_d).gather(fidx)
        if has_measured:
            ef_measured = pl.lit(ev.measured[m_col]).gather(pl.col("_m"))
            ef = pl.coalesce(ef_measured, ef_default)
            tier = pl.lit(TIER_LUT).gather(ef_measured.is_not_null().cast(pl.UInt8))
        else:
            ef = ef_default
            tier = pl.lit("default", dtype=TIER_ENUM)
        sign = pl.lit(ITEM_SIGN).gather(pl.col("_item"))
        if tce:
            tce_default = pl.lit(ev.tce_default).gather(fidx)
            if has_measured:
                tce_f = pl.coalesce(pl.lit(ev.measured["tce_m"]).gather(pl.col("_m")), tce_default)
            else:
                tce_f = tce_default
            energy = pl.col("_qc") * tce_f * sign + 0.0  # + 0.0 turns -0.0 into 0.0
            energy_type = pl.lit(ITEM_ENERGY).gather(pl.col("_item"))
        else:
            energy = pl.lit(0.0)
            energy_type = pl.lit("none", dtype=ENERGY_TYPE_ENUM)
        return frame.select(
            pl.col("_row").alias("row"),
            "credit_code", "period", "item", "quantity", "unit", *passthrough,
            pl.col("_year").alias("year"),
            pl.col("_qc").alias("quantity_canonical"),
            pl.lit(ITEM_UNIT).gather(pl.col("_item")).alias("unit_canonical"),
            (pl.col("_qc") * ef * sign + 0.0).alias("co2_t"),
            energy.alias("energy_tce"),
            energy_type.alias("energy_type"),
            pl.lit(ITEM_CATEGORY).gather(pl.col("_item")).alias("source_category"),
            formula.alias("formula"),
            tier.alias("tier"),
            pl.lit(ev.factor_set_name, dtype=fs_enum).alias("factor_set"),
            *extra,
        )

    main = build(lf, ev.ef_default, "ef_m", pl.lit(ITEM_FORMULA).gather(pl.col("_item")), tce=True)
    if AL_INDEX not in p.items_present:
        return main
    pfc = build(lf.filter(pl.col("_item") == AL_INDEX), ev.pfc_default, "pfc_m",
                pl.lit("al_pfc", dtype=FORMULA_ENUM), tce=False)
    return pl.concat([main, pfc])


ITEM_UNIT = pl.Series([catalogue.ITEMS[c].unit for c in BASE_CODES], dtype=CANONICAL_UNIT_ENUM)


def problems_found(ev: Evaluation, results: pl.DataFrame) -> bool:
    """Cheap check for any problem; ``validation.validate`` then lists them in detail."""
    p = ev.prepared
    if p.credit_problem or p.period_problem or p.unknown_items or ev.parameter_problems:
        return True
    flags = results.select(
        bad=(pl.col("co2_t").is_null() | pl.col("energy_tce").is_null() | ~pl.col("quantity").is_finite()
             | (pl.col("quantity") < 0)).any()
    )
    return bool(flags.item())


def compute(
    activity: pl.DataFrame | pl.LazyFrame,
    factor_set: pl.DataFrame,
    *,
    grid_series: str | None = None,
    not_after: str | None = None,
    check_credit_codes: bool = True,
) -> pl.DataFrame:
    """Per-row emissions and energy for an activity frame; raises ``EngineError`` listing every problem.

    ``grid_series`` picks the grid-factor series (``MEE_ETS_GRID/CN`` by default, or e.g.
    ``MEE_NBS_AVG/330000``); ``not_after`` is the latest allowed period (default: this month).
    """
    prepared = prepare(activity, not_after=not_after, check_credit_codes=check_credit_codes)
    if not prepared.ok:
        raise EngineError(prepared.frame_errors)
    ev = evaluate(prepared, factor_set, grid_series=grid_series)
    results = rows(ev).collect()
    if problems_found(ev, results):
        from kiln.engine.validation import row_errors

        errors = row_errors(ev)
        if errors.is_empty():  # pragma: no cover - the two checks disagree: never hide it
            raise RuntimeError("engine found a problem that validation could not describe")
        raise EngineError(errors)
    return results
