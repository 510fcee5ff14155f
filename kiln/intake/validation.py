"""Validation of monthly activity data: a whole batch at once, column by column, never row by row.

Every door (API, CSV/XLSX upload, CLI, external SQL) ends here with a ``Table`` of
strings and gets back the same error frame (``kiln.intake.errors``) and, when it is
empty, the normalised rows ready to be written. Lookups are one query each for the whole
batch: enterprises in scope, stored current records, frozen months.

Anything that depends on a value rather than on a row (normalising a code, checking a
credit code's checksum, converting a unit) is computed once per *distinct* value and
mapped back onto the column: a million rows hold a few thousand distinct codes.

Scope and existence: a credit code outside the submitter's scope is reported as
``INT-ENTERPRISE-OUT-OF-SCOPE`` whether or not such an enterprise is registered, so
imports cannot be used to probe the registry. Only callers who may see every enterprise
(platform-wide roles, and the system itself for CLI and SQL sync without a membership)
are told ``INT-ENTERPRISE-UNKNOWN``.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
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
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
SOURCES = {
    "meter": "meter",
    "计量": "meter",
    "仪表": "meter",
    "电表": "meter",
    "invoice": "invoice",
    "发票": "invoice",
    "结算": "invoice",
    "lab": "lab",
    "化验": "lab",
    "检测": "lab",
    "实测": "lab",
    "estimate": "estimate",
    "估算": "estimate",
    "估计": "estimate",
    "grid": "grid",
    "电网": "grid",
    "": "",
}
KNOWN_ITEMS = frozenset(items.ITEMS) | frozenset(items.parameter_codes())
KEY = ["credit_code", "period", "item", "facility"]
_SEP = "\x1f"


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
    rows: (
        pl.DataFrame
    )  # normalised rows (see ``normalised_columns``); only meaningful when ``errors`` is empty
    errors: pl.DataFrame  # error frame, sorted by row
    row_count: int

    @property
    def ok(self) -> bool:
        return self.errors.height == 0


@dataclass(frozen=True)
class Check:
    """One rule: where ``failed`` holds, report ``code`` against ``column`` (with an optional detail)."""

    column: str
    code: str
    failed: pl.Expr
    detail: pl.Expr | str = ""


def this_month(today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    return f"{today.year:04d}-{today.month:02d}"


def validate(
    table: Table, *, scope: Scope, correction: bool = False, today: datetime.date | None = None
) -> Validated:
    found = [table.problems]
    if table.problems.filter(pl.col("code") == errors.HEADER_MISSING).height:
        # Without its required columns the rows cannot be checked meaningfully.
        return Validated(rows=pl.DataFrame(), errors=_sorted(found), row_count=table.frame.height)
    df = _normalise(table.frame)
    df = _derive(df, today)
    df = _resolve_enterprises(df, scope)
    df = _attach_stored(df)
    found.append(_apply(df, _checks(scope, correction, today)))
    return Validated(rows=df, errors=_sorted(found), row_count=table.frame.height)


# --- preparing the columns -----------------------------------------------------------------------------


def _map_distinct(
    df: pl.DataFrame, column: str, fn: Callable[[str], str], candidates: pl.Expr | None = None
) -> pl.DataFrame:
    """Replace each distinct value ``v`` (among ``candidates``) by ``fn(v)``, computed once per value."""
    values = df.lazy().filter(candidates) if candidates is not None else df.lazy()
    distinct = values.select(pl.col(column).unique()).collect().to_series().to_list()
    mapping = {v: fn(v) for v in distinct}
    mapping = {k: v for k, v in mapping.items() if k != v}
    return df.with_columns(pl.col(column).replace(mapping)) if mapping else df


def _nfkc(text: str) -> str:
    # Chinese input methods produce full-width digits, letters and spaces (９１３３…, ＭＡ, "　").
    return unicodedata.normalize("NFKC", text).strip()


def _quantity_text(text: str) -> str:
    text = _nfkc(text)
    return text.replace(",", "") if THOUSANDS.match(text) else text


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    df = frame
    df = _map_distinct(df, "credit_code", lambda v: _nfkc(v).upper())
    df = _map_distinct(df, "period", _nfkc)
    df = _map_distinct(df, "item", lambda v: _nfkc(v).lower())
    df = _map_distinct(df, "source", lambda v: _nfkc(v).lower())
    # Quantities are nearly all distinct: only the few that are not plain ASCII numbers go through Python.
    df = _map_distinct(df, "quantity", _quantity_text, pl.col("quantity").str.contains(r"[^0-9.eE+\-]"))
    return df.with_columns(pl.col("quantity").cast(pl.Float64, strict=False).alias("_quantity"))


def _derive(df: pl.DataFrame, today: datetime.date | None) -> pl.DataFrame:
    """Helper columns of value-level facts: credit-code problem, period and item validity, unit factor."""
    codes = df.select(pl.col("credit_code").unique()).filter(pl.col("credit_code") != "")
    problems = dict(
        codes.with_columns(problem_expr(pl.col("credit_code")).alias("p"))
        .filter(pl.col("p").is_not_null())
        .iter_rows()
    )
    period = pl.col("period")
    df = df.with_columns(
        pl.col("credit_code")
        .replace_strict(problems, default=None, return_dtype=pl.String)
        .alias("_credit_problem"),
        period.str.contains(PERIOD_PATTERN).alias("_period_format_ok"),
        pl.col("item").is_in(list(KNOWN_ITEMS)).alias("_item_ok"),
        pl.col("source").replace_strict(SOURCES, default=None, return_dtype=pl.String).alias("_source"),
    ).with_columns((pl.col("_period_format_ok") & (period <= this_month(today))).alias("_period_ok"))
    return _convert_units(_mark_duplicates(df))


def _mark_duplicates(df: pl.DataFrame) -> pl.DataFrame:
    """``_first_row``: the first row with the same key (the row itself when the key is unique or incomplete).

    A window over one 64-bit hash of the key finds out cheaply whether there are any duplicates; only
    then is the exact (slower) window over the four key columns computed, so a hash collision can never
    turn into a reported duplicate.
    """
    keyed = (pl.col("credit_code") != "") & (pl.col("period") != "") & (pl.col("item") != "")
    by_hash = df.select(
        (keyed & (pl.col("_row") != pl.col("_row").min().over(pl.struct(KEY).hash()))).any()
    ).item()
    first = pl.col("_row").min().over(KEY) if by_hash else pl.col("_row")
    return df.with_columns(pl.when(keyed).then(first).otherwise(pl.col("_row")).alias("_first_row"))


def _convert_units(df: pl.DataFrame) -> pl.DataFrame:
    """Each row's factor into its item's canonical unit (``kiln.engine.units``), or why there is none."""
    item_values = df.filter(pl.col("_item_ok")).get_column("item").unique().to_list()
    canonical = {i: items.canonical_unit(i) for i in item_values}
    df = df.with_columns(
        pl.col("item")
        .replace_strict(canonical, default=None, return_dtype=pl.String)
        .alias("_canonical_unit")
    )
    pair = pl.concat_str([pl.col("unit"), pl.col("_canonical_unit")], separator=_SEP)
    factors: dict[str, float] = {}
    problems: dict[str, str] = {}
    for key in df.filter(pl.col("_item_ok")).select(pair.unique()).to_series().to_list():
        unit, target = key.split(_SEP)
        factor = units.factor(unit, target)
        if factor is not None:
            factors[key] = factor
        elif unit == "":
            problems[key] = errors.VALUE_REQUIRED
        elif units.normalise(unit) is None:
            problems[key] = errors.UNIT_UNKNOWN
        else:
            problems[key] = errors.UNIT_INCOMPATIBLE
    return df.with_columns(
        pair.replace_strict(factors, default=None, return_dtype=pl.Float64).alias("_factor"),
        pair.replace_strict(problems, default=None, return_dtype=pl.String).alias("_unit_problem"),
    )


def _resolve_enterprises(df: pl.DataFrame, scope: Scope) -> pl.DataFrame:
    """One query for every valid credit code of the batch, restricted to the submitter's scope."""
    valid = df.filter(pl.col("_credit_problem").is_null() & (pl.col("credit_code") != ""))
    codes = valid.get_column("credit_code").unique().to_list()
    ids = (
        dict(
            scope.enterprises()
            .filter(credit_code__in=values_subquery(codes))
            .values_list("credit_code", "id")
        )
        if codes
        else {}
    )
    return df.with_columns(
        pl.col("credit_code").replace_strict(ids, default=None, return_dtype=pl.Int64).alias("enterprise_id")
    )


def _attach_stored(df: pl.DataFrame) -> pl.DataFrame:
    """What is stored for the batch's keys: current records (id, version) and frozen enterprise-months."""
    keyed = df.filter(pl.col("enterprise_id").is_not_null() & pl.col("_period_ok") & pl.col("_item_ok"))
    ids = keyed.get_column("enterprise_id").unique().to_list()
    periods = keyed.get_column("period").unique().to_list()
    stored, frozen = [], []
    if ids:
        in_ids, in_periods = values_subquery(ids, integer=True), values_subquery(periods)
        stored = list(
            ActivityRecord.objects.filter(
                current=True, enterprise_id__in=in_ids, period__in=in_periods
            ).values_list("enterprise_id", "period", "item", "facility", "id", "version")
        )
        frozen = list(
            EnterpriseMonth.objects.filter(
                frozen=True, enterprise_id__in=in_ids, period__in=in_periods
            ).values_list("enterprise_id", "period", "reason")
        )
    if stored:
        schema = {
            "enterprise_id": pl.Int64,
            "period": pl.String,
            "item": pl.String,
            "facility": pl.String,
            "_old_id": pl.Int64,
            "_old_version": pl.Int64,
        }
        df = df.join(
            pl.DataFrame(stored, orient="row", schema=schema),
            on=["enterprise_id", "period", "item", "facility"],
            how="left",
        )
    else:  # the common first import: nothing stored, no join over a million rows
        df = df.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("_old_id"), pl.lit(None, dtype=pl.Int64).alias("_old_version")
        )
    if frozen:
        schema = {"enterprise_id": pl.Int64, "period": pl.String, "_frozen_reason": pl.String}
        df = df.join(
            pl.DataFrame(frozen, orient="row", schema=schema), on=["enterprise_id", "period"], how="left"
        )
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("_frozen_reason"))
    return df


# --- the rules -------------------------------------------------------------------------------------------


def _checks(scope: Scope, correction: bool, today: datetime.date | None) -> list[Check]:
    q = pl.col("_quantity")
    given = pl.col("quantity") != ""
    # A formula typed into a CSV (or pasted as text): say so, rather than just "not a number".
    formula = pl.col("quantity").str.starts_with("=")
    code, period = pl.col("credit_code"), pl.col("period")
    checks = [
        Check(key, errors.VALUE_REQUIRED, pl.col(key) == "") for key in columns.REQUIRED if key != "unit"
    ]  # an empty unit is right for fractions: see _convert_units
    for key in ("facility", "note"):
        limit = columns.BY_KEY[key].max_length
        checks += [
            Check(key, errors.TEXT_TOO_LONG, pl.col(key).str.len_chars() > limit, str(limit)),
            Check(key, errors.CELL_FORMULA, pl.col(key).str.starts_with("=")),
        ]
    for problem in (
        errors.CREDIT_LENGTH,
        errors.CREDIT_CHARSET,
        errors.CREDIT_REGION,
        errors.CREDIT_CHECKSUM,
    ):
        detail = code.str.len_chars().cast(pl.String) if problem == errors.CREDIT_LENGTH else ""
        checks.append(Check("credit_code", problem, pl.col("_credit_problem") == problem, detail))
    unresolved = (code != "") & pl.col("_credit_problem").is_null() & pl.col("enterprise_id").is_null()
    scope_code = errors.ENTERPRISE_UNKNOWN if scope.sees_everything else errors.ENTERPRISE_OUT_OF_SCOPE
    checks += [
        Check("credit_code", scope_code, unresolved),
        Check("period", errors.PERIOD_FORMAT, (period != "") & ~pl.col("_period_format_ok")),
        Check("period", errors.PERIOD_FUTURE, pl.col("_period_format_ok") & (period > this_month(today))),
        Check(
            "period", errors.MONTH_FROZEN, pl.col("_frozen_reason").is_not_null(), pl.col("_frozen_reason")
        ),
        Check("item", errors.ITEM_UNKNOWN, (pl.col("item") != "") & ~pl.col("_item_ok")),
        Check("quantity", errors.CELL_FORMULA, formula),
        Check("quantity", errors.QUANTITY_NOT_NUMBER, given & ~formula & (q.is_null() | q.is_nan())),
        Check("quantity", errors.QUANTITY_INFINITE, given & q.is_infinite()),
        Check("quantity", errors.QUANTITY_NEGATIVE, given & q.is_finite() & (q < 0)),
        Check("unit", errors.VALUE_REQUIRED, pl.col("_unit_problem") == errors.VALUE_REQUIRED),
        Check(
            "unit",
            errors.UNIT_UNKNOWN,
            pl.col("_unit_problem") == errors.UNIT_UNKNOWN,
            pl.col("_canonical_unit").fill_null(""),
        ),
        Check(
            "unit",
            errors.UNIT_INCOMPATIBLE,
            pl.col("_unit_problem") == errors.UNIT_INCOMPATIBLE,
            pl.col("_canonical_unit"),
        ),
        Check("source", errors.SOURCE_UNKNOWN, pl.col("_source").is_null()),
        Check(
            "credit_code",
            errors.DUPLICATE_IN_BATCH,
            pl.col("_row") != pl.col("_first_row"),
            pl.col("_first_row").cast(pl.String),
        ),
    ]
    if not correction:
        checks.append(Check("credit_code", errors.DUPLICATE_STORED, pl.col("_old_id").is_not_null()))
    return checks


def _apply(df: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """Evaluate every rule in one parallel pass; only the rules that failed somewhere are collected."""
    masks = df.select([c.failed.fill_null(False).alias(str(i)) for i, c in enumerate(checks)])
    counts = masks.sum().row(0)
    frames = []
    for i, check in enumerate(checks):
        if not counts[i]:
            continue
        detail = check.detail if isinstance(check.detail, pl.Expr) else pl.lit(check.detail)
        frames.append(
            df.filter(masks.get_column(str(i))).select(
                pl.col("_row").alias("row"),
                pl.lit(check.column).alias("column"),
                pl.col(check.column).cast(pl.String).alias("value"),
                pl.lit(check.code).alias("code"),
                detail.cast(pl.String).fill_null("").alias("detail"),
            )
        )
    return pl.concat(frames) if frames else errors.empty_errors()


def _sorted(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return errors.empty_errors()
    order = {k: i for i, k in enumerate(columns.KEYS)}
    return (
        pl.concat(frames)
        .with_columns(
            pl.col("column").replace_strict(order, default=len(order), return_dtype=pl.Int32).alias("_c")
        )
        .sort(["row", "_c", "code"], nulls_last=False)
        .drop("_c")
    )


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
