"""What each kind of enterprise in the demo city looks like: industry codes, facilities, what it reports.

Every enterprise has an annual *basis* (its size: MWh of electricity for light industry, tonnes of
product for process industry, MWh generated for power plants). Each reported item is a ratio to that
basis, so a plant twice the size reports twice as much of everything. Ratios are typical Chinese
values (coal per tonne of clinker, kWh per tonne of aluminium, ...), not taken from any one plant.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

Choices = tuple[tuple[float, float], ...]  # (value, probability)


@dataclass(frozen=True)
class Facility:
    """A kind of production unit. The first facility of a sector is its *main* one."""

    kind: str  # Facility.kind in the registry
    code: str  # prefix of the facility code: "K" gives K1, K2 ...
    name_zh: str  # "{n}号熟料生产线"
    name_en: str
    count: Choices = ((1, 1.0),)
    # Unit-based sectors draw the capacity of each main facility; the basis follows from it.
    capacities: Choices = ()
    capacity_unit: str = ""
    basis_per_capacity: float = 0.0  # annual basis per unit of capacity at normal load
    capacity_per_basis: float = 0.0  # for lognormal sectors: capacity shown = facility basis x this
    variants: tuple[str, ...] = ()  # only in enterprises of these variants (empty: all)
    overhaul_note: str = ""  # one month a year at reduced output, with this note


@dataclass(frozen=True)
class Flow:
    """A monthly quantity: ``per_basis`` canonical units of ``item`` per unit of basis."""

    item: str
    per_basis: float
    spread: float = 0.15  # enterprise-to-enterprise variation (lognormal sigma)
    noise: float = 0.04  # month-to-month variation (lognormal sigma)
    share: float = 1.0  # fraction of eligible enterprises that have it
    variants: tuple[str, ...] = ()
    at: str = ""  # facility kind the rows are reported at ("": the enterprise as a whole)
    profile: str = ""  # seasonal profile, default the sector's
    source: str = "meter"
    # Fuel quantities derived from heat demand: per_basis is in GJ and is divided by this
    # parameter's mean (the fuel's NCV at the same facility), so measured NCV and tonnes agree.
    divide_by: str = ""


@dataclass(frozen=True)
class Parameter:
    """A measured monthly parameter (``raw_coal.ncv``); an enterprise's mean is drawn in [low, high]."""

    item: str
    low: float
    high: float
    unit: str
    noise: float = 0.01  # relative, month to month
    decimals: int = 3
    variants: tuple[str, ...] = ()
    at: str = ""
    source: str = "lab"


@dataclass(frozen=True)
class Size:
    """Lognormal annual basis: many small enterprises, a few large ones."""

    median: float
    sigma: float
    low: float
    high: float


@dataclass(frozen=True)
class Sector:
    key: str
    share: float  # percent of enterprises
    industries: tuple[tuple[str, float], ...]  # GB/T 4754-2017 group or class codes, with weights
    words: tuple[tuple[str, str], ...]  # industry words used in names (zh, en)
    basis: str  # what the basis measures, for readers
    profile: str
    facilities: tuple[Facility, ...]
    flows: tuple[Flow, ...]
    parameters: tuple[Parameter, ...] = ()
    size: Size | None = None  # lognormal sectors; unit-based sectors use main facility capacities
    utilisation: float = 0.06  # sigma of load around normal, unit-based sectors
    variants: tuple[tuple[str, float], ...] = (("", 1.0),)
    intensity: float = 1.0  # median tCO2 per 10^4 CNY value added (DB33/T 1347 carbon efficiency)
    value_added_ratio: float = 0.25
    growth: float = 0.02  # mean annual growth of activity
    revenue_per_worker: float = 120.0  # 10^4 CNY a year, to estimate head count for the size class
    minimum: int = 0  # at least this many enterprises, however few are generated


# Rough factors used only to size the economy and flag key emitters, never for accounting
# (that is kiln.engine's job): tCO2 and tce per canonical unit.
APPROXIMATE = {
    "raw_coal": (1.90, 0.7143),
    "bituminous_coal": (2.07, 0.79),
    "coke": (2.86, 0.9714),
    "natural_gas": (21.62, 13.3),
    "diesel": (3.10, 1.4571),
    "gasoline": (2.93, 1.4714),
    "lpg": (3.10, 1.7143),
    "electricity_purchased": (0.5703, 0.1229),
    "heat_purchased": (0.11, 0.0341),
    "clinker_output": (0.525, 0.0),
    "limestone": (0.40, 0.0),
    "dolomite": (0.43, 0.0),
    "steel_carbon_input": (3.2, 0.0),
    "aluminium_output": (1.6, 0.0),  # anode consumption and PFCs
}
KEY_EMITTER_CO2 = 26_000  # tCO2e/yr (national ETS threshold)
KEY_EMITTER_TCE = 10_000  # tce/yr


# fmt: off
# The recipes below read as tables; keep them aligned by hand.
def _light(key, share, industries, words, median, *, gas=0.012, gas_share=0.6, intensity, va, growth,
           profile="manufacturing", green_share=0.4, product=0.15, sigma=1.1, high=40_000.0, per_worker=100.0):
    """Light manufacturing: electricity-led, gas for ovens and heat treatment metered per workshop,
    output counted per workshop, park steam for some, vehicles, a canteen, rooftop PV."""
    return Sector(
        key, share, industries, words, "MWh electricity", profile,
        facilities=(Facility("workshop", "W", "{n}号生产车间", "Workshop {n}", WORKSHOPS),),
        flows=(
            Flow("electricity_purchased", 1.0, spread=0.0, noise=0.03),
            Flow("natural_gas", gas, spread=0.6, share=gas_share, at="workshop", source="invoice"),
            # Steam from the industrial park's CHP plant (集中供热) for curing, drying and painting.
            Flow("heat_purchased", 1.5, spread=0.5, noise=0.08, share=0.25, at="workshop", source="invoice"),
            Flow("product_output", product, spread=0.6, noise=0.05, at="workshop"),
            *VEHICLES_AND_CANTEEN,
            Flow("electricity_green_self", 0.12, spread=0.5, noise=0.08, share=green_share, profile="solar"),
        ),
        size=Size(median, sigma, 80.0, high),
        intensity=intensity, value_added_ratio=va, growth=growth, revenue_per_worker=per_worker,
    )


# Own boilers: often a second one for peak load or standby, each with its own fuel meter.
BOILERS = ((1, 0.55), (2, 0.35), (3, 0.10))


def _boilers(gas_variant="gas_boiler", coal_variant="coal_boiler"):
    return (
        Facility("boiler", "B", "{n}号燃气锅炉", "Gas-fired boiler {n}", BOILERS, variants=(gas_variant,)),
        Facility("boiler", "B", "{n}号燃煤锅炉", "Coal-fired boiler {n}", BOILERS, variants=(coal_variant,)),
    )


# Monthly lab analysis of the coal burnt (GB/T 212, 213, 214, 476): a boiler or kiln's coal is
# sampled per delivery and the month's weighted mean reported.
COAL_NCV = Parameter("raw_coal.ncv", 19.5, 23.0, "GJ/t", noise=0.02)
COAL_CARBON = Parameter("raw_coal.carbon_content", 0.0258, 0.0282, "tC/GJ", noise=0.012, decimals=5)
COAL_MOISTURE = Parameter("raw_coal.moisture", 7.0, 14.0, "%", noise=0.08, decimals=2)
COAL_SULPHUR = Parameter("raw_coal.sulphur", 0.4, 1.0, "%", noise=0.1, decimals=2)
COAL_ANALYSIS = (COAL_NCV, COAL_CARBON, COAL_MOISTURE, COAL_SULPHUR)
# The gas company's monthly quality report (GB/T 11062): pipeline gas in Zhejiang, 34-37 MJ/Nm3.
GAS_NCV = Parameter("natural_gas.ncv", 340.0, 372.0, "GJ/1e4Nm3", noise=0.008, decimals=2, source="invoice")


def analysed(parameters, at: str = "", variants: tuple[str, ...] = ()) -> tuple[Parameter, ...]:
    """The same parameters measured at facility kind ``at`` for enterprises of ``variants``."""
    return tuple(replace(p, at=at, variants=variants) for p in parameters)


# Workshops of an electricity-led manufacturer: each has its own gas and steam meters and
# counts its own output.
WORKSHOPS = ((1, 0.25), (2, 0.30), (3, 0.25), (4, 0.12), (6, 0.08))

# Company cars and forklifts (diesel, gasoline) and the staff canteen's LPG: small, but on the
# monthly energy return (能源购进、消费与库存) of almost every enterprise. Per unit of basis
# for electricity-led sectors (MWh); process sectors scale them with ``minor``.
VEHICLES_AND_CANTEEN = (
    Flow("diesel", 0.003, spread=0.5, noise=0.15, share=0.85, source="invoice"),
    Flow("gasoline", 0.0015, spread=0.5, noise=0.15, share=0.75, source="invoice"),
    Flow("lpg", 0.0012, spread=0.5, noise=0.2, share=0.3, profile="canteen", source="invoice"),
)


def minor(per_mwh: float, diesel_share: float = 0.85) -> tuple[Flow, ...]:
    """Vehicles and canteen for a sector whose basis is not MWh: ``per_mwh`` MWh per unit of basis."""
    diesel, gasoline, lpg = VEHICLES_AND_CANTEEN
    return (
        replace(diesel, per_basis=diesel.per_basis * per_mwh, share=diesel_share),
        replace(gasoline, per_basis=gasoline.per_basis * per_mwh),
        replace(lpg, per_basis=lpg.per_basis * per_mwh),
    )


def _heat_user(key, share, industries, words, profile, line, *, steam, gas, coal=0.0, spread, product,
               product_spread, line_flows=(), per_mwh, diesel_share=0.85, green, green_share, size, variants,
               intensity, va, growth, per_worker):
    """Electricity-led manufacturing with process heat: steam from the industrial park's CHP plant
    metered per ``line`` (the facility that makes the output), or own gas-fired boilers (and, where
    ``coal`` tonnes per MWh are given, coal-fired ones) with their fuel analyses, output counted per
    line, vehicles and canteen, rooftop PV. ``steam`` is GJ and ``gas`` 10^4 Nm3 per MWh."""
    at = line.kind
    gas_boiler, coal_boiler = _boilers()
    coal_flows = (Flow("raw_coal", coal, spread=spread, noise=0.06, variants=("coal_boiler",), at="boiler",
                       source="invoice"),) if coal else ()
    return Sector(
        key, share, industries, words, "MWh electricity", profile,
        facilities=(line, gas_boiler, coal_boiler) if coal else (line, gas_boiler),
        flows=(
            Flow("electricity_purchased", 1.0, spread=0.0, noise=0.03),
            Flow("heat_purchased", steam, spread=spread, variants=("steam",), at=at, source="invoice"),
            Flow("natural_gas", gas, spread=spread, variants=("gas_boiler",), at="boiler", source="invoice"),
            *coal_flows,
            *line_flows,
            Flow("product_output", product, spread=product_spread, at=at),
            *minor(per_mwh, diesel_share=diesel_share),
            Flow("electricity_green_self", green, spread=0.5, noise=0.08, share=green_share, profile="solar"),
        ),
        parameters=(*(analysed(COAL_ANALYSIS, "boiler", ("coal_boiler",)) if coal else ()),
                    *analysed((GAS_NCV,), "boiler", ("gas_boiler",))),
        size=size, variants=variants,
        revenue_per_worker=per_worker, intensity=intensity, value_added_ratio=va, growth=growth,
    )


SECTORS: tuple[Sector, ...] = (
    _heat_user(
        "textiles", 22.5,
        (("C171", 0.45), ("C175", 0.30), ("C174", 0.10), ("C176", 0.15)),
        (("印染", "Printing & Dyeing"), ("纺织", "Textile"), ("织造", "Weaving"), ("丝绸", "Silk"),
         ("染整", "Dyeing & Finishing")),
        "manufacturing",
        Facility("dyeing_line", "L", "{n}号印染生产线", "Dyeing line {n}", ((1, 0.35), (2, 0.35), (3, 0.2), (4, 0.1))),
        # Dyeing is steam-hungry: about 12 GJ of steam per MWh of electricity, from the
        # industrial park's CHP plant (metered per dyeing line) or from an own boiler.
        steam=12.0, gas=0.034, coal=0.71, spread=0.25,
        # Stenters (定型机) and singeing burn gas on each line: about 100 Nm3 per MWh.
        line_flows=(
            Flow("natural_gas", 0.010, spread=0.4, noise=0.05, share=0.5, at="dyeing_line", source="invoice"),
        ),
        product=0.6, product_spread=0.3, per_mwh=1.0, diesel_share=0.8, green=0.08, green_share=0.35,
        size=Size(2500, 1.0, 200, 60_000),
        variants=(("steam", 0.55), ("gas_boiler", 0.35), ("coal_boiler", 0.10)),
        per_worker=80, intensity=0.9, va=0.22, growth=0.01,
    ),
    _heat_user(
        "chemical", 8.0,
        (("C261", 0.30), ("C265", 0.30), ("C266", 0.25), ("C264", 0.15)),
        (("化工", "Chemical"), ("化学", "Chemical"), ("新材料", "New Materials"), ("精细化工", "Fine Chemical")),
        "continuous",
        Facility("reactor", "R", "{n}号反应装置", "Reaction unit {n}", ((1, 0.4), (2, 0.3), (3, 0.2), (4, 0.1))),
        steam=5.0, gas=0.0143, coal=0.30, spread=0.3,
        product=1.5, product_spread=0.5, per_mwh=0.5, diesel_share=0.6, green=0.06, green_share=0.2,
        size=Size(6000, 1.1, 300, 150_000),
        variants=(("steam", 0.60), ("gas_boiler", 0.25), ("coal_boiler", 0.15)),
        per_worker=250, intensity=1.5, va=0.25, growth=0.03,
    ),
    Sector(
        "chemical_fibre", 5.0,
        (("C282", 1.0),),
        (("化纤", "Chemical Fibre"), ("合纤", "Synthetic Fibre"), ("锦纶", "Nylon"), ("涤纶", "Polyester")),
        "t fibre", "continuous",
        facilities=(
            Facility("polymerisation", "PL", "{n}号聚合装置", "Polymerisation unit {n}", ((1, 0.6), (2, 0.4)),
                     capacity_unit="t/a", capacity_per_basis=1.1),
            Facility("spinning_line", "S", "{n}号纺丝线", "Spinning line {n}", ((2, 0.3), (4, 0.4), (6, 0.3))),
            Facility("heater", "H", "{n}号热媒炉", "Heat-transfer-oil heater {n}", variants=("gas_heater",)),
        ),
        flows=(
            Flow("product_output", 1.0, spread=0.0, noise=0.03, at="polymerisation"),
            Flow("electricity_purchased", 0.32, spread=0.1, noise=0.03),
            Flow("heat_purchased", 2.0, spread=0.2, variants=("steam",), source="invoice"),
            Flow("natural_gas", 0.0057, spread=0.2, variants=("gas_heater",), at="heater", source="invoice"),
            *minor(0.1, diesel_share=0.6),
            Flow("electricity_green_self", 0.025, spread=0.5, noise=0.08, share=0.3, profile="solar"),
        ),
        parameters=analysed((GAS_NCV,), "heater", ("gas_heater",)),
        size=Size(60_000, 0.9, 5000, 600_000),
        variants=(("steam", 0.55), ("gas_heater", 0.45)),
        revenue_per_worker=350, intensity=1.2, value_added_ratio=0.18, growth=0.04,
    ),
    Sector(
        # A 5000 t/d line makes about 1.5 Mt clinker a year on ~3.2 GJ of coal per tonne
        # (about 0.11 tce, or 0.14-0.16 t of raw coal depending on its NCV).
        "cement_clinker", 1.2,
        (("C3011", 1.0),),
        (("水泥", "Cement"), ("建材", "Building Materials")),
        "t clinker", "cement",
        facilities=(
            Facility("kiln", "K", "{n}号熟料生产线", "Clinker line {n}", ((1, 0.7), (2, 0.3)),
                     capacities=((2500, 0.35), (4500, 0.2), (5000, 0.35), (7500, 0.1)), capacity_unit="t/d",
                     basis_per_capacity=300, overhaul_note="窑系统年度检修"),
            Facility("mill", "M", "{n}号水泥磨", "Cement mill {n}", ((2, 0.5), (3, 0.3), (4, 0.2))),
        ),
        flows=(
            Flow("clinker_output", 1.0, spread=0.0, noise=0.03, at="kiln"),
            Flow("raw_coal", 3.2, spread=0.05, noise=0.04, at="kiln", divide_by="raw_coal.ncv"),
            Flow("electricity_purchased", 0.10, spread=0.08, noise=0.03),
            Flow("cement_output", 1.25, spread=0.12, noise=0.05, at="mill"),
            Flow("diesel", 0.0006, spread=0.3, noise=0.1, source="invoice"),
            *minor(0.1)[1:],
        ),
        parameters=(
            Parameter("raw_coal.ncv", 20.5, 23.5, "GJ/t", noise=0.02, at="kiln"),
            *analysed(COAL_ANALYSIS[1:], "kiln"),
            Parameter("clinker_output.cao", 63.5, 66.0, "%", noise=0.004, decimals=2, at="kiln"),
            Parameter("clinker_output.mgo", 1.2, 3.0, "%", noise=0.05, decimals=2, at="kiln"),
        ),
        revenue_per_worker=500, intensity=5.5, value_added_ratio=0.30, growth=-0.02, minimum=1,
    ),
    Sector(
        "cement_grinding", 1.3,
        (("C3011", 1.0),),
        (("水泥", "Cement"), ("建材", "Building Materials")),
        "t cement", "cement",
        facilities=(Facility("mill", "M", "{n}号水泥磨", "Cement mill {n}", ((1, 0.4), (2, 0.4), (3, 0.2)),
                             capacity_unit="t/a", capacity_per_basis=1.2),),
        flows=(
            Flow("cement_output", 1.0, spread=0.0, noise=0.05, at="mill"),
            Flow("electricity_purchased", 0.034, spread=0.1, noise=0.03),
            Flow("diesel", 0.0002, spread=0.4, noise=0.15, source="invoice"),
            *minor(0.034)[1:],
            Flow("electricity_green_self", 0.003, spread=0.5, noise=0.08, share=0.3, profile="solar"),
        ),
        size=Size(500_000, 0.5, 100_000, 2_000_000),
        revenue_per_worker=400, intensity=0.9, value_added_ratio=0.20, growth=-0.01,
    ),
    Sector(
        "steel_eaf", 0.6,
        (("C3120", 1.0),),
        (("钢铁", "Iron & Steel"), ("特钢", "Special Steel")),
        "t crude steel", "steel",
        facilities=(
            Facility("eaf", "F", "{n}号电弧炉", "Electric arc furnace {n}", ((1, 0.75), (2, 0.25)),
                     capacities=((50, 0.3), (70, 0.3), (100, 0.4)), capacity_unit="t",
                     basis_per_capacity=7500, overhaul_note="电炉检修"),
            Facility("ladle_furnace", "LF", "{n}号精炼炉", "Ladle furnace {n}", ((1, 0.6), (2, 0.4))),
        ),
        flows=(
            Flow("crude_steel_output", 1.0, spread=0.0, noise=0.03, at="eaf"),
            Flow("steel_carbon_input", 0.02, spread=0.2, noise=0.05, at="eaf"),
            Flow("electricity_purchased", 0.42, spread=0.06, noise=0.03),
            Flow("natural_gas", 0.0015, spread=0.3, source="invoice"),
            Flow("limestone", 0.045, spread=0.2, noise=0.06, source="invoice"),
            Flow("diesel", 0.0003, spread=0.4, noise=0.15, source="invoice"),
            *minor(0.42)[1:],
        ),
        parameters=(GAS_NCV,
                    # Carbon balance inputs (electrodes, carburiser) are assayed monthly: no default exists.
                    Parameter("steel_carbon_input.mass_carbon_content", 80.0, 92.0, "%", noise=0.015, decimals=2,
                              at="eaf"),
                    Parameter("limestone.purity", 88.0, 95.0, "%", noise=0.01, decimals=2)),
        revenue_per_worker=600, intensity=2.5, value_added_ratio=0.18, growth=0.0,
    ),
    Sector(
        "ironmaking", 0.2,
        (("C3110", 1.0),),
        (("钢铁", "Iron & Steel"), ("冶金", "Metallurgy")),
        "t pig iron", "steel",
        facilities=(
            Facility("blast_furnace", "BF", "{n}号高炉", "Blast furnace {n}", ((1, 0.6), (2, 0.4)),
                     capacities=((450, 0.3), (1080, 0.5), (1780, 0.2)), capacity_unit="m3",
                     basis_per_capacity=850, overhaul_note="高炉定修"),
        ),
        flows=(
            Flow("product_output", 1.0, spread=0.0, noise=0.03, at="blast_furnace"),
            Flow("coke", 0.36, spread=0.04, noise=0.03, at="blast_furnace"),
            Flow("bituminous_coal", 0.15, spread=0.1, noise=0.04, at="blast_furnace"),
            Flow("limestone", 0.08, spread=0.2, noise=0.06, source="invoice"),
            Flow("dolomite", 0.03, spread=0.2, noise=0.06, source="invoice"),
            Flow("electricity_purchased", 0.09, spread=0.1, noise=0.03),
            Flow("diesel", 0.0002, spread=0.4, noise=0.15, source="invoice"),
            *minor(0.09)[1:],
        ),
        parameters=(
            Parameter("bituminous_coal.ncv", 23.0, 26.5, "GJ/t", noise=0.02, at="blast_furnace"),
            Parameter("bituminous_coal.carbon_content", 0.0255, 0.0275, "tC/GJ", noise=0.01, decimals=5,
                      at="blast_furnace"),
            Parameter("limestone.purity", 88.0, 95.0, "%", noise=0.01, decimals=2),
            Parameter("dolomite.purity", 85.0, 93.0, "%", noise=0.01, decimals=2),
            Parameter("coke.ncv", 27.5, 29.0, "GJ/t", noise=0.01, at="blast_furnace"),
            Parameter("coke.carbon_content", 0.0285, 0.0300, "tC/GJ", noise=0.008, decimals=5, at="blast_furnace"),
        ),
        revenue_per_worker=800, intensity=7.0, value_added_ratio=0.15, growth=-0.02,
    ),
    Sector(
        # About 13,400 kWh of electricity per tonne of primary aluminium.
        "aluminium", 0.2,
        (("C3216", 1.0),),
        (("铝业", "Aluminium"),),
        "t primary aluminium", "continuous",
        facilities=(
            Facility("electrolysis_line", "P", "{n}号电解系列", "Potline {n}",
                     capacities=((100_000, 0.3), (150_000, 0.4), (250_000, 0.3)), capacity_unit="t/a",
                     basis_per_capacity=0.97),
            Facility("anode_baking", "AB", "{n}号阳极焙烧炉", "Anode baking furnace {n}"),
        ),
        flows=(
            Flow("aluminium_output", 1.0, spread=0.0, noise=0.015, at="electrolysis_line"),
            Flow("electricity_purchased", 13.4, spread=0.02, noise=0.015),
            Flow("natural_gas", 0.0045, spread=0.15, at="anode_baking", source="invoice"),
            Flow("diesel", 0.0005, spread=0.4, noise=0.15, source="invoice"),
            *minor(1.0)[1:],
        ),
        parameters=(
            replace(GAS_NCV, at="anode_baking"),
            Parameter("aluminium_output.anode_effect_minutes", 0.02, 0.10, "min/cell-day", noise=0.2,
                      decimals=4, at="electrolysis_line", source="meter"),
            Parameter("aluminium_output.anode_net_consumption", 0.395, 0.425, "t/t", noise=0.01,
                      decimals=4, at="electrolysis_line", source="meter"),
            # Anode assays: no default exists for these, so every smelter measures them.
            Parameter("aluminium_output.anode_sulphur", 1.4, 2.4, "%", noise=0.04, decimals=3,
                      at="electrolysis_line"),
            Parameter("aluminium_output.anode_ash", 0.25, 0.55, "%", noise=0.06, decimals=3,
                      at="electrolysis_line"),
        ),
        utilisation=0.03, revenue_per_worker=1000, intensity=7.5, value_added_ratio=0.15, growth=0.01,
    ),
    Sector(
        "nonferrous_rolling", 2.5,
        (("C325", 1.0),),
        (("铜业", "Copper"), ("铝材", "Aluminium Products"), ("金属材料", "Metal Materials")),
        "t product", "manufacturing",
        facilities=(
            Facility("furnace", "MF", "{n}号熔铸炉", "Melting furnace {n}", ((1, 0.5), (2, 0.3), (3, 0.2))),
            Facility("rolling_line", "RL", "{n}号挤压/轧制线", "Extrusion/rolling line {n}",
                     ((1, 0.3), (2, 0.4), (4, 0.3)), capacity_unit="t/a", capacity_per_basis=1.2),
        ),
        flows=(
            Flow("product_output", 1.0, spread=0.1, noise=0.04, at="rolling_line"),
            Flow("electricity_purchased", 0.35, spread=0.25, noise=0.03),
            Flow("natural_gas", 0.006, spread=0.3, at="furnace", source="invoice"),
            *minor(0.35, diesel_share=0.8),
            Flow("electricity_green_self", 0.04, spread=0.5, noise=0.08, share=0.3, profile="solar"),
        ),
        size=Size(25_000, 0.8, 2000, 300_000),
        revenue_per_worker=500, intensity=0.6, value_added_ratio=0.12, growth=0.03,
    ),
    Sector(
        "paper", 3.5,
        (("C222", 0.85), ("C223", 0.15)),
        (("纸业", "Paper"), ("造纸", "Papermaking")),
        "t paper", "continuous",
        facilities=(
            Facility("paper_machine", "PM", "{n}号纸机", "Paper machine {n}", ((1, 0.4), (2, 0.4), (3, 0.2)),
                     capacity_unit="t/a", capacity_per_basis=1.15),
            Facility("boiler", "B", "{n}号自备热电锅炉", "Captive CHP boiler {n}", ((1, 0.5), (2, 0.5)),
                     variants=("coal_chp",)),
            Facility("boiler", "B", "{n}号燃气锅炉", "Gas-fired boiler {n}", BOILERS, variants=("gas_boiler",)),
        ),
        # About 6 GJ of steam and 0.45 MWh per tonne; a captive coal CHP also covers 2/3 of the power.
        flows=(
            Flow("product_output", 1.0, spread=0.05, noise=0.04, at="paper_machine"),
            Flow("electricity_purchased", 0.45, spread=0.15, noise=0.03, variants=("steam", "gas_boiler")),
            Flow("electricity_purchased", 0.15, spread=0.2, noise=0.05, variants=("coal_chp",)),
            Flow("heat_purchased", 6.0, spread=0.2, variants=("steam",), source="invoice"),
            Flow("raw_coal", 10.2, spread=0.1, noise=0.04, variants=("coal_chp",), at="boiler",
                 divide_by="raw_coal.ncv"),
            Flow("natural_gas", 0.0171, spread=0.2, variants=("gas_boiler",), at="boiler", source="invoice"),
            *minor(0.45, diesel_share=0.7),
            Flow("electricity_green_self", 0.03, spread=0.5, noise=0.08, share=0.25, profile="solar"),
        ),
        parameters=(*analysed(COAL_ANALYSIS, "boiler", ("coal_chp",)),
                    *analysed((GAS_NCV,), "boiler", ("gas_boiler",))),
        size=Size(60_000, 0.9, 5000, 800_000),
        variants=(("steam", 0.50), ("coal_chp", 0.35), ("gas_boiler", 0.15)),
        revenue_per_worker=300, intensity=1.8, value_added_ratio=0.22, growth=0.0,
    ),
    Sector(
        # 2 x 660 MW at ~5,200 h burns about 3 Mt of raw coal a year.
        "power_coal", 0.4,
        (("D4411", 1.0),),
        (("发电", "Power Generation"),),
        "MWh generated", "power",
        facilities=(
            Facility("generating_unit", "G", "{n}号机组", "Unit {n}", ((2, 1.0),),
                     capacities=((330, 0.3), (660, 0.5), (1000, 0.2)), capacity_unit="MW",
                     basis_per_capacity=5200, overhaul_note="机组检修"),
        ),
        flows=(
            Flow("raw_coal", 8.7, spread=0.03, noise=0.03, at="generating_unit", divide_by="raw_coal.ncv"),
            Flow("power_supplied", 0.95, spread=0.01, noise=0.02, at="generating_unit"),
            Flow("heat_supplied", 0.4, spread=0.5, noise=0.1, share=0.5, at="generating_unit"),
            Flow("diesel", 0.00002, spread=0.3, noise=0.3, at="generating_unit", source="invoice"),
            Flow("electricity_purchased", 0.0015, spread=0.3, noise=0.2),
            *minor(0.0015)[1:],
        ),
        parameters=(
            *analysed(COAL_ANALYSIS, "generating_unit"),
            Parameter("power_supplied.load_factor", 0.55, 0.80, "fraction", noise=0.06, at="generating_unit",
                      source="meter"),
        ),
        utilisation=0.1, revenue_per_worker=3000, intensity=10.0, value_added_ratio=0.35, growth=0.0,
    ),
    Sector(
        "power_chp", 1.2,
        (("D4412", 1.0),),
        (("热电", "Thermal Power"), ("热能", "Heat & Power")),
        "MWh generated", "chp",
        facilities=(
            Facility("generating_unit", "G", "{n}号机组", "Unit {n}", ((2, 0.6), (3, 0.4)),
                     capacities=((12, 0.2), (25, 0.4), (50, 0.3), (135, 0.1)), capacity_unit="MW",
                     basis_per_capacity=6000, overhaul_note="机组检修"),
            Facility("boiler", "B", "{n}号锅炉", "Boiler {n}", ((3, 0.5), (4, 0.5))),
        ),
        flows=(
            Flow("raw_coal", 18.0, spread=0.05, noise=0.03, at="generating_unit", divide_by="raw_coal.ncv"),
            Flow("power_supplied", 0.88, spread=0.02, noise=0.02, at="generating_unit"),
            Flow("heat_supplied", 11.0, spread=0.2, noise=0.04, at="generating_unit"),
            Flow("diesel", 0.00005, spread=0.3, noise=0.3, at="generating_unit", source="invoice"),
            Flow("electricity_purchased", 0.01, spread=0.3, noise=0.1),
            *minor(0.01)[1:],
        ),
        parameters=(*analysed(COAL_ANALYSIS, "generating_unit"),
                    Parameter("power_supplied.load_factor", 0.45, 0.75, "fraction", noise=0.06,
                              at="generating_unit", source="meter")),
        utilisation=0.1, revenue_per_worker=1500, intensity=8.0, value_added_ratio=0.30, growth=0.01,
    ),
    Sector(
        "power_gas", 0.4,
        (("D4412", 1.0),),
        (("天然气热电", "Gas-fired Cogeneration"), ("燃机发电", "Gas Turbine Power")),
        "MWh generated", "power",
        facilities=(
            Facility("generating_unit", "G", "{n}号燃机", "Gas turbine unit {n}", ((2, 1.0),),
                     capacities=((60, 0.3), (130, 0.4), (200, 0.3)), capacity_unit="MW",
                     basis_per_capacity=3500, overhaul_note="燃机检修"),
        ),
        flows=(
            Flow("natural_gas", 0.0195, spread=0.03, noise=0.03, at="generating_unit"),
            Flow("power_supplied", 0.97, spread=0.01, noise=0.02, at="generating_unit"),
            Flow("heat_supplied", 2.5, spread=0.3, noise=0.06, at="generating_unit"),
            Flow("electricity_purchased", 0.004, spread=0.3, noise=0.15),
            *minor(0.004)[1:],
        ),
        parameters=(
            replace(GAS_NCV, at="generating_unit", source="lab"),
            Parameter("natural_gas.carbon_content", 0.0150, 0.0156, "tC/GJ", noise=0.004, decimals=5,
                      at="generating_unit"),
            Parameter("power_supplied.load_factor", 0.35, 0.65, "fraction", noise=0.08, at="generating_unit",
                      source="meter"),
        ),
        utilisation=0.15, revenue_per_worker=3000, intensity=3.0, value_added_ratio=0.30, growth=0.02,
    ),
    _light("equipment_general", 14.0,
           (("C341", 0.10), ("C342", 0.15), ("C344", 0.25), ("C345", 0.25), ("C348", 0.25)),
           (("机械", "Machinery"), ("泵业", "Pump"), ("阀门", "Valve"), ("轴承", "Bearing"),
            ("精工", "Precision Engineering"), ("传动", "Transmission")),
           1200, intensity=0.25, va=0.25, growth=0.04),
    _light("equipment_special", 9.0,
           (("C351", 0.20), ("C352", 0.20), ("C355", 0.30), ("C359", 0.30)),
           (("智能装备", "Intelligent Equipment"), ("重工", "Heavy Industry"), ("环保设备", "Environmental Equipment"),
            ("纺机", "Textile Machinery")),
           1000, intensity=0.2, va=0.27, growth=0.05),
    _light("electrical", 12.0,
           (("C381", 0.25), ("C382", 0.25), ("C383", 0.20), ("C384", 0.10), ("C385", 0.10), ("C387", 0.10)),
           (("电气", "Electric"), ("电机", "Motor"), ("电器", "Electrical Appliance"), ("线缆", "Cable"),
            ("电池", "Battery"), ("照明", "Lighting")),
           1500, gas=0.008, gas_share=0.5, intensity=0.22, va=0.23, growth=0.06),
    _light("electronics", 3.0,
           (("C397", 0.5), ("C398", 0.5)),
           (("电子", "Electronics"), ("光电", "Optoelectronics"), ("微电子", "Microelectronics")),
           3000, gas=0.005, gas_share=0.4, intensity=0.15, va=0.25, growth=0.08, profile="continuous",
           green_share=0.35, product=0.02, sigma=1.2, high=200_000.0, per_worker=150.0),
    _heat_user(
        "rubber_plastics", 9.0,
        (("C291", 0.3), ("C292", 0.7)),
        (("塑业", "Plastics"), ("橡胶", "Rubber"), ("塑胶", "Plastic"), ("包装", "Packaging")),
        "manufacturing",
        Facility("workshop", "W", "{n}号生产车间", "Workshop {n}", WORKSHOPS),
        steam=2.0, gas=0.0057, spread=0.3,
        product=0.4, product_spread=0.4, per_mwh=0.8, green=0.1, green_share=0.4,
        size=Size(2000, 1.0, 100, 50_000),
        variants=(("steam", 0.35), ("gas_boiler", 0.25), ("", 0.40)),
        per_worker=90, intensity=0.5, va=0.20, growth=0.02,
    ),
    _heat_user(
        "food", 6.0,
        (("C131", 0.15), ("C135", 0.15), ("C139", 0.10), ("C144", 0.15), ("C146", 0.25), ("C149", 0.20)),
        (("食品", "Food"), ("粮油", "Grain & Oil"), ("乳业", "Dairy"), ("酿造", "Brewing"), ("调味品", "Condiments")),
        "manufacturing",
        Facility("workshop", "W", "{n}号生产车间", "Workshop {n}", WORKSHOPS),
        steam=3.0, gas=0.0086, spread=0.3,
        product=1.2, product_spread=0.4, green=0.08, green_share=0.35,
        # Refrigerated delivery trucks: more diesel than other light industry.
        per_mwh=1.5, diesel_share=0.9,
        size=Size(900, 1.0, 80, 30_000),
        variants=(("steam", 0.30), ("gas_boiler", 0.50), ("", 0.20)),
        per_worker=110, intensity=0.35, va=0.22, growth=0.02,
    ),
)

# fmt: on


def industry_codes() -> list[str]:
    """Every GB/T 4754 code the demo assigns; each must exist in the reference data."""
    return sorted({code for sector in SECTORS for code, _ in sector.industries})
