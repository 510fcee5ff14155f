"""Seeded synthetic activity data for the engine benchmark (numpy, vectorised).

10 000 enterprises × 10 years × ~8 rows per enterprise-month ≈ 10 million rows: fuels, electricity,
heat, process items and measured monthly parameters, with the unit mix real uploads have (kWh and
MWh, Nm3 and 万Nm3, % and fractions). Columns are dictionary-encoded (Enum), as Parquet stores them.
Every row is valid for the default factor set, so the benchmark measures the computation itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
VERSION = "1"


def credit_code(county: str, serial: int) -> str:
    """A valid 统一社会信用代码 (GB 32100-2015 check character)."""
    body = "".join(ALPHABET[(serial // 31**k) % 31] for k in range(9))
    first17 = f"91{county}{body}"
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return first17 + ALPHABET[(31 - total % 31) % 31]


@dataclass(frozen=True)
class Stream:
    item: str
    units: tuple[tuple[str, float], ...]  # (unit, multiplier from canonical) choices
    level: float  # typical monthly amount in the canonical unit (flows) or mean value (parameters)
    share: float = 1.0  # share of the sector's enterprises that report it
    spread: float = 0.0  # parameter: standard deviation around ``level``


T = (("t", 1.0),)
T_KG = (("t", 1.0), ("kg", 1000.0))
POWER = (("MWh", 1.0), ("kWh", 1000.0), ("万kWh", 0.1))
GAS = (("1e4Nm3", 1.0), ("Nm3", 1e4), ("万m3", 1.0))
GJ = (("GJ", 1.0),)
PCT = (("%", 100.0), ("fraction", 1.0))
FRAC = (("fraction", 1.0),)

SECTORS = {
    # name: (share of enterprises, industry codes, streams)
    "general": (
        0.55,
        ("C2922", "C3360", "C3415", "C3824", "C2319"),
        (
            Stream("electricity_purchased", POWER, 400),
            Stream("natural_gas", GAS, 6, 0.9),
            Stream("diesel", T_KG, 3, 0.95),
            Stream("heat_purchased", GJ, 900, 0.8),
            Stream("product_output", T, 500),
            Stream("lpg", T_KG, 1, 0.8),
            Stream("gasoline", T, 0.6, 0.9),
            Stream("electricity_green_self", (("MWh", 1.0),), 30, 0.5),
            Stream("raw_coal", T, 80, 0.5),
            Stream("raw_coal.ncv", (("GJ/t", 1.0), ("kJ/kg", 1000.0)), 20.5, 0.3, 1.0),
            Stream("fuel_oil", T, 5, 0.4),
            Stream("kerosene", T, 1, 0.3),
            Stream("electricity_exported", POWER, 20, 0.1),
            Stream("heat_supplied", GJ, 100, 0.1),
        ),
    ),
    "textile": (
        0.12,
        ("C1713", "C1751"),
        (
            Stream("electricity_purchased", POWER, 600),
            Stream("heat_purchased", GJ, 3000),
            Stream("natural_gas", GAS, 10, 0.9),
            Stream("diesel", T, 2),
            Stream("product_output", T, 300),
            Stream("lpg", T, 1, 0.6),
            Stream("coke", T, 10, 0.4),
            Stream("gasoline", T, 0.5, 0.8),
            Stream("electricity_green_self", (("MWh", 1.0),), 50, 0.4),
        ),
    ),
    "chemical": (
        0.12,
        ("C2614", "C2631"),
        (
            Stream("electricity_purchased", POWER, 2000),
            Stream("natural_gas", GAS, 40),
            Stream("raw_coal", T, 900),
            Stream("raw_coal.ncv", (("GJ/t", 1.0), ("MJ/kg", 1.0)), 21.5, 0.4, 1.0),
            Stream("raw_coal.carbon_content", (("tC/GJ", 1.0), ("tC/TJ", 1000.0)), 0.0265, 0.4, 0.0008),
            Stream("heat_purchased", GJ, 5000, 0.6),
            Stream("heat_exported", GJ, 800, 0.3),
            Stream("co2_recovered", T, 50, 0.2),
            Stream("limestone", T, 100, 0.3),
            Stream("product_output", T, 2000),
            Stream("diesel", T, 5),
        ),
    ),
    "cement": (
        0.05,
        ("C3011",),
        (
            Stream("electricity_purchased", POWER, 8000),
            Stream("raw_coal", T, 9000),
            Stream("raw_coal.ncv", (("GJ/t", 1.0),), 21.0, 1.0, 0.8),
            Stream("clinker_output", T, 100_000),
            Stream("clinker_output.cao", PCT, 0.65, 1.0, 0.005),
            Stream("clinker_output.mgo", PCT, 0.02, 1.0, 0.003),
            Stream("kiln_head_dust", T, 300, 0.6),
            Stream("diesel", T, 60),
            Stream("cement_output", T, 140_000),
        ),
    ),
    "steel": (
        0.05,
        ("C3120",),
        (
            Stream("electricity_purchased", POWER, 20_000),
            Stream("coke", T, 30_000),
            Stream("natural_gas", GAS, 200),
            Stream("steel_carbon_input", T, 50_000),
            Stream("steel_carbon_input.mass_carbon_content", PCT, 0.8, 1.0, 0.02),
            Stream("steel_carbon_output", T, 45_000),
            Stream("steel_carbon_output.mass_carbon_content", PCT, 0.004, 1.0, 0.0005),
            Stream("crude_steel_output", T, 45_000),
        ),
    ),
    "aluminium": (
        0.03,
        ("C3216",),
        (
            Stream("electricity_purchased", POWER, 150_000),
            Stream("aluminium_output", T, 10_000),
            Stream(
                "aluminium_output.anode_net_consumption", (("t/t", 1.0), ("kg/t", 1000.0)), 0.42, 1.0, 0.01
            ),
            Stream("aluminium_output.anode_sulphur", PCT, 0.02, 1.0, 0.002),
            Stream("aluminium_output.anode_ash", PCT, 0.004, 1.0, 0.0005),
            Stream("aluminium_output.anode_effect_minutes", (("min/cell-day", 1.0),), 0.05, 0.7, 0.01),
            Stream("natural_gas", GAS, 100),
            Stream("fuel_oil", T, 20),
        ),
    ),
    "power": (
        0.08,
        ("D4411",),
        (
            Stream("raw_coal", T, 60_000),
            Stream("raw_coal.ncv", (("GJ/t", 1.0),), 22.0, 1.0, 1.0),
            Stream("raw_coal.carbon_content", (("tC/GJ", 1.0),), 0.0268, 1.0, 0.0005),
            Stream("raw_coal.oxidation_rate", PCT, 0.98, 1.0, 0.005),
            Stream("electricity_purchased", POWER, 1000),
            Stream("power_supplied", (("MWh", 1.0),), 120_000),
            Stream("heat_exported", GJ, 20_000, 0.5),
            Stream("biomass", T, 500, 0.2),
            Stream("biomass.ncv", (("GJ/t", 1.0),), 15.0, 1.0, 0.5),
            Stream("biomass.carbon_content", (("tC/GJ", 1.0),), 0.028, 1.0, 0.001),
            Stream("biomass.oxidation_rate", FRAC, 0.9, 1.0, 0.01),
            Stream("diesel", T, 20),
            Stream("heat_supplied", GJ, 30_000, 0.5),
        ),
    ),
}
CITIES = [f"33{c:02d}00" for c in range(1, 12)]  # 11 cities, 8 counties each
COUNTIES = [f"{city[:4]}{k:02d}" for city in CITIES for k in range(1, 9)]


def generate(enterprises: int = 10_000, years: int = 10, end_year: int = 2024, seed: int = 7):
    """(activity frame, mapping frame). Activity is sorted by enterprise and period."""
    rng = np.random.default_rng(seed)
    names = list(SECTORS)
    shares = np.array([SECTORS[n][0] for n in names])
    sector = rng.choice(len(names), size=enterprises, p=shares / shares.sum())
    county = rng.choice(len(COUNTIES), size=enterprises)
    size = rng.lognormal(0.0, 0.8, size=enterprises)
    codes = [credit_code(COUNTIES[county[e]], 7919 * e + 13) for e in range(enterprises)]
    industry = [
        SECTORS[names[sector[e]]][1][rng.integers(len(SECTORS[names[sector[e]]][1]))]
        for e in range(enterprises)
    ]

    # Streams: one per (enterprise, item) reported every month; parameters are streams too, and
    # are only drawn for enterprises that also report the parameter's item.
    s_ent, s_item, s_unit, s_level, s_spread, s_param = [], [], [], [], [], []
    items, units = [], []
    for si, name in enumerate(names):
        members = np.flatnonzero(sector == si)
        reports: dict[str, np.ndarray] = {}
        for stream in SECTORS[name][2]:
            base = stream.item.split(".")[0]
            if "." in stream.item:
                pool = members[reports.get(base, np.zeros(members.size, bool))]
                take = pool[rng.random(pool.size) < stream.share] if stream.share < 1 else pool
            else:
                mask = rng.random(members.size) < stream.share
                reports[stream.item] = mask
                take = members[mask]
            if stream.item not in items:
                items.append(stream.item)
            choice = rng.integers(len(stream.units), size=take.size)
            for u, _ in stream.units:
                if u not in units:
                    units.append(u)
            s_ent.append(take)
            s_item.append(np.full(take.size, items.index(stream.item)))
            s_unit.append(
                np.array([units.index(stream.units[c][0]) for c in range(len(stream.units))])[choice]
            )
            multiplier = np.array([m for _, m in stream.units])[choice]
            level = stream.level * (size[take] if "." not in stream.item else 1.0)
            s_level.append(level * multiplier)
            s_spread.append(np.full(take.size, stream.spread) * multiplier)
            s_param.append(np.full(take.size, "." in stream.item))
    ent, item, unit = (np.concatenate(a) for a in (s_ent, s_item, s_unit))
    level, spread, param = (np.concatenate(a) for a in (s_level, s_spread, s_param))
    order = np.lexsort((item, ent))
    ent, item, unit, level, spread, param = (a[order] for a in (ent, item, unit, level, spread, param))

    months = years * 12
    n = ent.size * months
    # Row layout: enterprise-major, then month, then stream (as a database ordered by code, period).
    starts = np.searchsorted(ent, np.arange(enterprises))
    counts = np.diff(np.append(starts, ent.size))
    stream_of_row = np.concatenate(
        [(starts[e] + np.tile(np.arange(counts[e]), months)) for e in range(enterprises)]
    )
    month_of_row = np.concatenate([np.repeat(np.arange(months), counts[e]) for e in range(enterprises)])
    seasonal = 1.0 + 0.15 * np.cos(2 * np.pi * (month_of_row % 12) / 12)
    flow = level[stream_of_row] * seasonal * rng.lognormal(0.0, 0.15, n)
    measured = level[stream_of_row] + spread[stream_of_row] * np.clip(rng.standard_normal(n), -3, 3)
    is_param = param[stream_of_row]
    quantity = np.where(is_param, np.abs(measured), flow).round(4)

    periods = [f"{end_year - years + 1 + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    sources = ["meter", "invoice", "lab"]
    source = np.where(is_param, 2, rng.integers(0, 2, n))

    def enum(values, index):
        return pl.Series(values, dtype=pl.Enum(values)).gather(pl.Series(index, dtype=pl.UInt32))

    activity = pl.DataFrame(
        {
            "credit_code": enum(codes, ent[stream_of_row]),
            "period": enum(periods, month_of_row),
            "item": enum(items, item[stream_of_row]),
            "quantity": quantity,
            "unit": enum(units, unit[stream_of_row]),
            "source": enum(sources, source),
        }
    )
    mapping = pl.DataFrame(
        {
            "credit_code": codes,
            "region_code": [COUNTIES[c] for c in county],
            "city_code": [COUNTIES[c][:4] + "00" for c in county],
            "industry_code": industry,
        }
    )
    return activity, mapping
