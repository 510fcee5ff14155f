"""Data problems planted in the demo activity data, with the ground truth of where they are.

Screening (KLN-* rules) should find every one of them; ``injected_problems.csv`` lists them as
(credit_code, period, item, kind, facility), the facility only where a plant reports
per kiln or unit. The metered electricity is never altered: grid data is the
independent check that exposes under-reporting, spikes and unit errors in reported electricity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNIT_ERROR = "unit_error"  # a value 1000x too large: kWh typed under MWh, kg under t
SPIKE = "spike"  # one month 3-5x its neighbours
MISSING_MONTH = "missing_month"  # the row is absent
DUPLICATE = "duplicate"  # the same row submitted twice
UNDER_REPORT = "under_report"  # reported electricity 30-45 % below the grid meter
IMPLAUSIBLE_PARAMETER = "implausible_parameter"  # e.g. coal NCV of 35 GJ/t, MgO of 9 %

KINDS = (UNIT_ERROR, SPIKE, MISSING_MONTH, DUPLICATE, UNDER_REPORT, IMPLAUSIBLE_PARAMETER)
PER_100_ENTERPRISES = {
    UNIT_ERROR: 1,
    SPIKE: 2,
    MISSING_MONTH: 1,
    DUPLICATE: 1,
    UNDER_REPORT: 1,
    IMPLAUSIBLE_PARAMETER: 1,
}

# How an implausible parameter is made: multipliers to choose from, by parameter name.
IMPLAUSIBLE = {
    "ncv": (0.45, 1.6),  # 9-10 or 33-37 GJ/t: not coal
    "carbon_content": (1.5,),  # ~0.04 tC/GJ, above any coal
    "cao": (1.35,),  # ~88 % CaO in clinker
    "mgo": (4.0,),  # 5-12 % MgO, beyond the clinker limit
    "anode_effect_minutes": (25.0,),
    "anode_net_consumption": (1.6,),
    "anode_sulphur": (4.0,),  # 6-10 % sulphur in an anode
    "anode_ash": (6.0,),
    "load_factor": (1.5,),  # above 1
    "moisture": (3.0,),  # 21-42 % total moisture: lignite or wet sludge, not the contracted coal
    "sulphur": (8.0,),  # 3-8 % total sulphur, far beyond any permitted thermal coal
    "purity": (0.6,),  # 53-57 % CaCO3: spoil, not the limestone bought as flux
    "mass_carbon_content": (0.4,),  # ~35 % carbon: not a carburiser
}


@dataclass
class Rows:
    """What the injector needs to know about each activity row (all arrays of the row count)."""

    quantity: np.ndarray  # reported quantity, modified in place
    decimals: np.ndarray
    stream: np.ndarray  # stream index of each row
    electricity: np.ndarray  # bool: electricity_purchased
    per_mwh_or_t: np.ndarray  # bool: electricity in "MWh" or a fuel in "t" (where x1000 is the classic slip)
    flow: np.ndarray  # bool: a major quantity (not a measured parameter, not minor vehicle fuel)
    parameter_name: np.ndarray  # per stream: "" for flows, else "ncv", "cao" ...
    calm: np.ndarray  # bool: not January/February and no overhaul note, so a spike or dip stands out


@dataclass
class Injection:
    keep: np.ndarray  # bool per row: False where a month was removed
    duplicates: np.ndarray  # row indices to append again
    rows: np.ndarray  # row index of each problem
    kinds: np.ndarray  # kind of each problem


def _round(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    scale = 10.0**decimals
    return np.round(values * scale) / scale


def inject(rng: np.random.Generator, rows: Rows, n_enterprises: int) -> Injection:
    n = len(rows.quantity)
    used = np.zeros(n, dtype=bool)
    picked_rows: list[np.ndarray] = []
    picked_kinds: list[str] = []

    def pick(kind: str, eligible: np.ndarray) -> np.ndarray:
        candidates = np.flatnonzero(eligible & ~used)
        count = min(len(candidates), max(1, round(PER_100_ENTERPRISES[kind] * n_enterprises / 100)))
        chosen = np.sort(rng.choice(candidates, size=count, replace=False)) if count else candidates[:0]
        used[chosen] = True
        picked_rows.append(chosen)
        picked_kinds.extend([kind] * count)
        return chosen

    q, d = rows.quantity, rows.decimals
    chosen = pick(UNIT_ERROR, rows.per_mwh_or_t & rows.calm)
    q[chosen] = _round(q[chosen] * 1000, d[chosen])

    chosen = pick(SPIKE, rows.flow & rows.calm & ~rows.electricity)
    q[chosen] = _round(q[chosen] * rng.uniform(3, 5, len(chosen)), d[chosen])

    chosen = pick(UNDER_REPORT, rows.electricity & rows.calm)
    q[chosen] = _round(q[chosen] * rng.uniform(0.55, 0.70, len(chosen)), d[chosen])

    chosen = pick(IMPLAUSIBLE_PARAMETER, rows.parameter_name[rows.stream] != "")
    for i in chosen:  # a handful of rows: the multiplier table is per parameter name
        q[i] = _round(q[i] * rng.choice(IMPLAUSIBLE[rows.parameter_name[rows.stream[i]]]), d[i])

    missing = pick(MISSING_MONTH, rows.flow)
    duplicates = pick(DUPLICATE, np.ones(n, dtype=bool))

    keep = np.ones(n, dtype=bool)
    keep[missing] = False
    return Injection(
        keep=keep,
        duplicates=duplicates,
        rows=np.concatenate(picked_rows),
        kinds=np.array(picked_kinds, dtype=object),
    )
