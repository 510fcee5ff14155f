"""The shipped factor data and the factor-set frame."""

from __future__ import annotations

import csv
from fractions import Fraction

import polars as pl
import pytest

from kiln.engine import factorset
from kiln.engine import items as catalogue

DATA = factorset.DATA_DIR
FILES = sorted(p for p in DATA.glob("*.csv") if p.name != "factor_sets.csv")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_row_has_a_source_and_a_confidence(path):
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows
    for row in rows:
        assert row["source"].strip(), row
        assert row["confidence"] in factorset.CONFIDENCE, row


@pytest.mark.parametrize("name", list(factorset.available()))
def test_shipped_sets_are_well_formed(name):
    frame = factorset.load(name)
    assert frame.schema == pl.Schema(factorset.FACTOR_SET_SCHEMA)
    assert factorset.check(frame).is_empty()
    assert frame.get_column("factor_set").unique().to_list() == [name]


def test_set_a_is_the_reference_and_set_b_fills_gaps_in_the_default_set():
    frame = factorset.load()
    ncv = dict(frame.filter(pl.col("parameter") == "ncv").select("item", "value").iter_rows())
    confidence = dict(frame.filter(pl.col("parameter") == "ncv").select("item", "confidence").iter_rows())
    assert ncv["raw_coal"] == 20.908 and confidence["raw_coal"] == "S"
    assert ncv["gasoline"] == 43.070  # set A wins over set B's 44.80
    assert ncv["anthracite"] == 24.515 and confidence["anthracite"] == "U"  # only in set B
    strict = factorset.load("CN-SET-A-2024")
    assert "anthracite" not in strict.get_column("item").to_list()
    assert set(strict.filter(pl.col("parameter") == "ncv").get_column("item")) == {
        "raw_coal",
        "coke",
        "crude_oil",
        "fuel_oil",
        "gasoline",
        "kerosene",
        "diesel",
        "lpg",
        "refinery_gas",
        "natural_gas",
    }


def test_every_fuel_item_of_the_sets_is_in_the_catalogue():
    for name in factorset.available():
        for item in factorset.load(name).get_column("item").unique():
            assert item == "*" or item in catalogue.ITEMS


def test_ets_grid_series():
    frame = factorset.load()
    resolved = factorset.resolve(
        frame, ["electricity_purchased"], [2019, 2021, 2022, 2023, 2030], "MEE_ETS_GRID/CN"
    )
    assert resolved.get_column("ef").to_list() == [0.6101, 0.5810, 0.5810, 0.5703, 0.5703]


def test_mee_nbs_series_by_year_and_area():
    frame = factorset.load()
    zhejiang = factorset.resolve(
        frame, ["electricity_purchased"], [2020, 2021, 2022, 2023], "MEE_NBS_AVG/330000"
    )
    assert zhejiang.get_column("ef").to_list() == [None, 0.5422, 0.5153, None]
    national = factorset.resolve(frame, ["electricity_purchased"], [2021, 2022, 2023], "MEE_NBS_AVG/CN")
    assert national.get_column("ef").to_list() == [0.5568, 0.5366, 0.5306]
    grid = frame.filter(pl.col("series") == "MEE_NBS_AVG/EAST")
    assert dict(grid.select("year_from", "confidence").iter_rows()) == {2021: "U", 2022: "P", 2023: "P"}
    assert len([s for s in factorset.grid_series(frame) if s.startswith("MEE_NBS_AVG/")]) == 1 + 7 + 30


def test_stoichiometric_constants_match_their_expressions():
    for row in csv.DictReader((DATA / "process_constants.csv").open(encoding="utf-8")):
        if row["expression"]:
            numerator, denominator = (Fraction(part) for part in row["expression"].split("/"))
            assert float(row["value"]) == pytest.approx(float(numerator / denominator), rel=1e-15)


def test_constants_apply_to_every_item_unless_overridden():
    frame = factorset.load()
    resolved = factorset.resolve(frame, ["raw_coal", "clinker_output"], [2023], "MEE_ETS_GRID/CN")
    assert resolved.get_column("carbon_to_co2").to_list() == pytest.approx([44 / 12] * 2)
    assert resolved.get_column("cao_to_co2").to_list() == [None, pytest.approx(44 / 56)]
    assert resolved.get_column("gj_per_tce").to_list() == [29.3076, 29.3076]


def test_expected_units():
    assert factorset.expected_unit("natural_gas", "ncv") == "GJ/1e4Nm3"
    assert factorset.expected_unit("raw_coal", "ncv") == "GJ/t"
    assert factorset.expected_unit("heat_purchased", "ef") == "tCO2/GJ"
    assert factorset.expected_unit("raw_coal", "ef") is None
    assert factorset.expected_unit("raw_coal", "nonsense") is None


def test_grid_series_name_defaults_to_the_national_area():
    assert factorset.grid_series_name("MEE_ETS_GRID") == "MEE_ETS_GRID/CN"
    assert factorset.grid_series_name("MEE_NBS_AVG/330000") == "MEE_NBS_AVG/330000"
