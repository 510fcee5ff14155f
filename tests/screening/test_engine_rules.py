"""Each screening check on crafted data: it fires when it should and stays silent when it should not."""

from __future__ import annotations

import datetime

import polars as pl
import pytest

from kiln.engine import screening
from tests.screening.crafted import frame, months, rows, rule, run, series, steady


def ids(findings: pl.DataFrame) -> list[tuple]:
    return findings.select("rule_id", "credit_code", "period", "item", "facility").rows()


# --- duplicates ---------------------------------------------------------------------------------------------


def test_duplicate_row_fires_on_a_repeated_key_only():
    data = steady("E1", "natural_gas", "1e4Nm3", 3) + rows(("E1", "2024-02", "natural_gas", 99, "1e4Nm3"))
    found = run(data, [rule("KLN-DUP-ROW-001", "duplicate_row", "error")])
    assert ids(found) == [("KLN-DUP-ROW-001", "E1", "2024-02", "natural_gas", "")]
    assert found["value"].to_list() == [2.0]
    assert run(steady("E1", "natural_gas", "1e4Nm3", 3), [rule("X", "duplicate_row")]).is_empty()


def _evidence(*rows_):
    return pl.DataFrame(list(rows_), schema=["credit_code", "period", "sha256", "kind"], orient="row")


def test_duplicate_evidence_across_enterprises_and_across_months():
    data = steady("E1", "diesel", "t", 3) + steady("E2", "diesel", "t", 3)
    evidence = _evidence(
        ("E1", "2024-01", "a" * 64, "invoice"),
        ("E2", "2024-02", "a" * 64, "invoice"),
        ("E1", "2024-02", "b" * 64, "lab_report"),
        ("E1", "2024-03", "b" * 64, "lab_report"),
        ("E2", "2024-03", "c" * 64, "invoice"),
    )
    across = run(data, [rule("KLN-DUP-EVID-001", "duplicate_evidence", "error")], evidence=evidence)
    assert ids(across) == [
        ("KLN-DUP-EVID-001", "E1", "2024-01", "", ""),
        ("KLN-DUP-EVID-001", "E2", "2024-02", "", ""),
    ]
    assert across["detail"].to_list() == ["a" * 16] * 2
    months_rule = rule(
        "KLN-DUP-EVID-002", "duplicate_evidence", params={"across": "months", "kinds": ["lab_report"]}
    )
    found = run(data, [months_rule], evidence=evidence)
    assert ids(found) == [
        ("KLN-DUP-EVID-002", "E1", "2024-02", "", ""),
        ("KLN-DUP-EVID-002", "E1", "2024-03", "", ""),
    ]


def test_duplicate_evidence_is_silent_for_distinct_files_and_skipped_without_evidence():
    data = steady("E1", "diesel", "t", 2)
    evidence = _evidence(("E1", "2024-01", "a" * 64, "invoice"), ("E1", "2024-02", "b" * 64, "invoice"))
    assert run(data, [rule("X", "duplicate_evidence")], evidence=evidence).is_empty()
    result = screening.screen(frame(data), [rule("X", "duplicate_evidence")])
    assert result.skipped == [("X", "missing input: evidence")]


# --- completeness -------------------------------------------------------------------------------------------


def test_missing_month_for_one_stream_and_for_a_silent_enterprise():
    gas = steady("E1", "natural_gas", "1e4Nm3", 8)
    del gas[4]  # 2024-05 missing
    data = gas + steady("E1", "electricity_purchased", "MWh", 8)
    # E2 says nothing in 2024-03 at all
    data += [r for r in steady("E2", "diesel", "t", 8) if r[1] != "2024-03"]
    found = run(data, [rule("KLN-COMP-001", "missing_month", params={"max_gap": 3})])
    assert ids(found) == [
        ("KLN-COMP-001", "E1", "2024-05", "natural_gas", ""),
        ("KLN-COMP-001", "E2", "2024-03", "", ""),
    ]


def test_an_enterprise_that_stops_reporting_is_missing_while_others_report():
    data = steady("E1", "diesel", "t", 8) + steady("E2", "diesel", "t", 5)
    found = run(data, [rule("X", "missing_month", params={"max_gap": 3})])
    assert ids(found) == [("X", "E2", p, "", "") for p in ("2024-06", "2024-07", "2024-08")]


def test_missing_month_is_silent_for_complete_series_and_stops_after_max_gap():
    assert run(steady("E1", "diesel", "t", 6), [rule("X", "missing_month")]).is_empty()
    # A stream that stopped for good while the enterprise goes on: reported for max_gap months only.
    data = steady("E1", "diesel", "t", 3) + steady("E1", "electricity_purchased", "MWh", 10)
    found = run(data, [rule("X", "missing_month", params={"max_gap": 2})])
    assert found["period"].to_list() == ["2024-04", "2024-05"]


def test_missing_evidence_for_obliged_enterprises_after_the_deadline():
    data = steady("E1", "diesel", "t", 3) + steady("E2", "diesel", "t", 3)
    ents = pl.DataFrame({"credit_code": ["E1", "E2"], "obliged": [True, False]})
    evidence = _evidence(("E1", "2024-01", "a" * 64, "invoice"))
    check = rule("KLN-COMP-002", "missing_evidence", "error", params={"deadline_days": 40})
    found = run(data, [check], evidence=evidence, enterprises=ents, as_of=datetime.date(2024, 5, 1))
    # 2024-02 is past its deadline (2024-04-09), 2024-03 (2024-05-10) not yet; E2 is not obliged.
    assert ids(found) == [("KLN-COMP-002", "E1", "2024-02", "", "")]
    assert found["severity"].to_list() == ["warning"] and found["detail"].to_list() == ["2024-02"]


def test_missing_evidence_is_one_finding_per_gap_graded_by_its_length():
    # E1 deposits Jan, Jun and Oct: gaps Feb–May (4 months) and Jul–Sep (3); Oct is due (deadline 12-10),
    # Nov and Dec are not.
    data = steady("E1", "diesel", "t", 12) + steady("E2", "diesel", "t", 12)
    evidence = _evidence(*[("E1", p, p * 9, "invoice") for p in ("2024-01", "2024-06", "2024-10")])
    ents = pl.DataFrame({"credit_code": ["E1", "E2"], "obliged": [True, True]})
    check = rule("KLN-COMP-002", "missing_evidence", "error", params={"error_over_months": 3})
    found = run(data, [check], evidence=evidence, enterprises=ents, as_of=datetime.date(2024, 12, 15))
    assert ids(found) == [
        ("KLN-COMP-002", "E1", "2024-02", "", ""),
        ("KLN-COMP-002", "E1", "2024-07", "", ""),
        ("KLN-COMP-002", "E2", "2024-01", "", ""),
    ]
    assert found["detail"].to_list() == ["2024-02..2024-05", "2024-07..2024-09", "2024-01..2024-10"]
    assert found["value"].to_list() == [4.0, 3.0, 10.0]
    assert found["severity"].to_list() == ["error", "warning", "error"]
    # A month without data ends a gap; a warning-only rule never raises an error.
    gappy = [r for r in data if not (r[0] == "E2" and r[1] == "2024-05")]
    soft = rule("KLN-COMP-002", "missing_evidence", "warning", params={"error_over_months": 3})
    found = run(gappy, [soft], evidence=evidence, enterprises=ents, as_of=datetime.date(2024, 12, 15))
    e2 = found.filter(pl.col("credit_code") == "E2")
    assert e2["detail"].to_list() == ["2024-01..2024-04", "2024-06..2024-10"]
    assert set(found["severity"]) == {"warning"}


def test_missing_evidence_counts_from_the_start_month_and_reports_gaps_reaching_the_screened_months():
    data = steady("E1", "diesel", "t", 12)
    ents = pl.DataFrame({"credit_code": ["E1"], "obliged": [True]})
    evidence = _evidence(("E1", "2024-09", "f" * 64, "invoice"))
    as_of = datetime.date(2024, 12, 15)
    check = rule("KLN-COMP-002", "missing_evidence", "error", params={"start": "2024-06"})
    found = run(data, [check], evidence=evidence, enterprises=ents, as_of=as_of)
    assert found["detail"].to_list() == ["2024-06..2024-08", "2024-10"]
    assert found["severity"].to_list() == ["warning", "warning"]
    # A date is taken as its month; a gap before the screened months is context, not a finding.
    dated = rule("KLN-COMP-002", "missing_evidence", params={"start": "2024-06-01"})
    inputs = {"enterprises": ents, "as_of": as_of}
    late = run(data, [dated], evidence=evidence, periods=("2024-10", "2024-12"), **inputs)
    assert ids(late) == [("KLN-COMP-002", "E1", "2024-10", "", "")]
    # A gap that began before the screened months is reported from its first month.
    reaching = run(data, [dated], evidence=_evidence(), periods=("2024-09", "2024-12"), **inputs)
    assert reaching["period"].to_list() == ["2024-06"]
    assert reaching["detail"].to_list() == ["2024-06..2024-10"]


def test_missing_parameter_where_the_sector_requires_it():
    requirements = {"power": {"raw_coal": ["ncv", "carbon_content"]}}
    check = rule("KLN-COMP-003", "missing_parameter", params={"requirements": requirements})
    data = (
        steady("P1", "raw_coal", "t", 2, facility="G1")
        + steady("P1", "raw_coal.ncv", "GJ/t", 2, 21, facility="G1")
        + steady("C1", "raw_coal", "t", 2)
    )
    ents = pl.DataFrame(
        {"credit_code": ["P1", "C1"], "sector": ["power", "cement"], "industry_code": ["D4411", "C3011"]}
    )
    found = run(data, [check], enterprises=ents)
    assert ids(found) == [
        ("KLN-COMP-003", "P1", "2024-01", "raw_coal.carbon_content", "G1"),
        ("KLN-COMP-003", "P1", "2024-02", "raw_coal.carbon_content", "G1"),
    ]
    # An enterprise-level parameter covers every facility.
    data += steady("P1", "raw_coal.carbon_content", "tC/GJ", 2, 0.027)
    assert run(data, [check], enterprises=ents).is_empty()


# --- units --------------------------------------------------------------------------------------------------


def test_unit_scale_finds_kwh_entered_as_mwh_and_the_reverse():
    values = [100.0] * 8
    values[5] = 100_000.0  # kWh typed as MWh
    values[2] = 0.1  # MWh typed as kWh... the other way round
    data = series("E1", "electricity_purchased", "MWh", values)
    up = rule("KLN-UNIT-001", "unit_scale", params={"factor": 1000.0, "tolerance": 3.0, "direction": "up"})
    down = rule(
        "KLN-UNIT-002", "unit_scale", params={"factor": 1000.0, "tolerance": 3.0, "direction": "down"}
    )
    found = run(data, [up, down])
    assert ids(found) == [
        ("KLN-UNIT-002", "E1", "2024-03", "electricity_purchased", ""),
        ("KLN-UNIT-001", "E1", "2024-06", "electricity_purchased", ""),
    ]
    assert found.filter(pl.col("rule_id") == "KLN-UNIT-001")["score"].item() == pytest.approx(1000.0)


def test_unit_scale_is_silent_for_a_fivefold_spike_and_flags_percent_as_fraction():
    values = [100.0] * 8
    values[4] = 500.0
    assert run(series("E1", "natural_gas", "1e4Nm3", values), [rule("X", "unit_scale")]).is_empty()
    cao = [0.65] * 6
    cao[3] = 65.0  # "65" with the unit "fraction"
    percent = rule("KLN-UNIT-003", "unit_scale", params={"factor": 100.0, "applies_to": "parameters"})
    found = run(series("C1", "clinker_output.cao", "fraction", cao), [percent])
    assert ids(found) == [("KLN-UNIT-003", "C1", "2024-04", "clinker_output.cao", "")]


# --- ranges -------------------------------------------------------------------------------------------------


def test_range_of_a_measured_parameter():
    ncv = [21.0, 21.5, 35.0, 20.8]
    data = series("E1", "raw_coal.ncv", "GJ/t", ncv) + series(
        "E1", "raw_coal.carbon_content", "tC/GJ", [0.027] * 4
    )
    check = rule("KLN-RANGE-001", "range", item="raw_coal", parameter="ncv", low=12, high=30)
    found = run(data, [check])
    assert ids(found) == [("KLN-RANGE-001", "E1", "2024-03", "raw_coal.ncv", "")]
    assert found.select("value", "low", "high").row(0) == (35.0, 12.0, 30.0)


def test_range_converts_units_first_and_applies_to_every_item_with_the_parameter():
    # 95 % oxidation written in percent is 0.95: inside [0.8, 1]; 0.5 is not.
    data = series("E1", "raw_coal.oxidation_rate", "%", [95.0, 50.0]) + series(
        "E1", "coke.oxidation_rate", "fraction", [0.93, 0.99]
    )
    found = run(data, [rule("X", "range", parameter="oxidation_rate", low=0.8, high=1.0)])
    assert ids(found) == [("X", "E1", "2024-02", "raw_coal.oxidation_rate", "")]


def test_intensity_range_uses_emissions_per_unit_of_the_main_product():
    data = steady("C1", "clinker_output", "t", 3, 1000.0)
    emissions = pl.DataFrame(
        {"credit_code": ["C1"] * 3, "period": months("2024-01", 3), "co2_t": [850.0, 860.0, 3000.0]}
    )
    check = rule("KLN-RANGE-031", "intensity_range", item="clinker_output", low=0.5, high=1.5)
    found = run(data, [check], emissions=emissions)
    assert ids(found) == [("KLN-RANGE-031", "C1", "2024-03", "clinker_output", "")]


# --- jumps --------------------------------------------------------------------------------------------------


def _plant(spike_at: int | None = None, factor: float = 4.0, n: int = 18, drop_all_at: int | None = None):
    gas = [100.0 * (1 + 0.02 * ((i * 7) % 3 - 1)) for i in range(n)]
    power = [500.0 * (1 + 0.02 * ((i * 5) % 3 - 1)) for i in range(n)]
    output = [40.0 * (1 + 0.02 * ((i * 11) % 3 - 1)) for i in range(n)]
    if spike_at is not None:
        gas[spike_at] *= factor
    if drop_all_at is not None:
        for series_ in (gas, power, output):
            series_[drop_all_at] *= 0.25  # the Spring Festival: the whole plant is quiet
    return (
        series("E1", "natural_gas", "1e4Nm3", gas)
        + series("E1", "electricity_purchased", "MWh", power)
        + series("E1", "product_output", "t", output)
    )


def test_jump_month_over_month_reports_the_spike_but_not_the_return():
    found = run(_plant(spike_at=14), [rule("KLN-JUMP-001", "jump_mom", params={"ratio": 2.5})])
    assert ids(found) == [("KLN-JUMP-001", "E1", "2025-03", "natural_gas", "")]
    assert found["score"].item() == pytest.approx(4.0, rel=0.1)


def test_jump_median_reports_a_spike_against_the_trailing_twelve_months():
    found = run(_plant(spike_at=14), [rule("KLN-JUMP-002", "jump_median", params={"ratio": 2.5})])
    assert ids(found) == [("KLN-JUMP-002", "E1", "2025-03", "natural_gas", "")]
    assert found["reference"].item() == pytest.approx(100.0, rel=0.05)


def test_jumps_are_silent_when_the_whole_enterprise_moves_together_or_a_note_explains():
    rules = [rule("J1", "jump_mom", params={"ratio": 2.5}), rule("J2", "jump_median", params={"ratio": 2.5})]
    assert run(_plant(drop_all_at=13), rules).is_empty()
    assert run(_plant(), rules).is_empty()
    # The same drop in one stream only is a jump, unless the row carries a note (an overhaul).
    gas = [100.0] * 16
    gas[13] = 20.0
    data = series("E1", "natural_gas", "1e4Nm3", gas) + steady("E1", "electricity_purchased", "MWh", 16, 500)
    assert not run(data, rules).is_empty()
    noted = [r[:7] + ("窑系统年度检修",) if r[1] == "2025-02" and r[2] == "natural_gas" else r for r in data]
    assert run(noted, rules).is_empty()


def test_jump_relative_to_enterprise_can_be_switched_off():
    rules = [rule("J1", "jump_mom", params={"ratio": 2.5, "relative_to_enterprise": False})]
    assert not run(_plant(drop_all_at=13), rules).is_empty()


def test_parameter_shift_against_the_stream_median():
    ncv = [21.0, 21.3, 20.8, 33.6, 21.1, 20.9]
    check = rule("KLN-JUMP-003", "parameter_shift", params={"tolerance": 0.25})
    found = run(series("E1", "raw_coal.ncv", "GJ/t", ncv), [check])
    assert ids(found) == [("KLN-JUMP-003", "E1", "2024-04", "raw_coal.ncv", "")]
    moisture = rule("X", "parameter_shift", params={"tolerance": 0.25, "tolerances": {"moisture": 0.6}})
    noisy = series("E1", "raw_coal.moisture", "fraction", [0.10, 0.14, 0.08, 0.11, 0.12])
    assert run(noisy, [moisture]).is_empty()


# --- cross-source -------------------------------------------------------------------------------------------


def _metered(values: list[float | None], cc: str = "E1", complete=True) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "credit_code": [cc] * len(values),
            "period": months("2024-01", len(values)),
            "kwh": [v * 1000 if v is not None else None for v in values],
            "complete": [complete] * len(values),
        }
    )


def test_reported_electricity_against_the_meter():
    data = series("E1", "electricity_purchased", "MWh", [100.0, 99.0, 60.0, 101.0])
    check = rule("KLN-XSRC-001", "metered_electricity", params={"tolerance": 0.10})
    found = run(data, [check], metered=_metered([100.0, 100.0, 100.0, 100.0]))
    assert ids(found) == [("KLN-XSRC-001", "E1", "2024-03", "electricity_purchased", "")]
    assert found.select("value", "reference").row(0) == (60.0, 100.0)
    assert found["score"].item() == pytest.approx(-0.4)


def test_meter_checks_ignore_incomplete_months_and_sum_daily_readings():
    data = series("E1", "electricity_purchased", "MWh", [60.0, 31.0])
    check = rule("X", "metered_electricity")
    assert run(data, [check], metered=_metered([100.0, 100.0], complete=False)).is_empty()
    days = [datetime.date(2024, 2, d) for d in range(1, 30)]
    daily = pl.DataFrame({"credit_code": ["E1"] * len(days), "date": days, "kwh": [1000.0] * len(days)})
    found = run(data, [check], metered=daily)  # February 2024: 29 days × 1 MWh = 29 MWh; reported 31
    assert found.is_empty()
    short = daily.head(10)  # a partial month is not compared
    assert run(data, [check], metered=short).is_empty()


def test_metered_but_not_reported():
    data = steady("E1", "natural_gas", "1e4Nm3", 3) + series(
        "E1", "electricity_purchased", "MWh", [100.0, 100.0]
    )
    found = run(data, [rule("KLN-XSRC-002", "metered_unreported", "error")], metered=_metered([100.0] * 3))
    assert ids(found) == [("KLN-XSRC-002", "E1", "2024-03", "electricity_purchased", "")]


def _annual(*rows_):
    """(credit_code, year, item, facility, quantity) rows: submitted annual totals, canonical units."""
    return pl.DataFrame(
        list(rows_),
        schema={
            "credit_code": pl.String,
            "year": pl.Int32,
            "item": pl.String,
            "facility": pl.String,
            "quantity": pl.Float64,
        },
        orient="row",
    )


def test_annual_sum_fires_when_the_months_no_longer_add_up_to_the_annual_report():
    data = series("E1", "diesel", "t", [10.0] * 12) + series("E1", "raw_coal", "t", [5.0] * 12, facility="K1")
    data += series("E1", "natural_gas", "1e4Nm3", [1.0] * 12)  # monthly, but not in the annual report
    data += series("E2", "diesel", "t", [10.0] * 12)  # E2 has no annual report: never compared
    annual = _annual(
        ("E1", 2024, "diesel", "", 100.0),  # the months say 120
        ("E1", 2024, "raw_coal", "K1", 60.0),  # agrees
        ("E1", 2024, "heat_purchased", "", 30.0),  # in the report, in no month
    )
    check = rule("KLN-XSRC-003", "annual_sum", params={"tolerance": 0.001})
    found = run(data, [check], annual=annual)
    assert ids(found) == [
        ("KLN-XSRC-003", "E1", "2024", "diesel", ""),
        ("KLN-XSRC-003", "E1", "2024", "heat_purchased", ""),
        ("KLN-XSRC-003", "E1", "2024", "natural_gas", ""),
    ]
    diesel = found.row(0, named=True)
    assert diesel["value"] == pytest.approx(120.0) and diesel["reference"] == pytest.approx(100.0)
    assert diesel["score"] == pytest.approx(0.2)
    assert found["value"].to_list()[1:] == pytest.approx([0.0, 12.0])


def test_annual_sum_is_silent_when_the_months_agree_or_the_year_is_partial():
    data = series("E1", "diesel", "t", [10.0] * 12) + series("E1", "raw_coal", "t", [5.0] * 12, facility="K1")
    annual = _annual(("E1", 2024, "diesel", "", 120.00001), ("E1", 2024, "raw_coal", "K1", 60.0))
    check = rule("KLN-XSRC-003", "annual_sum")
    assert run(data, [check], annual=annual).is_empty()
    # a year without a screened month, or only partly on the axis, is not compared
    wrong = _annual(("E1", 2024, "diesel", "", 1.0))
    later = data + series("E1", "diesel", "t", [10.0] * 2, first="2025-01")
    assert run(later, [check], annual=wrong, periods=("2025-01", "2025-02")).is_empty()
    assert not run(later, [check], annual=wrong, periods=("2024-12", "2025-02")).is_empty()
    assert run(data[:11], [check], annual=wrong).is_empty()
    # without the annual reports the rule says why it did not run
    result = screening.screen(frame(data), [check])
    assert result.findings.is_empty() and result.skipped == [("KLN-XSRC-003", "missing input: annual")]


# --- laboratory tuple ---------------------------------------------------------------------------------------


def _lab(ncv, carbon, hydrogen=None, sulphur=None, moisture=None):
    data = series("E1", "raw_coal.ncv", "GJ/t", ncv, facility="G1")
    data += series("E1", "raw_coal.carbon_content", "tC/GJ", carbon, facility="G1")
    for name, values in (("hydrogen", hydrogen), ("sulphur", sulphur), ("moisture", moisture)):
        if values is not None:
            data += series("E1", f"raw_coal.{name}", "fraction", values, facility="G1")
    return data


def test_element_carbon_implied_by_carbon_content_and_ncv():
    data = _lab([21.0, 34.0], [0.027, 0.027])  # 0.567 and 0.918 tC/t
    found = run(data, [rule("KLN-LAB-001", "lab_element_carbon", item="raw_coal", low=0.30, high=0.80)])
    assert ids(found) == [("KLN-LAB-001", "E1", "2024-02", "raw_coal.carbon_content", "G1")]
    assert found["value"].item() == pytest.approx(34.0 * 0.027)


def test_mass_balance_of_one_sample():
    data = _lab([21.0, 21.0], [0.027, 0.027], sulphur=[0.01, 0.01], moisture=[0.10, 0.45])
    found = run(data, [rule("KLN-LAB-004", "lab_mass_balance", "error", high=1.0)])
    assert ids(found) == [("KLN-LAB-004", "E1", "2024-02", "raw_coal.moisture", "G1")]
    assert found["value"].item() == pytest.approx(0.567 + 0.01 + 0.45)


def test_ncv_against_the_composition_only_where_c_h_and_moisture_are_reported():
    # C = 0.6048, H = 0.04, S = 0.01, M = 0.10 → Mendeleev ≈ 20.5 + 4.12 − 0.65 − 0.25 ≈ 23.7 GJ/t
    data = _lab(
        [24.0, 16.0], [0.0252, 0.0378], hydrogen=[0.04, 0.04], sulphur=[0.01, 0.01], moisture=[0.10, 0.10]
    )
    found = run(
        data, [rule("KLN-LAB-005", "lab_ncv_composition", params={"tolerance": 0.15, "oxygen": 0.07})]
    )
    assert ids(found) == [("KLN-LAB-005", "E1", "2024-02", "raw_coal.ncv", "G1")]
    assert run(_lab([24.0], [0.0252]), [rule("X", "lab_ncv_composition")]).is_empty()


# --- peers --------------------------------------------------------------------------------------------------


def _peers(outlier: float = 5.0):
    data, em = [], []
    for i in range(8):
        cc = f"C{i}"
        data += steady(cc, "clinker_output", "t", 2, 1000.0)
        intensity = 0.85 * (1 + 0.02 * (i % 3 - 1)) * (outlier if i == 7 else 1.0)
        em += [(cc, p, 1000.0 * intensity) for p in months("2024-01", 2)]
    ents = pl.DataFrame(
        {"credit_code": [f"C{i}" for i in range(8)], "industry_code": ["C3011"] * 8, "sector": ["cement"] * 8}
    )
    return data, pl.DataFrame(em, schema=["credit_code", "period", "co2_t"], orient="row"), ents


def test_peer_intensity_robust_z():
    data, em, ents = _peers()
    found = run(
        data,
        [rule("KLN-PEER-001", "peer_intensity", params={"z": 3.5, "min_peers": 5})],
        emissions=em,
        enterprises=ents,
    )
    assert ids(found) == [
        ("KLN-PEER-001", "C7", "2024-01", "clinker_output", ""),
        ("KLN-PEER-001", "C7", "2024-02", "clinker_output", ""),
    ]
    assert found["reference"].to_list()[0] == pytest.approx(0.85, rel=0.03)
    data, em, ents = _peers(outlier=1.0)
    assert run(data, [rule("X", "peer_intensity")], emissions=em, enterprises=ents).is_empty()


def test_peer_intensity_needs_enough_peers():
    data, em, ents = _peers()
    assert run(
        data, [rule("X", "peer_intensity", params={"min_peers": 9})], emissions=em, enterprises=ents
    ).is_empty()


def test_peer_value_added_for_complete_years():
    data, em_rows, va = [], [], []
    for i in range(7):
        cc = f"M{i}"
        data += steady(cc, "electricity_purchased", "MWh", 12, 100.0)
        em_rows += [(cc, p, 100.0) for p in months("2024-01", 12)]
        va.append((cc, 2024, 1200.0 / (6.0 if i == 6 else 1.0 + 0.03 * i)))
    ents = pl.DataFrame({"credit_code": [f"M{i}" for i in range(7)], "industry_code": ["C381"] * 7})
    emissions = pl.DataFrame(em_rows, schema=["credit_code", "period", "co2_t"], orient="row")
    economic = pl.DataFrame(va, schema=["credit_code", "year", "value_added_10k_cny"], orient="row")
    found = run(
        data,
        [rule("KLN-PEER-002", "peer_value_added")],
        emissions=emissions,
        enterprises=ents,
        economic=economic,
    )
    assert ids(found) == [("KLN-PEER-002", "M6", "2024", "", "")]


# --- the frame ----------------------------------------------------------------------------------------------


def test_findings_only_for_screened_months_with_history_as_context():
    values = [100.0] * 14
    values[12] = 400.0
    data = series("E1", "natural_gas", "1e4Nm3", values) + steady("E1", "electricity_purchased", "MWh", 14)
    check = rule("J", "jump_median")
    assert ids(run(data, [check], periods=("2025-01", "2025-01"))) == [
        ("J", "E1", "2025-01", "natural_gas", "")
    ]
    assert run(data, [check], periods=("2024-01", "2024-12")).is_empty()


def test_unknown_check_and_severity_are_refused():
    with pytest.raises(ValueError, match="unknown check"):
        run(steady("E1", "diesel", "t", 2), [rule("X", "nonsense")])
    with pytest.raises(ValueError, match="severity"):
        run(steady("E1", "diesel", "t", 2), [rule("X", "range", severity="fatal")])


def test_unreadable_rows_are_left_to_the_validator():
    data = steady("E1", "diesel", "t", 3) + rows(
        ("E1", "2024-02", "no_such_item", 5, "t"),
        ("E1", "2024-13", "diesel", 5, "t"),
        ("E1", "2024-02", "diesel", 5, "furlongs"),
    )
    found = run(data, [rule("D", "duplicate_row")])
    assert found.is_empty()
