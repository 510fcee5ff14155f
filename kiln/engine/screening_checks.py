"""The screening checks: one function per ``screening.CHECKS`` entry, each whole-array over the grid.

Every check reads its bounds and tolerances from the rule (``rule.low``, ``rule.high``,
``rule.param(...)``) and reports findings only for screened months. Units: values are in the
item's canonical unit (``kiln.engine.items``): t, 1e4Nm3, MWh, GJ for quantities; GJ/t or
GJ/1e4Nm3, tC/GJ, fractions for parameters; metered electricity in MWh; emissions in tCO2.

What each check puts in the findings' value / low / high / reference / score:

=================== ============================ ============== ====================== =================
check               value                        low / high     reference              score
=================== ============================ ============== ====================== =================
duplicate_row       rows with the same key       –              –                      –
duplicate_evidence  enterprises (or months)      –              –                      –
                    sharing the file             (detail: SHA-256 prefix)
missing_month       –                            –              last reported value    months since then
missing_evidence    months in the gap            –              –                      months in the gap
                    (detail: first..last month; one finding per gap, period = its first month)
missing_parameter   the quantity reported        –              –                      –
unit_scale          the value                    –              stream median          value / median
range               the parameter                rule bounds    –                      –
intensity_range     tCO2 per unit of product     rule bounds    –                      –
jump_mom            this month                   –              previous month         ratio
jump_median         this month                   –              trailing median        ratio
parameter_shift     the parameter                median ± tol   stream median          value / median
metered_electricity reported MWh                 meter ± tol    metered MWh            relative difference
metered_unreported  –                            –              metered MWh            –
annual_sum          sum of the year's months     annual ± tol   annual report value    relative difference
lab_element_carbon  implied element carbon tC/t  rule bounds    –                      –
lab_mass_balance    C + H + S + moisture         – / rule high  –                      components found
lab_ncv_composition reported NCV                 pred. ± tol    predicted NCV (GJ/t)   relative difference
peer_intensity      tCO2 per unit of product     –              peer median            robust z
peer_value_added    tCO2 per 10^4 CNY            –              peer median            robust z
=================== ============================ ============== ====================== =================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from kiln.engine import items as catalogue
from kiln.engine import screening_stats as stats
from kiln.engine.normalise import CODE_INDEX, CODE_PARAM_ITEM, CODES, N_BASE
from kiln.engine.screening import PRODUCT_PRIORITY, Context, Findings, Rule, month_deadline

CODE_PARAM_ITEM_NP = CODE_PARAM_ITEM.to_numpy().astype(np.int64)
MOVEMENT_CLIP = 2.0  # natural-log cap on one stream's movement when averaging an enterprise's
PARAMETER_OF = np.array([c.partition(".")[2] for c in CODES], dtype=object)


# --- scope helpers -----------------------------------------------------------------------------------------


def _streams(ctx: Context, rule: Rule, *, parameters: bool, codes: list[int] | None = None) -> np.ndarray:
    """Indices of the streams a rule applies to: quantities or parameters, its item and sector."""
    mask = (ctx.s_item >= N_BASE) if parameters else (ctx.s_item < N_BASE)
    if codes is not None:
        mask &= np.isin(ctx.s_item, np.asarray(codes, dtype=np.int64))
    elif rule.item and not parameters:
        mask &= ctx.s_item == CODE_INDEX.get(rule.item, -1)
    elif rule.item and parameters:
        mask &= CODE_PARAM_ITEM_NP[ctx.s_item] == CODE_INDEX.get(rule.item, -1)
    if rule.sector:
        mask &= ctx.sector_match(rule)[ctx.s_ent]
    return np.flatnonzero(mask)


def _parameter_codes(item: str, parameter: str) -> list[int]:
    """CODES indices of ``<item>.<parameter>`` (every item having the parameter when ``item`` is "")."""
    if item:
        code = CODE_INDEX.get(f"{item}.{parameter}")
        return [code] if code is not None else []
    return [i for i, c in enumerate(CODES) if c.partition(".")[2] == parameter]


def _take(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``array[rows]``, as a view (no copy) when the rows are one contiguous run, as they usually are."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return array[rows[0] : rows[-1] + 1]
    return array[rows]


def _cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r, m = np.nonzero(mask)
    return r, m


def _flag(ctx: Context, name: str) -> np.ndarray:
    flag = ctx.flags.get(name)
    if flag is None:
        flag = np.zeros(ctx.values.shape, dtype=bool)
        ctx.flags[name] = flag
    return flag


def _row_medians(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    if "row_medians" not in ctx.cache:
        ctx.cache["row_medians"] = stats.row_medians(ctx.values)
    return ctx.cache["row_medians"]  # type: ignore[return-value]


def _per_enterprise_month(
    ctx: Context, rows: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sum of ``values`` (rows × months, NaN = absent) per enterprise and month, and how many were present."""
    ne, nm = ctx.n_enterprises, ctx.n_months
    present = ~np.isnan(values)
    cell = ctx.s_ent[rows].astype(np.int64)[:, None] * nm + np.arange(nm)[None, :]
    total = np.bincount(cell[present], weights=values[present], minlength=ne * nm).reshape(ne, nm)
    count = np.bincount(cell[present], minlength=ne * nm).reshape(ne, nm)
    return total, count


# --- duplicates -------------------------------------------------------------------------------------------


def duplicate_row(ctx: Context, rule: Rule, out: Findings) -> None:
    stream, m = np.divmod(ctx.dup_cells, ctx.n_months)
    keep = ctx.screened[m]
    if rule.item:
        keep &= ctx.s_item[stream] == CODE_INDEX.get(rule.item, -1)
    stream, m = stream[keep], m[keep]
    out.add(rule, ctx.s_ent[stream], m, ctx.s_item[stream], ctx.s_fac[stream], ctx.dup_counts[keep])


def duplicate_evidence(ctx: Context, rule: Rule, out: Findings) -> None:
    ev = ctx.evidence
    assert ev is not None
    kinds = list(rule.param("kinds") or [])
    if kinds:
        ev = ev.filter(pl.col("kind").is_in(kinds))
    across = rule.param("across")
    if across == "months":
        groups = ["credit_code", "sha256"]
        shared = ev.group_by(groups).agg(pl.col("period").n_unique().alias("n"))
    else:
        groups = ["sha256"]
        shared = ev.group_by(groups).agg(pl.col("credit_code").n_unique().alias("n"))
    hits = (
        ev.join(shared.filter(pl.col("n") > 1), on=groups)
        .filter((pl.col("ent") >= 0) & pl.col("m").is_not_null())
        .unique(["ent", "m", "sha256"])
        .sort("ent", "m", "sha256")
    )
    if hits.height == 0:
        return
    m = hits["m"].to_numpy().astype(np.int64)
    hits = hits.filter(pl.Series(ctx.screened[m]))
    out.add(
        rule,
        hits["ent"].to_numpy(),
        hits["m"].to_numpy().astype(np.int64),
        -1,
        0,
        hits["n"].to_numpy().astype(np.float64),
        detail=hits["sha256"].str.slice(0, 16).to_list(),
    )


# --- completeness ------------------------------------------------------------------------------------------


def _months_since_last(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every cell, months since the last reported month strictly before it (32767 when none),
    and that month's index (-1 when none)."""
    nm = present.shape[1]
    idx = np.where(present, np.arange(nm, dtype=np.int16)[None, :], np.int16(-1))
    np.maximum.accumulate(idx, axis=1, out=idx)
    before = np.full_like(idx, -1)
    before[:, 1:] = idx[:, :-1]
    gap = np.arange(nm, dtype=np.int16)[None, :] - before
    gap[before < 0] = np.iinfo(np.int16).max
    return gap, before


def missing_month(ctx: Context, rule: Rule, out: Findings) -> None:
    max_gap = int(rule.param("max_gap"))
    # The whole enterprise silent: one finding for the month, not one per item.
    ent_rows = np.flatnonzero(ctx.sector_match(rule)) if rule.sector else np.arange(ctx.n_enterprises)
    if not rule.item:
        present = ctx.ent_present[ent_rows]
        gap, _ = _months_since_last(present)
        e, m = _cells(~present & (gap <= max_gap) & ctx.screened[None, :])
        out.add(rule, ent_rows[e], m, -1, 0, np.full(len(e), np.nan), score=gap[e, m])
    rows = _streams(ctx, rule, parameters=False)
    values = _take(ctx.values, rows)
    present = ~np.isnan(values)
    gap, before = _months_since_last(present)
    silent = ~present & (gap <= max_gap) & ctx.ent_present[ctx.s_ent[rows]] & ctx.screened[None, :]
    r, m = _cells(silent)
    last_value = values[r, before[r, m]]
    s = rows[r]
    out.add(
        rule,
        ctx.s_ent[s],
        m,
        ctx.s_item[s],
        ctx.s_fac[s],
        np.full(len(s), np.nan),
        reference=last_value,
        score=gap[r, m],
    )


def missing_evidence(ctx: Context, rule: Rule, out: Findings) -> None:
    """Gaps in the monthly evidence deposit: one finding per run of consecutive months of an obliged
    enterprise that has data but no evidence once the month's deadline (``deadline_days`` after month
    end) has passed, counting from the month ``start`` (YYYY-MM; "" = every month on the axis), the
    month the obligation began (the platform went live, say).

    A gap is reported when it reaches into a screened month; its period is the gap's first month (so
    the finding stays the same one while the gap grows), ``value`` and ``score`` the number of months,
    ``detail`` the months (``first..last``). A month without data ends a gap. Gaps of up to
    ``error_over_months`` months are warnings; longer ones take the rule's severity.
    """
    assert ctx.evidence is not None
    days = int(rule.param("deadline_days"))
    start = str(rule.param("start") or "")[:7]  # a date is taken as its month
    due = np.array([month_deadline(p, days) < ctx.as_of and p >= start for p in ctx.months], dtype=bool)
    deposited = np.zeros((ctx.n_enterprises, ctx.n_months), dtype=bool)
    ev = ctx.evidence.filter((pl.col("ent") >= 0) & pl.col("m").is_not_null())
    deposited[ev["ent"].to_numpy(), ev["m"].to_numpy()] = True
    scope = ctx.ent_obliged & ctx.sector_match(rule)
    missing = ctx.ent_present & ~deposited & scope[:, None] & due[None, :]
    edges = np.diff(np.pad(missing, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    e, first = np.nonzero(edges == 1)  # row-major: the n-th start and the n-th end are one gap
    _, end = np.nonzero(edges == -1)  # one past the gap's last month
    screened = np.concatenate([[0], np.cumsum(ctx.screened)])
    keep = screened[end] > screened[first]  # the gap has a screened month
    e, first, end = e[keep], first[keep], end[keep]
    months = (end - first).astype(np.float64)
    limit = int(rule.param("error_over_months"))
    out.add(
        rule,
        e,
        first,
        -1,
        0,
        months,
        score=months,
        detail=[
            ctx.months[a] if b - a == 1 else f"{ctx.months[a]}..{ctx.months[b - 1]}"
            for a, b in zip(first.tolist(), end.tolist(), strict=True)
        ],
        severity=np.where(end - first > limit, rule.severity, "warning").tolist(),
    )


def missing_parameter(ctx: Context, rule: Rule, out: Findings) -> None:
    requirements = rule.param("requirements") or {}
    for sector, items in requirements.items():
        in_sector = ctx.sector_match(Rule(rule.rule_id, rule.check, sector=sector))
        for item, parameters in items.items():
            base = CODE_INDEX.get(item)
            if base is None:
                continue
            rows = np.flatnonzero((ctx.s_item == base) & in_sector[ctx.s_ent])
            if not len(rows):
                continue
            reported = ~np.isnan(_take(ctx.values, rows)) & ctx.screened[None, :]
            for parameter in parameters:
                code = CODE_INDEX.get(f"{item}.{parameter}")
                if code is None:
                    continue
                codes = np.full(len(rows), code)
                at_facility = ctx.stream_of(ctx.s_ent[rows], codes, ctx.s_fac[rows])
                overall = ctx.stream_of(ctx.s_ent[rows], codes, np.zeros(len(rows), dtype=np.int64))
                has = np.zeros(reported.shape, dtype=bool)
                for partner in (at_facility, overall):
                    ok = partner >= 0
                    has[ok] |= ~np.isnan(ctx.values[partner[ok]])
                r, m = _cells(reported & ~has)
                s = rows[r]
                out.add(rule, ctx.s_ent[s], m, code, ctx.s_fac[s], ctx.values[s, m])


# --- units -------------------------------------------------------------------------------------------------


def unit_scale(ctx: Context, rule: Rule, out: Findings) -> None:
    factor, tolerance = float(rule.param("factor")), float(rule.param("tolerance"))
    parameters = rule.param("applies_to") == "parameters"
    codes = _parameter_codes(rule.item, rule.parameter) if parameters and rule.parameter else None
    rows = _streams(ctx, rule, parameters=parameters, codes=codes)
    median, count = _row_medians(ctx)
    values = _take(ctx.values, rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values / median[rows, None]
    if rule.param("direction") == "down":
        low, high = 1.0 / (factor * tolerance), tolerance / factor
    else:
        low, high = factor / tolerance, factor * tolerance
    hit = (ratio >= low) & (ratio <= high) & (count[rows, None] >= int(rule.param("min_months")))
    _flag(ctx, "unit")[rows] |= hit
    r, m = _cells(hit & ctx.screened[None, :])
    s = rows[r]
    out.add(
        rule,
        ctx.s_ent[s],
        m,
        ctx.s_item[s],
        ctx.s_fac[s],
        values[r, m],
        reference=median[s],
        score=ratio[r, m],
    )


# --- ranges ------------------------------------------------------------------------------------------------


def range_(ctx: Context, rule: Rule, out: Findings) -> None:
    if rule.parameter:
        rows = _streams(ctx, rule, parameters=True, codes=_parameter_codes(rule.item, rule.parameter))
    else:
        rows = _streams(ctx, rule, parameters=False)
    values = _take(ctx.values, rows)
    low = -np.inf if rule.low is None else rule.low
    high = np.inf if rule.high is None else rule.high
    r, m = _cells(((values < low) | (values > high)) & ctx.screened[None, :])
    s = rows[r]
    out.add(rule, ctx.s_ent[s], m, ctx.s_item[s], ctx.s_fac[s], values[r, m], low=rule.low, high=rule.high)


def _main_product(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """(CODES index of each enterprise's main product or -1, output per enterprise-month or NaN)."""
    if "main_product" in ctx.cache:
        return ctx.cache["main_product"]  # type: ignore[return-value]
    ne = ctx.n_enterprises
    priority = np.full(len(CODES), len(PRODUCT_PRIORITY), dtype=np.int64)
    for rank, item in enumerate(PRODUCT_PRIORITY):
        priority[CODE_INDEX[item]] = rank
    rank_of_stream = priority[ctx.s_item]
    candidates = np.flatnonzero(rank_of_stream < len(PRODUCT_PRIORITY))
    best = np.full(ne, len(PRODUCT_PRIORITY), dtype=np.int64)
    np.minimum.at(best, ctx.s_ent[candidates], rank_of_stream[candidates])
    chosen = candidates[rank_of_stream[candidates] == best[ctx.s_ent[candidates]]]
    total, count = _per_enterprise_month(ctx, chosen, ctx.values[chosen])
    output = np.where(count > 0, total, np.nan)
    product_codes = np.array([CODE_INDEX[i] for i in PRODUCT_PRIORITY] + [-1], dtype=np.int64)
    result = (product_codes[best], output)
    ctx.cache["main_product"] = result
    return result


def _intensity(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    product, output = _main_product(ctx)
    assert ctx.emissions is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(output > 0, ctx.emissions / output, np.nan)
    return product, intensity


def intensity_range(ctx: Context, rule: Rule, out: Findings) -> None:
    product, intensity = _intensity(ctx)
    scope = ctx.sector_match(rule)
    if rule.item:
        scope &= product == CODE_INDEX.get(rule.item, -2)
    low = -np.inf if rule.low is None else rule.low
    high = np.inf if rule.high is None else rule.high
    e, m = _cells(((intensity < low) | (intensity > high)) & scope[:, None] & ctx.screened[None, :])
    out.add(rule, e, m, product[e], 0, intensity[e, m], low=rule.low, high=rule.high)


# --- jumps -------------------------------------------------------------------------------------------------


def _trailing(ctx: Context, window: int) -> stats.Trailing:
    key = f"trailing:{window}"
    if key not in ctx.cache:
        ctx.cache[key] = stats.trailing(ctx.values[: ctx.n_flows], window)
    return ctx.cache[key]  # type: ignore[return-value]


def _trailing_bounds(ctx: Context, window: int) -> tuple[np.ndarray, np.ndarray]:
    key = f"bounds:{window}"
    if key not in ctx.cache:
        ctx.cache[key] = stats.median_bounds(_trailing(ctx, window))
    return ctx.cache[key]  # type: ignore[return-value]


def _enterprise_streams(ctx: Context, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The given streams grouped by enterprise: (streams in enterprise order, start, count per enterprise)."""
    key = f"by_enterprise:{rows[0] if len(rows) else 0}:{len(rows)}"
    if key not in ctx.cache:
        order = rows[np.argsort(ctx.s_ent[rows], kind="stable")]
        count = np.bincount(ctx.s_ent[rows], minlength=ctx.n_enterprises)
        start = np.zeros(ctx.n_enterprises, dtype=np.int64)
        np.cumsum(count[:-1], out=start[1:])
        ctx.cache[key] = (order, start, count)
    return ctx.cache[key]  # type: ignore[return-value]


def _others_movement(ctx: Context, rows: np.ndarray, s: np.ndarray, m: np.ndarray, level) -> np.ndarray:
    """Leave-one-out mean (clipped) log movement of the enterprise's *other* streams in the same month.

    When a whole enterprise goes quiet (the Spring Festival, a strike, a shutdown) every stream drops
    together; a stream is only said to jump when it moves unlike the others. ``level(streams, months)``
    gives the log movement of any (stream, month) pairs; it is evaluated only for the enterprises and
    months of the cells asked about, never for the whole grid. 0 when the enterprise has no other stream.
    """
    if not len(s):
        return np.zeros(0)
    order, start, count = _enterprise_streams(ctx, rows)
    ent = ctx.s_ent[s]
    n = count[ent]
    owner = np.repeat(np.arange(len(s)), n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    streams = order[np.repeat(start[ent], n) + offset]
    months = np.repeat(m, n)
    moves = level(streams, months)
    valid = np.isfinite(moves) & (streams != np.repeat(s, n))
    clipped = np.clip(np.where(valid, moves, 0.0), -MOVEMENT_CLIP, MOVEMENT_CLIP)
    total = np.bincount(owner, weights=clipped, minlength=len(s))
    others = np.bincount(owner, weights=valid, minlength=len(s))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(others > 0, total / np.maximum(others, 1), 0.0)


def jump_median(ctx: Context, rule: Rule, out: Findings) -> None:
    k, window = float(rule.param("ratio")), int(rule.param("window"))
    min_months, min_value = int(rule.param("min_months")), float(rule.param("min_value"))
    rows = _streams(ctx, rule, parameters=False)
    values = _take(ctx.values, rows)
    t = _trailing(ctx, window)  # over the quantity streams, which are rows [0, n_flows)
    lower, upper = _trailing_bounds(ctx, window)
    lower, upper, count = _take(lower, rows), _take(upper, rows), _take(t.count, rows)
    v32 = _take(t.values32, rows)
    # Candidates in single precision (the bounds already carry their rounding margin), in place.
    slack = np.float32(1e-4)
    with np.errstate(invalid="ignore"):
        scaled = v32 * (np.float32(1) + slack)
        bound = lower * np.float32(k)
        candidate = scaled >= bound
        np.multiply(v32, np.float32(k) * (np.float32(1) - slack), out=scaled)
        candidate |= scaled <= upper
        del scaled, bound
    candidate &= count >= min_months
    candidate &= ~_take(ctx.noted, rows)
    candidate &= ~_take(_flag(ctx, "unit"), rows)
    r, m = _cells(candidate)
    median = stats.trailing_medians_at(ctx.values, rows[r], m, window)
    v = values[r, m]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = v / median
        raw = np.log(ratio)
    log_k = np.log(k) - 1e-12
    hit = (np.abs(raw) >= log_k) & (np.maximum(v, median) >= min_value) & (median >= 0)
    if rule.param("relative_to_enterprise") is not False and hit.any():
        # The enterprise's movement this month: its other streams against their own medians.
        row_median, _ = _row_medians(ctx)

        def level(streams, months):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log(ctx.values[streams, months] / row_median[streams])

        movement = np.zeros(len(r))
        movement[hit] = _others_movement(ctx, rows, rows[r[hit]], m[hit], level)
        hit &= np.abs(raw - movement) >= log_k
    hit &= ctx.screened[m]
    r, m, ratio, median, v = r[hit], m[hit], ratio[hit], median[hit], v[hit]
    s = rows[r]
    out.add(rule, ctx.s_ent[s], m, ctx.s_item[s], ctx.s_fac[s], v, reference=median, score=ratio)


def jump_mom(ctx: Context, rule: Rule, out: Findings) -> None:
    k, min_value = float(rule.param("ratio")), float(rule.param("min_value"))
    rows = _streams(ctx, rule, parameters=False)
    values = _take(ctx.values, rows)
    prev, cur = values[:, :-1], values[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = cur / prev
    # Ratios first (cheap); logarithms only for the cells that moved.
    up, down = k * (1 - 1e-12), (1 - 1e-12) / k
    moved = (ratio >= up) | (ratio <= down)
    moved &= np.fmax(cur, prev) >= min_value
    quiet = ~(_take(ctx.noted, rows) | _take(_flag(ctx, "unit"), rows))
    moved &= quiet[:, 1:]
    moved &= quiet[:, :-1]
    r, m = _cells(moved)
    log_k = np.log(k) - 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.log(ratio[r, m])
    if rule.param("relative_to_enterprise") is not False and len(r):

        def level(streams, months):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.log(ctx.values[streams, months] / ctx.values[streams, months - 1])

        step = step - _others_movement(ctx, rows, rows[r], m + 1, level)
        keep = np.abs(step) >= log_k
        r, m, step = r[keep], m[keep], step[keep]
    # A month that only returns to normal after a one-month spike (or dip) is not a new jump.
    direction = np.zeros(ratio.shape, dtype=np.int8)
    direction[r, m] = np.sign(step).astype(np.int8)
    before = np.zeros(len(r), dtype=np.int8)
    later = m > 0
    before[later] = direction[r[later], m[later] - 1]
    keep = ((before == 0) | (np.sign(step) == before)) & ctx.screened[m + 1]
    r, m = r[keep], m[keep]
    s = rows[r]
    out.add(
        rule,
        ctx.s_ent[s],
        m + 1,
        ctx.s_item[s],
        ctx.s_fac[s],
        cur[r, m],
        reference=prev[r, m],
        score=ratio[r, m],
    )


def parameter_shift(ctx: Context, rule: Rule, out: Findings) -> None:
    codes = _parameter_codes(rule.item, rule.parameter) if rule.parameter else None
    rows = _streams(ctx, rule, parameters=True, codes=codes)
    median, count = _row_medians(ctx)
    default = float(rule.param("tolerance"))
    per_parameter = dict(rule.param("tolerances") or {})
    tolerance = np.array([float(per_parameter.get(PARAMETER_OF[c], default)) for c in range(len(CODES))])
    tol = tolerance[ctx.s_item[rows]][:, None]
    values = _take(ctx.values, rows)
    ref = median[rows, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values / ref
    hit = (np.abs(ratio - 1.0) > tol) & (ref > 0) & (count[rows, None] >= int(rule.param("min_months")))
    hit &= ~_take(_flag(ctx, "unit"), rows) & ctx.screened[None, :]
    r, m = _cells(hit)
    s = rows[r]
    out.add(
        rule,
        ctx.s_ent[s],
        m,
        ctx.s_item[s],
        ctx.s_fac[s],
        values[r, m],
        low=ref[r, 0] * (1 - tol[r, 0]),
        high=ref[r, 0] * (1 + tol[r, 0]),
        reference=ref[r, 0],
        score=ratio[r, m],
    )


# --- cross-source ------------------------------------------------------------------------------------------


def _reported_electricity(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """Reported purchased electricity per enterprise-month (MWh, NaN when not reported) and unit flags."""
    rows = np.flatnonzero(ctx.s_item == CODE_INDEX["electricity_purchased"])
    total, count = _per_enterprise_month(ctx, rows, _take(ctx.values, rows))
    reported = np.where(count > 0, total, np.nan)
    unit = _flag(ctx, "unit")[rows]
    flagged = np.zeros((ctx.n_enterprises, ctx.n_months), dtype=bool)
    r, m = np.nonzero(unit)
    flagged[ctx.s_ent[rows[r]], m] = True
    return reported, flagged


def metered_electricity(ctx: Context, rule: Rule, out: Findings) -> None:
    tolerance = float(rule.param("tolerance"))
    reported, unit = _reported_electricity(ctx)
    metered = ctx.metered
    assert metered is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = (reported - metered) / metered
    scope = ctx.sector_match(rule)[:, None]
    e, m = _cells((np.abs(relative) > tolerance) & (metered > 0) & ~unit & scope & ctx.screened[None, :])
    code = CODE_INDEX["electricity_purchased"]
    out.add(
        rule,
        e,
        m,
        code,
        0,
        reported[e, m],
        low=metered[e, m] * (1 - tolerance),
        high=metered[e, m] * (1 + tolerance),
        reference=metered[e, m],
        score=relative[e, m],
    )


def metered_unreported(ctx: Context, rule: Rule, out: Findings) -> None:
    reported, _ = _reported_electricity(ctx)
    metered = ctx.metered
    assert metered is not None
    scope = ctx.sector_match(rule)[:, None]
    silent = np.isnan(reported) & (metered >= float(rule.param("min_mwh"))) & ctx.ent_present
    e, m = _cells(silent & scope & ctx.screened[None, :])
    out.add(
        rule, e, m, CODE_INDEX["electricity_purchased"], 0, np.full(len(e), np.nan), reference=metered[e, m]
    )


def annual_sum(ctx: Context, rule: Rule, out: Findings) -> None:
    """Per enterprise, year, item and facility: the sum of the monthly quantities against the submitted
    annual report. Only whole calendar years on the axis with a screened month are compared, and only
    enterprise-years that have an annual report; an item in one but not the other counts as 0 there."""
    annual = ctx.annual
    assert annual is not None
    tolerance = float(rule.param("tolerance"))
    years = np.array([int(p[:4]) for p in ctx.months])
    screened_years = sorted({int(y) for y, s in zip(years, ctx.screened, strict=True) if s})
    rows = _streams(ctx, rule, parameters=False)
    scope = ctx.sector_match(rule)
    item_code = CODE_INDEX.get(rule.item, -1) if rule.item else None
    for year in screened_years:
        cols = years == year
        if cols.sum() < 12:
            continue  # a partial year cannot be compared with an annual total
        year_rows = annual.filter(pl.col("year") == year)
        year_rows = year_rows.filter(
            pl.Series(scope[year_rows.get_column("ent").to_numpy()], dtype=pl.Boolean)
        )
        if year_rows.height == 0:
            continue  # nobody in scope has an annual report for this year
        with_report = year_rows.get_column("ent").unique().to_numpy()
        reported = year_rows if item_code is None else year_rows.filter(pl.col("code") == item_code)
        mine = rows[np.isin(ctx.s_ent[rows], with_report)]
        block = ctx.values[mine][:, cols]
        monthly = pl.DataFrame(
            {
                "ent": ctx.s_ent[mine].astype(np.int64),
                "code": ctx.s_item[mine].astype(np.int64),
                "fac": ctx.s_fac[mine].astype(np.int64),
                "monthly": np.nansum(block, axis=1) if len(mine) else np.zeros(0),
            }
        )
        totals = reported.group_by("ent", "code", "fac").agg(
            pl.col("quantity").sum().alias("annual"), pl.col("facility").first()
        )
        joined = (
            monthly.join(totals, on=["ent", "code", "fac"], how="full", coalesce=True)
            .with_columns(pl.col("monthly").fill_null(0.0), pl.col("annual").fill_null(0.0))
            .with_columns((pl.col("monthly") - pl.col("annual")).alias("difference"))
            .filter(
                (
                    pl.col("difference").abs()
                    > tolerance * pl.max_horizontal(pl.col("annual").abs(), pl.lit(1e-9))
                )
                & (pl.col("difference").abs() > 1e-9)
            )
            .sort("ent", "code", "fac")
        )
        if joined.height == 0:
            continue
        annual_values = joined.get_column("annual").to_numpy()
        unknown_facility = joined.get_column("fac").to_numpy() < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(
                annual_values != 0, joined.get_column("difference").to_numpy() / annual_values, np.nan
            )
        facility_names = joined.get_column("facility").fill_null("").to_list()
        out.add(
            rule,
            joined.get_column("ent").to_numpy(),
            [str(year)] * joined.height,
            joined.get_column("code").to_numpy(),
            np.where(unknown_facility, 0, joined.get_column("fac").to_numpy()),
            joined.get_column("monthly").to_numpy(),
            low=annual_values * (1 - tolerance),
            high=annual_values * (1 + tolerance),
            reference=annual_values,
            score=relative,
            # a facility of the annual report that no month reports: named here (the grid has no column for it)
            detail=[
                f if unknown else None for f, unknown in zip(facility_names, unknown_facility, strict=True)
            ],
        )


# --- laboratory tuple (same sample: C, NCV, H, S, moisture) -------------------------------------------------


def _tonne_fuels(item: str) -> list[str]:
    """Fuels measured in tonnes (element carbon is a mass fraction only for them)."""
    fuels = [i.code for i in catalogue.ITEMS.values() if "ncv" in i.parameters and i.unit == "t"]
    return [item] if item and item in fuels else ([] if item else fuels)


def _samples(ctx: Context, fuels: list[str]) -> dict[str, np.ndarray]:
    """One row per (enterprise, fuel, facility) with any laboratory parameter: stream of each component."""
    names = ("carbon_content", "ncv", "hydrogen", "sulphur", "moisture")
    codes = [CODE_INDEX[f"{f}.{n}"] for f in fuels for n in names if f"{f}.{n}" in CODE_INDEX]
    rows = np.flatnonzero(np.isin(ctx.s_item, np.asarray(codes, dtype=np.int64)))
    base = CODE_PARAM_ITEM_NP[ctx.s_item[rows]]
    triples = (
        np.unique(
            np.stack([ctx.s_ent[rows].astype(np.int64), base, ctx.s_fac[rows].astype(np.int64)]), axis=1
        )
        if len(rows)
        else np.zeros((3, 0), dtype=np.int64)
    )
    ent, fuel, fac = triples
    found = {"ent": ent, "fuel": fuel, "fac": fac}
    fuel_names = np.array(CODES, dtype=object)[fuel] if len(fuel) else np.zeros(0, dtype=object)
    for name in names:
        code = np.array([CODE_INDEX.get(f"{f}.{name}", -1) for f in fuel_names], dtype=np.int64)
        found[name] = ctx.stream_of(ent, code, fac) if len(ent) else np.zeros(0, dtype=np.int64)
    return found


def _component(ctx: Context, streams: np.ndarray) -> np.ndarray:
    out = np.full((len(streams), ctx.n_months), np.nan)
    ok = streams >= 0
    out[ok] = ctx.values[streams[ok]]
    return out


def lab_element_carbon(ctx: Context, rule: Rule, out: Findings) -> None:
    sample = _samples(ctx, _tonne_fuels(rule.item))
    carbon = _component(ctx, sample["carbon_content"]) * _component(ctx, sample["ncv"])
    low = -np.inf if rule.low is None else rule.low
    high = np.inf if rule.high is None else rule.high
    r, m = _cells(((carbon < low) | (carbon > high)) & ctx.screened[None, :])
    code = np.array([CODE_INDEX[f"{CODES[f]}.carbon_content"] for f in sample["fuel"][r]], dtype=np.int64)
    out.add(rule, sample["ent"][r], m, code, sample["fac"][r], carbon[r, m], low=rule.low, high=rule.high)


def lab_mass_balance(ctx: Context, rule: Rule, out: Findings) -> None:
    sample = _samples(ctx, _tonne_fuels(rule.item))
    parts = [
        _component(ctx, sample["carbon_content"]) * _component(ctx, sample["ncv"]),
        _component(ctx, sample["hydrogen"]),
        _component(ctx, sample["sulphur"]),
        _component(ctx, sample["moisture"]),
    ]
    stacked = np.stack(parts)
    present = np.count_nonzero(~np.isnan(stacked), axis=0)
    total = np.nansum(stacked, axis=0)
    high = 1.0 if rule.high is None else rule.high
    r, m = _cells((total > high) & (present >= int(rule.param("min_components"))) & ctx.screened[None, :])
    code = np.array([CODE_INDEX.get(f"{CODES[f]}.moisture", -1) for f in sample["fuel"][r]], dtype=np.int64)
    out.add(rule, sample["ent"][r], m, code, sample["fac"][r], total[r, m], high=high, score=present[r, m])


def lab_ncv_composition(ctx: Context, rule: Rule, out: Findings) -> None:
    sample = _samples(ctx, _tonne_fuels(rule.item))
    ncv = _component(ctx, sample["ncv"])
    carbon = _component(ctx, sample["carbon_content"]) * ncv
    hydrogen, moisture = _component(ctx, sample["hydrogen"]), _component(ctx, sample["moisture"])
    sulphur = np.nan_to_num(_component(ctx, sample["sulphur"]))
    oxygen, tolerance = float(rule.param("oxygen")), float(rule.param("tolerance"))
    # Mendeleev (as received, mass fractions): Q_net = 33.9 C + 103 H − 10.9 (O − S) − 2.5 M   [GJ/t]
    predicted = 33.9 * carbon + 103.0 * hydrogen - 10.9 * (oxygen - sulphur) - 2.5 * moisture
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = (ncv - predicted) / predicted
    r, m = _cells((np.abs(relative) > tolerance) & (predicted > 0) & ctx.screened[None, :])
    code = np.array([CODE_INDEX[f"{CODES[f]}.ncv"] for f in sample["fuel"][r]], dtype=np.int64)
    out.add(
        rule,
        sample["ent"][r],
        m,
        code,
        sample["fac"][r],
        ncv[r, m],
        low=predicted[r, m] * (1 - tolerance),
        high=predicted[r, m] * (1 + tolerance),
        reference=predicted[r, m],
        score=relative[r, m],
    )


# --- peers -------------------------------------------------------------------------------------------------


def _industry_labels(ctx: Context, length: int) -> np.ndarray:
    """Integer label of each enterprise's industry code cut to ``length`` characters; -1 unknown."""
    codes = np.array([i[:length] if i else "" for i in ctx.ent_industry], dtype=object).astype(str)
    _, inverse = np.unique(codes, return_inverse=True)
    return np.where(codes == "", -1, inverse)


def _peer_groups(ctx: Context, ent: np.ndarray, extra: np.ndarray, min_peers: int) -> np.ndarray:
    """Peer group of each (enterprise, extra key): its GB/T 4754 class, or its division when the class
    has fewer than ``min_peers`` members with the same ``extra`` key (product and month, say)."""
    fine = _industry_labels(ctx, 5)[ent].astype(np.int64)
    coarse = _industry_labels(ctx, 3)[ent].astype(np.int64)
    fine_key = fine * (1 << 32) + extra
    _, inverse, counts = np.unique(fine_key, return_inverse=True, return_counts=True)
    use_fine = counts[inverse] >= min_peers
    return np.where(use_fine, fine_key, -(coarse * (1 << 32) + extra) - 1)


def _peer_findings(rule: Rule, out: Findings, ent, period, item, values, groups) -> None:
    zmax, min_peers = float(rule.param("z")), int(rule.param("min_peers"))
    positive = values > 0
    ent, period, item, values, groups = (
        ent[positive],
        period[positive],
        item[positive],
        values[positive],
        groups[positive],
    )
    if not len(values):
        return
    logs = np.log(values)
    z, med, mad, size = stats.robust_z(logs, groups)
    hit = (np.abs(z) >= zmax) & (size >= min_peers) & (mad > 0)
    out.add(rule, ent[hit], period[hit], item[hit], 0, values[hit], reference=np.exp(med[hit]), score=z[hit])


def peer_intensity(ctx: Context, rule: Rule, out: Findings) -> None:
    product, intensity = _intensity(ctx)
    known = _industry_labels(ctx, 3) >= 0
    scope = ctx.sector_match(rule) & known & (product >= 0)
    products = list(rule.param("products") or [])
    if products:
        scope &= np.isin(product, [CODE_INDEX[p] for p in products if p in CODE_INDEX])
    e, m = _cells(~np.isnan(intensity) & (intensity > 0) & scope[:, None] & ctx.screened[None, :])
    extra = product[e].astype(np.int64) * ctx.n_months + m
    groups = _peer_groups(ctx, e, extra, int(rule.param("min_peers")))
    _peer_findings(rule, out, e, m, product[e], intensity[e, m], groups)


def peer_value_added(ctx: Context, rule: Rule, out: Findings) -> None:
    assert ctx.emissions is not None and ctx.economic is not None
    years = np.array([int(p[:4]) for p in ctx.months])
    year_list = sorted(set(years.tolist()))
    screened_years = {int(y) for y, s in zip(years, ctx.screened, strict=True) if s}
    ne = ctx.n_enterprises
    rows = []
    for year in year_list:  # one pass per calendar year of the axis (a handful), each over all enterprises
        if year not in screened_years:
            continue
        cols = years == year
        if cols.sum() < 12:
            continue  # a partial year cannot be compared with an annual value added
        block = ctx.emissions[:, cols]
        complete = np.count_nonzero(~np.isnan(block), axis=1) == 12
        rows.append(
            pl.DataFrame(
                {
                    "ent": np.arange(ne, dtype=np.int32),
                    "year": np.full(ne, year, dtype=np.int32),
                    "co2": np.nansum(block, axis=1),
                    "complete": complete,
                }
            )
        )
    if not rows:
        return
    yearly = (
        pl.concat(rows)
        .filter("complete")
        .join(ctx.economic.select("ent", "year", "value_added"), on=["ent", "year"])
        .filter(pl.col("value_added") > 0)
    )
    scope = ctx.sector_match(rule) & (_industry_labels(ctx, 3) >= 0)
    yearly = yearly.filter(pl.Series(scope[yearly["ent"].to_numpy()]))
    if yearly.height == 0:
        return
    ent = yearly["ent"].to_numpy()
    year = yearly["year"].to_numpy()
    values = (yearly["co2"] / yearly["value_added"]).to_numpy()
    groups = _peer_groups(ctx, ent, year.astype(np.int64), int(rule.param("min_peers")))
    period = np.array([str(y) for y in year], dtype=object)
    _peer_findings(rule, out, ent, period, np.full(len(ent), -1), values, groups)


RUNNERS: dict[str, Callable[[Context, Rule, Findings], None]] = {
    "duplicate_row": duplicate_row,
    "duplicate_evidence": duplicate_evidence,
    "missing_month": missing_month,
    "missing_evidence": missing_evidence,
    "missing_parameter": missing_parameter,
    "unit_scale": unit_scale,
    "range": range_,
    "intensity_range": intensity_range,
    "jump_median": jump_median,
    "jump_mom": jump_mom,
    "parameter_shift": parameter_shift,
    "metered_electricity": metered_electricity,
    "metered_unreported": metered_unreported,
    "annual_sum": annual_sum,
    "lab_element_carbon": lab_element_carbon,
    "lab_mass_balance": lab_mass_balance,
    "lab_ncv_composition": lab_ncv_composition,
    "peer_intensity": peer_intensity,
    "peer_value_added": peer_value_added,
}
