"""Activity frame (interchange format) → canonical units, quantities split from measured parameters.

Input columns (DESIGN.md "Monthly activity data"):

============ ======================== =============================================================
column       dtype accepted           meaning and unit
============ ======================== =============================================================
credit_code  String/Categorical/Enum  统一社会信用代码, 18 characters (GB 32100-2015)
period       String/Categorical/Enum  month ``YYYY-MM`` (Date/Datetime also accepted)
item         String/Categorical/Enum  item code from ``kiln.engine.items`` or ``<item>.<parameter>``
quantity     Float64 (ints, Decimal   amount in ``unit``; ≥ 0 and finite. Strings are parsed (spaces and
             and String parsed)       thousands separators removed); what does not parse is an error
unit         String/Categorical/Enum  any spelling ``kiln.engine.units`` knows; converted to the
                                      item's canonical unit
source       String (optional)        meter / invoice / lab / estimate / grid — passed through
facility     String (optional)        passed through
note         String (optional)        passed through
============ ======================== =============================================================

The engine works on dictionary codes: text columns are Categorical, and every per-row lookup
(item → formula, unit → multiplier, period → year, factors) is a ``gather`` from a small
lookup table built from the column's distinct values, so no row is ever handled in Python.

Helper columns added by ``prepare`` (all prefixed ``_``, dropped from results):

- ``_row`` UInt32: 0-based row index in the activity frame.
- ``_cc`` UInt32: dictionary code of the credit code (for join keys only).
- ``_item`` UInt16: index into ``CODES`` (null: unknown item or inapplicable parameter).
- ``_unit`` UInt32: index into the frame's distinct units.
- ``_conv`` Float64: multiplier from ``unit`` to the canonical unit (null: unknown/incompatible).
- ``_period`` UInt16: index into ``Prepared.periods`` (null: malformed period).
- ``_fac`` UInt32: 0 when the row has no facility, else 1 + index into ``Prepared.facilities``.
- ``_year`` Int32: calendar year of the period.
- ``_qc`` Float64: quantity in the canonical unit (``quantity × _conv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from kiln.engine import items as catalogue
from kiln.engine import units
from kiln.engine.errors import ErrorCode, empty_errors, frame_error

REQUIRED_COLUMNS = ("credit_code", "period", "item", "quantity", "unit")
OPTIONAL_COLUMNS = ("source", "facility", "note")
TEXT_KEYS = ("credit_code", "period", "item", "unit")

# Engine code space: base items first, then every applicable ``<item>.<parameter>``.
BASE_CODES: list[str] = list(catalogue.ITEMS)
PARAM_CODES: list[str] = catalogue.parameter_codes()
CODES: list[str] = BASE_CODES + PARAM_CODES
CODE_INDEX = {code: i for i, code in enumerate(CODES)}
N_BASE = len(BASE_CODES)
PARAMETER_NAMES: list[str] = list(catalogue.PARAMETERS)
NO_INDEX = 0xFFFF  # "none" in the UInt16 lookup tables below


def _code_tables():
    canon, param_item, param_name = [], [], []
    for code in CODES:
        base, _, param = code.partition(".")
        canon.append(units.CANONICAL_UNITS.index(catalogue.canonical_unit(code)))
        if param:
            param_item.append(CODE_INDEX[base])
            param_name.append(PARAMETER_NAMES.index(param))
        else:
            item = catalogue.ITEMS[base]
            # Quantity rows look their measured parameters up under ``parameter_item``.
            param_item.append(CODE_INDEX[item.parameter_item] if item.parameters or item.parameter_base else NO_INDEX)
            param_name.append(NO_INDEX)
    return (
        pl.Series("canon", canon, dtype=pl.UInt8),
        pl.Series("param_item", param_item, dtype=pl.UInt16),
        pl.Series("param_name", param_name, dtype=pl.UInt16),
    )


CODE_CANON, CODE_PARAM_ITEM, CODE_PARAM_NAME = _code_tables()
CANONICAL_UNIT_ENUM = pl.Enum(list(units.CANONICAL_UNITS))

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass
class Prepared:
    """An activity frame made ready for the vectorised formulas."""

    data: pl.DataFrame  # coerced activity columns (text keys Categorical, quantity Float64)
    lazy: pl.LazyFrame  # ``data`` plus the helper columns
    periods: list[str]  # valid distinct periods, sorted: ``_period`` indexes this
    years: list[int]  # distinct years of the valid periods
    items_present: list[int]  # CODES indexes of the known codes that occur
    units: list[str]  # distinct units as given: ``_unit`` indexes this
    facilities: list[str] = field(default_factory=list)  # distinct facilities: ``_fac`` − 1 indexes this
    frame_errors: pl.DataFrame = field(default_factory=empty_errors)
    quantity_text: pl.Series | None = None  # the quantity column as given, when it was text
    credit_problem: dict[str, str] = field(default_factory=dict)  # bad credit code → reason
    period_problem: dict[str, str] = field(default_factory=dict)  # bad period → code

    @property
    def ok(self) -> bool:
        return self.frame_errors.is_empty()

    @property
    def has_parameters(self) -> bool:
        return any(i >= N_BASE for i in self.items_present)


def _as_categorical(series: pl.Series) -> pl.Series:
    dtype = series.dtype
    if isinstance(dtype, (pl.Categorical, pl.Enum)):
        return series
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        return series.dt.strftime("%Y-%m").cast(pl.Categorical)
    if dtype != pl.String:
        series = series.cast(pl.String)
    return series.str.strip_chars().cast(pl.Categorical)


def _as_float(series: pl.Series) -> pl.Series:
    if series.dtype == pl.Float64:
        return series
    if series.dtype == pl.String:
        return series.str.strip_chars().str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
    return series.cast(pl.Float64, strict=False)


def _dictionary(series: pl.Series) -> tuple[pl.Series, list[str | None], int]:
    """Distinct values of a Categorical/Enum column: (physical codes, values, max physical code)."""
    distinct = series.unique()
    phys = distinct.to_physical()
    values = distinct.cast(pl.String).to_list()
    top = phys.max()
    return phys, values, (-1 if top is None else int(top))


def _lut(phys: pl.Series, values: list, top: int, dtype: pl.DataType, fill) -> pl.Series:
    """Lookup table indexed by physical code; ``None`` values become nulls."""
    idx = phys.to_list()
    np_dtype = {pl.UInt8: np.uint8, pl.UInt16: np.uint16, pl.UInt32: np.uint32, pl.Int32: np.int32,
                pl.Float64: np.float64}[dtype]
    table = np.full(top + 1, fill, dtype=np_dtype)
    present = [(i, v) for i, v in zip(idx, values, strict=True) if i is not None and v is not None]
    if present:
        pos, vals = zip(*present, strict=True)
        table[list(pos)] = list(vals)
    out = pl.Series(table, dtype=dtype)
    nulls = [i for i, v in zip(idx, values, strict=True) if i is not None and v is None]
    if nulls:
        out = out.scatter(nulls, None)
    return out


def period_problem(period: str | None, not_after: str | None) -> str | None:
    """Error code for a period value, or ``None`` when it is a valid, not-future month."""
    if period is None or not PERIOD_RE.match(period):
        return ErrorCode.BAD_PERIOD
    if not_after is not None and period > not_after:
        return ErrorCode.FUTURE_PERIOD
    return None


def current_period(today: date | None = None) -> str:
    today = today or date.today()
    return f"{today.year:04d}-{today.month:02d}"


def credit_code_problems(codes: pl.Series) -> pl.Series:
    """Reason each credit code is invalid (GB 32100-2015), null when valid. Vectorised over ``codes``."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    value = {ch: i for i, ch in enumerate(alphabet)}
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    c = pl.col("c")
    digit = [c.str.slice(i, 1).replace_strict(value, default=None, return_dtype=pl.Int32) for i in range(18)]
    total = pl.sum_horizontal([d * w for d, w in zip(digit[:17], weights, strict=True)])
    check = ((31 - total % 31) % 31).cast(pl.Int32)
    frame = pl.DataFrame({"c": codes.cast(pl.String)})
    reason = (
        pl.when(c.is_null()).then(pl.lit("missing"))
        .when(c.str.len_chars() != 18).then(pl.lit("length"))
        .when(pl.any_horizontal([d.is_null() for d in digit])).then(pl.lit("charset"))
        .when(~c.str.slice(2, 6).str.contains(r"^\d{6}$")).then(pl.lit("region"))
        .when(check != digit[17]).then(pl.lit("checksum"))
        .otherwise(None)
    )
    return frame.select(reason.alias("reason"))["reason"]


def prepare(
    activity: pl.DataFrame | pl.LazyFrame,
    *,
    not_after: str | None = None,
    check_credit_codes: bool = True,
) -> Prepared:
    """Coerce the activity frame, build the dictionary lookup tables and the helper columns.

    ``not_after`` is the latest allowed period (``YYYY-MM``); ``None`` means the current month.
    Frame-level problems (missing columns) are reported in ``Prepared.frame_errors``; row-level
    problems surface as nulls in the helper columns and are listed by ``validation.validate``.
    """
    if isinstance(activity, pl.LazyFrame):
        activity = activity.collect()
    missing = [c for c in REQUIRED_COLUMNS if c not in activity.columns]
    if missing:
        errors = pl.concat([frame_error(ErrorCode.MISSING_COLUMN, f"missing column {c!r}") for c in missing])
        empty = pl.DataFrame()
        return Prepared(empty, empty.lazy(), [], [], [], [], frame_errors=errors)
    not_after = not_after or current_period()

    quantity_text = activity.get_column("quantity") if activity.schema["quantity"] == pl.String else None
    columns = {c: _as_categorical(activity.get_column(c)) for c in TEXT_KEYS}
    columns["unit"] = columns["unit"].fill_null("") if columns["unit"].null_count() else columns["unit"]
    columns["quantity"] = _as_float(activity.get_column("quantity"))
    for c in OPTIONAL_COLUMNS:
        if c in activity.columns:
            columns[c] = activity.get_column(c)
    order = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in columns]
    data = pl.DataFrame([columns[c].alias(c) for c in order])

    # Items: physical code → CODES index (null when unknown).
    phys, values, top = _dictionary(data.get_column("item"))
    item_lut = _lut(phys, [CODE_INDEX.get(v) if v is not None else None for v in values], top, pl.UInt16, 0)
    items_present = sorted({CODE_INDEX[v] for v in values if v in CODE_INDEX})

    # Units: physical code → dense index; dense index × canonical unit → multiplier.
    phys, unit_values, top = _dictionary(data.get_column("unit"))
    unit_lut = _lut(phys, list(range(len(unit_values))), top, pl.UInt32, 0)
    n_canon = len(units.CANONICAL_UNITS)
    conv = [
        units.factor(u if u is not None else "", canon)
        for u in unit_values
        for canon in units.CANONICAL_UNITS
    ]
    conv_lut = pl.Series("conv", conv, dtype=pl.Float64)

    # Periods: physical code → dense index into the sorted valid periods; years.
    phys, period_values, top = _dictionary(data.get_column("period"))
    problems = {v: period_problem(v, not_after) for v in period_values}
    valid = sorted(v for v, p in problems.items() if p is None and v is not None)
    period_index = {v: i for i, v in enumerate(valid)}
    period_lut = _lut(phys, [period_index.get(v) for v in period_values], top, pl.UInt16, 0)
    years = sorted({int(v[:4]) for v in valid})
    year_of_period = pl.Series("year", [int(v[:4]) for v in valid], dtype=pl.Int32)

    credit_problem: dict[str, str] = {}
    if check_credit_codes:
        distinct = data.get_column("credit_code").unique().cast(pl.String)
        reasons = credit_code_problems(distinct)
        credit_problem = {
            c if c is not None else "": r
            for c, r in zip(distinct.to_list(), reasons.to_list(), strict=True)
            if r is not None
        }

    facilities: list[str] = []
    facility = pl.lit(0, dtype=pl.UInt32)
    if "facility" in data.columns:
        data = data.with_columns(_as_categorical(data.get_column("facility")).alias("facility"))
        phys, fac_values, top = _dictionary(data.get_column("facility"))
        facilities = sorted({v for v in fac_values if v})
        fac_index = {v: i + 1 for i, v in enumerate(facilities)}
        fac_lut = _lut(phys, [fac_index.get(v, 0) if v else 0 for v in fac_values], top, pl.UInt32, 0)
        facility = pl.lit(fac_lut).gather(pl.col("facility").to_physical()).fill_null(0)

    item = pl.lit(item_lut).gather(pl.col("item").to_physical())
    unit = pl.lit(unit_lut).gather(pl.col("unit").to_physical())
    canon = pl.lit(CODE_CANON).gather(pl.col("_item"))
    period = pl.lit(period_lut).gather(pl.col("period").to_physical())
    lazy = (
        data.lazy()
        .with_row_index("_row")
        .with_columns(
            _cc=pl.col("credit_code").to_physical().cast(pl.UInt32),
            _item=item,
            _unit=unit,
            _period=period,
            _fac=facility,
        )
        .with_columns(
            _conv=pl.lit(conv_lut).gather(pl.col("_unit").cast(pl.UInt32) * n_canon + canon.cast(pl.UInt32)),
            _year=pl.lit(year_of_period).gather(pl.col("_period")),
        )
        .with_columns(_qc=pl.col("quantity") * pl.col("_conv"))
    )
    return Prepared(
        data=data,
        lazy=lazy,
        periods=valid,
        years=years,
        items_present=items_present,
        units=[u if u is not None else "" for u in unit_values],
        facilities=facilities,
        quantity_text=quantity_text,
        credit_problem=credit_problem,
        period_problem={v if v is not None else "": p for v, p in problems.items() if p is not None},
    )


def parameters(prepared: Prepared) -> pl.DataFrame:
    """The measured-parameter rows, one per (enterprise, month, item, parameter) as given.

    Columns: ``_row``, ``credit_code``, ``period``, ``item`` (as given), ``facility`` (String,
    null when absent), ``_cc``, ``_period``, ``_fac``, ``_year``, ``param_item`` (UInt16, CODES index of the item the parameter belongs to),
    ``parameter`` (String), ``value`` (Float64, in the parameter's canonical unit, see
    ``kiln.engine.items.parameter_unit``), ``quantity`` (Float64, as given) and ``unit``.
    """
    if not prepared.has_parameters:
        return pl.DataFrame(
            schema={"_row": pl.UInt32, "credit_code": pl.String, "period": pl.String, "item": pl.String,
                    "facility": pl.String, "_cc": pl.UInt32, "_period": pl.UInt16, "_fac": pl.UInt32,
                    "_year": pl.Int32, "param_item": pl.UInt16,
                    "parameter": pl.String, "value": pl.Float64, "quantity": pl.Float64, "unit": pl.String}
        )
    names = pl.Series(PARAMETER_NAMES, dtype=pl.String)
    return (
        prepared.lazy.filter(pl.col("_item") >= N_BASE)
        .select(
            "_row",
            pl.col("credit_code").cast(pl.String),
            pl.col("period").cast(pl.String),
            pl.col("item").cast(pl.String),
            (pl.col("facility").cast(pl.String) if "facility" in prepared.data.columns
             else pl.lit(None, dtype=pl.String)).alias("facility"),
            "_cc",
            "_period",
            "_fac",
            "_year",
            param_item=pl.lit(CODE_PARAM_ITEM).gather(pl.col("_item")),
            parameter=pl.lit(names).gather(pl.lit(CODE_PARAM_NAME).gather(pl.col("_item"))),
            value=pl.col("_qc"),
            quantity=pl.col("quantity"),
            unit=pl.col("unit").cast(pl.String),
        )
        .collect()
    )


ITEM_BITS = 64  # parameter items are base items: fewer than 64
assert N_BASE <= ITEM_BITS


def measured_key(prepared: Prepared, cc: pl.Expr, period: pl.Expr, facility: pl.Expr, param_item: pl.Expr) -> pl.Expr:
    """One UInt64 join key for (credit code, period, facility, parameter item).

    The credit code's dictionary code fills the high 32 bits; period, facility and item share the
    low 32 bits in mixed radix.
    """
    n_fac = len(prepared.facilities) + 1
    if max(len(prepared.periods), 1) * n_fac * ITEM_BITS >= 1 << 32:
        raise ValueError("too many distinct periods × facilities in one frame; split it by year")
    low = (period.cast(pl.UInt64) * n_fac + facility.cast(pl.UInt64)) * ITEM_BITS + param_item.cast(pl.UInt64)
    return cc.cast(pl.UInt64) * (1 << 32) + low
