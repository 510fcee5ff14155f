"""The generator: determinism, formats, validity and realism of the demo city's data."""

import datetime
import hashlib

import numpy as np
import polars as pl
import pytest

from kiln.demo import files, names, seasons
from kiln.demo.generate import ACTIVITY_COLUMNS, DemoConfig, allocate, generate
from kiln.demo.sectors import SECTORS
from kiln.engine import items
from kiln.registry import credit_code

from .conftest import YEARS

SMALL = DemoConfig(enterprises=30, years=(2024,), seed=5)


def written(tmp_path, config, name):
    out = tmp_path / name
    manifest = files.write(generate(config), out, arguments={"seed": config.seed})
    return out, manifest


def test_same_seed_gives_byte_identical_files(tmp_path):
    first, manifest = written(tmp_path, SMALL, "a")
    second, _ = written(tmp_path, SMALL, "b")
    names_written = sorted(p.name for p in first.iterdir())
    assert names_written == sorted(p.name for p in second.iterdir())
    assert {
        "activity.csv",
        "activity.parquet",
        "metered_electricity.csv",
        "economic.csv",
        "injected_problems.csv",
        "manifest.json",
    } <= set(names_written)
    for name in names_written:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((first / name).read_bytes()).hexdigest() == entry["sha256"]


def test_another_seed_gives_other_data(tmp_path):
    _, one = written(tmp_path, SMALL, "a")
    _, other = written(tmp_path, DemoConfig(enterprises=30, years=(2024,), seed=6), "b")
    assert one["files"]["activity.csv"]["sha256"] != other["files"]["activity.csv"]["sha256"]


def test_manifest_counts_rows(tmp_path):
    out, manifest = written(tmp_path, SMALL, "a")
    for name, entry in manifest["files"].items():
        if name.endswith(".csv"):
            assert len((out / name).read_text(encoding="utf-8").splitlines()) == entry["rows"] + 1
    assert manifest["seed"] == SMALL.seed and manifest["years"] == [2024]


def test_large_runs_write_the_big_tables_as_parquet_only(tmp_path):
    data = generate(DemoConfig(enterprises=20, years=(2024,), seed=1, metered="monthly"))
    files.write(data, tmp_path / "small", arguments={})
    manifest = files.write(data, tmp_path / "small", arguments={}, large=True)
    written_now = {p.name for p in (tmp_path / "small").iterdir()}
    assert (
        "activity.csv" not in written_now and "metered_electricity.csv" not in written_now
    )  # stale ones removed
    assert {"activity.parquet", "metered_electricity.parquet", "economic.csv"} <= written_now
    assert set(manifest["files"]) | {"manifest.json"} == written_now
    assert pl.read_parquet(tmp_path / "small" / "activity.parquet").height == data.activity.height


def test_file_headers_follow_the_interchange_formats(tmp_path):
    out, _ = written(tmp_path, SMALL, "a")
    header = {
        name: (out / name).read_text(encoding="utf-8").splitlines()[0]
        for name in ("activity.csv", "metered_electricity.csv", "economic.csv", "injected_problems.csv")
    }
    assert header["activity.csv"] == "credit_code,period,item,quantity,unit,source,facility,note"
    assert header["metered_electricity.csv"] == "credit_code,date,kwh"
    assert header["economic.csv"] == "credit_code,year,value_added_10k_cny,output_value_10k_cny"
    assert header["injected_problems.csv"] == "credit_code,period,item,kind,facility"
    assert tuple(pl.read_parquet(out / "activity.parquet").columns) == ACTIVITY_COLUMNS
    first_row = (out / "metered_electricity.csv").read_text(encoding="utf-8").splitlines()[1]
    assert first_row.split(",")[1] == "2024-01-01"


def test_monthly_metered_electricity_has_periods():
    data = generate(DemoConfig(enterprises=10, years=(2024,), seed=2, metered="monthly"))
    assert data.metered_electricity.columns == ["credit_code", "period", "kwh"]
    assert data.metered_electricity.height == 10 * 12


def test_credit_codes_are_valid_and_unique(city):
    codes = city.enterprises["credit_code"].to_list() + city.organisations["credit_code"].to_list()
    assert all(credit_code.is_valid(c) for c in codes)
    assert len(set(codes)) == len(codes)
    counties = {c[2:8] for c in city.enterprises["credit_code"]}
    assert counties <= {"339902", "339903", "339904", "339921", "339922", "339981"}
    government = city.organisations.filter(pl.col("kind") == "government")["credit_code"]
    assert all(c.startswith("11") for c in government)


def test_vectorised_check_character_agrees_with_the_registry():
    rng = np.random.default_rng(3)
    bodies = names.organisation_bodies(rng, 2000, new_share=0.5)
    codes = names.credit_codes("9", "1", np.array(["339902", "339981"] * 1000), bodies)
    assert all(credit_code.is_valid(c) for c in codes)
    assert any(c[8:10] == "MA" for c in codes) and any(c[8:16].isdigit() for c in codes)


def test_enterprise_names_are_unique_and_plausible(city):
    enterprises = city.enterprises
    assert enterprises["name"].n_unique() == enterprises.height
    assert enterprises["name"].str.contains("公司$").all()
    assert enterprises["name_en"].str.contains("Co., Ltd.").all()


def test_activity_has_exactly_the_interchange_columns(city):
    assert tuple(city.activity.columns) == ACTIVITY_COLUMNS
    assert city.activity.schema["quantity"] == pl.Float64


def test_every_item_is_in_the_catalogue_with_a_convertible_unit(activity):
    for item in activity["item"].unique():
        assert items.is_known(item), item
    missing = activity.filter(pl.col("factor").is_null()).select("item", "unit").unique()
    assert missing.is_empty(), missing


def test_sources_and_quantities(activity):
    assert set(activity["source"].unique()) <= {"meter", "invoice", "lab", "estimate", "grid"}
    assert (activity["quantity"] >= 0).all()
    assert activity["quantity"].is_finite().all()


def test_some_enterprises_spell_electricity_otherwise(activity):
    spellings = set(activity.filter(pl.col("item") == "electricity_purchased")["unit"].unique())
    assert "MWh" in spellings and spellings - {"MWh"}


def test_periods_are_within_the_years_and_never_in_the_future(city):
    periods = city.activity["period"].cast(pl.String).unique().sort()
    assert periods[0] == f"{YEARS[0]}-01" and periods[-1] == f"{YEARS[-1]}-12"
    assert periods[-1] <= datetime.date.today().strftime("%Y-%m")
    assert city.metered_electricity["date"].max() <= datetime.date.today()


def test_each_enterprise_reports_electricity_every_month(activity, city):
    electricity = activity.filter(pl.col("item") == "electricity_purchased").unique(["credit_code", "period"])
    missing = city.injected_problems.filter(
        (pl.col("kind") == "missing_month") & (pl.col("item") == "electricity_purchased")
    ).height
    assert electricity.height == city.enterprises.height * 12 * len(YEARS) - missing


def test_sector_mix_follows_shares_and_minimums():
    counts = allocate(500)
    assert counts.sum() == 500
    by_key = dict(zip([s.key for s in SECTORS], counts, strict=True))
    assert by_key["textiles"] > by_key["chemical"] > by_key["cement_clinker"] >= 1
    assert allocate(3)[[s.key for s in SECTORS].index("cement_clinker")] == 1


def test_industry_codes_are_groups_or_ets_classes(city):
    for code in city.enterprises["industry_code"].unique():
        assert len(code) == 4 or code in {"D4411", "D4412", "C3110", "C3120", "C3011", "C3216"}, code


def annual(activity, item):
    return (
        activity.filter((pl.col("item") == item) & pl.col("period").str.starts_with("2024"))
        .group_by("credit_code")
        .agg(pl.col("canonical").sum().alias(item))
    )


def test_magnitudes_are_realistic(activity, city):
    sectors = city.enterprises.select("credit_code", "sector")
    per = (
        annual(activity, "electricity_purchased")
        .join(annual(activity, "raw_coal"), on="credit_code", how="left")
        .join(annual(activity, "clinker_output"), on="credit_code", how="left")
        .join(annual(activity, "power_supplied"), on="credit_code", how="left")
        .join(sectors, on="credit_code")
    )
    cement = per.filter(pl.col("sector") == "cement_clinker")
    coal_per_clinker = (cement["raw_coal"] / cement["clinker_output"]).to_list()
    assert all(0.12 < r < 0.19 for r in coal_per_clinker)  # ~0.11 tce, 3.2 GJ/t clinker
    assert all(0.6e6 < c < 5e6 for c in cement["clinker_output"])
    textiles = per.filter(pl.col("sector") == "textiles")["electricity_purchased"]
    assert 1000 < textiles.median() < 10_000  # a few thousand MWh a year
    power = per.filter(pl.col("sector") == "power_coal")
    for coal, supplied in zip(power["raw_coal"], power["power_supplied"], strict=True):
        assert 0.35 < coal / supplied < 0.5  # ~300 gce/kWh at 20-23 GJ/t


def test_key_emitters_are_the_big_ones(city):
    enterprises = city.enterprises
    assert enterprises.filter(pl.col("approx_co2_t") >= 30_000)["key_emitter"].all()
    assert not enterprises.filter(pl.col("approx_co2_t") < 5_000)["key_emitter"].any()
    assert enterprises.filter(pl.col("sector") == "cement_clinker")["key_emitter"].all()
    sizes = enterprises["size"].value_counts()
    assert set(sizes["size"]) <= {"large", "medium", "small", "micro"}


def test_carbon_intensity_spans_industries(city):
    year = city.economic.filter(pl.col("year") == YEARS[0]).join(city.enterprises, on="credit_code")
    year = year.with_columns(intensity=pl.col("approx_co2_t") / pl.col("value_added_10k_cny"))
    assert year["intensity"].min() > 0.05 and year["intensity"].max() < 15
    median = dict(year.group_by("sector").agg(pl.col("intensity").median()).iter_rows())
    assert median["cement_clinker"] > 2 > median["textiles"] > median["equipment_general"]
    assert (year["output_value_10k_cny"] > year["value_added_10k_cny"]).all()


def test_new_year_dip_moves_between_january_and_february():
    calendar = seasons.build((2023, 2024))
    manufacturing = calendar.monthly[seasons.PROFILE_NAMES.index("manufacturing")]
    assert manufacturing[0] < manufacturing[1]  # 2023: Spring Festival on 22 January
    assert manufacturing[13] < manufacturing[12]  # 2024: on 10 February
    assert np.allclose(manufacturing.reshape(2, 12).sum(axis=1), 1)


def parameter_ok(activity, code):
    return activity.filter(pl.col("item") == code)["canonical"]


def test_measured_parameters_are_plausible_except_the_injected(activity, city):
    planted = city.injected_problems.filter(pl.col("kind") == "implausible_parameter")
    clean = activity.join(
        planted, on=["credit_code", "period", "item", "facility"], how="anti", nulls_equal=True
    )
    assert parameter_ok(clean, "raw_coal.ncv").is_between(18, 25).all()
    assert parameter_ok(clean, "raw_coal.carbon_content").is_between(0.024, 0.03).all()
    assert parameter_ok(clean, "clinker_output.cao").is_between(0.6, 0.7).all()


# ------------------------------------------------------------------ injected problems


@pytest.fixture(scope="module")
def problems(city):
    return city.injected_problems


def same_stream(activity, row):
    return activity.filter(
        (pl.col("credit_code") == row["credit_code"])
        & (pl.col("item") == row["item"])
        & pl.col("facility").eq_missing(row["facility"])
    )


def stream_median(activity, row):
    return same_stream(activity, row).filter(pl.col("period") != row["period"])["canonical"].median()


def reported(activity, row):
    return same_stream(activity, row).filter(pl.col("period") == row["period"])


def test_every_kind_of_problem_is_planted(problems):
    assert set(problems["kind"]) == {
        "unit_error",
        "spike",
        "missing_month",
        "duplicate",
        "under_report",
        "implausible_parameter",
    }
    assert problems.height <= 0.15 * 150  # a handful per 100 enterprises
    assert problems.unique(["credit_code", "period", "item", "facility"]).height == problems.height


def test_missing_months_are_absent(activity, problems):
    for row in problems.filter(pl.col("kind") == "missing_month").iter_rows(named=True):
        assert reported(activity, row).is_empty()


def test_duplicates_appear_twice(activity, problems):
    for row in problems.filter(pl.col("kind") == "duplicate").iter_rows(named=True):
        rows = reported(activity, row)
        assert rows.height == 2 and rows.n_unique() == 1


def test_unit_errors_are_a_thousand_times_too_large(activity, problems):
    for row in problems.filter(pl.col("kind") == "unit_error").iter_rows(named=True):
        ratio = reported(activity, row)["canonical"][0] / stream_median(activity, row)
        assert 400 < ratio < 2500


def test_spikes_stand_out(activity, problems):
    for row in problems.filter(pl.col("kind") == "spike").iter_rows(named=True):
        ratio = reported(activity, row)["canonical"][0] / stream_median(activity, row)
        assert 2.2 < ratio < 7


def test_implausible_parameters_are_off_their_usual_value(activity, problems):
    for row in problems.filter(pl.col("kind") == "implausible_parameter").iter_rows(named=True):
        ratio = reported(activity, row)["canonical"][0] / stream_median(activity, row)
        assert not 0.7 < ratio < 1.3


# ------------------------------------------------------------------ grid meter


def monthly_comparison(activity, city):
    metered = (
        city.metered_electricity.with_columns(
            pl.col("credit_code").cast(pl.String), period=pl.col("date").dt.strftime("%Y-%m")
        )
        .group_by("credit_code", "period")
        .agg(metered_mwh=pl.col("kwh").sum() / 1000)
    )
    reported_mwh = (
        activity.filter(pl.col("item") == "electricity_purchased")
        .unique(["credit_code", "period"])
        .select("credit_code", "period", reported_mwh="canonical")
    )
    return metered.join(reported_mwh, on=["credit_code", "period"], how="left").with_columns(
        ratio=pl.col("reported_mwh") / pl.col("metered_mwh")
    )


def test_metered_electricity_matches_reports_within_a_few_percent(activity, city):
    comparison = monthly_comparison(activity, city)
    planted = city.injected_problems.filter(pl.col("item") == "electricity_purchased")
    clean = comparison.join(planted, on=["credit_code", "period"], how="anti")
    assert clean["ratio"].is_between(0.95, 1.05).all(), clean.filter(~pl.col("ratio").is_between(0.95, 1.05))
    assert (
        clean.height
        == city.enterprises.height * 12 * len(YEARS) - planted.unique(["credit_code", "period"]).height
    )


def test_grid_data_exposes_the_electricity_problems(activity, city):
    comparison = monthly_comparison(activity, city)
    planted = city.injected_problems.filter(pl.col("item") == "electricity_purchased")
    found = planted.join(comparison, on=["credit_code", "period"])
    for row in found.iter_rows(named=True):
        if row["kind"] == "under_report":
            assert row["ratio"] < 0.75
        elif row["kind"] == "unit_error":
            assert row["ratio"] > 300
        elif row["kind"] == "missing_month":
            assert row["reported_mwh"] is None


@pytest.mark.slow
def test_national_preset_is_fast():
    import time

    started = time.perf_counter()
    data = generate(DemoConfig.ending(2025, 10, enterprises=10_000, seed=42, metered="monthly"))
    assert time.perf_counter() - started < 30
    assert 9_000_000 < data.activity.height < 11_000_000 and data.metered_electricity.height == 10_000 * 120
