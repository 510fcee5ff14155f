"""Validation of monthly activity data: a whole batch at once, column by column, never row by row.

Every door (API, CSV/XLSX upload, CLI, external SQL) ends here with a ``Table`` of
strings and gets back the same error frame (``kiln.intake.errors``) and, when it is
empty, the normalised rows ready to be written. Lookups are one query each for the whole
batch: enterprises in scope, stored current records, frozen months.

Scope and existence: a credit code outside the submitter's scope is reported as
``INT-ENTERPRISE-OUT-OF-SCOPE`` whether or not such an enterprise is registered, so
imports cannot be used to probe the registry. Only callers who may see every enterprise
(platform-wide roles, and the system itself for CLI and SQL sync without a membership)
are told ``INT-ENTERPRISE-UNKNOWN``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import polars as pl
from django.utils import timezone

from kiln.accounts.models import Membership
from kiln.engine import items, units
from kiln.intake import columns, errors
from kiln.intake.credit_codes import problem_expr
from kiln.intake.models import ActivityRecord, EnterpriseMonth
from kiln.intake.reading import Table
from kiln.intake.sql_lists import values_subquery
from kiln.registry.models import Enterprise
from kiln.registry.queries import PLATFORM_WIDE, visible_enterprises

PERIOD_PATTERN = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"
THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
SOURCES = {
    "meter": "meter", "计量": "meter", "仪表": "meter", "电表": "meter",
    "invoice": "invoice", "发票": "invoice", "结算": "invoice",
    "lab": "lab", "化验": "lab", "检测": "lab", "实测": "lab",
    "estimate": "estimate", "估算": "estimate", "估计": "estimate",
    "grid": "grid", "电网": "grid",
    "": "",
}
KNOWN_ITEMS = frozenset(items.ITEMS) | frozenset(items.parameter_codes())
KEY = ["credit_code", "period", "item", "facility"]


@dataclass(frozen=True)
class Scope:
    """Whose data a batch may hold: a membership's visible enterprises, or every one (``system``)."""

    membership: Membership | None = None
    system: bool = False

    @property
    def sees_everything(self) -> bool:
        return self.system or (self.membership is not None and self.membership.role in PLATFORM_WIDE)

    def enterprises(self):
        return Enterprise.objects.all() if self.system else visible_enterprises(self.membership)


@dataclass
class Validated:
    rows: pl.DataFrame  # normalised rows (see ``normalised_columns``); only meaningful when ``errors`` is empty
    errors: pl.DataFrame  # error frame, sorted by row
    row_count: int

    @property
    def ok(self) -> bool:
        return self.errors.height == 0


def this_month(today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    return f"{today.year:04d}-{today.month:02d}"


def _errors(df: pl.DataFrame, mask: pl.Expr, column: str, code: str, detail: pl.Expr | str = "") -> pl.DataFrame:
    detail_expr = detail if isinstance(detail, pl.Expr) else pl.lit(detail)
    return df.filter(mask).select(
        pl.col("_row").alias("row"),
        pl.lit(column).alias("column"),
        pl.col(column).cast(pl.String).alias("value"),
        pl.lit(code).alias("code"),
        detail_expr.cast(pl.String).fill_null("").alias("detail"),
    )


def validate(table: Table, *, scope: Scope, correction: bool = False, today: datetime.date | None = None) -> Validated:
    problems = [table.problems]
    if table.problems.filter(pl.col("code") == errors.HEADER_MISSING).height:
        # Without its required columns the rows cannot be checked meaningfully.
        return Validated(rows=pl.DataFrame(), errors=_sorted(problems), row_count=table.frame.height)
    df = _normalise(table.frame)
    df, found = _check_cells(df, today)
    problems += found
    df, found = _check_enterprises(df, scope)
    problems += found
    df, found = _check_stored(df, correction)
    problems += found
    return Validated(rows=df, errors=_sorted(problems), row_count=table.frame.height)


def _sorted(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return errors.empty_errors()
    order = {k: i for i, k in enumerate(columns.KEYS)}
    return (
        pl.concat(frames)
        .with_columns(pl.col("column").replace_strict(order, default=len(order), return_dtype=pl.Int32).alias("_c"))
        .sort(["row", "_c", "code"], nulls_last=False)
        .drop("_c")
    )


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    """Full-width characters from Chinese input methods become ASCII; codes get their canonical case."""
    nfkc = {k: pl.col(k).str.normalize("NFKC").str.strip_chars() for k in ("credit_code", "period", "item", "quantity",
                                                                               "source")}
    quantity = nfkc["quantity"]
    return frame.with_columns(
        nfkc["credit_code"].str.to_uppercase().alias("credit_code"),
        nfkc["period"].alias("period"),
        nfkc["item"].str.to_lowercase().alias("item"),
        pl.when(quantity.str.contains(THOUSANDS)).then(quantity.str.replace_all(",", "", literal=True))
        .otherwise(quantity).alias("quantity"),
        pl.col("unit").str.strip_chars(),
        nfkc["source"].str.to_lowercase().alias("source"),
    ).with_columns(pl.col("quantity").cast(pl.Float64, strict=False).alias("_quantity"))


def _check_cells(df: pl.DataFrame, today: datetime.date | None) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Everything that needs no database: formats, catalogue, numbers, units, duplicates in the batch."""
    found = []
    for key in columns.REQUIRED:
        if key != "unit":  # an empty unit is right for fractions; the unit check below decides
            found.append(_errors(df, pl.col(key) == "", key, errors.VALUE_REQUIRED))
    for key in ("facility", "note"):
        limit = columns.BY_KEY[key].max_length
        found.append(_errors(df, pl.col(key).str.len_chars() > limit, key, errors.TEXT_TOO_LONG, str(limit)))
        found.append(_errors(df, pl.col(key).str.starts_with("="), key, errors.CELL_FORMULA))

    code = pl.col("credit_code")
    codes = df.select(code).unique().filter(code != "").with_columns(problem_expr(code).alias("_credit_problem"))
    df = df.join(codes, on="credit_code", how="left")
    for problem in (errors.CREDIT_LENGTH, errors.CREDIT_CHARSET, errors.CREDIT_REGION, errors.CREDIT_CHECKSUM):
        detail = code.str.len_chars() if problem == errors.CREDIT_LENGTH else ""
        found.append(_errors(df, pl.col("_credit_problem") == problem, "credit_code", problem, detail))

    period = pl.col("period")
    df = df.with_columns(period.str.contains(PERIOD_PATTERN).alias("_period_ok"))
    found.append(_errors(df, (period != "") & ~pl.col("_period_ok"), "period", errors.PERIOD_FORMAT))
    found.append(_errors(df, pl.col("_period_ok") & (period > this_month(today)), "period", errors.PERIOD_FUTURE))
    df = df.with_columns((pl.col("_period_ok") & (period <= this_month(today))).alias("_period_ok"))

    df = df.with_columns(pl.col("item").is_in(list(KNOWN_ITEMS)).alias("_item_ok"))
    found.append(_errors(df, (pl.col("item") != "") & ~pl.col("_item_ok"), "item", errors.ITEM_UNKNOWN))

    q = pl.col("_quantity")
    given = pl.col("quantity") != ""
    found.append(_errors(df, given & (q.is_null() | q.is_nan()), "quantity", errors.QUANTITY_NOT_NUMBER))
    found.append(_errors(df, given & q.is_infinite(), "quantity", errors.QUANTITY_INFINITE))
    found.append(_errors(df, given & q.is_finite() & (q < 0), "quantity", errors.QUANTITY_NEGATIVE))

    df = _convert_units(df)
    unit_problem = pl.col("_unit_problem")
    found.append(_errors(df, unit_problem == errors.VALUE_REQUIRED, "unit", errors.VALUE_REQUIRED))
    found.append(_errors(df, unit_problem == errors.UNIT_UNKNOWN, "unit", errors.UNIT_UNKNOWN))
    found.append(_errors(df, unit_problem == errors.UNIT_INCOMPATIBLE, "unit", errors.UNIT_INCOMPATIBLE,
                         pl.col("_canonical_unit")))

    df = df.with_columns(pl.col("source").replace_strict(SOURCES, default=None, return_dtype=pl.String).alias("_source"))
    found.append(_errors(df, pl.col("_source").is_null(), "source", errors.SOURCE_UNKNOWN))

    keyed = (code != "") & (period != "") & (pl.col("item") != "")
    first = pl.col("_row").min().over(KEY)
    df = df.with_columns(pl.when(keyed).then(first).otherwise(pl.col("_row")).alias("_first_row"))
    found.append(_errors(df, pl.col("_row") != pl.col("_first_row"), "credit_code", errors.DUPLICATE_IN_BATCH,
                         pl.col("_first_row")))
    return df, found


def _convert_units(df: pl.DataFrame) -> pl.DataFrame:
    """Join each row to its unit's factor into the item's canonical unit (``kiln.engine.units``).

    The catalogue and unit tables are consulted once per distinct value, not once per row.
    """
    unit_values = df.get_column("unit").unique().to_list()
    item_values = df.filter(pl.col("_item_ok")).get_column("item").unique().to_list()
    normal = pl.DataFrame(
        {"unit": unit_values, "_unit_normal": [units.normalise(u) for u in unit_values]},
        schema={"unit": pl.String, "_unit_normal": pl.String},
    )
    canonical = pl.DataFrame(
        {"item": item_values, "_canonical_unit": [items.canonical_unit(i) for i in item_values]},
        schema={"item": pl.String, "_canonical_unit": pl.String},
    )
    df = df.join(normal, on="unit", how="left").join(canonical, on="item", how="left")
    pairs = df.select("unit", "_unit_normal", "_canonical_unit").unique().filter(pl.col("_canonical_unit").is_not_null())
    rows = []
    for unit, normal_unit, target in pairs.iter_rows():
        if normal_unit is None:
            rows.append((unit, target, None, errors.UNIT_UNKNOWN))
            continue
        factor = units.factor(unit, target)
        if factor is not None:
            rows.append((unit, target, factor, None))
        elif unit == "":
            rows.append((unit, target, None, errors.VALUE_REQUIRED))
        else:
            rows.append((unit, target, None, errors.UNIT_INCOMPATIBLE))
    factors = pl.DataFrame(
        rows, orient="row",
        schema={"unit": pl.String, "_canonical_unit": pl.String, "_factor": pl.Float64, "_unit_problem": pl.String},
    )
    return df.join(factors, on=["unit", "_canonical_unit"], how="left")


def _check_enterprises(df: pl.DataFrame, scope: Scope) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """One query for every credit code of the batch, restricted to the submitter's scope."""
    valid = df.filter(pl.col("_credit_problem").is_null() & (pl.col("credit_code") != ""))
    codes = valid.get_column("credit_code").unique().to_list()
    pairs = list(scope.enterprises().filter(credit_code__in=values_subquery(codes)).values_list("credit_code", "id")) if codes else []
    known = pl.DataFrame(pairs, orient="row", schema={"credit_code": pl.String, "enterprise_id": pl.Int64})
    df = df.join(known, on="credit_code", how="left")
    missing = (pl.col("credit_code") != "") & pl.col("_credit_problem").is_null() & pl.col("enterprise_id").is_null()
    code = errors.ENTERPRISE_UNKNOWN if scope.sees_everything else errors.ENTERPRISE_OUT_OF_SCOPE
    return df, [_errors(df, missing, "credit_code", code)]


def _check_stored(df: pl.DataFrame, correction: bool) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Against what is stored: current records with the same key, and frozen enterprise-months."""
    keyed = df.filter(pl.col("enterprise_id").is_not_null() & pl.col("_period_ok") & pl.col("_item_ok"))
    ids = keyed.get_column("enterprise_id").unique().to_list()
    periods = keyed.get_column("period").unique().to_list()
    stored_schema = {"enterprise_id": pl.Int64, "period": pl.String, "item": pl.String, "facility": pl.String,
                     "_old_id": pl.Int64, "_old_version": pl.Int64}
    frozen_schema = {"enterprise_id": pl.Int64, "period": pl.String, "_frozen_reason": pl.String}
    stored, frozen = [], []
    if ids:
        in_ids, in_periods = values_subquery(ids, integer=True), values_subquery(periods)
        stored = list(
            ActivityRecord.objects.filter(current=True, enterprise_id__in=in_ids, period__in=in_periods)
            .values_list("enterprise_id", "period", "item", "facility", "id", "version")
        )
        frozen = list(
            EnterpriseMonth.objects.filter(frozen=True, enterprise_id__in=in_ids, period__in=in_periods)
            .values_list("enterprise_id", "period", "reason")
        )
    df = df.join(
        pl.DataFrame(stored, orient="row", schema=stored_schema), on=["enterprise_id", "period", "item", "facility"],
        how="left",
    ).join(pl.DataFrame(frozen, orient="row", schema=frozen_schema), on=["enterprise_id", "period"], how="left")
    found = [_errors(df, pl.col("_frozen_reason").is_not_null(), "period", errors.MONTH_FROZEN, pl.col("_frozen_reason"))]
    if not correction:
        found.append(_errors(df, pl.col("_old_id").is_not_null(), "credit_code", errors.DUPLICATE_STORED))
    return df, found


def normalised_columns(df: pl.DataFrame) -> pl.DataFrame:
    """The rows as they will be stored (and hashed for the ledger), in input order."""
    return df.select(
        "_row",
        "enterprise_id",
        "credit_code",
        "period",
        "item",
        pl.col("_quantity").alias("quantity"),
        "unit",
        (pl.col("_quantity") * pl.col("_factor")).alias("canonical_quantity"),
        pl.col("_source").alias("source"),
        "facility",
        "note",
        "_old_id",
        "_old_version",
    )
