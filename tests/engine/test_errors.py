"""Every error code: ``validate`` lists it, ``compute`` raises it; never a silent zero."""

from __future__ import annotations

import math

import polars as pl
import pytest

from kiln.engine import factorset
from kiln.engine.aggregate import aggregate
from kiln.engine.emissions import compute
from kiln.engine.errors import ERROR_SCHEMA, MESSAGES_EN, MESSAGES_ZH, EngineError, ErrorCode
from kiln.engine.validation import validate
from tests.engine.helpers import E1, E2, activity, default_set, mapping

FS = default_set()
GOOD = (E1, "2023-01", "diesel", 1.0, "t")


def errors_of(frame, **kwargs) -> pl.DataFrame:
    listed = validate(frame, FS, **kwargs)
    with pytest.raises(EngineError) as caught:
        compute(frame, FS, **kwargs)
    assert caught.value.errors.equals(listed)
    assert listed.schema == pl.Schema(ERROR_SCHEMA)
    return listed


def only(frame, **kwargs) -> dict:
    errors = errors_of(frame, **kwargs)
    assert errors.height == 1, errors
    return errors.row(0, named=True)


def test_every_code_has_messages():
    assert set(MESSAGES_EN) == set(ErrorCode) == set(MESSAGES_ZH)


def test_valid_input_has_no_errors():
    assert validate(activity(GOOD), FS).is_empty()


def test_missing_column():
    frame = activity(GOOD).drop("unit")
    error = only(frame)
    assert (error["code"], error["row"]) == ("missing_column", None)
    assert "unit" in error["message"]


@pytest.mark.parametrize("code", ["", "123", E1[:-1] + ("0" if E1[-1] != "0" else "1"), E1.lower(), None])
def test_bad_credit_code(code):
    error = only(activity((code, "2023-01", "diesel", 1.0, "t"), GOOD))
    assert (error["code"], error["row"]) == ("bad_credit_code", 0)


def test_credit_code_check_can_be_switched_off():
    assert compute(activity(("123", "2023-01", "diesel", 1.0, "t")), FS, check_credit_codes=False).height == 1


@pytest.mark.parametrize("period", ["2023-13", "2023-1", "202301", "2023/01", "", None])
def test_bad_period(period):
    assert only(activity(GOOD, (E1, period, "diesel", 1.0, "t")))["code"] == "bad_period"


def test_future_period():
    error = only(activity(GOOD, (E1, "2024-02", "diesel", 1.0, "t")), not_after="2024-01")
    assert (error["code"], error["row"], error["period"]) == ("future_period", 1, "2024-02")


def test_unknown_item_and_parameter():
    errors = errors_of(
        activity(
            (E1, "2023-01", "unobtainium", 1.0, "t"),
            (E1, "2023-01", "raw_coal.cao", 1.0, "%"),
            (E1, "2023-01", "raw_coal.", 1.0, "t"),
            GOOD,
        )
    )
    assert errors.select("row", "code").rows() == [
        (0, "unknown_item"),
        (1, "unknown_parameter"),
        (2, "unknown_item"),
    ]
    assert "ncv" in errors.get_column("message")[1]


@pytest.mark.parametrize("quantity", [math.nan, math.inf, -math.inf, None])
def test_non_numeric_quantity(quantity):
    error = only(activity((E1, "2023-01", "diesel", quantity, "t")))
    assert error["code"] == "non_numeric_quantity"


def test_non_numeric_text_quantity():
    frame = activity(GOOD, GOOD).with_columns(pl.Series("quantity", ["abc", "1,234.5"]))
    error = only(frame)
    assert (error["row"], error["code"]) == (0, "non_numeric_quantity")
    assert "'abc'" in error["message"]


def test_negative_quantity():
    error = only(activity((E1, "2023-01", "diesel", -1.0, "t")))
    assert error["code"] == "negative_quantity"


def test_unknown_and_incompatible_units():
    errors = errors_of(
        activity(
            (E1, "2023-01", "diesel", 1.0, "furlongs"),
            (E1, "2023-01", "diesel", 1.0, "MWh"),
            (E1, "2023-01", "electricity_purchased", 1.0, "t"),
            (E1, "2023-01", "diesel", 1.0, None),
        )
    )
    assert errors.select("row", "code").rows() == [
        (0, "unknown_unit"),
        (1, "incompatible_unit"),
        (2, "incompatible_unit"),
        (3, "unknown_unit"),
    ]
    assert "MWh" in errors.get_column("message")[2]


def test_parameter_out_of_range():
    error = only(
        activity((E1, "2023-01", "raw_coal", 1.0, "t"), (E1, "2023-01", "raw_coal.oxidation_rate", 94.0, ""))
    )
    assert (error["row"], error["code"]) == (1, "parameter_out_of_range")


def test_duplicate_parameter():
    errors = errors_of(
        activity(
            (E1, "2023-01", "raw_coal", 1.0, "t"),
            (E1, "2023-01", "raw_coal.ncv", 21.0, "GJ/t"),
            (E1, "2023-01", "raw_coal.ncv", 22.0, "GJ/t"),
            (E1, "2023-01", "raw_coal.ncv", 23.0, "GJ/t", "K1"),  # another facility: fine
        )
    )
    assert errors.select("row", "code").rows() == [(1, "duplicate_parameter"), (2, "duplicate_parameter")]


def test_missing_factor_for_a_period_outside_the_series():
    error = only(activity((E1, "2019-01", "electricity_purchased", 1.0, "MWh")), grid_series="MEE_NBS_AVG/CN")
    assert error["code"] == "missing_factor"
    assert "MEE_NBS_AVG/CN" in error["message"] and "2019" in error["message"]


def test_missing_factor_for_steel_without_carbon_content():
    error = only(activity((E1, "2023-01", "steel_carbon_input", 1.0, "t")))
    assert error["code"] == "missing_factor"
    assert "mass_carbon_content" in error["message"]


def test_missing_factor_for_a_fuel_outside_set_a():
    frame = activity((E1, "2023-01", "anthracite", 1.0, "t"))
    assert compute(frame, FS).height == 1  # the default set fills from set B
    with pytest.raises(EngineError) as caught:
        compute(frame, factorset.load("CN-SET-A-2024"))
    assert caught.value.codes == {"missing_factor"}


def test_unknown_grid_series():
    error = only(activity(GOOD), grid_series="NO_SUCH_SERIES")
    assert (error["code"], error["row"]) == ("unknown_grid_series", None)


def test_bad_factor_set():
    broken = FS.with_columns(
        pl.when(pl.col("parameter") == "oxidation_rate")
        .then(pl.lit("%"))
        .otherwise(pl.col("unit"))
        .alias("unit")
    )
    listed = validate(activity(GOOD), broken)
    assert set(listed.get_column("code")) == {"bad_factor_set"}
    with pytest.raises(EngineError):
        compute(activity(GOOD), broken)


def test_overlapping_years_in_a_factor_set():
    extra = (
        FS.filter(pl.col("series") == "MEE_ETS_GRID/CN").head(1).with_columns(pl.lit(2023).alias("year_to"))
    )
    problems = factorset.check(pl.concat([FS, extra]))
    assert "overlap" in problems.get_column("message").item()


def test_unmapped_enterprise():
    results = compute(activity(GOOD, (E2, "2023-01", "diesel", 1.0, "t")), FS)
    with pytest.raises(EngineError) as caught:
        aggregate(results, mapping((E1, "330502", "330500", "C30")))
    assert caught.value.codes == {"unmapped_enterprise"}
    assert caught.value.errors.get_column("credit_code").to_list() == [E2]


def test_all_problems_are_listed_at_once():
    frame = activity(
        (E1, "2023-13", "diesel", 1.0, "t"),
        (E1, "2023-01", "diesel", -1.0, "t"),
        (E1, "2023-01", "nothing", 1.0, "t"),
        GOOD,
        (E1, "2023-01", "steel_carbon_input", 1.0, "t"),
    )
    errors = errors_of(frame)
    assert errors.select("row", "code").rows() == [
        (0, "bad_period"),
        (1, "negative_quantity"),
        (2, "unknown_item"),
        (4, "missing_factor"),
    ]
    assert str(EngineError(errors)).startswith("4 input error(s)")
