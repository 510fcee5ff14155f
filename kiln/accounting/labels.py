"""Translated names of the engine's codes (source categories, energy types, formulas, tiers)."""

from django.utils.translation import gettext_lazy as _

CATEGORY = {
    "combustion": _("fuel combustion"),
    "process": _("process"),
    "electricity_purchased": _("purchased electricity"),
    "electricity_exported": _("exported electricity"),
    "heat_purchased": _("purchased heat"),
    "heat_exported": _("exported heat"),
    "recovery": _("CO2 recovery"),
    "biomass": _("biomass (not in total)"),
    "none": _("no emissions"),
}
ENERGY = {
    "coal": _("coal"),
    "oil": _("oil"),
    "gas": _("gas"),
    "electricity": _("electricity"),
    "heat": _("heat"),
    "other": _("other"),
    "none": _("none"),
}
FORMULA = {
    "combustion": _("FC × NCV × CC × OF × 44/12"),
    "biomass": _("FC × NCV × CC × OF × 44/12 (biomass)"),
    "electricity": _("MWh × grid factor"),
    "heat": _("GJ × heat factor"),
    "clinker": _("clinker × [(CaO − CaO₀) × 44/56 + (MgO − MgO₀) × 44/40]"),
    "carbonate": _("carbonate × purity × stoichiometric factor"),
    "al_anode": _("Al × NC × (1 − S − A) × 44/12"),
    "al_pfc": _("Al × (EF_CF4 × GWP_CF4 + EF_C2F6 × GWP_C2F6) / 1000"),
    "steel": _("mass × carbon content × 44/12"),
    "recovery": _("− CO2 recovered"),
    "none": _("no emissions"),
}
TIER = {"default": _("default factors"), "measured": _("measured parameters")}
