"""Property tests: the vectorised engine against the Decimal reference, linearity, unit invariance,
aggregation consistency."""

from __future__ import annotations

import math

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.engine import reference
from kiln.engine.aggregate import CO2_COLUMNS, TCE_COLUMNS, aggregate
from kiln.engine.emissions import compute
from kiln.registry import credit_code
from tests.engine.helpers import ACTIVITY_SCHEMA, default_set

FS = default_set()
FACTOR_ROWS = FS.to_dicts()
ENTERPRISES = [
    credit_code.make("9", "1", county, f"MA{i:07d}")
    for i, county in enumerate(["330502", "330502", "330503", "330521", "330281"])
]
PLACES = {
    ENTERPRISES[0]: ("330502", "330500", "C3011"),
    ENTERPRISES[1]: ("330502", "330500", "C2614"),
    ENTERPRISES[2]: ("330503", "330500", "C3011"),
    ENTERPRISES[3]: ("330521", "330500", "C3216"),
    ENTERPRISES[4]: ("330281", "330200", "D4411"),
}
PERIODS = [f"{y}-{m:02d}" for y in (2020, 2021, 2023) for m in (1, 6, 12)]
MASS, GAS, POWER, HEAT = (
    ("t", "kg", "吨", "万吨"),
    ("1e4Nm3", "Nm3", "万m3"),
    ("MWh", "kWh", "万kWh"),
    ("GJ", "MJ", "MWh"),
)

# item → (units, required parameters with (low, high, unit) ranges)
FRACTION = (0.0, 1.0, "fraction")
ITEMS = {
    "raw_coal": (MASS, {}),
    "coke": (MASS, {}),
    "diesel": (MASS, {}),
    "lpg": (MASS, {}),
    "anthracite": (MASS, {}),
    "natural_gas": (GAS, {}),
    "coke_oven_gas": (GAS, {}),
    "electricity_purchased": (POWER, {}),
    "electricity_exported": (POWER, {}),
    "heat_purchased": (HEAT, {}),
    "heat_exported": (HEAT, {}),
    "limestone": (MASS, {}),
    "dolomite": (MASS, {}),
    "co2_recovered": (MASS, {}),
    "cement_output": (MASS, {}),
    "clinker_output": (MASS, {"cao": (0.5, 0.7, "fraction"), "mgo": (0.0, 0.05, "fraction")}),
    "kiln_head_dust": (MASS, {"cao": (0.5, 0.7, "fraction"), "mgo": (0.0, 0.05, "fraction")}),
    "aluminium_output": (
        MASS,
        {
            "anode_net_consumption": (0.3, 0.5, "t/t"),
            "anode_sulphur": (0.0, 0.03, "fraction"),
            "anode_ash": (0.0, 0.01, "fraction"),
        },
    ),
    "steel_carbon_input": (MASS, {"mass_carbon_content": (0.5, 0.9, "fraction")}),
    "steel_carbon_output": (MASS, {"mass_carbon_content": (0.0, 0.05, "fraction")}),
    "biomass": (
        MASS,
        {
            "ncv": (10.0, 18.0, "GJ/t"),
            "carbon_content": (0.02, 0.03, "tC/GJ"),
            "oxidation_rate": (0.8, 1.0, "fraction"),
        },
    ),
}
OPTIONAL = {  # measured parameters that may or may not be present
    "raw_coal": {
        "ncv": (15.0, 28.0, "GJ/t"),
        "carbon_content": (20.0, 30.0, "tC/TJ"),
        "oxidation_rate": (85, 99, "%"),
    },
    "natural_gas": {"ncv": (35.0, 40.0, "MJ/Nm3")},
    "limestone": {"purity": FRACTION},
    "aluminium_output": {"anode_effect_minutes": (0.0, 1.0, "min/cell-day")},
    "clinker_output": {"cao_noncarbonate": (0.0, 0.02, "fraction")},
}
amount = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)


def _param_base(item: str) -> str:
    return "clinker_output" if item == "kiln_head_dust" else item


@st.composite
def activities(draw, max_rows=12):
    rows, params = [], {}
    for _ in range(draw(st.integers(1, max_rows))):
        cc, period = draw(st.sampled_from(ENTERPRISES)), draw(st.sampled_from(PERIODS))
        facility = draw(st.sampled_from([None, None, "K1", "K2"]))
        item = draw(st.sampled_from(sorted(ITEMS)))
        unit_choices, required = ITEMS[item]
        rows.append((cc, period, item, draw(amount), draw(st.sampled_from(unit_choices)), facility))
        base = _param_base(item)
        wanted = dict(required)
        for name, spec in OPTIONAL.get(base, {}).items():
            if draw(st.booleans()):
                wanted[name] = spec
        for name, (low, high, unit) in wanted.items():
            # Required parameters are given for the enterprise; optional ones sometimes per facility.
            where = None if name in required else facility
            key = (cc, period, where, f"{base}.{name}")
            if key not in params:
                params[key] = (draw(st.floats(min_value=low, max_value=high)), unit)
    rows += [
        (cc, period, code, value, unit, where) for (cc, period, where, code), (value, unit) in params.items()
    ]
    order = draw(st.permutations(range(len(rows))))
    return [rows[i] for i in order]


def frame_of(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ACTIVITY_SCHEMA, orient="row")


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(activities())
def test_engine_matches_the_decimal_reference(rows):
    engine = compute(frame_of(rows), FS).sort("row", "formula").to_dicts()
    dicts = [
        dict(zip(("credit_code", "period", "item", "quantity", "unit", "facility"), r, strict=True))
        for r in rows
    ]
    expected = reference.compute(dicts, FACTOR_ROWS)
    order = {"al_anode": 0, "al_pfc": 1}
    expected.sort(key=lambda r: (r["row"], order.get(r["formula"], 0)))
    assert len(engine) == len(expected)
    for got, want in zip(engine, expected, strict=True):
        assert (got["row"], got["formula"], got["source_category"], got["tier"], got["energy_type"]) == (
            want["row"],
            want["formula"],
            want["source_category"],
            want["tier"],
            want["energy_type"],
        )
        assert close(got["co2_t"], float(want["co2_t"])), (got, want)
        assert close(got["energy_tce"], float(want["energy_tce"])), (got, want)


@FAST
@given(activities(), st.floats(min_value=1e-3, max_value=1e3))
def test_emissions_are_linear_in_quantity(rows, k):
    frame = frame_of(rows)
    scaled = frame.with_columns(
        pl.when(pl.col("item").str.contains(".", literal=True))
        .then(pl.col("quantity"))
        .otherwise(pl.col("quantity") * k)
    )
    base, more = compute(frame, FS), compute(scaled, FS)
    for column in ("co2_t", "energy_tce"):
        for a, b in zip(base.get_column(column), more.get_column(column), strict=True):
            assert close(b, a * k)


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(ENTERPRISES), st.sampled_from(PERIODS), amount), min_size=1, max_size=10
    )
)
def test_units_do_not_change_results(entries):
    def frame(item, unit, scale):
        return frame_of([(cc, p, item, q * scale, unit, None) for cc, p, q in entries])

    for item, (unit_a, scale_a), (unit_b, scale_b) in [
        ("electricity_purchased", ("MWh", 1.0), ("kWh", 1000.0)),
        ("heat_purchased", ("GJ", 1.0), ("MJ", 1000.0)),
        ("natural_gas", ("万Nm3", 1.0), ("Nm3", 1e4)),
        ("diesel", ("t", 1.0), ("kg", 1000.0)),
    ]:
        a = compute(frame(item, unit_a, scale_a), FS)
        b = compute(frame(item, unit_b, scale_b), FS)
        for column in ("co2_t", "energy_tce", "quantity_canonical"):
            assert all(close(x, y) for x, y in zip(a.get_column(column), b.get_column(column), strict=True))


@FAST
@given(activities(max_rows=20))
def test_enterprises_sum_to_counties_and_cities(rows):
    results = compute(frame_of(rows), FS)
    places = pl.DataFrame(
        [(cc, *PLACES[cc]) for cc in ENTERPRISES],
        schema=["credit_code", "region_code", "city_code", "industry_code"],
        orient="row",
    )
    out = aggregate(results, places)
    columns = [*CO2_COLUMNS, "co2_total_t", *TCE_COLUMNS, "tce_total"]

    def totals(name, by):
        return out[name].group_by(by).agg(pl.col(columns).sum()).sort(by)

    for by, frames in (
        ("period", ("enterprise_month", "county_month", "city_month", "industry_month")),
        ("year", ("enterprise_year", "county_year", "city_year", "industry_year", "enterprise_month")),
    ):
        reference_totals = totals(frames[0], by)
        for name in frames[1:]:
            other = totals(name, by)
            assert other.get_column(by).to_list() == reference_totals.get_column(by).to_list()
            for column in columns:
                for a, b in zip(reference_totals.get_column(column), other.get_column(column), strict=True):
                    assert close(a, b), (name, column)
    # Everything the rows say is in the enterprise totals, biomass apart.
    counted = results.filter(~pl.col("source_category").cast(pl.String).is_in(["biomass", "none"]))
    assert close(out["enterprise_year"].get_column("co2_total_t").sum(), counted.get_column("co2_t").sum())
    assert out["county_year"].get_column("n_enterprises").sum() == out["enterprise_year"].height


@FAST
@given(activities(max_rows=20))
def test_dense_and_grouped_enterprise_months_agree(rows):
    from kiln.engine.aggregate import _enterprise_month_grouped, enterprise_month

    results = compute(frame_of(rows), FS)
    dense, grouped = enterprise_month(results), _enterprise_month_grouped(results)
    key = ["credit_code", "period"]
    dense = dense.with_columns(pl.col(key).cast(pl.String)).sort(key)
    grouped = grouped.with_columns(pl.col(key).cast(pl.String)).sort(key)
    assert dense.select(key, "year").equals(grouped.select(key, "year"))
    for column in [*CO2_COLUMNS, "co2_total_t", *TCE_COLUMNS, "tce_total"]:
        assert all(
            close(a, b) for a, b in zip(dense.get_column(column), grouped.get_column(column), strict=True)
        )


@FAST
@given(activities(max_rows=20))
def test_aggregates_do_not_depend_on_the_enterprise_month_path(rows):
    from kiln.engine import aggregate as module

    results = compute(frame_of(rows), FS)
    places = pl.DataFrame(
        [(cc, *PLACES[cc]) for cc in ENTERPRISES],
        schema=["credit_code", "region_code", "city_code", "industry_code"],
        orient="row",
    )
    dense = module.aggregate(results, places)
    original = module._dense_cells
    module._dense_cells = lambda frame: None
    try:
        grouped = module.aggregate(results, places)
    finally:
        module._dense_cells = original
    for name, frame in dense.items():
        other = grouped[name]
        assert frame.columns == other.columns
        keys = [
            c
            for c in frame.columns
            if c
            in ("credit_code", "period", "year", "industry_code", "region_code", "city_code", "n_enterprises")
        ]
        assert frame.select(pl.col(keys).cast(pl.String)).equals(
            other.select(pl.col(keys).cast(pl.String))
        ), name
        for column in [*CO2_COLUMNS, "co2_total_t", *TCE_COLUMNS, "tce_total"]:
            assert all(
                close(a, b) for a, b in zip(frame.get_column(column), other.get_column(column), strict=True)
            )
