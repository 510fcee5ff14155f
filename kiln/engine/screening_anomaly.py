"""Anomaly scores beyond the rules: how unusual each enterprise-month is, for risk-weighted sampling.

A statistical detector over the screening grid (no training, no labels), in the spirit of a
seasonal-decomposition residual: each stream is split into

    log value = log (stream's own median)  +  enterprise movement this month  +  residual

where the *enterprise movement* is the mean (clipped) log deviation of the enterprise's other streams
in the same month: the Spring Festival, an overhaul or a good month lift or lower every stream of a
plant together, so they cancel out, while a slip in one stream remains in its residual. (A
month-of-year term, the median residual of the calendar month over the years, was tried and made
the demo's results worse: the Spring Festival moves between January and February.) Each
residual is scaled by the stream's own robust spread (1.4826 × MAD over time, with a floor), so a
noisy stream needs a larger deviation than a steady one.

Features per enterprise-month (each a robust z-like number, larger = more unusual):

================ ==========================================================================
feature          definition
================ ==========================================================================
flow             largest scaled residual among the enterprise's quantity streams (rows with a
                 note, such as an overhaul, count as explained)
parameter        largest scaled deviation of a measured parameter from its own median
electricity      |log(reported / metered)| / 0.04 (4 % ≈ one unit; the meter is independent)
missing          20 × streams absent this month but reported before and after it
duplicate        20 × cells reported more than once
================ ==========================================================================

``score`` is the largest feature; ``driver`` names it. Ranking enterprise-months by score lets
on-site sampling weight by risk; ``evaluate`` measures precision and recall against known problems.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from kiln.engine import screening_stats as stats
from kiln.engine.normalise import CODE_INDEX, CODES, N_BASE
from kiln.engine.screening import Context
from kiln.engine.screening_checks import _row_medians as row_medians

FEATURES = ("flow", "parameter", "electricity", "missing", "duplicate")
CLIP = 2.0  # cap on one stream's log deviation when averaging an enterprise's movement
FLOW_SCALE_FLOOR = 0.05  # a stream's residual spread is taken as at least 5 %
PARAMETER_SCALE_FLOOR = 0.01
ELECTRICITY_SCALE = 0.04
EVENT_WEIGHT = 20.0  # a missing or duplicated row is a certain problem: ranked with the large deviations
DEFAULT_THRESHOLD = 8.0
SCORE_SCHEMA = {
    "credit_code": pl.String,
    "period": pl.String,
    "score": pl.Float64,
    "driver": pl.String,
    "item": pl.String,
    **{f: pl.Float64 for f in FEATURES},
}


def _log_level(ctx: Context, rows: np.ndarray) -> np.ndarray:
    median, _ = row_medians(ctx)
    values = ctx.values[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.log(values / median[rows, None])
    level[~np.isfinite(level)] = np.nan
    return level


def _scaled(level: np.ndarray, floor: float) -> np.ndarray:
    """|x − row median| / max(1.4826 · MAD of the row, floor)."""
    centre, _ = stats.row_medians(level)
    deviation = np.abs(level - centre[:, None])
    mad, _ = stats.row_medians(deviation)
    scale = np.maximum(1.4826 * np.nan_to_num(mad), floor)
    return deviation / scale[:, None]


def _max_per_cell(ctx: Context, rows: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest z per enterprise-month and the stream it came from (-1 when none)."""
    nm = ctx.n_months
    r, m = np.nonzero(np.isfinite(z))
    if not len(r):
        return np.zeros(ctx.n_enterprises * nm), np.full(ctx.n_enterprises * nm, -1)
    cell = ctx.s_ent[rows[r]].astype(np.int64) * nm + m
    frame = pl.DataFrame({"cell": cell, "z": z[r, m], "stream": rows[r]})
    best = frame.sort("z", descending=True).unique("cell", keep="first")
    out = np.zeros(ctx.n_enterprises * nm)
    stream = np.full(ctx.n_enterprises * nm, -1, dtype=np.int64)
    out[best["cell"].to_numpy()] = best["z"].to_numpy()
    stream[best["cell"].to_numpy()] = best["stream"].to_numpy()
    return out, stream


def features(ctx: Context) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each feature as (value per enterprise-month cell, stream index behind it or -1)."""
    ne, nm = ctx.n_enterprises, ctx.n_months
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    flows = np.flatnonzero(ctx.s_item < N_BASE)
    level = _log_level(ctx, flows)
    valid = np.isfinite(level)
    clipped = np.where(valid, np.clip(np.nan_to_num(level), -CLIP, CLIP), 0.0)
    cell = ctx.s_ent[flows].astype(np.int64)[:, None] * nm + np.arange(nm)[None, :]
    total = np.bincount(cell[valid], weights=clipped[valid], minlength=ne * nm)
    count = np.bincount(cell[valid], minlength=ne * nm)
    others = count[cell] - valid
    with np.errstate(divide="ignore", invalid="ignore"):
        movement = np.where(others > 0, (total[cell] - clipped) / np.maximum(others, 1), 0.0)
    residual = level - movement
    flow_z = _scaled(residual, FLOW_SCALE_FLOOR)
    flow_z[ctx.noted[flows]] = 0.0  # a month with a note (an overhaul) is explained, not anomalous
    out["flow"] = _max_per_cell(ctx, flows, flow_z)

    params = np.flatnonzero(ctx.s_item >= N_BASE)
    out["parameter"] = _max_per_cell(ctx, params, _scaled(_log_level(ctx, params), PARAMETER_SCALE_FLOOR))

    electricity = np.zeros(ne * nm)
    elec_stream = np.full(ne * nm, -1, dtype=np.int64)
    if ctx.metered is not None:
        rows = np.flatnonzero(ctx.s_item == CODE_INDEX["electricity_purchased"])
        values = ctx.values[rows]
        present = ~np.isnan(values)
        ecell = ctx.s_ent[rows].astype(np.int64)[:, None] * nm + np.arange(nm)[None, :]
        reported = np.bincount(ecell[present], weights=values[present], minlength=ne * nm)
        has = np.bincount(ecell[present], minlength=ne * nm) > 0
        metered = ctx.metered.ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = np.abs(np.log(reported / metered)) / ELECTRICITY_SCALE
        ok = has & (metered > 0) & np.isfinite(gap)
        electricity[ok] = gap[ok]
        first = np.full(ne, -1, dtype=np.int64)
        first[ctx.s_ent[rows][::-1]] = rows[::-1]
        elec_stream = np.repeat(first, nm)
    out["electricity"] = (electricity, elec_stream)

    present = ~np.isnan(ctx.values[flows])
    before = np.maximum.accumulate(present, axis=1)
    after = np.maximum.accumulate(present[:, ::-1], axis=1)[:, ::-1]
    gap_cells = ~present & before & after
    missing = np.bincount(cell[gap_cells], minlength=ne * nm) * EVENT_WEIGHT
    gap_stream = np.full(ne * nm, -1, dtype=np.int64)
    gap_stream[cell[gap_cells]] = np.broadcast_to(flows[:, None], gap_cells.shape)[gap_cells]
    out["missing"] = (missing, gap_stream)

    stream, m = np.divmod(ctx.dup_cells, nm)
    dcell = ctx.s_ent[stream].astype(np.int64) * nm + m
    duplicate = np.bincount(dcell, minlength=ne * nm) * EVENT_WEIGHT
    dup_stream = np.full(ne * nm, -1, dtype=np.int64)
    dup_stream[dcell] = stream
    out["duplicate"] = (duplicate, dup_stream)
    return out


def score(ctx: Context) -> pl.DataFrame:
    """One row per enterprise-month that has data: score, driver, the item behind it and each feature.

    Sorted by score, highest first. Only screened months are returned.
    """
    if ctx.n_streams == 0:
        return pl.DataFrame(schema=SCORE_SCHEMA)
    ne, nm = ctx.n_enterprises, ctx.n_months
    feats = features(ctx)
    matrix = np.stack([feats[f][0] for f in FEATURES])
    streams = np.stack([feats[f][1] for f in FEATURES])
    top = np.argmax(matrix, axis=0)
    best = matrix[top, np.arange(ne * nm)]
    stream = streams[top, np.arange(ne * nm)]
    keep = ctx.ent_present.ravel() & np.tile(ctx.screened, ne)
    cells = np.flatnonzero(keep)
    ent, m = np.divmod(cells, nm)
    item_index = np.where(stream[cells] >= 0, ctx.s_item[np.maximum(stream[cells], 0)], len(CODES))
    frame = pl.DataFrame(
        {
            "credit_code": pl.Series(ctx.codes, dtype=pl.String).gather(pl.Series(ent)),
            "period": pl.Series(ctx.months, dtype=pl.String).gather(pl.Series(m)),
            "score": best[cells],
            "driver": pl.Series(FEATURES, dtype=pl.String).gather(pl.Series(top[cells])),
            "item": pl.Series([*CODES, ""], dtype=pl.String).gather(pl.Series(item_index)),
            **{f: matrix[i, cells] for i, f in enumerate(FEATURES)},
        }
    )
    return frame.sort("score", "credit_code", "period", descending=[True, False, False])


def evaluate(scores: pl.DataFrame, truth: pl.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Precision and recall of "score ≥ threshold" against known problem enterprise-months.

    ``truth``: credit_code, period (one row per problem; several problems in one month count once),
    optionally ``kind`` for recall per kind. Also reports precision at k = number of true months.
    """
    true = truth.select(pl.col("credit_code").cast(pl.String), pl.col("period").cast(pl.String)).unique()
    flagged = scores.filter(pl.col("score") >= threshold).select("credit_code", "period")
    tp = flagged.join(true, on=["credit_code", "period"]).height
    k = true.height
    top_k = scores.head(k).select("credit_code", "period").join(true, on=["credit_code", "period"]).height
    result = {
        "threshold": threshold,
        "true_months": k,
        "flagged": flagged.height,
        "true_positives": tp,
        "precision": tp / flagged.height if flagged.height else 0.0,
        "recall": tp / k if k else 0.0,
        "precision_at_k": top_k / k if k else 0.0,
        "scored_months": scores.height,
    }
    if "kind" in truth.columns:
        hits = truth.with_columns(
            pl.col("credit_code").cast(pl.String), pl.col("period").cast(pl.String)
        ).join(flagged.with_columns(pl.lit(True).alias("hit")), on=["credit_code", "period"], how="left")
        by_kind = hits.group_by("kind").agg(pl.col("hit").fill_null(False).mean()).sort("kind")
        result["recall_by_kind"] = dict(
            zip(by_kind["kind"].to_list(), map(float, by_kind["hit"].to_list()), strict=True)
        )
    return result
