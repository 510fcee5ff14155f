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
enterprise-month only. A parameter given with a facility applies to that facility's rows; one
given without applies to the enterprise's rows, and fills in what a facility did not measure.
A row's ``tier`` is ``measured`` when any measured input of its formula was used, else
``default``.

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

FORMULAS = (
    "combustion",
    "biomass",
    "electricity",
    "heat",
    "clinker",
    "carbonate",
    "al_anode",
    "al_pfc",
    "steel",
    "recovery",
    "none",
)
SOURCE_CATEGORIES = (
    "combustion",
    "process",
    "electricity_purchased",
    "electricity_exported",
    "heat_purchased",
    "heat_exported",
    "recovery",
    "biomass",
    "none",
)
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
        "clinker": lambda: (
            (c("cao") - c("cao_noncarbonate")) * c("cao_to_co2")
            + (c("mgo") - c("mgo_noncarbonate")) * c("mgo_to_co2")
        ),
        "carbonate": lambda: c("purity") * c("co2_per_carbonate"),
        "al_anode": lambda: (
            c("anode_net_consumption") * (1.0 - c("anode_sulphur") - c("anode_ash")) * c("carbon_to_co2")
        ),
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
    # Per (item code, year): the parameter item's values in force, formula, ef, tce, ef_pfc.
    defaults: pl.DataFrame
    # Per (credit code, period, facility, parameter item): measured values and factors.
    measured: pl.DataFrame
    params: pl.DataFrame  # measured-parameter rows (normalise.parameters)
    y0: int
    span: int
    ef_default: pl.Series  # indexed by CODES index × span + (year − y0)
    tce_default: pl.Series
    pfc_default: pl.Series
    parameter_problems: bool  # duplicate, out-of-range, non-numeric or negative parameter values
    pairs: tuple[pl.Series, pl.Series] | None = None  # (credit code → slot, slot × item → has parameters)


def _default_table(
    fs: pl.DataFrame, item_indexes: list[int], years: list[int], grid_series: str
) -> pl.DataFrame:
    codes = [BASE_CODES[i] for i in item_indexes]
    base_of = {c: catalogue.ITEMS[c].parameter_item for c in codes}
    resolved = factorset.resolve(fs, sorted(set(base_of.values())), years, grid_series)
    frame = pl.DataFrame(
        {
            "item": codes,
            "param_item": [base_of[c] for c in codes],
            "idx": item_indexes,
            "formula": [catalogue.ITEMS[c].formula for c in codes],
        },
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
    "formula",
    [catalogue.ITEMS[c].formula if c in catalogue.ITEMS else "none" for c in BASE_CODES],
    dtype=FORMULA_ENUM,
)


def _measured_table(
    prepared: Prepared, params: pl.DataFrame, defaults: pl.DataFrame, y0: int, span: int, detail: bool = False
) -> tuple[pl.DataFrame, bool]:
    """One row per (enterprise, period, facility, parameter item) with measured parameters.

    Columns: ``key`` (UInt64), ``<parameter>__m`` (measured values, with ``detail`` only) and
    ``ef_m``/``tce_m``/
    ``pfc_m``: factors when at least one measured input of the formula was used, else null (the
    row then falls back to the default factors and tier ``default``). Inputs not measured come
    from the factor set. Also returns whether any parameter row is unusable (duplicate, out of
    range, not a finite number ≥ 0): the caller then reports the details.
    """
    empty = pl.DataFrame(
        schema={"key": pl.UInt64, "ef_m": pl.Float64, "tce_m": pl.Float64, "pfc_m": pl.Float64}
    )
    if params.is_empty():
        return empty, False
    present = sorted(set(params.get_column("param").unique().to_list()))
    names = {i: PARAMETER_NAMES[i] for i in present}
    value = pl.col("value")
    fractions = [i for i in present if names[i] in catalogue.FRACTION_PARAMETERS]
    bad = (~value.is_finite() | (value < 0) | (pl.col("param").is_in(fractions) & (value > 1))).fill_null(
        True
    )
    usable = params.lazy().filter(pl.col("_period").is_not_null())
    # One pass: each parameter's value per key (a duplicate shows as fewer values than rows).
    wide = (
        usable.group_by(
            key=measured_key(prepared, pl.col("_cc"), pl.col("_period"), pl.col("_fac"), pl.col("param_item"))
        )
        .agg(pl.when(pl.col("param") == i).then(value).max().alias(f"{names[i]}__m") for i in present)
        .collect()
    )
    counted = wide.select(
        pl.sum_horizontal([pl.col(f"{names[i]}__m").is_not_null().cast(pl.UInt32) for i in present]).sum()
    ).item()
    checks = usable.select(pl.len(), bad.any()).collect().row(0)
    problems = bool(checks[1]) or counted != checks[0]
    measured_cols = [names[i] for i in present if names[i] in VALUE_COLUMNS]
    if not measured_cols:
        return empty, problems
    # Decode the key: credit code, period, facility, parameter item (see ``measured_key``).
    n_fac = len(prepared.facilities) + 1
    low = pl.col("key") % (1 << 32)
    wide = (
        wide.lazy()
        .select(
            "key",
            *[f"{p}__m" for p in measured_cols],
            _cc=(pl.col("key") // (1 << 32)).cast(pl.UInt32),
            param_item=(low % ITEM_BITS).cast(pl.UInt16),
            _fac=((low // ITEM_BITS) % n_fac).cast(pl.UInt32),
            _period=(low // ITEM_BITS // n_fac).cast(pl.UInt16),
        )
        .with_columns(_year=pl.lit(pl.Series(prepared.luts["year"])).gather(pl.col("_period")))
    )
    if prepared.facilities:
        # A parameter not measured for the facility falls back to the enterprise-level value.
        keys = ["_cc", "_period", "param_item"]
        enterprise = wide.filter(pl.col("_fac") == 0).select(*keys, *[f"{p}__m" for p in measured_cols])
        wide = (
            wide.join(enterprise, on=keys, how="left", suffix="__e")
            .with_columns(pl.coalesce(f"{p}__m", f"{p}__m__e").alias(f"{p}__m") for p in measured_cols)
            .drop(f"{p}__m__e" for p in measured_cols)
        )
    wide = wide.collect()
    measured = set(measured_cols)
    present_formulas = {PARAM_FORMULA[int(i)] for i in wide.get_column("param_item").unique().to_list()}
    # Values not measured come from the factor set: per (parameter item, year) lookup tables.
    base_defaults = defaults.filter(pl.col("item") == pl.col("param_item"))
    fidx = pl.col("param_item").cast(pl.Int64) * span + (pl.col("_year") - y0)

    def effective(parameter: str) -> pl.Expr:
        default = pl.lit(_lut(base_defaults, parameter, y0, span)).gather(fidx)
        return pl.coalesce(f"{parameter}__m", default) if parameter in measured else default

    parts = []
    for formula in FORMULAS:
        used = [p for p in FORMULA_INPUTS[formula] if p in measured]
        if formula not in present_formulas or not used:
            continue
        inputs = {*FORMULA_INPUTS[formula], *FORMULA_CONSTANTS[formula]}
        if formula == "al_anode":
            inputs |= {*FORMULA_INPUTS["al_pfc"], *FORMULA_CONSTANTS["al_pfc"]}
        part = (
            wide.lazy()
            .filter(
                pl.col("param_item").is_in([i for i, f in enumerate(PARAM_FORMULA.to_list()) if f == formula])
            )
            .with_columns(**{p: effective(p) for p in sorted(inputs)})
        )
        main_measured = pl.any_horizontal([pl.col(f"{p}__m").is_not_null() for p in used])
        ncv_measured = pl.col("ncv__m").is_not_null() if "ncv" in measured else pl.lit(False)
        aem_measured = (
            pl.col("anode_effect_minutes__m").is_not_null()
            if "anode_effect_minutes" in measured
            else pl.lit(False)
        )
        parts.append(
            part.select(
                "key",
                *([f"{p}__m" for p in measured_cols] if detail else []),
                ef_m=pl.when(main_measured).then(formula_factor(formula)),
                tce_m=pl.when(ncv_measured).then(formula_energy(formula))
                if formula in ("combustion", "biomass")
                else pl.lit(None, dtype=pl.Float64),
                pfc_m=pl.when(aem_measured).then(formula_factor("al_pfc"))
                if formula == "al_anode"
                else pl.lit(None, dtype=pl.Float64),
            )
        )
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


def _pairs(params: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Lookup tables for the (enterprise, parameter item) pairs that have measured parameters.

    ``slot[credit code dictionary code]`` is 0 for enterprises without parameters, else 1 + a
    dense index; ``has[slot × ITEM_BITS + parameter item]`` says whether that pair has any.
    """
    pairs = params.select("_cc", "param_item").unique()
    codes = pairs.get_column("_cc").unique().sort().to_numpy()
    slot = np.zeros(int(codes.max()) + 1, dtype=np.uint32)
    slot[codes] = np.arange(1, codes.size + 1, dtype=np.uint32)
    has = np.zeros((codes.size + 1) * ITEM_BITS, dtype=bool)
    has[
        slot[pairs.get_column("_cc").to_numpy()].astype(np.int64) * ITEM_BITS
        + pairs.get_column("param_item").to_numpy()
    ] = True
    return pl.Series("slot", slot), pl.Series("has", has)


def evaluate(
    prepared: Prepared,
    factor_set: pl.DataFrame,
    *,
    grid_series: str | None = None,
    detail: bool = False,
) -> Evaluation:
    """Build the default and measured lookup tables for a prepared activity frame.

    ``detail`` keeps every measured value in ``Evaluation.measured`` (error messages need them;
    the computation does not).
    """
    problems = factorset.check(factor_set)
    if not problems.is_empty():
        raise EngineError(problems)
    name = factorset.name_of(factor_set)
    grid = factorset.grid_series_name(grid_series or factorset.default_grid_series(name))
    if grid not in factorset.grid_series(factor_set):
        raise EngineError(
            frame_error(
                ErrorCode.UNKNOWN_GRID_SERIES,
                f"grid series {grid!r} is not in factor set {name!r} "
                f"(available: {', '.join(factorset.grid_series(factor_set))})",
            )
        )
    years = prepared.years or [0]
    y0, span = min(years), max(years) - min(years) + 1
    base_items = [i for i in prepared.items_present if i < N_BASE]
    # Items whose measured parameters may occur without a quantity row still need defaults
    # under their parameter item (kiln dust → clinker).
    param_items = {int(CODE_PARAM_ITEM[i]) for i in prepared.items_present}
    item_indexes = sorted({*base_items, *(i for i in param_items if i != NO_INDEX)})
    defaults = _default_table(factor_set, item_indexes, prepared.years, grid)
    params = parameters(prepared)
    measured, parameter_problems = _measured_table(prepared, params, defaults, y0, span, detail)
    return Evaluation(
        prepared=prepared,
        factor_set_name=name,
        grid_series=grid,
        defaults=defaults,
        measured=measured,
        params=params,
        y0=y0,
        span=span,
        ef_default=_lut(defaults, "ef", y0, span),
        tce_default=_lut(defaults, "tce", y0, span),
        pfc_default=_lut(defaults, "ef_pfc", y0, span),
        parameter_problems=parameter_problems,
        pairs=_pairs(params) if measured.height else None,
    )


@dataclass
class Tables:
    """Lookup tables over the frame's small index spaces (``Prepared.spaces``) for the hot path.

    ``conv``: item × unit → multiplier to the canonical unit; ``co2``/``tce``/``pfc``: item ×
    period → default tCO2, tce and PFC tCO2e per canonical unit, sign included; the rest per item
    or per period. Unknown items, parameters, bad units and periods, missing factors: null.
    """

    n_items: int
    n_units: int
    n_periods: int
    quantity: pl.Series  # item → is a quantity row (known base item)
    conv: pl.Series
    co2: pl.Series
    tce: pl.Series
    pfc: pl.Series
    year: pl.Series  # period → calendar year
    unit: pl.Series  # item → canonical unit (Enum)
    energy: pl.Series
    category: pl.Series
    formula: pl.Series
    has: pl.Series | None  # enterprise slot × item → has measured parameters


def _float_table(values: np.ndarray) -> pl.Series:
    return pl.Series(values.ravel()).fill_nan(None)


def _tables(ev: Evaluation) -> Tables:
    p = ev.prepared
    items, units_, periods = (p.spaces[c][1] for c in ("item", "unit", "period"))
    codes = [CODE_INDEX.get(v) if v is not None else None for v in items]
    base = np.array([c if c is not None and c < N_BASE else -1 for c in codes], dtype=np.int64)
    is_base = base >= 0
    factors: dict[tuple[str, str], float | None] = {}
    conv = np.full((len(items), len(units_)), np.nan)
    for i, c in enumerate(base.tolist()):
        if c < 0:
            continue
        canonical = catalogue.ITEMS[BASE_CODES[c]].unit
        for u, unit in enumerate(units_):
            if unit is None:
                continue
            if (unit, canonical) not in factors:
                factors[(unit, canonical)] = units.factor(unit, canonical)
            if factors[(unit, canonical)] is not None:
                conv[i, u] = factors[(unit, canonical)]
    valid = set(p.periods)
    years = np.array([int(v[:4]) if v in valid else -1 for v in periods], dtype=np.int64)
    ok = is_base[:, None] & (years >= 0)[None, :]
    index = np.where(ok, np.maximum(base, 0)[:, None] * ev.span + (years - ev.y0)[None, :], 0)
    signs = np.where(is_base, ITEM_SIGN.to_numpy()[np.maximum(base, 0)], np.nan)[:, None]

    def by_period(lut: pl.Series, signed: bool = True) -> np.ndarray:
        values = lut.to_numpy().astype(float)[index] * (signs if signed else 1.0)
        return np.where(ok, values + 0.0, np.nan)

    def per_item(table: pl.Series) -> pl.Series:
        out = table.gather(pl.Series(np.maximum(base, 0), dtype=pl.UInt32))
        return out.scatter(np.flatnonzero(~is_base), None) if (~is_base).any() else out

    year = pl.Series(np.maximum(years, 0), dtype=pl.Int32)
    return Tables(
        n_items=len(items),
        n_units=len(units_),
        n_periods=len(periods),
        quantity=pl.Series(is_base),
        conv=_float_table(conv),
        co2=_float_table(by_period(ev.ef_default)),
        tce=_float_table(by_period(ev.tce_default)),
        pfc=_float_table(by_period(ev.pfc_default, signed=False)),
        year=year.scatter(np.flatnonzero(years < 0), None) if (years < 0).any() else year,
        unit=per_item(ITEM_UNIT),
        energy=per_item(ITEM_ENERGY),
        category=per_item(ITEM_CATEGORY),
        formula=per_item(ITEM_FORMULA),
        has=_has_table(ev, codes) if ev.pairs is not None else None,
    )


def _has_table(ev: Evaluation, codes: list[int | None]) -> pl.Series:
    """Enterprise slot × item index → the pair has measured parameters."""
    _, has = ev.pairs  # type: ignore[misc]
    n_slots = has.len() // ITEM_BITS
    param_items = np.array(
        [int(CODE_PARAM_ITEM[c]) if c is not None and c < N_BASE else NO_INDEX for c in codes], dtype=np.int64
    )
    usable = param_items != NO_INDEX
    table = np.zeros((n_slots, len(codes)), dtype=bool)
    slots = np.arange(n_slots)[:, None] * ITEM_BITS
    table[:, usable] = has.to_numpy()[slots + param_items[usable][None, :]]
    return pl.Series(table.ravel())


def rows(ev: Evaluation, *, helpers: bool = False) -> pl.DataFrame:
    """The per-row results (see module docstring), without checking for errors.

    One pass over the quantity rows computes everything from small lookup tables (item × unit,
    item × period) with the factor-set values, and flags the rows whose enterprise measured
    parameters for their item. Only those rows are then joined with the measured table and their
    factors, energy and tier patched. ``helpers`` adds ``_item`` (CODES index) and ``_m`` (the
    measured-table row used) for error reporting.
    """
    p = ev.prepared
    t = _tables(ev)
    item, unit, period = (p.spaces[c][0] for c in ("item", "unit", "period"))
    iu = item.cast(pl.UInt32) * t.n_units + unit.cast(pl.UInt32)
    ip = item.cast(pl.UInt32) * t.n_periods + period.cast(pl.UInt32)
    passthrough = [c for c in OPTIONAL_COLUMNS if c in p.data.columns]
    extra: list[pl.Expr] = []
    if t.has is not None:
        slot_lut, _ = ev.pairs  # type: ignore[misc]
        cc = pl.col("credit_code").to_physical()
        slot = pl.lit(slot_lut).gather(pl.when(cc < slot_lut.len()).then(cc)).fill_null(0)
        extra.append(
            pl.lit(t.has).gather(slot.cast(pl.UInt32) * t.n_items + item.cast(pl.UInt32)).alias("_cand")
        )
    main = (
        p.data.lazy()
        .with_row_index("row")
        .filter(pl.lit(t.quantity).gather(item))
        .with_columns(_qc=pl.col("quantity") * pl.lit(t.conv).gather(iu))
        .select(
            "row",
            "credit_code",
            "period",
            "item",
            "quantity",
            "unit",
            *passthrough,
            pl.lit(t.year).gather(period).alias("year"),
            pl.col("_qc").alias("quantity_canonical"),
            pl.lit(t.unit).gather(item).alias("unit_canonical"),
            (pl.col("_qc") * pl.lit(t.co2).gather(ip) + 0.0).alias("co2_t"),
            (pl.col("_qc") * pl.lit(t.tce).gather(ip) + 0.0).alias("energy_tce"),
            pl.lit(t.energy).gather(item).alias("energy_type"),
            pl.lit(t.category).gather(item).alias("source_category"),
            pl.lit(t.formula).gather(item).alias("formula"),
            pl.lit("default", dtype=TIER_ENUM).alias("tier"),
            pl.lit(ev.factor_set_name, dtype=pl.Enum([ev.factor_set_name])).alias("factor_set"),
            *extra,
        )
        .collect()
    )
    matched = _matched(ev, main) if t.has is not None else None
    if "_cand" in main.columns:
        main.drop_in_place("_cand")
    if matched is not None and matched.height:
        main = _patch(ev, main, matched)
    n_main = main.height
    if AL_INDEX in p.items_present:
        main = pl.concat([main, _pfc_rows(ev, t, main, matched)], how="vertical", rechunk=False)
    if not helpers:
        return main
    m = pl.repeat(None, main.height, dtype=pl.UInt32, eager=True)
    if matched is not None and matched.height:
        m = m.scatter(matched.get_column("_pos"), matched.get_column("_m"))
        if main.height > n_main:  # the PFC rows copy their output row's match
            al = main.head(n_main).with_row_index("_pos").filter(pl.col("formula") == "al_anode")
            m = m.scatter(pl.int_range(n_main, main.height, eager=True), m.gather(al.get_column("_pos")))
    return main.with_columns(
        pl.lit(p.luts["item"]).gather(pl.col("item").to_physical()).alias("_item"), m.alias("_m")
    )


def _candidate_keys(ev: Evaluation) -> pl.Expr:
    """The measured-table key of result rows (evaluated on the few candidate rows only)."""
    p = ev.prepared
    luts = p.luts
    code = pl.lit(luts["item"]).gather(pl.col("item").to_physical())
    facility = (
        pl.lit(luts["facility"]).gather(pl.col("facility").to_physical()).fill_null(0)
        if "facility" in luts
        else pl.lit(0, dtype=pl.UInt32)
    )
    period = pl.lit(luts["period"]).gather(pl.col("period").to_physical())
    return measured_key(
        p, pl.col("credit_code").to_physical(), period, facility, pl.lit(CODE_PARAM_ITEM).gather(code)
    )


def _matched(ev: Evaluation, main: pl.DataFrame) -> pl.DataFrame:
    """(_pos, _m): result-row position and measured-table row, for the rows with measured parameters."""
    positions = ev.measured.select("key").with_row_index("_m")
    columns = ["credit_code", "period", "item", *(["facility"] if "facility" in main.columns else [])]
    position = main.get_column("_cand").arg_true()
    picked = pl.DataFrame([main.get_column(c).rechunk() for c in columns])[
        position
    ]  # contiguous: fast gather
    candidates = picked.with_columns(_pos=position).select("_pos", key=_candidate_keys(ev))
    found = candidates.join(positions, on="key", how="left")
    if ev.prepared.facilities:
        # Facility rows without facility parameters use the enterprise-level ones.
        n_fac = len(ev.prepared.facilities) + 1
        facility = ((pl.col("key") % (1 << 32)) // ITEM_BITS) % n_fac
        fallback = (
            found.filter(pl.col("_m").is_null() & (facility > 0))
            .select("_pos", key=pl.col("key") - facility * ITEM_BITS)
            .join(positions, on="key", how="inner")
        )
        return pl.concat(
            [found.filter(pl.col("_m").is_not_null()).select("_pos", "_m"), fallback.select("_pos", "_m")]
        )
    return found.filter(pl.col("_m").is_not_null()).select("_pos", "_m")


def _patch(ev: Evaluation, main: pl.DataFrame, matched: pl.DataFrame) -> pl.DataFrame:
    """Measured factors, energy and tier for the matched rows."""
    pos = matched.get_column("_pos")
    picked = pl.DataFrame([main.get_column(c).rechunk() for c in ("quantity_canonical", "item")])[pos]
    code = pl.lit(ev.prepared.luts["item"]).gather(pl.col("item").to_physical())
    sign = picked.select(pl.lit(ITEM_SIGN).gather(code)).to_series()
    qc = picked.get_column("quantity_canonical")
    measured = ev.measured.select("ef_m", "tce_m")[matched.get_column("_m")]
    with_ef = measured.get_column("ef_m").is_not_null()
    with_tce = measured.get_column("tce_m").is_not_null()
    # Taken out of the frame, the columns are owned once and scatter writes in place.
    names = main.columns
    co2 = (
        main.drop_in_place("co2_t")
        .rechunk()
        .scatter(pos.filter(with_ef), (qc * measured.get_column("ef_m") * sign + 0.0).filter(with_ef))
    )
    energy = (
        main.drop_in_place("energy_tce")
        .rechunk()
        .scatter(pos.filter(with_tce), (qc * measured.get_column("tce_m") * sign + 0.0).filter(with_tce))
    )
    tier = main.drop_in_place("tier").to_physical().rechunk().scatter(pos.filter(with_ef), 1)
    return main.with_columns(co2, energy, TIER_LUT.gather(tier).alias("tier")).select(names)


def _pfc_rows(ev: Evaluation, t: Tables, main: pl.DataFrame, matched: pl.DataFrame | None) -> pl.DataFrame:
    """The second (anode-effect PFC) row of every aluminium-output row."""
    p = ev.prepared
    item, period = p.spaces["item"][0], p.spaces["period"][0]
    position = (main.get_column("formula") == "al_anode").arg_true()
    al = main[position].with_columns(_pos=position)
    factor = pl.lit(t.pfc).gather(item.cast(pl.UInt32) * t.n_periods + period.cast(pl.UInt32))
    tier = pl.lit("default", dtype=TIER_ENUM)
    if matched is not None and matched.height:
        al = al.join(matched, on="_pos", how="left", maintain_order="left")
        pfc_m = pl.lit(ev.measured.get_column("pfc_m")).gather(pl.col("_m"))
        factor = pl.coalesce(pfc_m, factor)
        tier = pl.lit(TIER_LUT).gather(pfc_m.is_not_null().cast(pl.UInt8))
    return al.with_columns(
        co2_t=pl.col("quantity_canonical") * factor + 0.0,
        energy_tce=pl.lit(0.0),
        energy_type=pl.lit("none", dtype=ENERGY_TYPE_ENUM),
        formula=pl.lit("al_pfc", dtype=FORMULA_ENUM),
        tier=tier,
    ).select(main.columns)


ITEM_UNIT = pl.Series([catalogue.ITEMS[c].unit for c in BASE_CODES], dtype=CANONICAL_UNIT_ENUM)


def problems_found(ev: Evaluation, results: pl.DataFrame) -> bool:
    """Cheap check for any problem; ``validation.validate`` then lists them in detail."""
    p = ev.prepared
    if p.credit_problem or p.period_problem or p.unknown_items or ev.parameter_problems:
        return True
    flags = results.select(
        bad=(
            pl.col("co2_t").is_null()
            | pl.col("energy_tce").is_null()
            | ~pl.col("quantity").is_finite()
            | (pl.col("quantity") < 0)
        ).any()
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
    results = rows(ev)
    if problems_found(ev, results):
        from kiln.engine.validation import row_errors

        del results
        errors = row_errors(evaluate(prepared, factor_set, grid_series=grid_series, detail=True))
        if errors.is_empty():  # pragma: no cover - the two checks disagree: never hide it
            raise RuntimeError("engine found a problem that validation could not describe")
        raise EngineError(errors)
    return results
