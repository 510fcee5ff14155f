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
        self.rows = [
            r for r in factor_rows if not r.get("series") or r["series"] == grid_series
        ]

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
        year = int(r["period"][:4])
        q = _d(r["quantity"]) * _conversion(r["unit"], item.unit)
        facility = r.get("facility") or ""
        base = item.parameter_item

        def value(parameter, *, required=True, measurable=True):
            if measurable:
                for fac in dict.fromkeys((facility, "")):
                    key = (r["credit_code"], r["period"], fac, base, parameter)
                    if key in measured:
                        used_measured.add(parameter)
                        return measured[key]
            found = factors.get(base, parameter, year)
            if found is None and required:
                raise MissingValue(f"{r['item']}: {parameter} for {year}")
            return found

        def constant(parameter):
            return value(parameter, measurable=False)

        formulas = [item.formula] + (["al_pfc"] if item.formula == "al_anode" else [])
        for formula in formulas:
            used_measured: set[str] = set()
            energy = Decimal(0)
            if formula in ("combustion", "biomass"):
                ncv, cc, of = (value(p) for p in FUEL_INPUTS)
                factor = ncv * cc * of * constant("carbon_to_co2")
                energy = ncv / constant("gj_per_tce")
            elif formula in ("electricity", "heat"):
                factor = constant("ef")
                energy = constant("tce_per_unit")
            elif formula == "clinker":
                factor = ((value("cao") - value("cao_noncarbonate")) * constant("cao_to_co2")
                          + (value("mgo") - value("mgo_noncarbonate")) * constant("mgo_to_co2"))
            elif formula == "carbonate":
                factor = value("purity") * constant("co2_per_carbonate")
            elif formula == "al_anode":
                factor = (value("anode_net_consumption") * (1 - value("anode_sulphur") - value("anode_ash"))
                          * constant("carbon_to_co2"))
            elif formula == "al_pfc":
                aem = value("anode_effect_minutes", required=False)
                if aem is not None:
                    ef_cf4 = constant("cf4_slope") * aem
                    ef_c2f6 = constant("c2f6_ratio") * ef_cf4
                else:
                    ef_cf4, ef_c2f6 = constant("ef_cf4"), constant("ef_c2f6")
                factor = (ef_cf4 * constant("gwp_cf4") + ef_c2f6 * constant("gwp_c2f6")) / 1000
            elif formula == "steel":
                factor = value("mass_carbon_content") * constant("carbon_to_co2")
            elif formula == "recovery":
                factor = Decimal(1)
            else:
                factor = Decimal(0)
            sign = item.sign
            results.append({
                "row": index,
                "item": r["item"],
                "formula": formula,
                "co2_t": sign * q * factor,
                "energy_tce": sign * q * energy if formula != "al_pfc" else Decimal(0),
                "source_category": item.source_category,
                "energy_type": (item.energy_type or "none") if formula != "al_pfc" else "none",
                "tier": "measured" if used_measured else "default",
            })
    return results


def totals(results: list[dict], rows: list[dict], key=lambda row: (row["credit_code"], row["period"])) -> dict:
    """Sum of ``co2_t`` per key of the input row and source category (biomass kept apart)."""
    out: dict = defaultdict(Decimal)
    for res in results:
        out[(key(rows[res["row"]]), res["source_category"])] += res["co2_t"]
    return dict(out)
