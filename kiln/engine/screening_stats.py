"""Whole-array statistics over the screening grid (rows = streams, columns = calendar months).

Every function works on a 2-D float array with NaN for "not reported" and never loops over rows.

- ``row_medians``: each row's median over all its months (float32 row sort, NaN last).
- ``trailing``: for every cell, the count, sum, minimum and maximum of the ``window`` months
  before it (the cell itself excluded), via prefix sums and a sparse table of overlapping blocks.
- ``trailing_medians_at``: the exact trailing median of chosen cells only (gather the window, sort).

The trailing median of *every* cell would cost a 12-element sort per cell; the jump check only
needs it where it can matter. Writing the window sorted as x₁ ≤ … ≤ xₙ, the median M satisfies

    (sum − ⌊n/2⌋·max) / ⌈n/2⌉  ≤  M  ≤  (sum − ⌊n/2⌋·min) / ⌈n/2⌉

(the ⌈n/2⌉ smallest values are at most the lower median, the ⌊n/2⌋ largest at most the maximum; and
symmetrically). A cell can be k times above its median only if it is k times above the lower bound,
and k times below only if k times below the upper bound; the exact median is computed for those
candidate cells alone, so the result is the same as computing it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def row_medians(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(median, count of reported months) of each row; median NaN for rows with nothing reported."""
    if values.size == 0:
        return np.zeros(values.shape[0]), np.zeros(values.shape[0], dtype=np.int64)
    sorted_ = values.astype(np.float32)
    sorted_.sort(axis=1)  # NaN sorts last
    count = np.count_nonzero(~np.isnan(sorted_), axis=1)
    rows = np.arange(values.shape[0])
    lo = sorted_[rows, np.maximum(count - 1, 0) // 2]
    hi = sorted_[rows, np.minimum(count // 2, values.shape[1] - 1)]
    median = np.where(count > 0, (lo.astype(np.float64) + hi) / 2.0, np.nan)
    return median, count


@dataclass
class Trailing:
    count: np.ndarray  # int16[rows, months]: reported months in the window before each cell
    total: np.ndarray  # float64: their sum
    low: np.ndarray  # float32: their minimum (NaN when none)
    high: np.ndarray  # float32: their maximum
    values32: np.ndarray  # float32: the values themselves, for cheap single-precision comparisons


def _sliding(values32: np.ndarray, window: int, op) -> np.ndarray:
    """op (np.fmin / np.fmax, which skip NaN) over each block of ``window`` columns [j, j + window).

    A sparse table: blocks of 1, 2, 4 … columns combined in place, then two overlapping blocks. Only
    the first ``months - window`` columns are complete windows (the rest are never read).
    """
    block = values32.copy()
    size = 1
    while size * 2 <= window:
        op(block[:, :-size], block[:, size:], out=block[:, :-size])
        size *= 2
    if size < window:
        op(block[:, : -(window - size)], block[:, window - size :], out=block[:, : -(window - size)])
    return block


def trailing(values: np.ndarray, window: int) -> Trailing:
    """Count, sum, min and max of the ``window`` months before each cell (fewer at the start)."""
    rows, months = values.shape
    w = min(window, months)
    present = ~np.isnan(values)
    prefix = np.zeros((rows, months + 1), dtype=np.int16)
    np.cumsum(present, axis=1, out=prefix[:, 1:])
    count = np.empty((rows, months), dtype=np.int16)
    count[:, :w] = prefix[:, :w]
    if months > window:
        np.subtract(prefix[:, window:months], prefix[:, : months - window], out=count[:, window:])
    del prefix, present
    sums = np.zeros((rows, months + 1))
    np.cumsum(np.nan_to_num(values), axis=1, out=sums[:, 1:])
    total = np.empty((rows, months))
    total[:, :w] = sums[:, :w]
    if months > window:
        np.subtract(sums[:, window:months], sums[:, : months - window], out=total[:, window:])
    del sums

    values32 = values.astype(np.float32)
    extremes = []
    for op in (np.fmin, np.fmax):
        out = np.full((rows, months), np.nan, dtype=np.float32)
        if months > window:
            out[:, window:] = _sliding(values32, window, op)[
                :, : months - window
            ]  # [t - w, t) starts at t - w
        if w > 1:
            out[:, 1:w] = op.accumulate(values32[:, : w - 1], axis=1)  # the first months: [0, t)
        extremes.append(out)
    return Trailing(count=count, total=total, low=extremes[0], high=extremes[1], values32=values32)


def median_bounds(t: Trailing) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of each cell's trailing median (see the module docstring), float32.

    Single precision is enough to *choose candidates* with a relative slack (the caller's); the
    medians reported are computed exactly afterwards. Both bounds are widened by a margin of the
    window's largest value to cover float32 rounding. Computed in place, a few arrays at a time.
    """
    upper_half = np.right_shift(t.count, 1).astype(np.float32)
    lower_half = t.count.astype(np.float32)
    lower_half -= upper_half
    total = t.total.astype(np.float32)
    margin = np.nan_to_num(t.high) * np.float32(1e-5)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        low = upper_half * t.high
        np.subtract(total, low, out=low)
        low /= lower_half
        low -= margin
        high = upper_half
        high *= t.low
        np.subtract(total, high, out=high)
        high /= lower_half
        high += margin
    return low, high


def trailing_medians_at(values: np.ndarray, rows: np.ndarray, months: np.ndarray, window: int) -> np.ndarray:
    """Exact median of the ``window`` months before each (row, month) given; NaN when none reported."""
    if len(rows) == 0:
        return np.zeros(0)
    columns = months[:, None] - window + np.arange(window)[None, :]
    inside = columns >= 0
    gathered = values[
        rows[:, None], np.maximum(columns, 0)
    ]  # float64: only the candidates, so exactness is cheap
    gathered[~inside] = np.nan
    gathered.sort(axis=1)
    count = np.count_nonzero(~np.isnan(gathered), axis=1)
    index = np.arange(len(rows))
    lo = gathered[index, np.maximum(count - 1, 0) // 2]
    hi = gathered[index, np.minimum(count // 2, window - 1)]
    return np.where(count > 0, (lo.astype(np.float64) + hi) / 2.0, np.nan)


def robust_z(
    log_values: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Robust z-score of each value within its group: (x − median) / (1.4826 · MAD).

    Returns (z, group median, group MAD, group size) per value. Groups are integer labels; the
    values are sorted once by (group, value) so medians are positional.
    """
    n = len(log_values)
    if n == 0:
        empty = np.zeros(0)
        return empty, empty, empty, np.zeros(0, dtype=np.int64)
    med = _group_median(log_values, groups)
    dev = np.abs(log_values - med)
    mad = _group_median(dev, groups)
    inverse = np.unique(groups, return_inverse=True)[1]
    size = np.bincount(inverse)[inverse]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (log_values - med) / (1.4826 * mad)
    return z, med, mad, size


def _group_median(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    order = np.lexsort((values, groups))
    g = groups[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    sizes = ends - starts
    sv = values[order]
    lo = sv[starts + (sizes - 1) // 2]
    hi = sv[starts + sizes // 2]
    per_group = (lo + hi) / 2.0
    group_of_sorted = np.repeat(np.arange(len(starts)), sizes)
    out = np.empty(len(values))
    out[order] = per_group[group_of_sorted]
    return out
