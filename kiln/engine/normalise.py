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

Helper columns added by ``Prepared.helpers`` (all prefixed ``_``, dropped from results):

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
            param_item.append(
                CODE_INDEX[item.parameter_item] if item.parameters or item.parameter_base else NO_INDEX
            )
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

    data: pl.DataFrame  # coerced activity columns (text keys Categorical/Enum, quantity Float64)
    periods: list[str]  # valid distinct periods, sorted: ``_period`` indexes this
    years: list[int]  # distinct years of the valid periods
    items_present: list[int]  # CODES indexes of the known codes that occur
    units: list[str]  # distinct units as given: ``_unit`` indexes this
    facilities: list[str] = field(default_factory=list)  # distinct facilities: ``_fac`` − 1 indexes this
    frame_errors: pl.DataFrame = field(default_factory=empty_errors)
    quantity_text: pl.Series | None = None  # the quantity column as given, when it was text
    credit_problem: dict[str, str] = field(default_factory=dict)  # bad credit code → reason ("" = empty)
    period_problem: dict[str, str] = field(default_factory=dict)  # bad period → code ("" = empty)
    unknown_items: list[str] = field(default_factory=list)  # item values not in CODES ("" = empty)
    luts: dict[str, pl.Series] = field(default_factory=dict)  # lookup tables by physical code
    # Small index spaces for the hot path: column → (expression giving each row's index, the value
    # of every index). Enum-like columns with few categories use the physical code itself.
    spaces: dict[str, tuple[pl.Expr, list]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.frame_errors.is_empty()

    @property
    def has_parameters(self) -> bool:
        return any(i >= N_BASE for i in self.items_present)

    @property
    def lazy(self) -> pl.LazyFrame:
        """All rows with the helper columns."""
        return self.helpers(self.data.lazy().with_row_index("_row"))

    def select_rows(self, kind: str) -> pl.LazyFrame:
        """``quantity`` or ``parameter`` rows (known codes only), with ``_row`` and the helper columns.

        The filter runs on the item's dictionary code before any helper is computed.
        """
        is_param = pl.lit(self.luts["item"]).gather(pl.col("item").to_physical()) >= N_BASE
        wanted = ~is_param if kind == "quantity" else is_param
        return self.helpers(self.data.lazy().with_row_index("_row").filter(wanted))

    def helpers(self, lf: pl.LazyFrame) -> pl.LazyFrame:
        luts = self.luts
        n_canon = len(units.CANONICAL_UNITS)
        canon = pl.lit(CODE_CANON).gather(pl.col("_item"))
        facility = (
            pl.lit(luts["facility"]).gather(pl.col("facility").to_physical()).fill_null(0)
            if "facility" in luts
            else pl.lit(0, dtype=pl.UInt32)
        )
        return (
            lf.with_columns(
                _cc=pl.col("credit_code").to_physical().cast(pl.UInt32),
                _item=pl.lit(luts["item"]).gather(pl.col("item").to_physical()),
                _unit=pl.lit(luts["unit"]).gather(pl.col("unit").to_physical()),
                _period=pl.lit(luts["period"]).gather(pl.col("period").to_physical()),
                _fac=facility,
            )
            .with_columns(
                _conv=pl.lit(luts["conv"]).gather(
                    pl.col("_unit").cast(pl.UInt32) * n_canon + canon.cast(pl.UInt32)
                ),
                _year=pl.lit(luts["year"]).gather(pl.col("_period")),
            )
            .with_columns(_qc=pl.col("quantity") * pl.col("_conv"))
        )


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


def dictionary(series: pl.Series) -> tuple[list[int], list[str], bool]:
    """Distinct values of a Categorical/Enum column: (physical codes, values, has nulls).

    Counts physical codes with ``numpy.bincount``, chunk by chunk without copying, instead of
    hashing ten million rows.
    """
    phys = series.to_physical()
    has_null = phys.null_count() > 0
    seen = np.zeros(0, dtype=np.int64)
    for chunk in phys.get_chunks():
        codes = chunk.drop_nulls().to_numpy() if has_null else chunk.to_numpy()
        if codes.size == 0:
            continue
        counts = np.bincount(codes)
        if counts.size > seen.size:
            seen = np.pad(seen, (0, counts.size - seen.size))
        seen[: counts.size] += counts
    present = np.flatnonzero(seen)
    if present.size == 0:
        return [], [], has_null
    index = pl.Series(present, dtype=pl.UInt32)
    dtype = series.dtype
    if isinstance(dtype, pl.Enum):
        values = dtype.categories.gather(index).to_list()
    else:
        values = dtype.categories.to_series().gather(index).to_list()
    return present.tolist(), values, has_null


def _lut(phys: list[int], values: list, dtype: pl.DataType, fill=0) -> pl.Series:
    """Lookup table indexed by physical code; ``None`` values become nulls."""
    np_dtype = {
        pl.UInt8: np.uint8,
        pl.UInt16: np.uint16,
        pl.UInt32: np.uint32,
        pl.Int32: np.int32,
        pl.Float64: np.float64,
        pl.Boolean: np.bool_,
    }[dtype]
    table = np.full((max(phys) + 1) if phys else 1, fill, dtype=np_dtype)
    known = [(i, v) for i, v in zip(phys, values, strict=True) if v is not None]
    if known:
        table[[i for i, _ in known]] = [v for _, v in known]
    out = pl.Series(table, dtype=dtype)
    nulls = [i for i, v in zip(phys, values, strict=True) if v is None]
    return out.scatter(nulls, None) if nulls else out


DIRECT_INDEX_LIMIT = 1024  # physical codes below this index lookup tables directly


def _space(column: str, phys: list[int], values: list[str]) -> tuple[pl.Expr, list]:
    """(per-row index expression, value of each index) for a Categorical/Enum column."""
    code = pl.col(column).to_physical()
    if not phys:
        return code, [None]
    top = max(phys)
    if top < DIRECT_INDEX_LIMIT:
        by_index: list = [None] * (top + 1)
        for i, v in zip(phys, values, strict=True):
            by_index[i] = v
        return code, by_index
    remap = _lut(phys, list(range(len(phys))), pl.UInt32)
    return pl.lit(remap).gather(code), list(values)


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
        pl.when(c.is_null())
        .then(pl.lit("missing"))
        .when(c.str.len_chars() != 18)
        .then(pl.lit("length"))
        .when(pl.any_horizontal([d.is_null() for d in digit]))
        .then(pl.lit("charset"))
        .when(~c.str.slice(2, 6).str.contains(r"^\d{6}$"))
        .then(pl.lit("region"))
        .when(check != digit[17])
        .then(pl.lit("checksum"))
        .otherwise(None)
    )
    return frame.select(reason.alias("reason"))["reason"]


def prepare(
    activity: pl.DataFrame | pl.LazyFrame,
    *,
    not_after: str | None = None,
    check_credit_codes: bool = True,
) -> Prepared:
    """Coerce the activity frame and build the dictionary lookup tables.

    ``not_after`` is the latest allowed period (``YYYY-MM``); ``None`` means the current month.
    Frame-level problems (missing columns) are reported in ``Prepared.frame_errors``; row-level
    problems surface as nulls in the helper columns and are listed by ``validation.validate``.
    """
    if isinstance(activity, pl.LazyFrame):
        activity = activity.collect()
    missing = [c for c in REQUIRED_COLUMNS if c not in activity.columns]
    if missing:
        errors = pl.concat([frame_error(ErrorCode.MISSING_COLUMN, f"missing column {c!r}") for c in missing])
        return Prepared(pl.DataFrame(), [], [], [], [], frame_errors=errors)
    not_after = not_after or current_period()

    quantity_text = activity.get_column("quantity") if activity.schema["quantity"] == pl.String else None
    columns = {c: _as_categorical(activity.get_column(c)) for c in TEXT_KEYS}
    if columns["unit"].null_count():
        columns["unit"] = columns["unit"].cast(pl.String).fill_null("").cast(pl.Categorical)
    columns["quantity"] = _as_float(activity.get_column("quantity"))
    for c in OPTIONAL_COLUMNS:
        if c in activity.columns:
            columns[c] = (
                _as_categorical(activity.get_column(c)) if c == "facility" else activity.get_column(c)
            )
    order = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in columns]
    data = pl.DataFrame([columns[c].alias(c) for c in order])
    luts: dict[str, pl.Series] = {}

    distinct = {c: dictionary(data.get_column(c)) for c in ("item", "unit", "period")}
    spaces = {c: _space(c, *distinct[c][:2]) for c in ("item", "unit", "period")}

    # Items: physical code → CODES index (null when unknown).
    phys, values, has_null = distinct["item"]
    luts["item"] = _lut(phys, [CODE_INDEX.get(v) for v in values], pl.UInt16)
    items_present = sorted({CODE_INDEX[v] for v in values if v in CODE_INDEX})
    unknown_items = [v for v in values if v not in CODE_INDEX] + ([""] if has_null else [])

    # Units: physical code → dense index; dense index × canonical unit → multiplier.
    phys, unit_values, _ = distinct["unit"]
    luts["unit"] = _lut(phys, list(range(len(unit_values))), pl.UInt32)
    luts["conv"] = pl.Series(
        "conv",
        [units.factor(u, canon) for u in unit_values for canon in units.CANONICAL_UNITS],
        dtype=pl.Float64,
    )

    # Periods: physical code → index into the sorted valid periods; years.
    phys, period_values, has_null = distinct["period"]
    problems = {v: period_problem(v, not_after) for v in period_values}
    valid = sorted(v for v, problem in problems.items() if problem is None)
    period_index = {v: i for i, v in enumerate(valid)}
    luts["period"] = _lut(phys, [period_index.get(v) for v in period_values], pl.UInt16)
    luts["year"] = pl.Series("year", [int(v[:4]) for v in valid], dtype=pl.Int32)
    period_problems = {v: str(p) for v, p in problems.items() if p is not None}
    if has_null:
        period_problems[""] = str(ErrorCode.BAD_PERIOD)

    facilities: list[str] = []
    if "facility" in data.columns:
        phys, fac_values, _ = dictionary(data.get_column("facility"))
        facilities = sorted({v for v in fac_values if v})
        fac_index = {v: i + 1 for i, v in enumerate(facilities)}
        luts["facility"] = _lut(phys, [fac_index.get(v, 0) for v in fac_values], pl.UInt32)

    credit_problem: dict[str, str] = {}
    if check_credit_codes:
        _, codes, has_null = dictionary(data.get_column("credit_code"))
        reasons = credit_code_problems(pl.Series(codes, dtype=pl.String))
        credit_problem = {c: r for c, r in zip(codes, reasons.to_list(), strict=True) if r is not None}
        if has_null:
            credit_problem[""] = "missing"

    return Prepared(
        data=data,
        periods=valid,
        years=sorted({int(v[:4]) for v in valid}),
        items_present=items_present,
        units=unit_values,
        facilities=facilities,
        quantity_text=quantity_text,
        credit_problem=credit_problem,
        period_problem=period_problems,
        unknown_items=unknown_items,
        luts=luts,
        spaces=spaces,
    )


def parameters(prepared: Prepared) -> pl.DataFrame:
    """The measured-parameter rows, one per (enterprise, month, facility, item, parameter) as given.

    Columns: ``_row``, ``_cc``, ``_period``, ``_fac``, ``_year``, ``param_item`` (UInt16, CODES
    index of the item the parameter belongs to), ``param`` (UInt16, index into
    ``PARAMETER_NAMES``) and ``value`` (Float64, in the parameter's canonical unit, see
    ``kiln.engine.items.parameter_unit``; null when the unit does not convert).
    """
    schema = {
        "_row": pl.UInt32,
        "_cc": pl.UInt32,
        "_period": pl.UInt16,
        "_fac": pl.UInt32,
        "_year": pl.Int32,
        "param_item": pl.UInt16,
        "param": pl.UInt16,
        "value": pl.Float64,
    }
    if not prepared.has_parameters:
        return pl.DataFrame(schema=schema)
    return (
        prepared.select_rows("parameter")
        .select(
            "_row",
            "_cc",
            "_period",
            "_fac",
            "_year",
            param_item=pl.lit(CODE_PARAM_ITEM).gather(pl.col("_item")),
            param=pl.lit(CODE_PARAM_NAME).gather(pl.col("_item")),
            value=pl.col("_qc"),
        )
        .collect()
        .cast(schema)  # type: ignore[arg-type]
    )


ITEM_BITS = 64  # parameter items are base items: fewer than 64
assert N_BASE <= ITEM_BITS


def measured_key(
    prepared: Prepared, cc: pl.Expr, period: pl.Expr, facility: pl.Expr, param_item: pl.Expr
) -> pl.Expr:
    """One UInt64 join key for (credit code, period, facility, parameter item).

    The credit code's dictionary code fills the high 32 bits; period, facility and item share the
    low 32 bits in mixed radix.
    """
    n_fac = len(prepared.facilities) + 1
    if max(len(prepared.periods), 1) * n_fac * ITEM_BITS >= 1 << 32:
        raise ValueError("too many distinct periods × facilities in one frame; split it by year")
    low = (period.cast(pl.UInt64) * n_fac + facility.cast(pl.UInt64)) * ITEM_BITS + param_item.cast(pl.UInt64)
    return cc.cast(pl.UInt64) * (1 << 32) + low
