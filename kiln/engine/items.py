"""The item catalogue: every code that may appear in the ``item`` column of activity data.

Each item has a canonical unit and a category that decides which formula applies.
Measured parameters are ``<item>.<parameter>`` (``raw_coal.ncv``). Names are bilingual
because import templates and error reports show them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    code: str
    name_zh: str
    name_en: str
    unit: str  # canonical unit, see kiln.engine.units
    category: str  # fuel | biomass | electricity | heat | process | carbonate | product | recovery | parameter
    energy_type: str = ""  # coal | oil | gas | electricity | heat | other: for energy breakdowns


def _fuel(code, zh, en, unit="t", energy="coal"):
    return Item(code, zh, en, unit, "fuel", energy)


FUELS = [
    _fuel("raw_coal", "原煤", "raw coal"),
    _fuel("anthracite", "无烟煤", "anthracite"),
    _fuel("bituminous_coal", "烟煤", "bituminous coal"),
    _fuel("lignite", "褐煤", "lignite"),
    _fuel("washed_coal", "洗精煤", "washed coal"),
    _fuel("other_washed_coal", "其它洗煤", "other washed coal"),
    _fuel("briquette", "型煤", "briquette"),
    _fuel("coke", "焦炭", "coke"),
    _fuel("crude_oil", "原油", "crude oil", energy="oil"),
    _fuel("fuel_oil", "燃料油", "fuel oil", energy="oil"),
    _fuel("gasoline", "汽油", "gasoline", energy="oil"),
    _fuel("kerosene", "煤油", "kerosene", energy="oil"),
    _fuel("diesel", "柴油", "diesel", energy="oil"),
    _fuel("lpg", "液化石油气", "liquefied petroleum gas", energy="oil"),
    _fuel("refinery_gas", "炼厂干气", "refinery dry gas", energy="oil"),
    _fuel("naphtha", "石脑油", "naphtha", energy="oil"),
    _fuel("petroleum_coke", "石油焦", "petroleum coke", energy="oil"),
    _fuel("natural_gas", "天然气", "natural gas", unit="1e4Nm3", energy="gas"),
    _fuel("coke_oven_gas", "焦炉煤气", "coke oven gas", unit="1e4Nm3", energy="gas"),
    _fuel("blast_furnace_gas", "高炉煤气", "blast furnace gas", unit="1e4Nm3", energy="gas"),
    _fuel("converter_gas", "转炉煤气", "converter gas", unit="1e4Nm3", energy="gas"),
]

OTHER = [
    Item("biomass", "生物质燃料", "biomass fuel", "t", "biomass", "other"),
    Item("electricity_purchased", "购入电力", "purchased electricity", "MWh", "electricity", "electricity"),
    Item("electricity_exported", "输出电力", "exported electricity", "MWh", "electricity", "electricity"),
    Item("electricity_green_self", "自发自用零碳电力", "self-generated zero-carbon electricity", "MWh",
         "electricity", "electricity"),
    Item("heat_purchased", "购入热力", "purchased heat", "GJ", "heat", "heat"),
    Item("heat_exported", "输出热力", "exported heat", "GJ", "heat", "heat"),
    Item("clinker_output", "熟料产量", "clinker output", "t", "process"),
    Item("kiln_head_dust", "窑头粉尘", "kiln head dust", "t", "process"),
    Item("bypass_dust", "旁路放风粉尘", "bypass dust", "t", "process"),
    Item("limestone", "石灰石", "limestone", "t", "carbonate"),
    Item("dolomite", "白云石", "dolomite", "t", "carbonate"),
    Item("aluminium_output", "原铝产量", "primary aluminium output", "t", "process"),
    Item("steel_carbon_input", "钢铁碳输入物料", "steel carbon-bearing input", "t", "process"),
    Item("crude_steel_output", "粗钢产量", "crude steel output", "t", "product"),
    Item("cement_output", "水泥产量", "cement output", "t", "product"),
    Item("product_output", "主要产品产量", "main product output", "t", "product"),
    Item("power_supplied", "供电量", "power supplied", "MWh", "product"),
    Item("heat_supplied", "供热量", "heat supplied", "GJ", "product"),
    Item("co2_recovered", "CO2回收利用量", "CO2 recovered", "t", "recovery"),
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
}

ITEMS: dict[str, Item] = {item.code: item for item in FUELS + OTHER}


def is_known(code: str) -> bool:
    base, _, param = code.partition(".")
    return base in ITEMS and (not param or param in PARAMETERS)
