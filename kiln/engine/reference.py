"""Scalar ``Decimal`` reference implementation of the engine's formulas (DESIGN.md rule 1).

Deliberately simple and independent of Polars: one activity row at a time, plain dictionaries,
``Decimal`` arithmetic. Property tests check the vectorised engine against it (relative 1e-9).
It shares only the item catalogue, the unit table and the factor-set *values* with the engine.

    reference.compute(rows, factor_rows, grid_series="MEE_ETS_GRID/CN")

``rows``: dicts with ``credit_code``, ``period``, ``item``, ``quantity``, ``unit`` and optional
``facility``; ``factor_rows``: dicts in the factor-set schema (``factorset.FACTOR_SET_SCHEMA``).
Returns one dict per result row: ``row``, ``item``, ``formula``, ``co2_t``, ``energy_tce``
(``Decimal``), ``source_category``, ``energy_type``, ``tier``; aluminium output rows give two
results (``al_anode`` then ``al_pfc``), like the engine.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, getcontext

from kiln.engine import items as catalogue
from kiln.engine import units

getcontext().prec = 40

FUEL_INPUTS = ("ncv", "carbon_content", "oxidation_rate")


class MissingValue(LookupError):
    """A formula input is neither measured nor in the factor set."""


def _d(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _conversion(unit: str, canonical: str) -> Decimal:
    factor = units.factor(unit or "", canonical)
    if factor is None:
        raise ValueError(f"unit {unit!r} does not convert to {canonical!r}")
    return _d(factor)


class _Factors:
    def __init__(self, factor_rows: list[dict], grid_series: str):
        self.rows = [r for r in factor_rows if not r.get("series") or r["series"] == grid_series]

    def get(self, item: str, parameter: str, year: int) -> Decimal | None:
        for wanted in (item, "*"):
            for r in self.rows:
                if r["item"] != wanted or r["parameter"] != parameter:
                    continue
                if r["year_from"] is not None and year < r["year_from"]:
                    continue
                if r["year_to"] is not None and year > r["year_to"]:
                    continue
                return _d(r["value"])
        return None


def compute(rows: list[dict], factor_rows: list[dict], grid_series: str = "MEE_ETS_GRID/CN") -> list[dict]:
    factors = _Factors(factor_rows, grid_series)
    measured: dict[tuple, Decimal] = {}
    for r in rows:
        base, dot, param = r["item"].partition(".")
        if dot:
            canonical = catalogue.parameter_unit(base, param)
            key = (r["credit_code"], r["period"], r.get("facility") or "", base, param)
            measured[key] = _d(r["quantity"]) * _conversion(r["unit"], canonical)

    results = []
    for index, r in enumerate(rows):
        if "." in r["item"]:
            continue
        item = catalogue.ITEMS[r["item"]]
        q = _d(r["quantity"]) * _conversion(r["unit"], item.unit)
        formulas = [item.formula] + (["al_pfc"] if item.formula == "al_anode" else [])
        for formula in formulas:
            inputs = _Inputs(r, item.parameter_item, measured, factors)
            factor, energy = _formula(formula, inputs)
            results.append(
                {
                    "row": index,
                    "item": r["item"],
                    "formula": formula,
                    "co2_t": item.sign * q * factor,
                    "energy_tce": item.sign * q * energy,
                    "source_category": item.source_category,
                    "energy_type": (item.energy_type or "none") if formula != "al_pfc" else "none",
                    "tier": "measured" if inputs.used_measured else "default",
                }
            )
    return results


class _Inputs:
    """The inputs of one row's formula: measured for its facility, else for its enterprise, else the set's."""

    def __init__(self, row: dict, base: str, measured: dict, factors: _Factors):
        self.row, self.base, self.measured, self.factors = row, base, measured, factors
        self.year = int(row["period"][:4])
        self.used_measured: set[str] = set()

    def value(self, parameter: str, *, required: bool = True, measurable: bool = True) -> Decimal | None:
        r = self.row
        if measurable:
            for facility in dict.fromkeys((r.get("facility") or "", "")):
                key = (r["credit_code"], r["period"], facility, self.base, parameter)
                if key in self.measured:
                    self.used_measured.add(parameter)
                    return self.measured[key]
        found = self.factors.get(self.base, parameter, self.year)
        if found is None and required:
            raise MissingValue(f"{r['item']}: {parameter} for {self.year}")
        return found

    def constant(self, parameter: str) -> Decimal:
        return self.value(parameter, measurable=False)  # type: ignore[return-value]


def _formula(formula: str, i: _Inputs) -> tuple[Decimal, Decimal]:
    """(tCO2 per canonical unit, tce per canonical unit) for one formula."""
    v, const = i.value, i.constant
    zero = Decimal(0)
    if formula in ("combustion", "biomass"):
        ncv, cc, of = (v(p) for p in FUEL_INPUTS)
        return ncv * cc * of * const("carbon_to_co2"), ncv / const("gj_per_tce")
    if formula in ("electricity", "heat"):
        return const("ef"), const("tce_per_unit")
    if formula == "clinker":
        return (
            (v("cao") - v("cao_noncarbonate")) * const("cao_to_co2")
            + (v("mgo") - v("mgo_noncarbonate")) * const("mgo_to_co2")
        ), zero
    if formula == "carbonate":
        return v("purity") * const("co2_per_carbonate"), zero
    if formula == "al_anode":
        return v("anode_net_consumption") * (1 - v("anode_sulphur") - v("anode_ash")) * const(
            "carbon_to_co2"
        ), zero
    if formula == "al_pfc":
        aem = v("anode_effect_minutes", required=False)
        if aem is not None:
            ef_cf4 = const("cf4_slope") * aem
            ef_c2f6 = const("c2f6_ratio") * ef_cf4
        else:
            ef_cf4, ef_c2f6 = const("ef_cf4"), const("ef_c2f6")
        return (ef_cf4 * const("gwp_cf4") + ef_c2f6 * const("gwp_c2f6")) / 1000, zero
    if formula == "steel":
        return v("mass_carbon_content") * const("carbon_to_co2"), zero
    if formula == "recovery":
        return Decimal(1), zero
    return zero, zero


def totals(
    results: list[dict], rows: list[dict], key=lambda row: (row["credit_code"], row["period"])
) -> dict:
    """Sum of ``co2_t`` per key of the input row and source category (biomass kept apart)."""
    out: dict = defaultdict(Decimal)
    for res in results:
        out[(key(rows[res["row"]]), res["source_category"])] += res["co2_t"]
    return dict(out)
