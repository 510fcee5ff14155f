"""The item catalogue: every code that may appear in the ``item`` column of activity data.

Each item has a canonical unit and a category that decides which formula applies.
Measured parameters are ``<item>.<parameter>`` (``raw_coal.ncv``). Names are bilingual
because import templates and error reports show them.

Besides the display fields, every item says how the engine treats it:

- ``formula``: which emission formula applies (see ``kiln/engine/emissions.py``):
  ``combustion``, ``biomass``, ``electricity``, ``heat``, ``clinker``, ``carbonate``,
  ``al_anode`` (aluminium output: carbon-anode consumption, plus a second ``al_pfc`` row),
  ``steel``, ``recovery`` or ``none`` (products and other rows that carry no emission).
- ``sign``: +1, or -1 for exports, carbon-bearing outputs of a carbon balance and recovered CO2.
- ``source_category``: the GB/T 32150 source the emission is reported under.
- ``parameters``: the measured parameters that may accompany the item in the same
  enterprise-month; ``parameter_base`` names the item whose parameters apply when it is not
  the item itself (kiln dust is calcined with the clinker's CaO/MgO); it is also the item whose
  factor-set values apply (exported electricity and heat use the purchased factors).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    code: str
    name_zh: str
    name_en: str
    unit: str  # canonical unit, see kiln.engine.units
    category: (
        str  # fuel | biomass | electricity | heat | process | carbonate | product | recovery | parameter
    )
    energy_type: str = ""  # coal | oil | gas | electricity | heat | other: for energy breakdowns
    formula: str = "none"
    sign: int = 1
    source_category: str = "none"
    parameters: tuple[str, ...] = ()
    parameter_base: str = ""  # item whose measured parameters apply ("" = the item itself)

    @property
    def parameter_item(self) -> str:
        """The item code under which this item's measured parameters are reported."""
        return self.parameter_base or self.code


FUEL_PARAMETERS = ("ncv", "carbon_content", "oxidation_rate", "hydrogen", "sulphur", "moisture")
CLINKER_PARAMETERS = ("cao", "mgo", "cao_noncarbonate", "mgo_noncarbonate")
ALUMINIUM_PARAMETERS = ("anode_effect_minutes", "anode_net_consumption", "anode_sulphur", "anode_ash")


def _fuel(code, zh, en, unit="t", energy="coal"):
    return Item(code, zh, en, unit, "fuel", energy, "combustion", 1, "combustion", FUEL_PARAMETERS)


FUELS = [
    _fuel("raw_coal", "原煤", "raw coal"),
    _fuel("anthracite", "无烟煤", "anthracite"),
    _fuel("bituminous_coal", "烟煤", "bituminous coal"),
    _fuel("lignite", "褐煤", "lignite"),
    _fuel("washed_coal", "洗精煤", "washed coal"),
    _fuel("other_washed_coal", "其它洗煤", "other washed coal"),
    _fuel("briquette", "型煤", "briquette"),
    _fuel("coke", "焦炭", "coke"),
    _fuel("coal_tar", "焦油", "coal tar"),
    _fuel("crude_benzene", "粗苯", "crude benzene"),
    _fuel("crude_oil", "原油", "crude oil", energy="oil"),
    _fuel("fuel_oil", "燃料油", "fuel oil", energy="oil"),
    _fuel("gasoline", "汽油", "gasoline", energy="oil"),
    _fuel("kerosene", "煤油", "kerosene", energy="oil"),
    _fuel("jet_kerosene", "喷气煤油", "jet kerosene", energy="oil"),
    _fuel("diesel", "柴油", "diesel", energy="oil"),
    _fuel("lpg", "液化石油气", "liquefied petroleum gas", energy="oil"),
    _fuel("refinery_gas", "炼厂干气", "refinery dry gas", energy="oil"),
    _fuel("naphtha", "石脑油", "naphtha", energy="oil"),
    _fuel("petroleum_coke", "石油焦", "petroleum coke", energy="oil"),
    _fuel("other_petroleum_products", "其它石油制品", "other petroleum products", energy="oil"),
    _fuel("lng", "液化天然气", "liquefied natural gas", energy="gas"),
    _fuel("natural_gas", "天然气", "natural gas", unit="1e4Nm3", energy="gas"),
    _fuel("coke_oven_gas", "焦炉煤气", "coke oven gas", unit="1e4Nm3", energy="gas"),
    _fuel("blast_furnace_gas", "高炉煤气", "blast furnace gas", unit="1e4Nm3", energy="gas"),
    _fuel("converter_gas", "转炉煤气", "converter gas", unit="1e4Nm3", energy="gas"),
    _fuel(
        "carbide_furnace_gas",
        "密闭电石炉炉气",
        "closed calcium-carbide furnace gas",
        unit="1e4Nm3",
        energy="gas",
    ),
    _fuel("other_coal_gas", "其它煤气", "other coal gas", unit="1e4Nm3", energy="gas"),
]

OTHER = [
    Item(
        "biomass",
        "生物质燃料",
        "biomass fuel",
        "t",
        "biomass",
        "other",
        "biomass",
        1,
        "biomass",
        FUEL_PARAMETERS,
    ),
    Item(
        "electricity_purchased",
        "购入电力",
        "purchased electricity",
        "MWh",
        "electricity",
        "electricity",
        "electricity",
        1,
        "electricity_purchased",
    ),
    Item(
        "electricity_exported",
        "输出电力",
        "exported electricity",
        "MWh",
        "electricity",
        "electricity",
        "electricity",
        -1,
        "electricity_exported",
        parameter_base="electricity_purchased",
    ),
    # Zero-carbon electricity generated and used on site: no scope-2 emission and, until the
    # carbon-efficiency rules say otherwise, not counted as purchased energy either.
    Item(
        "electricity_green_self",
        "自发自用零碳电力",
        "self-generated zero-carbon electricity",
        "MWh",
        "electricity",
        "",
    ),
    Item("heat_purchased", "购入热力", "purchased heat", "GJ", "heat", "heat", "heat", 1, "heat_purchased"),
    Item(
        "heat_exported",
        "输出热力",
        "exported heat",
        "GJ",
        "heat",
        "heat",
        "heat",
        -1,
        "heat_exported",
        parameter_base="heat_purchased",
    ),
    Item(
        "clinker_output",
        "熟料产量",
        "clinker output",
        "t",
        "process",
        "",
        "clinker",
        1,
        "process",
        CLINKER_PARAMETERS,
    ),
    Item(
        "kiln_head_dust",
        "窑头粉尘",
        "kiln head dust",
        "t",
        "process",
        "",
        "clinker",
        1,
        "process",
        parameter_base="clinker_output",
    ),
    Item(
        "bypass_dust",
        "旁路放风粉尘",
        "bypass dust",
        "t",
        "process",
        "",
        "clinker",
        1,
        "process",
        parameter_base="clinker_output",
    ),
    Item("limestone", "石灰石", "limestone", "t", "carbonate", "", "carbonate", 1, "process", ("purity",)),
    Item("dolomite", "白云石", "dolomite", "t", "carbonate", "", "carbonate", 1, "process", ("purity",)),
    Item(
        "aluminium_output",
        "原铝产量",
        "primary aluminium output",
        "t",
        "process",
        "",
        "al_anode",
        1,
        "process",
        ALUMINIUM_PARAMETERS,
    ),
    Item(
        "steel_carbon_input",
        "钢铁碳输入物料",
        "steel carbon-bearing input",
        "t",
        "process",
        "",
        "steel",
        1,
        "process",
        ("mass_carbon_content",),
    ),
    Item(
        "steel_carbon_output",
        "钢铁碳输出物料",
        "steel carbon-bearing output (steel, by-products)",
        "t",
        "process",
        "",
        "steel",
        -1,
        "process",
        ("mass_carbon_content",),
    ),
    Item("crude_steel_output", "粗钢产量", "crude steel output", "t", "product"),
    Item("cement_output", "水泥产量", "cement output", "t", "product"),
    Item("product_output", "主要产品产量", "main product output", "t", "product"),
    Item("power_supplied", "供电量", "power supplied", "MWh", "product", parameters=("load_factor",)),
    Item("heat_supplied", "供热量", "heat supplied", "GJ", "product"),
    Item("co2_recovered", "CO2回收利用量", "CO2 recovered", "t", "recovery", "", "recovery", -1, "recovery"),
]

# Measured parameters that may accompany an item in the same enterprise-month.
PARAMETERS = {
    "ncv": ("低位发热量", "net calorific value"),
    "carbon_content": ("单位热值含碳量", "carbon content per GJ"),
    "oxidation_rate": ("碳氧化率", "oxidation rate"),
    "cao": ("CaO含量", "CaO content"),
    "mgo": ("MgO含量", "MgO content"),
    "cao_noncarbonate": ("非碳酸盐CaO含量", "non-carbonate CaO content"),
    "mgo_noncarbonate": ("非碳酸盐MgO含量", "non-carbonate MgO content"),
    "anode_effect_minutes": ("阳极效应持续时间", "anode effect minutes"),
    "anode_net_consumption": ("吨铝阳极净耗", "net anode consumption"),
    "anode_sulphur": ("阳极含硫量", "anode sulphur content"),
    "anode_ash": ("阳极灰分", "anode ash content"),
    "hydrogen": ("氢含量", "hydrogen content"),
    "sulphur": ("全硫", "total sulphur"),
    "moisture": ("全水分", "total moisture"),
    "load_factor": ("负荷系数", "load factor"),
    "mass_carbon_content": ("含碳量", "carbon content per tonne"),
    "purity": ("纯度", "purity (carbonate mass fraction)"),
}

# Canonical unit of each measured parameter. ``ncv`` depends on the item: GJ/t for items
# measured in tonnes, GJ/1e4Nm3 for gases (see ``parameter_unit``).
PARAMETER_UNITS = {
    "ncv": "GJ/t",
    "carbon_content": "tC/GJ",
    "oxidation_rate": "fraction",
    "cao": "fraction",
    "mgo": "fraction",
    "cao_noncarbonate": "fraction",
    "mgo_noncarbonate": "fraction",
    "anode_effect_minutes": "min/cell-day",
    "anode_net_consumption": "t/t",
    "anode_sulphur": "fraction",
    "anode_ash": "fraction",
    "hydrogen": "fraction",
    "sulphur": "fraction",
    "moisture": "fraction",
    "load_factor": "fraction",
    "mass_carbon_content": "tC/t",
    "purity": "fraction",
}

# Parameters whose value is a mass fraction and so must lie in [0, 1].
FRACTION_PARAMETERS = frozenset(p for p, unit in PARAMETER_UNITS.items() if unit in ("fraction", "tC/t"))

ITEMS: dict[str, Item] = {item.code: item for item in FUELS + OTHER}


def parameter_unit(item: str, parameter: str) -> str:
    """Canonical unit of ``<item>.<parameter>``."""
    if parameter == "ncv" and ITEMS[item].unit == "1e4Nm3":
        return "GJ/1e4Nm3"
    return PARAMETER_UNITS[parameter]


def parameter_codes() -> list[str]:
    """Every valid ``<item>.<parameter>`` code, in catalogue order."""
    return [f"{item.code}.{p}" for item in ITEMS.values() for p in item.parameters]


def canonical_unit(code: str) -> str | None:
    """Canonical unit of an item or parameter code, ``None`` when the code is unknown."""
    if not is_known(code):
        return None
    base, _, param = code.partition(".")
    return parameter_unit(base, param) if param else ITEMS[base].unit


def is_known(code: str) -> bool:
    """True for a catalogue item or a parameter that applies to it (``raw_coal.ncv``)."""
    base, dot, param = code.partition(".")
    if base not in ITEMS:
        return False
    return not dot or param in ITEMS[base].parameters
