"""Row-level validation: every problem in an activity frame, one error-frame row each.

``validate(activity, factor_set)`` lists the problems without raising (the import preview uses
it); ``compute`` raises ``EngineError`` with the same frame. Checks, with their stable codes
(``kiln.engine.errors.ErrorCode``):

- ``missing_column``: a required column is absent (frame-level, ``row`` null);
- ``bad_credit_code``: empty, wrong length, bad characters or check character (GB 32100-2015);
- ``bad_period`` / ``future_period``: not ``YYYY-MM``, or later than the allowed month;
- ``unknown_item`` / ``unknown_parameter``: not in the catalogue, or a parameter that does not
  apply to the item (``raw_coal.cao``);
- ``non_numeric_quantity`` / ``negative_quantity``: empty, unparsable, NaN, infinite, or < 0;
- ``unknown_unit`` / ``incompatible_unit``: unknown spelling, or not convertible to the item's
  canonical unit;
- ``parameter_out_of_range``: a mass fraction (CaO, oxidation rate …) above 1;
- ``duplicate_parameter``: the same parameter twice for one enterprise-month;
- ``missing_factor``: no value in the factor set for the period's year and none measured (the
  message names the missing inputs);
- ``unknown_grid_series`` / ``bad_factor_set``: problems with the chosen factor set (frame-level).
"""

from __future__ import annotations

import polars as pl

from kiln.engine import items as catalogue
from kiln.engine import units
from kiln.engine.emissions import (
    FORMULA_CONSTANTS,
    FORMULA_INPUTS,
    FORMULAS,
    VALUE_COLUMNS,
    Evaluation,
    evaluate,
    rows,
)
from kiln.engine.errors import ERROR_SCHEMA, EngineError, ErrorCode, empty_errors
from kiln.engine.normalise import CODE_CANON, PARAMETER_NAMES, Prepared, measured_key, prepare

CANONICAL_UNIT_NAMES = pl.Series(units.CANONICAL_UNITS, dtype=pl.String)

CREDIT_REASONS = {
    "missing": "is empty",
    "length": "must have 18 characters",
    "charset": "has characters outside 0-9 and A-Z without I, O, S, V, Z",
    "region": "characters 3-8 must be a GB/T 2260 division code",
    "checksum": "check character does not match (GB 32100-2015)",
}


def _as_str(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String)


def _errors(frame: pl.LazyFrame, code: ErrorCode, message: pl.Expr) -> pl.LazyFrame:
    return frame.select(
        pl.col("_row").alias("row"),
        _as_str("credit_code").alias("credit_code"),
        _as_str("period").alias("period"),
        _as_str("item").alias("item"),
        pl.lit(str(code)).alias("code"),
        message.alias("message"),
    )


def intrinsic_errors(p: Prepared) -> pl.DataFrame:
    """Problems visible without a factor set (everything but missing factors and parameters)."""
    lf = p.lazy
    parts: list[pl.LazyFrame] = []
    if p.credit_problem:
        cc = _as_str("credit_code").fill_null("")
        reason = cc.replace_strict({k: CREDIT_REASONS[v] for k, v in p.credit_problem.items()}, default="")
        parts.append(
            _errors(
                lf.filter(cc.is_in(list(p.credit_problem))),
                ErrorCode.BAD_CREDIT_CODE,
                pl.format("credit code '{}' {}", cc, reason),
            )
        )
    if p.period_problem:
        period = _as_str("period").fill_null("")
        for code in (ErrorCode.BAD_PERIOD, ErrorCode.FUTURE_PERIOD):
            values = [k for k, v in p.period_problem.items() if v == code]
            if values:
                text = (
                    "is not a YYYY-MM month"
                    if code == ErrorCode.BAD_PERIOD
                    else "is later than the allowed month"
                )
                parts.append(
                    _errors(
                        lf.filter(period.is_in(values)),
                        code,
                        pl.format("period '{}' {}", period, pl.lit(text)),
                    )
                )
    unknown = p.unknown_items
    if unknown:
        item = _as_str("item").fill_null("")
        messages = {}
        for v in unknown:
            base, dot, param = v.partition(".")
            if dot and param and base in catalogue.ITEMS:
                applicable = ", ".join(catalogue.ITEMS[base].parameters) or "none"
                messages[v] = (
                    ErrorCode.UNKNOWN_PARAMETER,
                    f"parameter '{param}' does not apply to '{base}' (applicable: {applicable})",
                )
            else:
                messages[v] = (ErrorCode.UNKNOWN_ITEM, f"item '{v}' is not in the item catalogue")
        for code in (ErrorCode.UNKNOWN_ITEM, ErrorCode.UNKNOWN_PARAMETER):
            chosen = {k: m for k, (c, m) in messages.items() if c == code}
            if chosen:
                parts.append(
                    _errors(
                        lf.filter(item.is_in(list(chosen))), code, item.replace_strict(chosen, default="")
                    )
                )
    q = pl.col("quantity")
    non_numeric = q.is_null() | ~q.is_finite()
    if p.quantity_text is not None:
        lf_q = lf.with_columns(_text=pl.lit(p.quantity_text))
        message = (
            pl.when(pl.col("_text").is_null() | (pl.col("_text").str.strip_chars() == ""))
            .then(pl.lit("quantity is empty"))
            .otherwise(pl.format("quantity '{}' is not a finite number", pl.col("_text")))
        )
        parts.append(_errors(lf_q.filter(non_numeric), ErrorCode.NON_NUMERIC_QUANTITY, message))
    else:
        message = (
            pl.when(q.is_null())
            .then(pl.lit("quantity is empty"))
            .otherwise(pl.format("quantity {} is not a finite number", q))
        )
        parts.append(_errors(lf.filter(non_numeric), ErrorCode.NON_NUMERIC_QUANTITY, message))
    parts.append(
        _errors(
            lf.filter((q < 0) & q.is_finite()),
            ErrorCode.NEGATIVE_QUANTITY,
            pl.format("quantity {} is negative", q),
        )
    )

    known_units = {u: units.normalise(u) not in (None, "") for u in p.units}
    unit_known = pl.col("_unit").replace_strict(
        list(range(len(p.units))), [known_units[u] for u in p.units], default=False, return_dtype=pl.Boolean
    )
    bad_unit = pl.col("_item").is_not_null() & pl.col("_conv").is_null()
    canonical = pl.lit(CANONICAL_UNIT_NAMES).gather(pl.lit(CODE_CANON).gather(pl.col("_item")))
    unit = _as_str("unit")
    parts.append(
        _errors(
            lf.filter(bad_unit & ~unit_known),
            ErrorCode.UNKNOWN_UNIT,
            pl.when(unit == "")
            .then(pl.lit("unit is empty"))
            .otherwise(pl.format("unit '{}' is not known", unit)),
        )
    )
    parts.append(
        _errors(
            lf.filter(bad_unit & unit_known),
            ErrorCode.INCOMPATIBLE_UNIT,
            pl.format(
                "unit '{}' cannot be converted to {} (the canonical unit of '{}')",
                unit,
                canonical,
                _as_str("item"),
            ),
        )
    )
    return pl.concat(pl.collect_all(parts)) if parts else empty_errors()


def parameter_errors(ev: Evaluation) -> pl.DataFrame:
    """Measured parameters out of range or given twice for the same enterprise-month and facility."""
    params = ev.params
    if params.is_empty():
        return empty_errors()
    value = pl.col("value")
    fractions = [i for i, n in enumerate(PARAMETER_NAMES) if n in catalogue.FRACTION_PARAMETERS]
    flagged = (
        params.lazy()
        .filter(pl.col("_period").is_not_null())
        .with_columns(
            key=measured_key(
                ev.prepared, pl.col("_cc"), pl.col("_period"), pl.col("_fac"), pl.col("param_item")
            ),
        )
        .with_columns(n=pl.len().over("key", "param"))
        .filter((pl.col("n") > 1) | (pl.col("param").is_in(fractions) & value.is_finite() & (value > 1)))
        .collect()
    )
    if flagged.is_empty():
        return empty_errors()
    given = ev.prepared.data.select(
        _as_str("credit_code").alias("credit_code"),
        _as_str("period").alias("period"),
        _as_str("item").alias("item"),
        "quantity",
        _as_str("unit").alias("unit"),
        (
            _as_str("facility") if "facility" in ev.prepared.data.columns else pl.lit(None, dtype=pl.String)
        ).alias("facility"),
    )[flagged.get_column("_row")]
    frame = pl.concat([flagged, given], how="horizontal")
    duplicates = frame.filter(pl.col("n") > 1).select(
        pl.col("_row").alias("row"),
        "credit_code",
        "period",
        "item",
        pl.lit(str(ErrorCode.DUPLICATE_PARAMETER)).alias("code"),
        pl.format(
            "{} is given {} times for {} {}{}; give one value per enterprise-month and facility",
            "item",
            "n",
            "credit_code",
            "period",
            pl.when(pl.col("facility").is_not_null())
            .then(pl.format(" facility {}", "facility"))
            .otherwise(pl.lit("")),
        ).alias("message"),
    )
    out_of_range = frame.filter(pl.col("n") == 1).select(
        pl.col("_row").alias("row"),
        "credit_code",
        "period",
        "item",
        pl.lit(str(ErrorCode.PARAMETER_OUT_OF_RANGE)).alias("code"),
        pl.format(
            "{} = {} {} is {} as a fraction; it must lie between 0 and 1 (give % as unit '%')",
            "item",
            "quantity",
            "unit",
            "value",
        ).alias("message"),
    )
    return pl.concat([out_of_range, duplicates]).cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def _needed(formula: pl.Expr, parameter: str, aem_measured: pl.Expr) -> pl.Expr:
    users = [f for f in FORMULAS if parameter in FORMULA_INPUTS[f] + FORMULA_CONSTANTS[f]]
    needed = formula.is_in(users) if users else pl.lit(False)
    if parameter == "anode_effect_minutes":
        return pl.lit(False)  # optional: the default EFs apply without it
    if parameter in ("cf4_slope", "c2f6_ratio"):
        return needed & aem_measured
    if parameter in ("ef_cf4", "ef_c2f6"):
        return needed & ~aem_measured
    return needed


def missing_factor_errors(ev: Evaluation, exclude: pl.Series | None = None) -> pl.DataFrame:
    """Rows whose formula lacks an input: neither measured nor in the factor set for that year."""
    failing = (
        rows(ev, helpers=True)
        .lazy()
        .filter(
            (pl.col("co2_t").is_null() | pl.col("energy_tce").is_null())
            & pl.col("quantity_canonical").is_not_null()
            & pl.col("year").is_not_null()
        )
        .collect()
    )
    if exclude is not None and failing.height:
        failing = failing.filter(~pl.col("row").is_in(exclude.implode()))
    if failing.is_empty():
        return empty_errors()
    defaults = ev.defaults.select(
        pl.col("idx").alias("_item"), "year", *[pl.col(p).alias(f"{p}__d") for p in VALUE_COLUMNS]
    )
    frame = failing.join(defaults, on=["_item", "year"], how="left")
    measured_cols = [p for p in VALUE_COLUMNS if f"{p}__m" in ev.measured.columns]
    if "_m" in frame.columns and measured_cols:
        measured = ev.measured.select(*[pl.col(f"{p}__m") for p in measured_cols]).with_row_index("_m")
        frame = frame.join(measured, on="_m", how="left")
    for p in VALUE_COLUMNS:
        if f"{p}__m" not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(f"{p}__m"))
    formula = pl.col("formula").cast(pl.String)
    aem = pl.col("anode_effect_minutes__m").is_not_null()
    missing = (
        pl.concat_list(
            [
                pl.when(_needed(formula, p, aem) & pl.col(f"{p}__d").is_null() & pl.col(f"{p}__m").is_null())
                .then(pl.lit(p))
                .otherwise(None)
                for p in VALUE_COLUMNS
            ]
        )
        .list.drop_nulls()
        .list.join(", ")
    )
    series = (
        pl.when(formula == "electricity")
        .then(pl.lit(f" (grid series {ev.grid_series})"))
        .otherwise(pl.lit(""))
    )
    return frame.select(
        "row",
        _as_str("credit_code").alias("credit_code"),
        _as_str("period").alias("period"),
        _as_str("item").alias("item"),
        pl.lit(str(ErrorCode.MISSING_FACTOR)).alias("code"),
        pl.format(
            "no {} for '{}' ({} formula) in {} in factor set '{}'{}, and none measured",
            missing,
            _as_str("item"),
            formula,
            pl.col("year"),
            pl.lit(ev.factor_set_name),
            series,
        ).alias("message"),
    ).cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def row_errors(ev: Evaluation) -> pl.DataFrame:
    """Every row-level problem of an evaluated frame, sorted by row."""
    intrinsic = intrinsic_errors(ev.prepared)
    params = parameter_errors(ev)
    missing = missing_factor_errors(ev, exclude=pl.concat([intrinsic["row"], params["row"]]))
    return _sorted(pl.concat([intrinsic, params, missing]))


def _sorted(errors: pl.DataFrame) -> pl.DataFrame:
    return errors.cast(ERROR_SCHEMA).sort("row", "code", nulls_last=False, maintain_order=True)  # type: ignore[arg-type]


def validate(
    activity: pl.DataFrame | pl.LazyFrame,
    factor_set: pl.DataFrame | None = None,
    *,
    grid_series: str | None = None,
    not_after: str | None = None,
    check_credit_codes: bool = True,
) -> pl.DataFrame:
    """All problems in ``activity`` as an error frame (empty when it can be computed).

    Without ``factor_set`` only the checks that need no factors run.
    """
    prepared = prepare(activity, not_after=not_after, check_credit_codes=check_credit_codes)
    if not prepared.ok:
        return prepared.frame_errors
    if factor_set is None:
        return _sorted(intrinsic_errors(prepared))
    try:
        ev = evaluate(prepared, factor_set, grid_series=grid_series, detail=True)
    except EngineError as exc:
        return _sorted(pl.concat([exc.errors, intrinsic_errors(prepared)]))
    return row_errors(ev)
