"""Units: every quantity is converted to its item's canonical unit before any arithmetic.

``CONVERSIONS[(unit, canonical)]`` is the factor that multiplies a quantity in ``unit``
into ``canonical``. Unit spellings are normalised first (case, spaces, Chinese names).
"""

from __future__ import annotations

# 1 tce (tonne of standard coal equivalent) = 29.3076 GJ (GB/T 2589-2020, 1 kgce = 29 307.6 kJ).
GJ_PER_TCE = 29.3076

CANONICAL_UNITS = (
    "t",
    "1e4Nm3",
    "MWh",
    "GJ",
    "tC/GJ",
    "GJ/t",
    "GJ/1e4Nm3",
    "fraction",
    "tC/t",
    "min/cell-day",
    "t/t",
)

# Spellings accepted on input, mapped to one normal form.
ALIASES = {
    "t": "t",
    "吨": "t",
    "tonne": "t",
    "tonnes": "t",
    "ton": "t",
    "kg": "kg",
    "千克": "kg",
    "公斤": "kg",
    "10kt": "1e4t",
    "万吨": "1e4t",
    "1e4t": "1e4t",
    "10^4t": "1e4t",
    "nm3": "Nm3",
    "m3": "Nm3",
    "立方米": "Nm3",
    "标准立方米": "Nm3",
    "标方": "Nm3",
    "1e4nm3": "1e4Nm3",
    "10^4nm3": "1e4Nm3",
    "万nm3": "1e4Nm3",
    "万立方米": "1e4Nm3",
    "万标方": "1e4Nm3",
    "万m3": "1e4Nm3",
    "10^4m3": "1e4Nm3",
    "kwh": "kWh",
    "千瓦时": "kWh",
    "度": "kWh",
    "万kwh": "1e4kWh",
    "10^4kwh": "1e4kWh",
    "万千瓦时": "1e4kWh",
    "mwh": "MWh",
    "兆瓦时": "MWh",
    "gwh": "GWh",
    "gj": "GJ",
    "吉焦": "GJ",
    "mj": "MJ",
    "兆焦": "MJ",
    "tj": "TJ",
    "百万千焦": "GJ",
    "gj/t": "GJ/t",
    "mj/kg": "GJ/t",
    "kj/kg": "kJ/kg",
    "gj/1e4nm3": "GJ/1e4Nm3",
    "gj/10^4nm3": "GJ/1e4Nm3",
    "gj/万nm3": "GJ/1e4Nm3",
    "mj/nm3": "MJ/Nm3",
    "mj/m3": "MJ/Nm3",
    "kj/nm3": "kJ/Nm3",
    "kj/m3": "kJ/Nm3",
    "tc/gj": "tC/GJ",
    "tc/tj": "tC/TJ",
    "kgc/gj": "kgC/GJ",
    "tc/t": "tC/t",
    "%": "%",
    "percent": "%",
    "fraction": "fraction",
    "1": "fraction",
    "": "",
    "min/cell-day": "min/cell-day",
    "分钟/槽日": "min/cell-day",
    # Added with the accounting engine.
    "kt": "1e3t",
    "千吨": "1e3t",
    "1e3t": "1e3t",
    "tco2": "t",
    "吨二氧化碳": "t",
    "吨co2": "t",
    "1e8nm3": "1e8Nm3",
    "10^8nm3": "1e8Nm3",
    "亿nm3": "1e8Nm3",
    "亿m3": "1e8Nm3",
    "亿立方米": "1e8Nm3",
    "kcal/kg": "kcal/kg",
    "千卡/千克": "kcal/kg",
    "大卡/千克": "kcal/kg",
    "大卡/公斤": "kcal/kg",
    "千焦/千克": "kJ/kg",
    "兆焦/千克": "GJ/t",
    "吉焦/吨": "GJ/t",
    "吉焦/万立方米": "GJ/1e4Nm3",
    "吉焦/万标方": "GJ/1e4Nm3",
    "兆焦/立方米": "MJ/Nm3",
    "兆焦/标方": "MJ/Nm3",
    "千焦/立方米": "kJ/Nm3",
    "千焦/标方": "kJ/Nm3",
    "吨碳/吉焦": "tC/GJ",
    "吨碳/太焦": "tC/TJ",
    "千克碳/吉焦": "kgC/GJ",
    "吨碳/吨": "tC/t",
    "t/t": "t/t",
    "吨/吨": "t/t",
    "kg/t": "kg/t",
    "千克/吨": "kg/t",
    "公斤/吨": "kg/t",
}

CONVERSIONS: dict[tuple[str, str], float] = {
    ("t", "t"): 1.0,
    ("kg", "t"): 1e-3,
    ("1e4t", "t"): 1e4,
    ("1e4Nm3", "1e4Nm3"): 1.0,
    ("Nm3", "1e4Nm3"): 1e-4,
    ("MWh", "MWh"): 1.0,
    ("kWh", "MWh"): 1e-3,
    ("1e4kWh", "MWh"): 10.0,
    ("GWh", "MWh"): 1e3,
    ("GJ", "GJ"): 1.0,
    ("MJ", "GJ"): 1e-3,
    ("TJ", "GJ"): 1e3,
    ("GJ/t", "GJ/t"): 1.0,
    ("kJ/kg", "GJ/t"): 1e-3,
    ("GJ/1e4Nm3", "GJ/1e4Nm3"): 1.0,
    ("MJ/Nm3", "GJ/1e4Nm3"): 10.0,
    ("kJ/Nm3", "GJ/1e4Nm3"): 1e-2,
    ("tC/GJ", "tC/GJ"): 1.0,
    ("tC/TJ", "tC/GJ"): 1e-3,
    ("kgC/GJ", "tC/GJ"): 1e-3,
    ("tC/t", "tC/t"): 1.0,
    ("%", "tC/t"): 1e-2,
    ("fraction", "fraction"): 1.0,
    ("%", "fraction"): 1e-2,
    ("min/cell-day", "min/cell-day"): 1.0,
    # Added with the accounting engine.
    ("1e3t", "t"): 1e3,
    ("1e8Nm3", "1e4Nm3"): 1e4,
    # Heat meters often read MWh: 1 MWh = 3.6 GJ exactly.
    ("MWh", "GJ"): 3.6,
    ("kWh", "GJ"): 3.6e-3,
    ("1e4kWh", "GJ"): 36.0,
    # 1 kcal = 4.1868 kJ (International Table calorie, the basis of GB/T 2589's 29 307.6 kJ/kgce).
    ("kcal/kg", "GJ/t"): 4.1868e-3,
    ("fraction", "tC/t"): 1.0,
    ("t/t", "t/t"): 1.0,
    ("kg/t", "t/t"): 1e-3,
}


def normalise(unit: str) -> str | None:
    """The normal spelling of ``unit``, or ``None`` when it is not a unit Kiln knows."""
    key = (
        unit.strip()
        .replace(" ", "")
        .replace("³", "3")
        .replace("×", "")
        .replace("⁴", "^4")
        .replace("⁸", "^8")
        .replace("（", "(")
        .replace("）", ")")
        .lower()
    )
    return ALIASES.get(key)


def factor(unit: str, canonical: str) -> float | None:
    """Multiplier from ``unit`` to ``canonical``; ``None`` when unknown or incompatible."""
    normal = normalise(unit)
    if normal is None:
        return None
    if normal == "":
        return 1.0 if canonical == "fraction" else None
    return CONVERSIONS.get((normal, canonical))
