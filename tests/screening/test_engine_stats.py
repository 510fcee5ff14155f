"""The whole-array statistics and two checks against a plain-Python reference (hypothesis)."""

from __future__ import annotations

import statistics

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.engine import screening_stats as stats
from kiln.engine.screening_rollup import RollupPolicy, enterprise_levels, group_levels
from tests.screening.crafted import months, rule, run

grids = st.integers(min_value=1, max_value=6).flatmap(
    lambda rows: st.integers(min_value=1, max_value=30).flatmap(
        lambda cols: st.lists(
            st.one_of(st.none(), st.floats(min_value=0.01, max_value=1e6)),
            min_size=rows * cols,
            max_size=rows * cols,
        ).map(lambda values: np.array([np.nan if v is None else v for v in values]).reshape(rows, cols))
    )
)


@settings(max_examples=80, deadline=None)
@given(values=grids, window=st.integers(min_value=1, max_value=14))
def test_trailing_window_statistics_match_a_plain_loop(values, window):
    t = stats.trailing(values, window)
    low, high = stats.median_bounds(t)
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            win = values[r, max(0, c - window) : c]
            win = win[~np.isnan(win)]
            assert t.count[r, c] == len(win)
            if len(win) == 0:
                continue
            assert np.isclose(t.total[r, c], win.sum())
            assert np.isclose(t.low[r, c], win.min(), rtol=1e-6) and np.isclose(
                t.high[r, c], win.max(), rtol=1e-6
            )
            median = statistics.median(win.tolist())
            assert low[r, c] <= median * (1 + 1e-4) + 1e-3 and median <= high[r, c] * (1 + 1e-4) + 1e-3
            exact = stats.trailing_medians_at(values, np.array([r]), np.array([c]), window)[0]
            assert np.isclose(exact, median, rtol=1e-6)


@settings(max_examples=50, deadline=None)
@given(values=grids)
def test_row_medians_match_statistics_median(values):
    median, count = stats.row_medians(values)
    for r in range(values.shape[0]):
        row = values[r][~np.isnan(values[r])]
        assert count[r] == len(row)
        if len(row):
            assert np.isclose(median[r], statistics.median(row.tolist()), rtol=1e-6)


def test_robust_z_per_group():
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0, 10.0, 10.0, 11.0])
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    z, med, mad, size = stats.robust_z(values, groups)
    assert med[0] == 3.0 and mad[0] == 1.0 and size[0] == 5
    assert z[4] == (100 - 3) / 1.4826
    assert med[5] == 10.0 and size[5] == 3


# --- a plain-Python reference of the trailing-median jump -----------------------------------------------------


def reference_jump_median(series: dict[str, list[float | None]], ratio: float, window: int, min_months: int):
    """(item, month index) flagged: value / median of the previous ``window`` reported values ≥ ratio or ≤ 1/ratio."""
    flagged = set()
    for item, values in series.items():
        for t, v in enumerate(values):
            past = [x for x in values[max(0, t - window) : t] if x is not None]
            if v is None or len(past) < min_months:
                continue
            median = statistics.median(past)
            if median > 0 and (v / median >= ratio or v / median <= 1 / ratio):
                flagged.add((item, t))
    return flagged


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.floats(min_value=1, max_value=1000)), min_size=3, max_size=30))
def test_jump_median_matches_the_reference(values):
    data = [
        ("E1", p, "natural_gas", v, "1e4Nm3", None, None, None)
        for p, v in zip(months("2023-01", len(values)), values, strict=True)
        if v is not None
    ]
    if not data:
        return
    check = rule(
        "J",
        "jump_median",
        params={"ratio": 2.5, "window": 12, "min_months": 3, "relative_to_enterprise": False},
    )
    found = run(data, [check])
    first = 0
    got = {
        ("natural_gas", int(p[:4]) * 12 + int(p[5:7]) - (2023 * 12 + 1)) for p in found["period"].to_list()
    }
    expected = reference_jump_median({"natural_gas": values}, 2.5, 12, 3)
    assert got == expected, (values, first)


# --- warning levels -----------------------------------------------------------------------------------------


def test_enterprise_and_group_levels():
    findings = pl.DataFrame(
        {
            "credit_code": ["A", "B", "B", "C", "D", "D", "D", "D", "D"],
            "severity": ["error", "warning", "warning", "warning", *["warning"] * 5],
            "open": [True, True, False, False, *[True] * 5],
            "acknowledged": [False, False, True, True, *[False] * 5],
        }
    )
    scores = pl.DataFrame({"credit_code": ["E", "F"], "score": [12.0, 2.0]})
    levels = enterprise_levels(
        findings, scores=scores, enterprises=pl.Series(["A", "B", "C", "D", "E", "F", "G"])
    )
    got = dict(levels.select("credit_code", pl.col("level").cast(pl.String)).iter_rows())
    assert got == {"A": "red", "B": "yellow", "C": "blue", "D": "red", "E": "blue", "F": "none", "G": "none"}
    mapping = pl.DataFrame({"credit_code": list("ABCDEFG"), "county": ["x", "x", "y", "z", "z", "w", "w"]})
    groups = dict(
        group_levels(levels, mapping, "county").select("county", pl.col("level").cast(pl.String)).iter_rows()
    )
    assert groups == {"x": "red", "y": "blue", "z": "red", "w": "none"}
    many = pl.DataFrame({"credit_code": [f"N{i}" for i in range(40)] + ["A"], "county": ["big"] * 41})
    level = group_levels(levels, many, "county", RollupPolicy()).row(0, named=True)
    assert (
        level["level"] == "yellow" and level["red"] == 1
    )  # 1 red of 41 is below 5 %, but any red makes yellow
