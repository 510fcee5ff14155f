"""Golden cases worked by hand from the formulas (domain.md §1.3, §2, §3.3, §3.4)."""

from __future__ import annotations

import polars as pl
import pytest

from kiln.engine.aggregate import aggregate, enterprise_month
from kiln.engine.emissions import compute
from tests.engine.helpers import E1, E2, activity, default_set, mapping

FS = default_set()
C = 44 / 12  # tCO2 per tC


def one(frame: pl.DataFrame, **kwargs) -> dict:
    results = compute(frame, FS, **kwargs)
    assert results.height == 1
    return results.row(0, named=True)


def test_raw_coal_with_default_factors():
    # Set A: NCV 20.908 GJ/t, CC 0.02637 tC/GJ, OF 0.94 → 1.90030 tCO2/t (domain.md §1.4).
    row = one(activity((E1, "2023-01", "raw_coal", 100.0, "t")))
    assert row["co2_t"] == pytest.approx(100 * 20.908 * 0.02637 * 0.94 * C, rel=1e-12)
    assert row["co2_t"] == pytest.approx(190.0299, abs=1e-3)
    assert row["energy_tce"] == pytest.approx(100 * 20.908 / 29.3076, rel=1e-12)  # 71.340 tce
    assert (row["source_category"], row["tier"], row["energy_type"], row["formula"]) == (
        "combustion",
        "default",
        "coal",
        "combustion",
    )
    assert row["factor_set"] == "CN-DEFAULT-2024"


def test_raw_coal_with_measured_ncv_and_carbon_content():
    frame = activity(
        (E1, "2023-01", "raw_coal", 100.0, "吨"),
        (E1, "2023-01", "raw_coal.ncv", 5000.0, "kcal/kg"),  # 20.934 GJ/t
        (E1, "2023-01", "raw_coal.carbon_content", 26.5, "tC/TJ"),  # 0.0265 tC/GJ
    )
    row = one(frame)
    ncv = 5000 * 4.1868e-3
    assert row["co2_t"] == pytest.approx(100 * ncv * 0.0265 * 0.94 * C, rel=1e-12)  # OF stays default
    assert row["energy_tce"] == pytest.approx(100 * ncv / 29.3076, rel=1e-12)
    assert row["tier"] == "measured"


def test_measured_parameters_apply_to_their_own_enterprise_month_only():
    frame = activity(
        (E1, "2023-01", "raw_coal", 100.0, "t"),
        (E1, "2023-01", "raw_coal.ncv", 25.0, "GJ/t"),
        (E1, "2023-02", "raw_coal", 100.0, "t"),
        (E2, "2023-01", "raw_coal", 100.0, "t"),
    )
    results = compute(frame, FS)
    co2 = results.get_column("co2_t").to_list()
    assert co2[0] == pytest.approx(100 * 25 * 0.02637 * 0.94 * C)
    assert co2[1] == co2[2] == pytest.approx(100 * 20.908 * 0.02637 * 0.94 * C)
    assert results.get_column("tier").cast(str).to_list() == ["measured", "default", "default"]


def test_facility_parameters_apply_to_their_facility_and_fall_back_to_the_enterprise():
    frame = activity(
        (E1, "2023-01", "raw_coal", 100.0, "t", "K1"),
        (E1, "2023-01", "raw_coal", 100.0, "t", "K2"),
        (E1, "2023-01", "raw_coal.ncv", 25.0, "GJ/t", "K1"),
        (E1, "2023-01", "raw_coal.ncv", 22.0, "GJ/t", "K2"),
        (E1, "2023-01", "raw_coal.carbon_content", 0.025, "tC/GJ"),  # enterprise-wide
    )
    co2 = compute(frame, FS).get_column("co2_t").to_list()
    assert co2 == pytest.approx([100 * 25 * 0.025 * 0.94 * C, 100 * 22 * 0.025 * 0.94 * C])


@pytest.mark.parametrize(
    ("quantity", "unit"), [(10.0, "万Nm3"), (100_000.0, "Nm3"), (10.0, "1e4Nm3"), (100_000.0, "m³")]
)
def test_natural_gas_in_any_volume_unit(quantity, unit):
    row = one(activity((E1, "2023-01", "natural_gas", quantity, unit)))
    # 389.31 GJ/1e4Nm3 × 0.0153 × 0.99 × 44/12 = 21.622 tCO2 per 1e4 Nm3 (domain.md §1.4).
    assert row["co2_t"] == pytest.approx(10 * 389.31 * 0.0153 * 0.99 * C, rel=1e-12)
    assert row["co2_t"] == pytest.approx(216.22, abs=0.01)
    assert row["quantity_canonical"] == pytest.approx(10.0)
    assert row["unit_canonical"] == "1e4Nm3"
    assert row["energy_type"] == "gas"


def test_cement_clinker_calcination_with_kiln_dust():
    frame = activity(
        (E1, "2023-03", "clinker_output", 1000.0, "t"),
        (E1, "2023-03", "kiln_head_dust", 20.0, "t"),
        (E1, "2023-03", "bypass_dust", 10.0, "t"),
        (E1, "2023-03", "clinker_output.cao", 65.0, "%"),
        (E1, "2023-03", "clinker_output.mgo", 2.0, "%"),
        (E1, "2023-03", "clinker_output.cao_noncarbonate", 1.0, "%"),
        (E1, "2023-03", "clinker_output.mgo_noncarbonate", 0.5, "%"),
    )
    results = compute(frame, FS)
    per_tonne = (0.65 - 0.01) * 44 / 56 + (0.02 - 0.005) * 44 / 40  # 0.519357 tCO2/t
    assert results.get_column("co2_t").to_list() == pytest.approx(
        [1000 * per_tonne, 20 * per_tonne, 10 * per_tonne]
    )
    assert results.get_column("co2_t").sum() == pytest.approx(534.9379, abs=1e-4)
    assert set(results.get_column("source_category").cast(str)) == {"process"}
    assert set(results.get_column("tier").cast(str)) == {"measured"}
    assert results.get_column("energy_tce").sum() == 0


def test_clinker_without_measured_cao_is_a_missing_factor():
    # No default CaO/MgO exists (domain.md §3.3): never a silent zero.
    from kiln.engine.errors import EngineError

    with pytest.raises(EngineError) as caught:
        compute(activity((E1, "2023-03", "clinker_output", 1000.0, "t")), FS)
    assert caught.value.codes == {"missing_factor"}
    assert "cao" in caught.value.errors.get_column("message").item()


def test_carbonates_stoichiometric():
    frame = activity(
        (E1, "2023-01", "limestone", 100.0, "t"),
        (E1, "2023-01", "dolomite", 100.0, "t"),
        (E1, "2023-01", "dolomite.purity", 90.0, "%"),
    )
    co2 = compute(frame, FS).get_column("co2_t").to_list()
    assert co2 == pytest.approx([44.0, 100 * 0.9 * 88 / 184.4], rel=1e-12)  # 0.440 tCO2/t CaCO3


def test_aluminium_anode_and_pfc_with_measured_anode_effect():
    frame = activity(
        (E1, "2023-05", "aluminium_output", 1000.0, "t"),
        (E1, "2023-05", "aluminium_output.anode_net_consumption", 420.0, "kg/t"),
        (E1, "2023-05", "aluminium_output.anode_sulphur", 2.0, "%"),
        (E1, "2023-05", "aluminium_output.anode_ash", 0.4, "%"),
        (E1, "2023-05", "aluminium_output.anode_effect_minutes", 0.2, "min/cell-day"),
    )
    results = compute(frame, FS)
    assert results.get_column("formula").cast(str).to_list() == ["al_anode", "al_pfc"]
    anode, pfc = results.get_column("co2_t").to_list()
    assert anode == pytest.approx(1000 * 0.42 * (1 - 0.02 - 0.004) * C, rel=1e-12)  # 1503.04 t
    ef_cf4 = 0.143 * 0.2  # kg CF4/t Al
    assert pfc == pytest.approx(
        1000 * (ef_cf4 * 6630 + 0.1 * ef_cf4 * 11100) / 1000, rel=1e-12
    )  # 221.364 tCO2e
    assert pfc == pytest.approx(221.364, abs=1e-6)
    assert results.get_column("tier").cast(str).to_list() == ["measured", "measured"]
    assert results.get_column("row").to_list() == [0, 0]


def test_aluminium_pfc_defaults_without_anode_effect_minutes():
    frame = activity(
        (E1, "2023-05", "aluminium_output", 1000.0, "t"),
        (E1, "2023-05", "aluminium_output.anode_net_consumption", 0.42, "t/t"),
        (E1, "2023-05", "aluminium_output.anode_sulphur", 0.02, "fraction"),
        (E1, "2023-05", "aluminium_output.anode_ash", 0.004, "fraction"),
    )
    results = compute(frame, FS)
    pfc = results.filter(pl.col("formula") == "al_pfc").row(0, named=True)
    assert pfc["co2_t"] == pytest.approx(1000 * (0.034 * 6630 + 0.0034 * 11100) / 1000)  # 0.263 t/t Al
    assert pfc["co2_t"] == pytest.approx(263.16)
    assert pfc["tier"] == "default"


@pytest.mark.parametrize(
    ("period", "factor"),
    [("2020-06", 0.6101), ("2021-06", 0.5810), ("2022-12", 0.5810), ("2023-01", 0.5703), ("2025-06", 0.5703)],
)
def test_purchased_electricity_uses_the_ets_grid_factor_of_the_year(period, factor):
    row = one(activity((E1, period, "electricity_purchased", 1000.0, "MWh")))
    assert row["co2_t"] == pytest.approx(1000 * factor)
    assert row["energy_tce"] == pytest.approx(122.9)
    assert row["source_category"] == "electricity_purchased"


@pytest.mark.parametrize(
    ("series", "period", "factor"),
    [
        ("MEE_NBS_AVG/330000", "2022-03", 0.5153),
        ("MEE_NBS_AVG/EAST", "2023-03", 0.5500),
        ("MEE_NBS_AVG", "2023-03", 0.5306),
        ("MEE_NBS_FOSSIL/CN", "2021-03", 0.8426),
    ],
)
def test_grid_series_chosen_by_the_caller(series, period, factor):
    row = one(activity((E1, period, "electricity_purchased", 1000.0, "MWh")), grid_series=series)
    assert row["co2_t"] == pytest.approx(1000 * factor)


def test_exported_electricity_and_heat_are_negative():
    frame = activity(
        (E1, "2023-01", "electricity_exported", 100_000.0, "kWh"),
        (E1, "2023-01", "heat_purchased", 500.0, "GJ"),
        (E1, "2023-01", "heat_exported", 100.0, "GJ"),
        (E1, "2023-01", "heat_purchased", 100.0, "MWh"),  # 360 GJ
    )
    results = compute(frame, FS)
    assert results.get_column("co2_t").to_list() == pytest.approx([-57.03, 55.0, -11.0, 39.6])
    assert results.get_column("energy_tce").to_list() == pytest.approx(
        [-12.29, 500 * 0.03412, -100 * 0.03412, 360 * 0.03412]
    )
    assert results.get_column("source_category").cast(str).to_list() == [
        "electricity_exported",
        "heat_purchased",
        "heat_exported",
        "heat_purchased",
    ]


def test_recovered_co2_is_subtracted():
    row = one(activity((E1, "2023-01", "co2_recovered", 5.0, "t")))
    assert (row["co2_t"], row["source_category"], row["energy_tce"]) == (-5.0, "recovery", 0.0)


def test_steel_carbon_balance_with_measured_carbon():
    frame = activity(
        (E1, "2023-01", "steel_carbon_input", 1000.0, "t"),
        (E1, "2023-01", "steel_carbon_input.mass_carbon_content", 85.0, "%"),
        (E1, "2023-01", "steel_carbon_output", 900.0, "t"),
        (E1, "2023-01", "steel_carbon_output.mass_carbon_content", 0.004, "tC/t"),
    )
    co2 = compute(frame, FS).get_column("co2_t").to_list()
    assert co2 == pytest.approx([1000 * 0.85 * C, -900 * 0.004 * C])


def test_biomass_is_reported_apart_and_not_in_the_total():
    frame = activity(
        (E1, "2023-01", "biomass", 100.0, "t"),
        (E1, "2023-01", "biomass.ncv", 15.0, "GJ/t"),
        (E1, "2023-01", "biomass.carbon_content", 0.03, "tC/GJ"),
        (E1, "2023-01", "biomass.oxidation_rate", 90.0, "%"),
        (E1, "2023-01", "diesel", 1.0, "t"),
    )
    results = compute(frame, FS)
    biomass = results.row(0, named=True)
    assert biomass["co2_t"] == pytest.approx(100 * 15 * 0.03 * 0.9 * C)  # 148.5 t
    assert biomass["source_category"] == "biomass"
    em = enterprise_month(results).row(0, named=True)
    diesel = 42.652 * 0.0202 * 0.98 * C
    assert em["co2_biomass_t"] == pytest.approx(148.5)
    assert em["co2_total_t"] == pytest.approx(diesel)
    assert em["tce_other"] == pytest.approx(100 * 15 / 29.3076)


def test_products_carry_no_emission():
    frame = activity(
        (E1, "2023-01", "cement_output", 1000.0, "t"), (E1, "2023-01", "power_supplied", 10.0, "MWh")
    )
    results = compute(frame, FS)
    assert results.get_column("co2_t").to_list() == [0.0, 0.0]
    assert set(results.get_column("source_category").cast(str)) == {"none"}


def test_total_follows_gbt_32150():
    # C = C_comb + C_process + C_elec_purchased − C_elec_exported + C_heat_purchased − C_heat_exported − C_recovered
    frame = activity(
        (E1, "2023-01", "diesel", 10.0, "t"),
        (E1, "2023-01", "limestone", 100.0, "t"),
        (E1, "2023-01", "electricity_purchased", 1000.0, "MWh"),
        (E1, "2023-01", "electricity_exported", 100.0, "MWh"),
        (E1, "2023-01", "heat_purchased", 1000.0, "GJ"),
        (E1, "2023-01", "heat_exported", 200.0, "GJ"),
        (E1, "2023-01", "co2_recovered", 7.0, "t"),
    )
    results = compute(frame, FS)
    aggregates = aggregate(results, mapping((E1, "330502", "330500", "C3011")))
    row = aggregates["enterprise_month"].row(0, named=True)
    expected = 10 * 42.652 * 0.0202 * 0.98 * C + 44.0 + 570.3 - 57.03 + 110.0 - 22.0 - 7.0
    assert row["co2_total_t"] == pytest.approx(expected)
    assert row["co2_process_t"] == pytest.approx(44.0)
    assert row["co2_electricity_exported_t"] == pytest.approx(-57.03)
    assert row["tce_oil"] == pytest.approx(10 * 42.652 / 29.3076)
    assert row["tce_electricity"] == pytest.approx(0.1229 * 900)
    assert row["tce_heat"] == pytest.approx(0.03412 * 800)
    assert aggregates["industry_month"].get_column("industry_code").to_list() == ["C30"]
