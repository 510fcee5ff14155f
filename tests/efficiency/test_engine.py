"""The pure grading engine: hand-worked cases on every boundary, industry means, reasons, rolling windows."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.engine import efficiency as eff
from kiln.engine.efficiency import Method, assess


def frame(rows: list[dict]) -> pl.DataFrame:
    base = {"period": "2024", "industry_code": "C3011", "has_energy": True}
    return pl.DataFrame([{**base, **r} for r in rows], infer_schema_length=None)


def by_code(result: pl.DataFrame) -> dict[str, dict]:
    return {r["credit_code"]: r for r in result.iter_rows(named=True)}


# --- level (L) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("l_value", "level"),
    [
        (0.0, "low"),
        (0.6, "low"),
        (0.6000001, "medium"),
        (1.0, "medium"),
        (2.0, "medium"),
        (2.0000001, "high"),
        (15.0, "high"),
    ],
)
def test_level_boundaries(l_value, level):
    out = pl.select(eff.classify_level(pl.lit(l_value), Method())).item()
    assert out == level


@pytest.mark.parametrize(
    ("co2", "value_added", "level"),
    [
        (6.0, 10.0, "low"),  # L exactly 0.6
        (6.000001, 10.0, "medium"),  # L = 0.6000001
        (20.0, 10.0, "medium"),  # L exactly 2.0
        (20.000001, 10.0, "high"),  # L = 2.0000001
        (0.1 + 0.2, 0.5, "low"),  # 0.30000000000000004 / 0.5: float noise must not cross 0.6
    ],
)
def test_level_from_hand_worked_inputs(co2, value_added, level):
    result = assess(
        frame([{"credit_code": "A", "co2_combustion_t": co2, "value_added_10k_cny": value_added}])
    )
    assert result.row(0, named=True)["level"] == level


# --- grade (K) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k_value", "grade"),
    [
        (0.0, 1),
        (0.6, 1),
        (0.6000001, 2),
        (0.8, 2),
        (0.8000001, 3),
        (1.0, 3),
        (1.2, 3),
        (1.2000001, 4),
        (2.0, 4),
        (2.0000001, 5),
        (9.0, 5),
    ],
)
def test_grade_boundaries(k_value, grade):
    assert pl.select(eff.classify_grade(pl.lit(k_value), Method())).item() == grade


def test_k_exactly_on_boundaries_from_an_industry_with_mean_one():
    # Weighted mean = (80 + 120) / (100 + 100) = 1.0; simple mean = (0.8 + 1.2) / 2 = 1.0.
    rows = [
        {"credit_code": "A", "co2_combustion_t": 80.0, "value_added_10k_cny": 100.0},
        {"credit_code": "B", "co2_combustion_t": 120.0, "value_added_10k_cny": 100.0},
    ]
    for kind in ("weighted", "simple"):
        out = by_code(assess(frame(rows), Method(mean_kind=kind)))
        assert out["A"]["industry_mean_l"] == pytest.approx(1.0)
        assert out["A"]["k"] == pytest.approx(0.8) and out["A"]["grade"] == 2
        assert out["B"]["k"] == pytest.approx(1.2) and out["B"]["grade"] == 3
        assert out["A"]["industry_n"] == 2


def test_every_grade_from_one_industry():
    # Simple mean of L (0.5, 0.7, 1.0, 1.5, 2.5, 2.0, 0.8) = 9.0 / 7; K = L × 7 / 9.
    ls = {"G1": 0.5, "G2": 0.7, "G3": 1.0, "G4": 1.5, "G5": 2.5, "X": 2.0, "Y": 0.8}
    rows = [
        {"credit_code": c, "co2_combustion_t": v * 10, "value_added_10k_cny": 10.0} for c, v in ls.items()
    ]
    out = by_code(assess(frame(rows), Method(mean_kind="simple")))
    mean = 9.0 / 7
    for code, l_value in ls.items():
        assert out[code]["k"] == pytest.approx(l_value / mean)
    # 0.389 → 1, 0.544 → 1, 0.778 → 2, 1.167 → 3, 1.944 → 4, 1.556 → 4, 0.622 → 2
    assert [out[c]["grade"] for c in ls] == [1, 1, 2, 3, 4, 4, 2]


# --- industry means -------------------------------------------------------------------------------------


def test_weighted_and_simple_means_differ_as_worked_by_hand():
    rows = [
        {"credit_code": "A", "co2_combustion_t": 10.0, "value_added_10k_cny": 100.0},  # L 0.1
        {"credit_code": "B", "co2_combustion_t": 30.0, "value_added_10k_cny": 10.0},  # L 3.0
    ]
    weighted = by_code(assess(frame(rows), Method(mean_kind="weighted")))
    assert weighted["A"]["industry_mean_l"] == pytest.approx(40 / 110)
    assert weighted["A"]["k"] == pytest.approx(0.1 / (40 / 110)) and weighted["A"]["grade"] == 1
    assert weighted["B"]["k"] == pytest.approx(3.0 / (40 / 110)) and weighted["B"]["grade"] == 5
    simple = by_code(assess(frame(rows), Method(mean_kind="simple")))
    assert simple["A"]["industry_mean_l"] == pytest.approx(1.55)
    assert simple["B"]["k"] == pytest.approx(3.0 / 1.55) and simple["B"]["grade"] == 4


def test_industry_grouping_level_is_configurable():
    rows = [
        {"credit_code": "A", "industry_code": "C3011", "co2_combustion_t": 5.0, "value_added_10k_cny": 10.0},
        {"credit_code": "B", "industry_code": "C3012", "co2_combustion_t": 15.0, "value_added_10k_cny": 10.0},
    ]
    division = by_code(assess(frame(rows), Method(industry_level="division")))
    assert division["A"]["industry_key"] == "C30" and division["A"]["industry_n"] == 2
    assert division["A"]["k"] == pytest.approx(0.5)
    by_class = by_code(assess(frame(rows), Method(industry_level="class")))
    assert by_class["A"]["industry_key"] == "C3011" and by_class["A"]["industry_n"] == 1
    assert by_class["A"]["k"] == pytest.approx(1.0) and by_class["B"]["k"] == pytest.approx(1.0)


def test_periods_and_industries_never_mix():
    rows = [
        {"credit_code": "A", "co2_combustion_t": 5.0, "value_added_10k_cny": 10.0},
        {"credit_code": "A", "period": "2023", "co2_combustion_t": 50.0, "value_added_10k_cny": 10.0},
        {"credit_code": "B", "industry_code": "C2511", "co2_combustion_t": 50.0, "value_added_10k_cny": 10.0},
    ]
    out = assess(frame(rows))
    assert out.get_column("k").to_list() == [pytest.approx(1.0)] * 3


def test_enterprises_without_l_do_not_count_in_the_mean():
    rows = [
        {"credit_code": "A", "co2_combustion_t": 8.0, "value_added_10k_cny": 10.0},
        {"credit_code": "B", "co2_combustion_t": 1000.0},  # no value added
        {"credit_code": "C", "co2_combustion_t": 1000.0, "value_added_10k_cny": 0.0},
    ]
    out = by_code(assess(frame(rows)))
    assert out["A"]["industry_mean_l"] == pytest.approx(0.8) and out["A"]["industry_n"] == 1
    assert out["A"]["grade"] == 3


# --- missing data ----------------------------------------------------------------------------------------


def test_missing_data_gives_a_reason_and_never_a_grade():
    rows = [
        {"credit_code": "NOVA", "co2_combustion_t": 10.0, "value_added_10k_cny": None},
        {"credit_code": "ZERO", "co2_combustion_t": 10.0, "value_added_10k_cny": 0.0},
        {"credit_code": "NEG", "co2_combustion_t": 10.0, "value_added_10k_cny": -5.0},
        {
            "credit_code": "NOENERGY",
            "has_energy": False,
            "co2_combustion_t": None,
            "value_added_10k_cny": 10.0,
        },
        {"credit_code": "ZEROS", "co2_combustion_t": 0.0, "tce_total": 0.0, "value_added_10k_cny": 10.0},
        {"credit_code": "OK", "co2_combustion_t": 10.0, "value_added_10k_cny": 10.0},
    ]
    out = by_code(assess(frame(rows)))
    assert out["NOVA"]["reason"] == eff.NO_VALUE_ADDED
    assert out["ZERO"]["reason"] == eff.VALUE_ADDED_NOT_POSITIVE
    assert out["NEG"]["reason"] == eff.VALUE_ADDED_NOT_POSITIVE
    assert out["NOENERGY"]["reason"] == eff.NO_ENERGY_DATA
    assert out["ZEROS"]["reason"] == eff.NO_ENERGY_DATA  # zeros are not data
    for code in ("NOVA", "ZERO", "NEG", "NOENERGY", "ZEROS"):
        assert out[code]["l"] is None and out[code]["k"] is None and out[code]["grade"] is None
        assert out[code]["level"] is None
    assert out["OK"]["reason"] is None and out["OK"]["grade"] == 3


def test_metered_electricity_estimates_missing_energy_data():
    rows = [
        {
            "credit_code": "EST",
            "has_energy": False,
            "metered_mwh": 100.0,
            "grid_factor": 0.5703,
            "value_added_10k_cny": 57.03,
        },
        {
            "credit_code": "NOMETER",
            "has_energy": False,
            "metered_mwh": None,
            "grid_factor": 0.5703,
            "value_added_10k_cny": 57.03,
        },
    ]
    out = by_code(assess(frame(rows)))
    assert out["EST"]["estimated"] is True
    assert out["EST"]["co2_gross_t"] == pytest.approx(57.03)
    assert out["EST"]["l"] == pytest.approx(1.0) and out["EST"]["level"] == "medium"
    assert out["NOMETER"]["estimated"] is False and out["NOMETER"]["reason"] == eff.NO_ENERGY_DATA


def test_industry_mean_zero_and_too_small_groups():
    green = [
        {
            "credit_code": "A",
            "co2_combustion_t": 10.0,
            "co2_avoided_t": 20.0,
            "green_mwh": 35.0,
            "value_added_10k_cny": 10.0,
        },
    ]
    out = assess(frame(green)).row(0, named=True)
    assert out["l"] == 0.0 and out["level"] == "low"
    assert out["k"] is None and out["reason"] == eff.INDUSTRY_MEAN_ZERO
    alone = [{"credit_code": "A", "co2_combustion_t": 10.0, "value_added_10k_cny": 10.0}]
    out = assess(frame(alone), Method(min_industry_enterprises=2)).row(0, named=True)
    assert out["level"] == "medium" and out["grade"] is None and out["reason"] == eff.INDUSTRY_TOO_SMALL


# --- emissions basis ------------------------------------------------------------------------------------


def test_energy_use_co2_net_of_green_power_and_exports():
    row = {
        "credit_code": "A",
        "co2_combustion_t": 50.0,
        "co2_electricity_purchased_t": 40.0,
        "co2_electricity_exported_t": -5.0,
        "co2_heat_purchased_t": 20.0,
        "co2_heat_exported_t": -5.0,
        "co2_process_t": 1000.0,
        "green_mwh": 52.6,
        "co2_avoided_t": 30.0,
        "value_added_10k_cny": 100.0,
    }
    out = assess(frame([row])).row(0, named=True)
    assert out["co2_gross_t"] == pytest.approx(100.0)  # process not counted by default
    assert out["co2_net_t"] == pytest.approx(70.0)
    assert out["l"] == pytest.approx(0.7)
    assert out["neutral_rate"] == pytest.approx(0.3) and out["neutral_mark"] == "high"
    with_process = assess(frame([row]), Method(include_process=True)).row(0, named=True)
    assert with_process["co2_gross_t"] == pytest.approx(1100.0) and with_process["l"] == pytest.approx(10.7)


@pytest.mark.parametrize(
    ("avoided", "mark"),
    [(0.0, "low"), (4.9, "low"), (5.0, "medium"), (19.9, "medium"), (20.0, "high"), (500.0, "high")],
)
def test_provisional_neutral_marks(avoided, mark):
    row = {
        "credit_code": "A",
        "co2_combustion_t": 100.0,
        "co2_avoided_t": avoided,
        "value_added_10k_cny": 1.0,
    }
    out = assess(frame([row])).row(0, named=True)
    assert out["neutral_mark"] == mark
    assert out["neutral_rate"] == pytest.approx(min(avoided / 100.0, 1.0))
    assert out["co2_net_t"] == pytest.approx(max(100.0 - avoided, 0.0))


def test_method_validation():
    with pytest.raises(ValueError):
        Method(level_low_max=2.0, level_medium_max=0.6)
    with pytest.raises(ValueError):
        Method(grade_max=(0.6, 0.5, 1.2, 2.0))
    with pytest.raises(ValueError):
        Method(industry_level="sector")
    with pytest.raises(ValueError):
        Method(mean_kind="median")
    with pytest.raises(ValueError):
        Method(neutral_mins=(0.3, 0.2))


# --- building inputs -------------------------------------------------------------------------------------


def test_green_power_by_month_with_the_year_factor():
    rows = pl.DataFrame(
        {
            "credit_code": ["A", "A", "A", "B"],
            "period": ["2024-01", "2024-01", "2024-02", "2024-01"],
            "year": [2024] * 4,
            "item": [
                "electricity_green_self",
                "electricity_green_self",
                "electricity_purchased",
                "electricity_green_self",
            ],
            "quantity_canonical": [10.0, 5.0, 100.0, 2.0],
        }
    )
    factors = pl.DataFrame({"year": [2024], "grid_factor": [0.5]})
    out = eff.green_power(rows, factors)
    assert out.rows() == [("A", "2024-01", 15.0, 7.5), ("B", "2024-01", 2.0, 1.0)]


def test_yearly_inputs_join_energy_value_added_and_enterprises():
    aggregates = pl.DataFrame({"credit_code": ["A"], "co2_combustion_t": [10.0], "tce_total": [4.0]})
    green = pl.DataFrame(
        {
            "credit_code": ["A", "A"],
            "period": ["2024-01", "2023-12"],
            "green_mwh": [2.0, 9.0],
            "co2_avoided_t": [1.0, 4.5],
        }
    )
    economic = pl.DataFrame(
        {"credit_code": ["A", "B", "C"], "year": [2024, 2024, 2024], "value_added_10k_cny": [20.0, 5.0, 1.0]}
    )
    enterprises = pl.DataFrame({"credit_code": ["A", "B"], "industry_code": ["C3011", "C3012"]})
    out = by_code(eff.yearly_inputs(aggregates, green, economic, enterprises, year=2024, grid_factor=0.5))
    assert set(out) == {"A", "B"}  # C is not an enterprise of the region
    assert out["A"]["has_energy"] and out["A"]["green_mwh"] == 2.0 and out["A"]["co2_avoided_t"] == 1.0
    assert out["B"]["has_energy"] is False and out["B"]["value_added_10k_cny"] == 5.0
    assert out["A"]["period"] == "2024" and out["A"]["grid_factor"] == 0.5


def months(start_year, start_month, n):
    out = []
    y, m = start_year, start_month
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def test_rolling_twelve_months_prorates_value_added():
    periods = months(2023, 1, 14)  # 2023-01 … 2024-02
    monthly = pl.DataFrame({"credit_code": ["A"] * 14, "period": periods, "co2_combustion_t": [1.0] * 14})
    economic = pl.DataFrame(
        {"credit_code": ["A", "A"], "year": [2023, 2024], "value_added_10k_cny": [120.0, 240.0]}
    )
    enterprises = pl.DataFrame({"credit_code": ["A"], "industry_code": ["C3011"]})
    green = pl.DataFrame(
        schema={
            "credit_code": pl.String,
            "period": pl.String,
            "green_mwh": pl.Float64,
            "co2_avoided_t": pl.Float64,
        }
    )
    inputs = eff.rolling_inputs(monthly, green, economic, enterprises, ends=["2024-01", "2024-02", "2024-03"])
    out = {r["period"]: r for r in inputs.iter_rows(named=True)}
    assert set(out) == {"2024-01", "2024-02"}  # the window ending 2024-03 lacks March
    assert out["2024-01"]["co2_combustion_t"] == 12.0
    assert out["2024-01"]["value_added_10k_cny"] == pytest.approx(11 * 10 + 20)
    assert out["2024-02"]["value_added_10k_cny"] == pytest.approx(10 * 10 + 2 * 20)
    graded = by_code(assess(inputs.filter(pl.col("period") == "2024-01")))
    assert graded["A"]["l"] == pytest.approx(12 / 130)


def test_rolling_window_without_a_year_of_value_added_has_no_l():
    periods = months(2023, 2, 12)
    monthly = pl.DataFrame({"credit_code": ["A"] * 12, "period": periods, "co2_combustion_t": [1.0] * 12})
    economic = pl.DataFrame({"credit_code": ["A"], "year": [2023], "value_added_10k_cny": [120.0]})
    enterprises = pl.DataFrame({"credit_code": ["A"], "industry_code": ["C3011"]})
    green = pl.DataFrame(
        schema={
            "credit_code": pl.String,
            "period": pl.String,
            "green_mwh": pl.Float64,
            "co2_avoided_t": pl.Float64,
        }
    )
    inputs = eff.rolling_inputs(monthly, green, economic, enterprises, ends=["2024-01"])
    assert assess(inputs).row(0, named=True)["reason"] == eff.NO_VALUE_ADDED


# --- the vectorised engine agrees with the Decimal reference ----------------------------------------------

amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=3)
value_added = st.one_of(
    st.none(), st.decimals(min_value=Decimal("-100"), max_value=Decimal("50000"), places=2)
)
enterprise_rows = st.lists(
    st.tuples(
        st.sampled_from(["C3011", "C3012", "C2511"]),
        st.sampled_from(["2023", "2024"]),
        amounts,
        amounts,
        value_added,
    ),
    min_size=1,
    max_size=25,
)


def _near_threshold(value: Decimal | None, bounds) -> bool:
    return value is not None and any(abs(value - Decimal(str(b))) < Decimal("1e-7") for b in bounds)


@settings(max_examples=150, deadline=None)
@given(enterprise_rows, st.sampled_from(["weighted", "simple"]), st.sampled_from(["division", "class"]))
def test_vectorised_matches_the_decimal_reference(rows, mean_kind, industry_level):
    method = Method(mean_kind=mean_kind, industry_level=industry_level)
    records = [
        {
            "credit_code": f"E{i:03d}",
            "period": period,
            "industry_code": industry,
            "co2": co2,
            "avoided": avoided,
            "value_added": va,
        }
        for i, (industry, period, co2, avoided, va) in enumerate(rows)
    ]
    expected = {r["credit_code"]: r for r in eff.reference_assess(records, method)}
    inputs = pl.DataFrame(
        {
            "credit_code": [r["credit_code"] for r in records],
            "period": [r["period"] for r in records],
            "industry_code": [r["industry_code"] for r in records],
            "has_energy": [True] * len(records),
            "co2_combustion_t": [float(r["co2"]) for r in records],
            "tce_total": [1.0] * len(records),  # reported energy use, even when the CO2 is zero
            "co2_avoided_t": [float(r["avoided"]) for r in records],
            "value_added_10k_cny": [
                None if r["value_added"] is None else float(r["value_added"]) for r in records
            ],
        },
        schema_overrides={"value_added_10k_cny": pl.Float64},
    )
    got = by_code(assess(inputs, method))
    for code, ref in expected.items():
        row = got[code]
        if ref["l"] is None:
            assert row["l"] is None and row["grade"] is None
            continue
        assert row["l"] == pytest.approx(float(ref["l"]), rel=1e-9, abs=1e-12)
        if not _near_threshold(ref["l"], (method.level_low_max, method.level_medium_max)):
            assert row["level"] == ref["level"]
        if ref["k"] is None:
            assert row["grade"] is None
        else:
            assert row["k"] == pytest.approx(float(ref["k"]), rel=1e-9, abs=1e-12)
            if not _near_threshold(ref["k"], method.grade_max):
                assert row["grade"] == ref["grade"]
