"""Carbon-efficiency code (碳效码, DB33/T 1347 as read through S31): L, level, K, grade, neutral rate.

Pure: Polars frames in, Polars frames out; no Django. The method (domain.md §4.2):

- gross CO2 ``co2_gross_t`` = CO2 of total energy use in the period: combustion + purchased electricity
  + purchased heat + exported electricity and heat (≤ 0); process CO2 only when ``include_process``.
  Biomass and recovery are not energy-use CO2 and never count.
- offsets = CO2 avoided by self-generated zero-carbon power (``green_mwh`` × grid factor) + recognised
  sinks (none are recognised yet: ``sinks_t`` is 0 everywhere);
  net ``co2_net_t`` = max(gross − offsets, 0).
- ``l`` (tCO2 per 10^4 CNY value added) = net / value added; ``level`` low ≤ 0.6 < medium ≤ 2.0 < high.
- ``industry_mean_l``: the mean L of the enterprises of the same industry (GB/T 4754 code cut to the
  configured level, the division by default) in the same period that have an L; **weighted**
  (Σ net / Σ value added, the industry's own intensity) or **simple** (arithmetic mean of L).
- ``k`` = L / industry mean L; ``grade`` 1 ≤ 0.6 < 2 ≤ 0.8 < 3 ≤ 1.2 < 4 ≤ 2.0 < 5.
- ``neutral_rate`` — **provisional** (碳中和率: definition NOT FOUND, domain.md §4.3): offsets as a share
  of gross CO2, capped at 1; ``neutral_mark`` low < 5 % ≤ medium < 20 % ≤ high.

Boundaries are inclusive upper bounds and L, K and the neutral rate are compared after rounding to
``ROUND_DIGITS`` decimals, so floating-point noise (1e-16) never moves a value that is exactly on a
threshold while 0.6000001 is still above 0.6.

No grade is ever made from zeros: a row without energy data, without value added or with value added
≤ 0 gets ``reason`` (a stable code) and null L/K. Where energy data is missing but metered electricity
(grid company) exists, gross CO2 may be estimated as metered MWh × grid factor (``estimated``).

Input columns of ``assess`` (``INPUT_SCHEMA``):

======================= ======= ===================================================================
column                  dtype   meaning and unit
======================= ======= ===================================================================
credit_code             String  the enterprise
period                  String  "YYYY" (calendar year) or "YYYY-MM" (12 months ending then)
industry_code           String  GB/T 4754 code of the enterprise, any level ("C3011")
has_energy              Boolean an accounting aggregate exists for the enterprise and period
co2_combustion_t …      Float64 the accounting aggregate's tCO2 by source (``ENERGY_CO2_COLUMNS``,
co2_process_t                   ``PROCESS_CO2_COLUMN``); exports ≤ 0
tce_total               Float64 energy use, tonnes of standard coal equivalent
green_mwh               Float64 self-generated zero-carbon power used on site, MWh
co2_avoided_t           Float64 tCO2 that power would have caused from the grid (green × factor)
sinks_t                 Float64 recognised carbon sinks, tCO2 (0: none recognised yet)
metered_mwh             Float64 grid-metered electricity, MWh (null: none)
grid_factor             Float64 grid emission factor of the period, tCO2/MWh (for the estimate)
value_added_10k_cny     Float64 industrial value added, 10^4 CNY (income approach); null: none
======================= ======= ===================================================================

``assess`` adds: ``industry_key``, ``co2_gross_t``, ``co2_net_t``, ``estimated`` (Boolean), ``l``,
``level``, ``industry_mean_l``, ``industry_n`` (enterprises with an L in the group), ``k``, ``grade``
(Int8), ``neutral_rate``, ``neutral_mark``, ``reason`` (null when graded).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl

ENERGY_CO2_COLUMNS = (
    "co2_combustion_t",
    "co2_electricity_purchased_t",
    "co2_electricity_exported_t",
    "co2_heat_purchased_t",
    "co2_heat_exported_t",
)
PROCESS_CO2_COLUMN = "co2_process_t"
GREEN_ITEM = "electricity_green_self"

LEVELS = ("low", "medium", "high")
NEUTRAL_MARKS = ("low", "medium", "high")
INDUSTRY_LEVELS = {"section": 1, "division": 3, "group": 4, "class": 5}
MEAN_KINDS = ("simple", "weighted")
ROUND_DIGITS = 9

# Reason codes (stable, DESIGN.md rule 4). The first four leave L empty; the last two only K.
NO_ENERGY_DATA = "EFF-NO-ENERGY-DATA"
NO_VALUE_ADDED = "EFF-NO-VALUE-ADDED"
VALUE_ADDED_NOT_POSITIVE = "EFF-VALUE-ADDED-NOT-POSITIVE"
INDUSTRY_TOO_SMALL = "EFF-INDUSTRY-TOO-SMALL"
INDUSTRY_MEAN_ZERO = "EFF-INDUSTRY-MEAN-ZERO"
REASONS = (NO_ENERGY_DATA, NO_VALUE_ADDED, VALUE_ADDED_NOT_POSITIVE, INDUSTRY_TOO_SMALL, INDUSTRY_MEAN_ZERO)

INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "credit_code": pl.String,
    "period": pl.String,
    "industry_code": pl.String,
    "has_energy": pl.Boolean,
    **{c: pl.Float64 for c in ENERGY_CO2_COLUMNS},
    PROCESS_CO2_COLUMN: pl.Float64,
    "tce_total": pl.Float64,
    "green_mwh": pl.Float64,
    "co2_avoided_t": pl.Float64,
    "sinks_t": pl.Float64,
    "metered_mwh": pl.Float64,
    "grid_factor": pl.Float64,
    "value_added_10k_cny": pl.Float64,
}
# Columns that may be absent from an input frame, and what they then hold.
INPUT_DEFAULTS: dict[str, object] = {
    **{c: 0.0 for c in ENERGY_CO2_COLUMNS},
    PROCESS_CO2_COLUMN: 0.0,
    "tce_total": 0.0,
    "green_mwh": 0.0,
    "co2_avoided_t": 0.0,
    "sinks_t": 0.0,
    "metered_mwh": None,
    "grid_factor": None,
}


@dataclass(frozen=True)
class Method:
    """Thresholds and choices of the grading; defaults from domain.md §4.2 (S31)."""

    level_low_max: float = 0.6
    level_medium_max: float = 2.0
    grade_max: tuple[float, float, float, float] = (0.6, 0.8, 1.2, 2.0)
    industry_level: str = "division"
    mean_kind: str = "weighted"
    include_process: bool = False
    min_industry_enterprises: int = 1
    # Provisional (碳中和率 not found): lower bounds of the "medium" and "high" marks.
    neutral_mins: tuple[float, float] = (0.05, 0.20)

    def __post_init__(self) -> None:
        if not 0 < self.level_low_max < self.level_medium_max:
            raise ValueError("level thresholds must satisfy 0 < low max < medium max")
        if len(self.grade_max) != 4 or not all(
            a < b for a, b in zip((0.0, *self.grade_max), self.grade_max, strict=False)
        ):
            raise ValueError("grade thresholds must be four increasing positive numbers")
        if self.industry_level not in INDUSTRY_LEVELS:
            raise ValueError(f"industry level must be one of {', '.join(INDUSTRY_LEVELS)}")
        if self.mean_kind not in MEAN_KINDS:
            raise ValueError(f"mean kind must be one of {', '.join(MEAN_KINDS)}")
        if self.min_industry_enterprises < 1:
            raise ValueError("the smallest industry group has at least one enterprise")
        low, high = self.neutral_mins
        if not 0 < low < high <= 1:
            raise ValueError("neutral-rate thresholds must satisfy 0 < medium < high ≤ 1")


# --------------------------------------------------------------------------------------------
# Classification


def _rounded(x: pl.Expr) -> pl.Expr:
    return x.round(ROUND_DIGITS)


def classify_level(l_value: pl.Expr, method: Method) -> pl.Expr:
    v = _rounded(l_value)
    return (
        pl.when(v.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(v <= method.level_low_max)
        .then(pl.lit("low"))
        .when(v <= method.level_medium_max)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("high"))
    )


def classify_grade(k_value: pl.Expr, method: Method) -> pl.Expr:
    v = _rounded(k_value)
    g1, g2, g3, g4 = method.grade_max
    return (
        pl.when(v.is_null())
        .then(pl.lit(None, dtype=pl.Int8))
        .when(v <= g1)
        .then(pl.lit(1, dtype=pl.Int8))
        .when(v <= g2)
        .then(pl.lit(2, dtype=pl.Int8))
        .when(v <= g3)
        .then(pl.lit(3, dtype=pl.Int8))
        .when(v <= g4)
        .then(pl.lit(4, dtype=pl.Int8))
        .otherwise(pl.lit(5, dtype=pl.Int8))
    )


def classify_neutral(rate: pl.Expr, method: Method) -> pl.Expr:
    v = _rounded(rate)
    medium, high = method.neutral_mins
    return (
        pl.when(v.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(v >= high)
        .then(pl.lit("high"))
        .when(v >= medium)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


def industry_key(code: pl.Expr, level: str) -> pl.Expr:
    """The grouping key: the GB/T 4754 code cut to ``level`` (a coarser code stays as it is)."""
    return code.str.slice(0, INDUSTRY_LEVELS[level])


# --------------------------------------------------------------------------------------------
# Grading


def _complete(inputs: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    lf = inputs.lazy()
    names = lf.collect_schema().names()
    missing = [pl.lit(v, dtype=INPUT_SCHEMA[c]).alias(c) for c, v in INPUT_DEFAULTS.items() if c not in names]
    if "has_energy" not in names:
        missing.append(pl.lit(True).alias("has_energy"))
    lf = lf.with_columns(missing) if missing else lf
    zero_when_missing = (
        *ENERGY_CO2_COLUMNS,
        PROCESS_CO2_COLUMN,
        "tce_total",
        "green_mwh",
        "co2_avoided_t",
        "sinks_t",
    )
    return lf.with_columns([pl.col(c).cast(t) for c, t in INPUT_SCHEMA.items()]).with_columns(
        *[pl.col(c).fill_null(0.0) for c in zero_when_missing],
        pl.col("has_energy").fill_null(False),
    )


def assess(inputs: pl.DataFrame | pl.LazyFrame, method: Method | None = None) -> pl.DataFrame:
    """Grade every (enterprise, period) row of ``inputs``; see the module docstring for columns."""
    method = method or Method()
    c = pl.col
    energy_columns = [*ENERGY_CO2_COLUMNS, *([PROCESS_CO2_COLUMN] if method.include_process else [])]
    reported = c("has_energy") & (
        pl.any_horizontal([c(x) != 0 for x in energy_columns]) | (c("tce_total") != 0) | (c("green_mwh") > 0)
    )
    can_estimate = ~reported & (c("metered_mwh") > 0) & c("grid_factor").is_not_null()
    gross = (
        pl.when(reported)
        .then(pl.sum_horizontal(energy_columns))
        .when(can_estimate)
        .then(c("metered_mwh") * c("grid_factor"))
        .otherwise(None)
    )
    offsets = c("co2_avoided_t") + c("sinks_t")
    va = c("value_added_10k_cny")
    lf = _complete(inputs).with_columns(
        industry_key=industry_key(c("industry_code"), method.industry_level),
        co2_gross_t=gross,
        estimated=can_estimate.fill_null(False),
        co2_offsets_t=offsets,
    )
    lf = lf.with_columns(
        co2_net_t=pl.when(c("co2_gross_t").is_not_null()).then(
            pl.max_horizontal(c("co2_gross_t") - c("co2_offsets_t"), pl.lit(0.0))
        ),
        l_reason=(
            pl.when(c("co2_gross_t").is_null())
            .then(pl.lit(NO_ENERGY_DATA))
            .when(va.is_null())
            .then(pl.lit(NO_VALUE_ADDED))
            .when(va <= 0)
            .then(pl.lit(VALUE_ADDED_NOT_POSITIVE))
            .otherwise(pl.lit(None, dtype=pl.String))
        ),
    )
    lf = lf.with_columns(l=pl.when(c("l_reason").is_null()).then(c("co2_net_t") / va))
    group = ["period", "industry_key"]
    has_l = c("l").is_not_null()
    if method.mean_kind == "weighted":
        mean = c("co2_net_t").filter(has_l).sum() / va.filter(has_l).sum()
    else:
        mean = c("l").mean()
    n = has_l.sum().cast(pl.UInt32)
    lf = lf.with_columns(
        industry_n=n.over(group),
        industry_mean_l=pl.when(n.over(group) > 0).then(mean.over(group)),
    )
    mean_zero = _rounded(c("industry_mean_l")) <= 0
    too_small = c("industry_n") < method.min_industry_enterprises
    lf = lf.with_columns(
        k_reason=pl.when(has_l & too_small)
        .then(pl.lit(INDUSTRY_TOO_SMALL))
        .when(has_l & mean_zero)
        .then(pl.lit(INDUSTRY_MEAN_ZERO))
        .otherwise(pl.lit(None, dtype=pl.String)),
    )
    lf = lf.with_columns(k=pl.when(has_l & c("k_reason").is_null()).then(c("l") / c("industry_mean_l")))
    gross_col = c("co2_gross_t")
    rate = (
        pl.when(gross_col > 0)
        .then(pl.min_horizontal(c("co2_offsets_t") / gross_col, pl.lit(1.0)))
        .when(gross_col.is_not_null() & (c("co2_offsets_t") > 0))
        .then(pl.lit(1.0))
        .otherwise(None)
    )
    lf = lf.with_columns(
        level=classify_level(c("l"), method),
        grade=classify_grade(c("k"), method),
        neutral_rate=rate,
        reason=pl.coalesce("l_reason", "k_reason"),
    ).with_columns(neutral_mark=classify_neutral(c("neutral_rate"), method))
    return lf.drop("l_reason", "k_reason", "co2_offsets_t").sort("period", "credit_code").collect()


# --------------------------------------------------------------------------------------------
# Building the inputs from accounting results


def green_power(rows: pl.DataFrame | pl.LazyFrame, grid_factors: pl.DataFrame) -> pl.DataFrame:
    """Self-generated zero-carbon power per enterprise and month, and the grid CO2 it avoided.

    ``rows``: the engine's per-row results (``credit_code``, ``period``, ``year``, ``item``,
    ``quantity_canonical`` in MWh for electricity). ``grid_factors``: ``year`` (Int32),
    ``grid_factor`` (tCO2/MWh). Returns ``credit_code``, ``period``, ``green_mwh``, ``co2_avoided_t``.
    """
    monthly = (
        rows.lazy()
        .filter(pl.col("item").cast(pl.String) == GREEN_ITEM)
        .group_by(
            pl.col("credit_code").cast(pl.String),
            pl.col("period").cast(pl.String),
            pl.col("year").cast(pl.Int32),
        )
        .agg(green_mwh=pl.col("quantity_canonical").sum())
    )
    return (
        monthly.join(
            grid_factors.lazy().select(pl.col("year").cast(pl.Int32), "grid_factor"), on="year", how="left"
        )
        .select(
            "credit_code", "period", "green_mwh", co2_avoided_t=pl.col("green_mwh") * pl.col("grid_factor")
        )
        .sort("credit_code", "period")
        .collect()
    )


VALUE_COLUMNS = (*ENERGY_CO2_COLUMNS, PROCESS_CO2_COLUMN, "tce_total")


def _values(frame: pl.DataFrame | pl.LazyFrame) -> list[pl.Expr]:
    """The value columns as Float64; a column the aggregate frame lacks is 0."""
    names = set(frame.lazy().collect_schema().names())
    return [(pl.col(c).cast(pl.Float64) if c in names else pl.lit(0.0)).alias(c) for c in VALUE_COLUMNS]


def yearly_inputs(
    aggregates: pl.DataFrame,
    green: pl.DataFrame,
    economic: pl.DataFrame,
    enterprises: pl.DataFrame,
    *,
    year: int,
    grid_factor: float | None = None,
    metered: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The ``assess`` inputs for calendar ``year``.

    ``aggregates``: enterprise-year aggregates (``credit_code`` and the value columns);
    ``green``: ``green_power`` output (months of any year; those of ``year`` are summed);
    ``economic``: ``credit_code``, ``year``, ``value_added_10k_cny``; ``enterprises``:
    ``credit_code``, ``industry_code`` — every enterprise that may be graded; ``metered``:
    ``credit_code``, ``metered_mwh`` for the year (optional). An enterprise appears when it has
    energy data, value added or metered electricity for the year.
    """
    period = str(year)
    energy = (
        aggregates.lazy()
        .select(pl.col("credit_code").cast(pl.String), *_values(aggregates))
        .with_columns(has_energy=pl.lit(True))
    )
    greens = (
        green.lazy()
        .filter(pl.col("period").str.starts_with(f"{period}-"))
        .group_by("credit_code")
        .agg(pl.col("green_mwh").sum(), pl.col("co2_avoided_t").sum())
    )
    values = (
        economic.lazy()
        .filter(pl.col("year") == year)
        .select(pl.col("credit_code").cast(pl.String), pl.col("value_added_10k_cny").cast(pl.Float64))
    )
    meters = (
        metered.lazy().select(pl.col("credit_code").cast(pl.String), pl.col("metered_mwh").cast(pl.Float64))
        if metered is not None
        else pl.LazyFrame(schema={"credit_code": pl.String, "metered_mwh": pl.Float64})
    )
    present = pl.concat(
        [energy.select("credit_code"), values.select("credit_code"), meters.select("credit_code")]
    ).unique()
    frame = (
        present.join(enterprises.lazy().select("credit_code", "industry_code"), on="credit_code", how="inner")
        .join(energy, on="credit_code", how="left")
        .join(greens, on="credit_code", how="left")
        .join(values, on="credit_code", how="left")
        .join(meters, on="credit_code", how="left")
        .with_columns(
            period=pl.lit(period),
            sinks_t=pl.lit(0.0),
            grid_factor=pl.lit(grid_factor, dtype=pl.Float64),
            has_energy=pl.col("has_energy").fill_null(False),
        )
    )
    return frame.select(list(INPUT_SCHEMA)).cast(INPUT_SCHEMA).sort("credit_code").collect()  # type: ignore[arg-type]


def _month_index(period: pl.Expr) -> pl.Expr:
    return period.str.slice(0, 4).cast(pl.Int32) * 12 + period.str.slice(5, 2).cast(pl.Int32) - 1


def _month_text(index: pl.Expr) -> pl.Expr:
    year = (index // 12).cast(pl.String)
    month = (index % 12 + 1).cast(pl.String).str.zfill(2)
    return pl.concat_str(year, pl.lit("-"), month)


def rolling_inputs(
    monthly: pl.DataFrame,
    green: pl.DataFrame,
    economic: pl.DataFrame,
    enterprises: pl.DataFrame,
    *,
    ends: list[str],
) -> pl.DataFrame:
    """The ``assess`` inputs for the 12 months ending at each period in ``ends`` ("YYYY-MM").

    ``monthly``: enterprise-month aggregates (``credit_code``, ``period``, value columns). A window
    counts only when the enterprise has an aggregate for all 12 of its months. Value added is
    yearly: each month takes a twelfth of its year's value added (null if any year lacks it).
    """
    schema = {"end": pl.String, "month": pl.String}
    if not ends:
        return pl.DataFrame(schema=INPUT_SCHEMA)
    windows = (
        pl.LazyFrame({"end": ends}, schema={"end": pl.String})
        .with_columns(offset=pl.int_ranges(0, 12))
        .explode("offset")
        .with_columns(month=_month_text(_month_index(pl.col("end")) - pl.col("offset")))
        .select(list(schema))
    )
    data = monthly.lazy().select(
        pl.col("credit_code").cast(pl.String),
        pl.col("period").cast(pl.String).alias("month"),
        *_values(monthly),
    )
    summed = (
        windows.join(data, on="month", how="inner")
        .group_by("credit_code", "end")
        .agg(pl.len().alias("months"), *[pl.col(c).sum() for c in VALUE_COLUMNS])
        .filter(pl.col("months") == 12)
        .drop("months")
    )
    greens = (
        windows.join(green.lazy().rename({"period": "month"}), on="month", how="inner")
        .group_by("credit_code", "end")
        .agg(pl.col("green_mwh").sum(), pl.col("co2_avoided_t").sum())
    )
    va_monthly = (
        summed.select("credit_code", "end")
        .join(windows, on="end", how="inner")
        .with_columns(year=pl.col("month").str.slice(0, 4).cast(pl.Int32))
        .join(
            economic.lazy().select(
                pl.col("credit_code").cast(pl.String),
                pl.col("year").cast(pl.Int32),
                pl.col("value_added_10k_cny").cast(pl.Float64),
            ),
            on=["credit_code", "year"],
            how="left",
        )
        .group_by("credit_code", "end")
        .agg(
            pl.when(pl.col("value_added_10k_cny").is_not_null().all())
            .then(pl.col("value_added_10k_cny").sum() / 12.0)
            .alias("value_added_10k_cny")
        )
    )
    frame = (
        summed.join(enterprises.lazy().select("credit_code", "industry_code"), on="credit_code", how="inner")
        .join(greens, on=["credit_code", "end"], how="left")
        .join(va_monthly, on=["credit_code", "end"], how="left")
        .with_columns(
            period=pl.col("end"),
            has_energy=pl.lit(True),
            sinks_t=pl.lit(0.0),
            metered_mwh=pl.lit(None, dtype=pl.Float64),
            grid_factor=pl.lit(None, dtype=pl.Float64),
        )
    )
    return frame.select(list(INPUT_SCHEMA)).cast(INPUT_SCHEMA).sort("period", "credit_code").collect()  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Scalar reference (Decimal), for the property tests: the same rules, one row at a time.

_Q = Decimal(1).scaleb(-ROUND_DIGITS)


def _r(value: Decimal) -> Decimal:
    return value.quantize(_Q, rounding=ROUND_HALF_EVEN)


def reference_level(l_value: Decimal, method: Method) -> str:
    v = _r(l_value)
    if v <= Decimal(str(method.level_low_max)):
        return "low"
    if v <= Decimal(str(method.level_medium_max)):
        return "medium"
    return "high"


def reference_grade(k_value: Decimal, method: Method) -> int:
    v = _r(k_value)
    for number, bound in enumerate(method.grade_max, start=1):
        if v <= Decimal(str(bound)):
            return number
    return 5


def reference_assess(rows: list[dict], method: Method) -> list[dict]:
    """L, level, K and grade for reported rows (no estimates, no sinks), with Decimal arithmetic.

    Each row: ``credit_code``, ``period``, ``industry_code``, ``co2`` (gross energy CO2),
    ``avoided``, ``value_added`` (Decimal or None).
    """
    out = []
    for row in rows:
        net = max(row["co2"] - row["avoided"], Decimal(0))
        va = row["value_added"]
        l_value = net / va if va is not None and va > 0 else None
        out.append(
            {
                **row,
                "net": net,
                "l": l_value,
                "key": row["industry_code"][: INDUSTRY_LEVELS[method.industry_level]],
            }
        )
    for row in out:
        peers = [
            p for p in out if p["period"] == row["period"] and p["key"] == row["key"] and p["l"] is not None
        ]
        row["k"] = row["grade"] = row["level"] = None
        if row["l"] is None:
            continue
        row["level"] = reference_level(row["l"], method)
        if method.mean_kind == "weighted":
            mean = sum(p["net"] for p in peers) / sum(p["value_added"] for p in peers)
        else:
            mean = sum(p["l"] for p in peers) / len(peers)
        if len(peers) < method.min_industry_enterprises or _r(mean) <= 0:
            continue
        row["k"] = row["l"] / mean
        row["grade"] = reference_grade(row["k"], method)
    return out
