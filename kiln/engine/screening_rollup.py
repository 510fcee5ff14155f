"""Red / yellow / blue warning levels (红、黄、蓝预警) rolled up from findings. Pure Polars.

The roll-up rule
----------------

Enterprise (over the findings given, normally every finding not yet closed, dismissed or
acknowledged, plus acknowledged warnings and the latest anomaly scores):

- **red**: at least one open *blocking error*, or at least ``red_warnings`` (5) open warnings;
- **yellow**: at least one open warning;
- **blue** (watch): nothing open, but a warning was acknowledged, or the anomaly detector scores one
  of its months at or above ``blue_score`` (8);
- none otherwise.

Group (county, city, industry …), over the enterprises mapped to it:

- **red**: at least ``group_red_share`` (5 %) of its enterprises are red;
- **yellow**: at least one enterprise is red, or at least ``group_yellow_share`` (10 %) are red or yellow;
- **blue**: any enterprise has a level;
- none otherwise.

All thresholds live in ``RollupPolicy`` so a deployment can set them.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

LEVELS = ("red", "yellow", "blue", "none")
LEVEL_ENUM = pl.Enum(list(LEVELS))


@dataclass(frozen=True)
class RollupPolicy:
    red_warnings: int = 5
    blue_score: float = 8.0
    group_red_share: float = 0.05
    group_yellow_share: float = 0.10


def enterprise_levels(
    findings: pl.DataFrame,
    *,
    scores: pl.DataFrame | None = None,
    enterprises: pl.Series | None = None,
    policy: RollupPolicy = RollupPolicy(),  # noqa: B008 - frozen, immutable default
) -> pl.DataFrame:
    """Level per enterprise.

    ``findings``: credit_code, severity (error/warning), open (bool: still to be handled),
    acknowledged (bool). ``scores``: credit_code, score (the detector's, any months). ``enterprises``:
    every enterprise to report, also those without findings (level "none").
    Returns credit_code, level, errors, warnings, acknowledged, max_score.
    """
    counts = findings.group_by("credit_code").agg(
        (pl.col("open") & (pl.col("severity") == "error")).sum().alias("errors"),
        (pl.col("open") & (pl.col("severity") == "warning")).sum().alias("warnings"),
        pl.col("acknowledged").sum().alias("acknowledged"),
    )
    keys = [counts.select("credit_code")]
    if scores is not None and scores.height:
        best = scores.group_by("credit_code").agg(pl.col("score").max().alias("max_score"))
        keys.append(best.select("credit_code"))
    else:
        best = pl.DataFrame(schema={"credit_code": pl.String, "max_score": pl.Float64})
    if enterprises is not None:
        keys.append(pl.DataFrame({"credit_code": enterprises.cast(pl.String)}))
    everyone = pl.concat([k.with_columns(pl.col("credit_code").cast(pl.String)) for k in keys]).unique()
    table = (
        everyone.join(counts, on="credit_code", how="left")
        .join(best, on="credit_code", how="left")
        .with_columns(pl.col("errors", "warnings", "acknowledged").fill_null(0).cast(pl.Int64))
    )
    level = (
        pl.when((pl.col("errors") > 0) | (pl.col("warnings") >= policy.red_warnings))
        .then(pl.lit("red"))
        .when(pl.col("warnings") > 0)
        .then(pl.lit("yellow"))
        .when((pl.col("acknowledged") > 0) | (pl.col("max_score").fill_null(0) >= policy.blue_score))
        .then(pl.lit("blue"))
        .otherwise(pl.lit("none"))
    )
    return (
        table.with_columns(level.cast(LEVEL_ENUM).alias("level"))
        .select("credit_code", "level", "errors", "warnings", "acknowledged", "max_score")
        .sort("level", "credit_code")
    )


def group_levels(
    levels: pl.DataFrame,
    mapping: pl.DataFrame,
    key: str,
    policy: RollupPolicy = RollupPolicy(),  # noqa: B008
) -> pl.DataFrame:
    """Level per group: ``mapping`` (credit_code, ``key``) assigns enterprises to groups.

    Returns ``key``, level, enterprises, red, yellow, blue, errors, warnings.
    """
    joined = (
        mapping.select(pl.col("credit_code").cast(pl.String), key)
        .join(levels, on="credit_code", how="left")
        .with_columns(pl.col("level").fill_null("none"), pl.col("errors", "warnings").fill_null(0))
    )
    groups = joined.group_by(key).agg(
        pl.len().alias("enterprises"),
        (pl.col("level") == "red").sum().alias("red"),
        (pl.col("level") == "yellow").sum().alias("yellow"),
        (pl.col("level") == "blue").sum().alias("blue"),
        pl.col("errors").sum(),
        pl.col("warnings").sum(),
    )
    n = pl.col("enterprises").cast(pl.Float64)
    level = (
        pl.when(pl.col("red") >= policy.group_red_share * n)
        .then(pl.lit("red"))
        .when((pl.col("red") > 0) | (pl.col("red") + pl.col("yellow") >= policy.group_yellow_share * n))
        .then(pl.lit("yellow"))
        .when(pl.col("red") + pl.col("yellow") + pl.col("blue") > 0)
        .then(pl.lit("blue"))
        .otherwise(pl.lit("none"))
    )
    red_floor = pl.col("red") > 0  # a share rule must never call a group red without a red enterprise
    return (
        groups.with_columns(
            pl.when(red_floor | (level != "red"))
            .then(level)
            .otherwise(pl.lit("none"))
            .cast(LEVEL_ENUM)
            .alias("level")
        )
        .select(key, "level", "enterprises", "red", "yellow", "blue", "errors", "warnings")
        .sort("level", key)
    )
