"""Big-data screening (大数据筛查): rule checks over reported monthly data. Pure: Polars and numpy only.

domain.md §7: the MEE screening thresholds were **not found**, so no threshold lives in this
module. Every check reads its bounds and tolerances from a ``Rule`` (a configurable record:
rule ID, check, severity, scope, parameters), in the pattern of EPA ECMPS check codes: a stable
ID, a severity and a message template. The rules themselves are data (``kiln.screening`` stores
them, versioned); this module only knows the *checks* a rule may ask for (``CHECKS``).

How it works
------------

``build(...)`` turns the activity frame (the reported current rows, interchange format, with as
much history as the checks need: 12 months before the screened periods for the trailing median)
into a **stream × month grid**: one stream per (enterprise, item or ``<item>.<parameter>``,
facility), one column per calendar month, the value in the item's canonical unit (NaN: nothing
reported). Every check is whole-array arithmetic over that grid or a few small joins; no row is
ever handled in Python. ``run(context, rules)`` runs the checks and returns the findings frame.

Inputs (all frames optional except ``activity``):

============= ============================================================================
frame         columns (units)
============= ============================================================================
activity      credit_code, period (YYYY-MM), item, quantity, unit [, source, facility, note]
enterprises   credit_code, industry_code (GB/T 4754), region_code (county), sector (ETS sector
              ``power``/``cement``/``steel``/``aluminium`` or ""), obliged (bool: must deposit
              monthly evidence)
metered       credit_code, period, kwh [, complete] (monthly) or credit_code, date, kwh (daily);
              see ``metered_monthly``
evidence      credit_code, period, sha256, kind (deposited evidence files)
emissions     credit_code, period, co2_t (tCO2 per enterprise-month, from the accounting engine)
economic      credit_code, year, value_added_10k_cny (10^4 CNY)
annual        credit_code, year, item, facility, quantity (canonical unit): the submitted annual
              report's activity totals (``kiln.review``'s figures snapshot), one row per item and
              facility; an enterprise-year without rows has no annual report to compare with
============= ============================================================================

Findings frame (``FINDING_SCHEMA``): one row per (rule, enterprise, period, item, facility).

============ ======== ===================================================================
column       dtype    meaning
============ ======== ===================================================================
rule_id      String   stable rule ID (``KLN-RANGE-001``)
version      UInt16   rule version that produced the finding
check        String   engine check (``range``, ``jump_median`` …)
family       String   rule family (``FAMILIES``)
severity     String   ``error`` (blocking) or ``warning`` (may be acknowledged with a reason)
credit_code  String   the enterprise
period       String   ``YYYY-MM`` (``YYYY`` for yearly checks)
item         String   item or ``<item>.<parameter>`` code; "" when the finding is about the month
facility     String   facility as reported; "" for the enterprise as a whole
value        Float64  the value checked, in the item's canonical unit (see each check)
low, high    Float64  the expected range, when the check has one
reference    Float64  what the value was compared with (median, metered value, peer median …)
score        Float64  ratio, relative difference or robust z-score (see each check)
detail       String   extra context (a file hash, the other months …), often null
============ ======== ===================================================================
"""

from __future__ import annotations

import calendar
import datetime
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from kiln.engine import items as catalogue
from kiln.engine import units
from kiln.engine.errors import EngineError, ErrorCode, frame_error
from kiln.engine.normalise import (
    CODE_INDEX,
    CODES,
    N_BASE,
    REQUIRED_COLUMNS,
    _as_categorical,
    _as_float,
    current_period,
    period_problem,
)

SCREENING_VERSION = "1"
SEVERITIES = ("error", "warning")
# Families in the order they run: later families may consult earlier flags (a cell flagged as a unit
# error is not reported again as a jump).
FAMILIES = ("duplicate", "completeness", "unit", "range", "jump", "cross_source", "lab", "peer")
MONTHS_OF_CONTEXT = 12  # history the trailing-median checks need before the first screened month

FINDING_SCHEMA = {
    "rule_id": pl.String,
    "version": pl.UInt16,
    "check": pl.String,
    "family": pl.String,
    "severity": pl.String,
    "credit_code": pl.String,
    "period": pl.String,
    "item": pl.String,
    "facility": pl.String,
    "value": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "reference": pl.Float64,
    "score": pl.Float64,
    "detail": pl.String,
}


@dataclass(frozen=True)
class Check:
    """A kind of check the engine can run; rules choose one and give it bounds and parameters."""

    name: str
    family: str
    summary: str
    needs: tuple[str, ...] = ()  # optional inputs it cannot run without
    uses: tuple[str, ...] = ()  # rule fields it reads: sector, item, parameter, low, high
    defaults: Mapping[str, object] = field(default_factory=dict)
    available: bool = True
    note: str = ""


CHECKS: dict[str, Check] = {
    c.name: c
    for c in (
        Check(
            "duplicate_row",
            "duplicate",
            "the same enterprise, month, item and facility reported more than once",
        ),
        Check(
            "duplicate_evidence",
            "duplicate",
            "one evidence file (same SHA-256) used by several enterprises or months",
            needs=("evidence",),
            defaults={"across": "enterprises", "kinds": []},
        ),
        Check(
            "missing_month",
            "completeness",
            "a stream (or the whole enterprise) reported before but not in this month",
            uses=("item",),
            defaults={"max_gap": 3},
        ),
        Check(
            "missing_evidence",
            "completeness",
            "consecutive obliged months with data but no evidence deposited by the deadline (one finding)",
            needs=("evidence",),
            defaults={"deadline_days": 40, "start": "", "error_over_months": 3},
        ),
        Check(
            "missing_parameter",
            "completeness",
            "a fuel or process quantity without the measured parameters its sector requires",
            uses=("sector",),
            defaults={"requirements": {}},
        ),
        Check(
            "unit_scale",
            "unit",
            "a value about ×1000 (or ÷1000) the stream's own median: a unit slip",
            uses=("sector", "item"),
            defaults={
                "factor": 1000.0,
                "tolerance": 3.0,
                "direction": "up",
                "applies_to": "quantities",
                "min_months": 3,
            },
        ),
        Check(
            "range",
            "range",
            "a measured parameter outside its configured range",
            uses=("sector", "item", "parameter", "low", "high"),
        ),
        Check(
            "intensity_range",
            "range",
            "emissions per unit of the main product outside its configured range",
            needs=("emissions",),
            uses=("sector", "item", "low", "high"),
        ),
        Check(
            "jump_median",
            "jump",
            "a quantity differs by more than a factor from its trailing 12-month median",
            uses=("sector", "item"),
            defaults={
                "ratio": 2.5,
                "window": 12,
                "min_months": 6,
                "min_value": 0.0,
                "relative_to_enterprise": True,
            },
        ),
        Check(
            "jump_mom",
            "jump",
            "a quantity changed by more than a factor from the previous month",
            uses=("sector", "item"),
            defaults={"ratio": 3.0, "min_value": 0.0, "relative_to_enterprise": True},
        ),
        Check(
            "parameter_shift",
            "jump",
            "a measured parameter moved away from the stream's own median",
            uses=("sector", "item", "parameter"),
            defaults={"tolerance": 0.25, "tolerances": {}, "min_months": 3},
        ),
        Check(
            "metered_electricity",
            "cross_source",
            "reported purchased electricity differs from the grid meter",
            needs=("metered",),
            defaults={"tolerance": 0.10},
        ),
        Check(
            "metered_unreported",
            "cross_source",
            "the grid metered electricity that was not reported",
            needs=("metered",),
            defaults={"min_mwh": 1.0},
        ),
        Check(
            "annual_sum",
            "cross_source",
            "an item's monthly sum over a year differs from the submitted annual report",
            needs=("annual",),
            uses=("sector", "item"),
            defaults={"tolerance": 0.001},
        ),
        Check(
            "lab_element_carbon",
            "lab",
            "element carbon implied by carbon content × NCV outside its range",
            uses=("item", "low", "high"),
        ),
        Check(
            "lab_mass_balance",
            "lab",
            "carbon + hydrogen + sulphur + moisture of one sample exceed the whole",
            uses=("item", "high"),
            defaults={"min_components": 2},
        ),
        Check(
            "lab_ncv_composition",
            "lab",
            "NCV inconsistent with the sample's C, H, S and moisture (Mendeleev)",
            uses=("item",),
            defaults={"tolerance": 0.15, "oxygen": 0.07},
        ),
        Check(
            "peer_intensity",
            "peer",
            "emissions per unit of product far from the industry's median (robust z)",
            needs=("emissions", "enterprises"),
            defaults={"z": 3.5, "min_peers": 5, "products": []},
        ),
        Check(
            "peer_value_added",
            "peer",
            "emissions per unit of value added far from the industry's median",
            needs=("emissions", "enterprises", "economic"),
            defaults={"z": 3.5, "min_peers": 5},
        ),
    )
}

# The product whose output measures an enterprise's activity for intensity checks, first found wins.
PRODUCT_PRIORITY = (
    "clinker_output",
    "crude_steel_output",
    "aluminium_output",
    "power_supplied",
    "cement_output",
    "heat_supplied",
    "product_output",
)


@dataclass(frozen=True)
class Rule:
    """One rule version as the engine sees it (``kiln.screening.models.RuleVersion`` at the edge)."""

    rule_id: str
    check: str
    severity: str = "warning"
    version: int = 1
    sector: str = ""  # "" all; an ETS sector (power, cement ...) or a GB/T 4754 code prefix ("C30")
    item: str = ""  # "" all items; an item code ("raw_coal")
    parameter: str = ""  # measured parameter name ("ncv") where the check takes one
    low: float | None = None
    high: float | None = None
    params: Mapping[str, object] = field(default_factory=dict)

    def param(self, name: str):
        if name in self.params:
            return self.params[name]
        return CHECKS[self.check].defaults.get(name)

    @property
    def family(self) -> str:
        return CHECKS[self.check].family


@dataclass
class Context:
    """The screened data as arrays: the stream × month grid and the side inputs aligned to it."""

    months: list[str]  # calendar month axis, contiguous YYYY-MM
    codes: list[str]  # enterprises (dense index → credit code)
    facilities: list[str]  # stream facility k > 0 is facilities[k - 1]; 0 = the enterprise as a whole
    screened: np.ndarray  # bool[n_months]: months findings are reported for
    s_ent: np.ndarray  # int32[n_streams]
    s_item: np.ndarray  # int32[n_streams]: index into CODES
    s_fac: np.ndarray  # int32[n_streams]
    values: np.ndarray  # float64[n_streams, n_months], canonical unit, NaN = not reported
    noted: np.ndarray  # bool[n_streams, n_months]: the row carries a note (an overhaul, say)
    dup_cells: np.ndarray  # flat indices into values of cells reported more than once
    dup_counts: np.ndarray  # rows in each of those cells
    ent_present: np.ndarray  # bool[n_enterprises, n_months]: the enterprise reported anything
    ent_sector: np.ndarray  # object[n_enterprises]: ETS sector or ""
    ent_industry: np.ndarray  # object[n_enterprises]: GB/T 4754 code or ""
    ent_obliged: np.ndarray  # bool[n_enterprises]
    metered: np.ndarray | None  # float64[n_enterprises, n_months] MWh (NaN: none or incomplete)
    evidence: (
        pl.DataFrame | None
    )  # ent (-1: outside the screened scope), m (null: off the axis), sha256, kind
    emissions: np.ndarray | None  # float64[n_enterprises, n_months] tCO2
    economic: pl.DataFrame | None  # ent, year, value_added (10^4 CNY)
    as_of: datetime.date
    pair_index: np.ndarray  # int64[len(CODES) × n_fac]: (item, facility) → pair (-1 absent)
    n_fac: int
    stream_table: np.ndarray  # int32[pairs × enterprises]: pair × n_enterprises + enterprise → stream (-1)
    n_flows: int  # streams [0, n_flows) are quantities, the rest measured parameters
    unknown_items: list[str] = field(default_factory=list)  # item codes left out (not in the catalogue)
    # ent, year, code (CODES index), fac (-1: a facility not on the grid), facility, quantity (canonical)
    annual: pl.DataFrame | None = None
    flags: dict[str, np.ndarray] = field(default_factory=dict)  # masks shared between checks
    cache: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_months(self) -> int:
        return len(self.months)

    @property
    def n_streams(self) -> int:
        return len(self.s_ent)

    @property
    def n_enterprises(self) -> int:
        return len(self.codes)

    def stream_of(self, ent: np.ndarray, code: np.ndarray, fac: np.ndarray) -> np.ndarray:
        """Stream index of (enterprise, CODES index, facility) for whole arrays; -1 where absent."""
        ent, code, fac = (np.asarray(a, dtype=np.int64) for a in (ent, code, fac))
        ok = (code >= 0) & (code < len(CODES)) & (fac >= 0) & (fac < self.n_fac)
        pair = np.full(len(ent), -1, dtype=np.int64)
        pair[ok] = self.pair_index[code[ok] * self.n_fac + fac[ok]]
        out = np.full(len(ent), -1, dtype=np.int64)
        found = pair >= 0
        out[found] = self.stream_table[pair[found] * self.n_enterprises + ent[found]]
        return out

    def sector_match(self, rule: Rule) -> np.ndarray:
        """bool[n_enterprises]: enterprises in the rule's sector scope."""
        if not rule.sector:
            return np.ones(self.n_enterprises, dtype=bool)
        sector = rule.sector
        return np.array(
            [
                s == sector or (bool(i) and i.startswith(sector))
                for s, i in zip(self.ent_sector, self.ent_industry, strict=True)
            ],
            dtype=bool,
        )


# --- periods --------------------------------------------------------------------------------------------


def month_number(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def month_text(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    return [month_text(n) for n in range(month_number(first), month_number(last) + 1)]


def context_start(first: str, months: int = MONTHS_OF_CONTEXT) -> str:
    """The first month of history to load for screening from ``first``."""
    return month_text(month_number(first) - months)


def month_deadline(period: str, days: int) -> datetime.date:
    year, month = int(period[:4]), int(period[5:7])
    return datetime.date(year, month, calendar.monthrange(year, month)[1]) + datetime.timedelta(days=days)


# --- side inputs ----------------------------------------------------------------------------------------


def metered_monthly(frame: pl.DataFrame) -> pl.DataFrame:
    """Monthly metered electricity from daily or monthly readings: credit_code, period, kwh, complete.

    Daily readings (``date``) are summed per month; a month is ``complete`` when every day of it
    has a reading. Monthly readings (``period``) are complete unless a ``complete`` column says
    otherwise. A month with both kinds takes the monthly reading. Key columns keep their dtype
    (Categorical/Enum stay dictionary-encoded: no per-row strings).
    """
    parts = []
    if "date" in frame.columns:
        daily = frame.filter(pl.col("date").is_not_null()).with_columns(pl.col("date").cast(pl.Date))
        parts.append(
            daily.group_by(
                pl.col("credit_code").cast(pl.String), pl.col("date").dt.strftime("%Y-%m").alias("period")
            )
            .agg(
                pl.col("kwh").cast(pl.Float64).sum(),
                pl.col("date").n_unique().alias("days"),
                pl.col("date").first().dt.month_end().dt.day().alias("month_days"),
            )
            .select(
                "credit_code",
                "period",
                "kwh",
                (pl.col("days") >= pl.col("month_days")).alias("complete"),
                pl.lit(1, dtype=pl.Int8).alias("_rank"),
            )
        )
    if "period" in frame.columns:
        monthly = frame.filter(pl.col("period").is_not_null())
        if "date" in frame.columns:
            monthly = monthly.filter(pl.col("date").is_null())
        complete = pl.col("complete").cast(pl.Boolean) if "complete" in frame.columns else pl.lit(True)
        aggregated = monthly.group_by("credit_code", "period").agg(
            pl.col("kwh").cast(pl.Float64).sum(), complete.all().alias("complete")
        )
        if not parts:
            return aggregated
        parts.append(
            aggregated.with_columns(
                pl.col("credit_code").cast(pl.String),
                pl.col("period").cast(pl.String),
                pl.lit(0, dtype=pl.Int8).alias("_rank"),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={"credit_code": pl.String, "period": pl.String, "kwh": pl.Float64, "complete": pl.Boolean}
        )
    if len(parts) == 1:
        return parts[0].drop("_rank")
    return pl.concat(parts).sort("_rank").unique(["credit_code", "period"], keep="first").drop("_rank")


# --- building the grid ----------------------------------------------------------------------------------


@dataclass
class _Column:
    """A text column as per-row dictionary codes plus the value of each code (``None`` for nulls)."""

    codes: np.ndarray  # per row
    present: np.ndarray  # the codes that occur
    values: list[str | None]  # value of each present code

    def table(self, mapping, fill, dtype) -> np.ndarray:
        """Lookup table indexed by code: ``mapping(value)`` for each present code, ``fill`` elsewhere."""
        size = int(self.present.max()) + 1 if len(self.present) else 1
        out = np.full(size, fill, dtype=dtype)
        if len(self.present):
            out[self.present] = np.array([mapping(v) for v in self.values], dtype=dtype)
        return out

    def gather(self, mapping, fill, dtype) -> np.ndarray:
        return self.table(mapping, fill, dtype)[self.codes]


def _column(series: pl.Series, *, exact: bool = True) -> _Column:
    """Dictionary-encode a text column without hashing its rows when it is already Categorical/Enum.

    ``exact``: list only the values that occur (one counting pass); otherwise an Enum's whole
    category list is taken as is, which is cheaper for short lists (items, units).
    """
    s = _as_categorical(series)
    phys = s.to_physical()
    null_code = None
    if phys.null_count():
        null_code = int(phys.max() or 0) + 1 if phys.null_count() < len(phys) else 0
        phys = phys.cast(pl.UInt32).fill_null(null_code)
    codes = phys.to_numpy()
    if codes.size == 0:
        return _Column(codes, np.zeros(0, dtype=np.int64), [])
    dtype = s.dtype
    if not exact and isinstance(dtype, pl.Enum):
        present = np.arange(len(dtype.categories) + (1 if null_code is not None else 0))
    else:
        present = np.flatnonzero(np.bincount(codes))
    real = present[present != null_code] if null_code is not None else present
    index = pl.Series(real, dtype=pl.UInt32)
    if isinstance(dtype, pl.Enum):
        known = dtype.categories.gather(index).to_list()
    else:
        known = dtype.categories.to_series().gather(index).to_list()  # type: ignore[union-attr]
    lookup = dict(zip(real.tolist(), known, strict=True))
    return _Column(codes, present, [lookup.get(c) for c in present.tolist()])


def _index_of(series: pl.Series, values: Sequence[str]) -> np.ndarray:
    """Per row, the position of its value in ``values`` (-1 when absent or null)."""
    position = {v: i for i, v in enumerate(values)}
    return _column(series).gather(lambda v: position.get(v, -1) if v is not None else -1, -1, np.int64)


def _on_grid(frame: pl.DataFrame, codes: list[str], months: list[str], value: np.ndarray) -> np.ndarray:
    """A per-(credit_code, period) value as a float64[n_enterprises, n_months] array, NaN elsewhere."""
    grid = np.full(len(codes) * len(months), np.nan)
    if frame.height:
        ent = _index_of(frame.get_column("credit_code"), codes)
        m = _index_of(frame.get_column("period"), months)
        ok = (ent >= 0) & (m >= 0)
        grid[ent[ok] * len(months) + m[ok]] = value[ok]
    return grid.reshape(len(codes), len(months))


def build(
    activity: pl.DataFrame | pl.LazyFrame,
    *,
    enterprises: pl.DataFrame | None = None,
    metered: pl.DataFrame | None = None,
    evidence: pl.DataFrame | None = None,
    emissions: pl.DataFrame | None = None,
    economic: pl.DataFrame | None = None,
    annual: pl.DataFrame | None = None,
    periods: tuple[str, str] | None = None,
    as_of: datetime.date | None = None,
    not_after: str | None = None,
) -> Context:
    """Lay the activity frame out as a stream × month grid and align the side inputs to it.

    ``periods`` (first, last month) limits the months findings are reported for; the rest of
    the activity frame is context (history for medians, the month before for jumps). Rows that
    cannot be read (unknown item, unit or period, a negative quantity) are left out: the intake
    validator reports those. Streams are ordered item first, so all quantity streams come before
    all parameter streams and each item's streams are contiguous (checks take views, not copies).
    """
    started, started_cpu = time.perf_counter(), time.process_time()
    if isinstance(activity, pl.LazyFrame):
        activity = activity.collect()
    missing = [c for c in REQUIRED_COLUMNS if c not in activity.columns]
    if missing:
        raise EngineError(
            pl.concat([frame_error(ErrorCode.MISSING_COLUMN, f"missing column {c!r}") for c in missing])
        )
    as_of = as_of or datetime.date.today()
    not_after = not_after or current_period(as_of)

    # Periods: valid, not future months on a contiguous axis.
    period = _column(activity.get_column("period"))
    valid = sorted({v for v in period.values if v is not None and period_problem(v, not_after) is None})
    if activity.height == 0 or not valid:
        return _empty_context(as_of)
    months = months_between(valid[0], valid[-1])
    base = month_number(valid[0])
    valid_set = set(valid)
    m = period.gather(lambda v: month_number(v) - base if v in valid_set else -1, -1, np.int32)
    del period

    credit = _column(activity.get_column("credit_code"))
    codes = [v for v in credit.values if v is not None]
    ent_of = {v: i for i, v in enumerate(codes)}
    ent = credit.gather(lambda v: ent_of.get(v, -1) if v is not None else -1, -1, np.int32)
    del credit

    item_col = _column(activity.get_column("item"), exact=False)
    item = item_col.gather(lambda v: CODE_INDEX.get(v, -1) if v is not None else -1, -1, np.int32)
    item_values = item_col.values

    # Unit conversion: one multiplier per (unit code, item code) pair — a table of a few hundred
    # entries — gathered once per row with a combined code.
    unit_col = _column(activity.get_column("unit"), exact=False)
    n_unit, n_item = int(unit_col.present.max()) + 1, int(item_col.present.max()) + 1
    factors = np.full((n_unit, n_item), np.nan)
    for u, unit_value in zip(unit_col.present.tolist(), unit_col.values, strict=True):
        for i, item_value in zip(item_col.present.tolist(), item_values, strict=True):
            canonical = catalogue.canonical_unit(item_value) if item_value else None
            if canonical is not None:
                factors[u, i] = units.factor(unit_value or "", canonical) or np.nan
    combined = unit_col.codes.astype(np.int32) * np.int32(n_item) + item_col.codes
    qc = _as_float(activity.get_column("quantity")).to_numpy() * factors.ravel()[combined]
    del unit_col, item_col, combined

    facilities: list[str] = []
    if "facility" in activity.columns:
        fac_col = _column(activity.get_column("facility"), exact=False)
        facilities = sorted({v for v in fac_col.values if v})
        fac_of = {v: i + 1 for i, v in enumerate(facilities)}
        fac = fac_col.gather(lambda v: fac_of.get(v, 0) if v else 0, 0, np.int32)
        del fac_col
    else:
        fac = np.zeros(activity.height, dtype=np.int32)
    noted_rows = None
    if "note" in activity.columns and activity.get_column("note").null_count() < activity.height:
        noted_rows = _column(activity.get_column("note"), exact=False).gather(
            lambda v: bool(v and v.strip()), False, np.bool_
        )

    keep = (ent >= 0) & (item >= 0) & (m >= 0) & np.isfinite(qc) & (qc >= 0)
    if not keep.all():
        ent, item, m, fac, qc = ent[keep], item[keep], m[keep], fac[keep], qc[keep]
        noted_rows = noted_rows[keep] if noted_rows is not None else None
    del keep

    # Streams: (item, facility) pairs first (a few hundred), then pair × enterprise, so the key space
    # stays small and streams come out sorted by item, facility, enterprise.
    n_fac = len(facilities) + 1
    pair_key = item * n_fac + fac  # int32 throughout: every key space here is far below 2**31
    pair_seen = np.bincount(pair_key, minlength=len(CODES) * n_fac)
    pairs = np.flatnonzero(pair_seen)
    pair_index = np.full(len(pair_seen), -1, dtype=np.int64)
    pair_index[pairs] = np.arange(len(pairs))
    ne = len(codes)
    if len(pairs) * ne >= 1 << 31:
        raise ValueError("too many enterprises × (item, facility) pairs in one frame; screen it by region")
    key = pair_index.astype(np.int32)[pair_key] * np.int32(ne) + ent
    del pair_key
    seen = np.zeros(len(pairs) * ne, dtype=bool)
    seen[key] = True
    stream_keys = np.flatnonzero(seen)
    table = np.cumsum(seen, dtype=np.int32) - 1
    stream = table[key]
    table[~seen] = -1
    del seen, key
    s_pair, s_ent = np.divmod(stream_keys, ne)
    s_item = (pairs[s_pair] // n_fac).astype(np.int32)
    s_fac = (pairs[s_pair] % n_fac).astype(np.int32)

    nm, ns = len(months), len(stream_keys)
    cell = stream * np.int32(nm) + m if ns * nm < 1 << 31 else stream.astype(np.int64) * nm + m
    del stream
    values = np.full(ns * nm, np.nan)
    values[cell] = qc
    # Cells reported more than once: scatter each row's number, and whichever row's number a cell kept,
    # every other row of that cell sees a different one (true whatever order numpy assigns in).
    winner = np.empty(ns * nm, dtype=np.int32)
    row_number = np.arange(len(cell), dtype=np.int32)
    winner[cell] = row_number
    losers = cell[winner[cell] != row_number]
    del winner, row_number
    dup_cells, extra = np.unique(losers, return_counts=True)
    dup_counts = extra + 1
    noted = np.zeros(ns * nm, dtype=bool)
    if noted_rows is not None:
        noted[cell[noted_rows]] = True
    del cell
    ent_present = np.zeros(ne * nm, dtype=bool)
    ent_present[ent * np.int32(nm) + m if ne * nm < 1 << 31 else ent.astype(np.int64) * nm + m] = True

    screened = np.ones(nm, dtype=bool)
    if periods is not None:
        lo, hi = periods
        screened = np.array([lo <= p <= hi for p in months], dtype=bool)

    sector, industry, obliged = _enterprise_columns(codes, enterprises)
    ctx = Context(
        months=months,
        codes=codes,
        facilities=facilities,
        screened=screened,
        s_ent=s_ent.astype(np.int32),
        s_item=s_item,
        s_fac=s_fac,
        values=values.reshape(ns, nm),
        noted=noted.reshape(ns, nm),
        dup_cells=dup_cells,
        dup_counts=dup_counts,
        ent_present=ent_present.reshape(ne, nm),
        ent_sector=sector,
        ent_industry=industry,
        ent_obliged=obliged,
        metered=None,
        evidence=None,
        emissions=None,
        economic=None,
        as_of=as_of,
        pair_index=pair_index,
        n_fac=n_fac,
        stream_table=table,
        n_flows=int(np.count_nonzero(s_item < N_BASE)),
        unknown_items=sorted({v for v in item_values if v is not None and v not in CODE_INDEX}),
    )
    _attach(ctx, metered=metered, evidence=evidence, emissions=emissions, economic=economic, annual=annual)
    ctx.timings["prepare"] = time.perf_counter() - started
    ctx.timings["prepare_cpu"] = time.process_time() - started_cpu
    return ctx


def _enterprise_columns(codes: list[str], enterprises: pl.DataFrame | None):
    """Sector, industry code and the obliged flag of each enterprise, aligned to ``codes``."""
    n = len(codes)
    sector = np.full(n, "", dtype=object)
    industry = np.full(n, "", dtype=object)
    obliged = np.ones(n, dtype=bool)
    if enterprises is None or enterprises.height == 0:
        return sector, industry, obliged
    ent = _index_of(enterprises.get_column("credit_code"), codes)
    ok = ent >= 0
    for name, target in (("sector", sector), ("industry_code", industry)):
        if name in enterprises.columns:
            target[ent[ok]] = np.array(
                enterprises.get_column(name).cast(pl.String).fill_null("").to_list(), dtype=object
            )[ok]
    if "obliged" in enterprises.columns:
        obliged[:] = False
        obliged[ent[ok]] = enterprises.get_column("obliged").cast(pl.Boolean).fill_null(False).to_numpy()[ok]
    return sector, industry, obliged


def _attach(ctx: Context, *, metered, evidence, emissions, economic, annual=None) -> None:
    codes, months = ctx.codes, ctx.months
    if metered is not None:
        # Daily readings are summed per month first; monthly ones go straight onto the grid, where
        # repeated (enterprise, month) readings add up and one incomplete reading spoils the month.
        monthly = metered_monthly(metered) if "date" in metered.columns else metered
        ent = _index_of(monthly.get_column("credit_code"), codes)
        m = _index_of(monthly.get_column("period"), months)
        ok = (ent >= 0) & (m >= 0)
        cell = ent[ok] * len(months) + m[ok]
        size = len(codes) * len(months)
        kwh = monthly.get_column("kwh").cast(pl.Float64).fill_null(np.nan).to_numpy()[ok]
        incomplete = np.isnan(kwh)
        if "complete" in monthly.columns:
            incomplete |= ~monthly.get_column("complete").cast(pl.Boolean).fill_null(True).to_numpy()[ok]
        total = np.bincount(cell, weights=np.nan_to_num(kwh), minlength=size)
        seen = np.bincount(cell, minlength=size) > 0
        spoiled = np.bincount(cell, weights=incomplete, minlength=size) > 0
        ctx.metered = np.where(seen & ~spoiled, total / 1000.0, np.nan).reshape(len(codes), len(months))
    if evidence is not None:
        ctx.evidence = pl.DataFrame(
            {
                "credit_code": evidence.get_column("credit_code").cast(pl.String),
                "period": evidence.get_column("period").cast(pl.String),
                "sha256": evidence.get_column("sha256").cast(pl.String),
                "kind": evidence.get_column("kind").cast(pl.String)
                if "kind" in evidence.columns
                else pl.Series([""] * evidence.height, dtype=pl.String),
                "ent": _index_of(evidence.get_column("credit_code"), codes),
            }
        ).with_columns(
            pl.Series("m", _index_of(evidence.get_column("period"), months)).cast(pl.Int64).replace(-1, None)
        )
    if emissions is not None:
        ctx.emissions = _on_grid(
            emissions, codes, months, emissions.get_column("co2_t").cast(pl.Float64).to_numpy()
        )
    if economic is not None:
        ent = _index_of(economic.get_column("credit_code"), codes)
        ctx.economic = pl.DataFrame(
            {
                "ent": ent,
                "year": economic.get_column("year").cast(pl.Int32),
                "value_added": economic.get_column("value_added_10k_cny").cast(pl.Float64),
            }
        ).filter(pl.col("ent") >= 0)
    if annual is not None:
        fac_of = {name: i + 1 for i, name in enumerate(ctx.facilities)}
        facility = (
            annual.get_column("facility").cast(pl.String).fill_null("")
            if "facility" in annual.columns
            else (pl.Series([""] * annual.height, dtype=pl.String))
        )
        items = annual.get_column("item").cast(pl.String).fill_null("").to_list()
        ctx.annual = pl.DataFrame(
            {
                "ent": _index_of(annual.get_column("credit_code"), codes),
                "year": annual.get_column("year").cast(pl.Int32),
                "code": np.array([CODE_INDEX.get(i, -1) for i in items], dtype=np.int64),
                "fac": np.array([fac_of.get(f, -1) if f else 0 for f in facility.to_list()], dtype=np.int64),
                "facility": facility,
                "quantity": annual.get_column("quantity").cast(pl.Float64),
            }
        ).filter((pl.col("ent") >= 0) & (pl.col("code") >= 0) & (pl.col("code") < N_BASE))


def _empty_context(as_of: datetime.date) -> Context:
    empty_i = np.zeros(0, dtype=np.int32)
    return Context(
        months=[],
        codes=[],
        facilities=[],
        screened=np.zeros(0, dtype=bool),
        s_ent=empty_i,
        s_item=empty_i,
        s_fac=empty_i,
        values=np.zeros((0, 0)),
        noted=np.zeros((0, 0), dtype=bool),
        dup_cells=np.zeros(0, np.int64),
        dup_counts=np.zeros(0, np.int64),
        ent_present=np.zeros((0, 0), dtype=bool),
        ent_sector=np.zeros(0, dtype=object),
        ent_industry=np.zeros(0, dtype=object),
        ent_obliged=np.zeros(0, dtype=bool),
        metered=None,
        evidence=None,
        emissions=None,
        economic=None,
        as_of=as_of,
        pair_index=np.full(len(CODES), -1, dtype=np.int64),
        n_fac=1,
        stream_table=np.zeros(0, dtype=np.int32),
        n_flows=0,
    )


# --- findings -------------------------------------------------------------------------------------------


class Findings:
    """Collects finding blocks (whole arrays) from the checks and makes the findings frame once."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.blocks: list[pl.DataFrame] = []

    def add(
        self,
        rule: Rule,
        ent: np.ndarray,
        period: np.ndarray | Sequence[str],
        item: np.ndarray | int,
        fac: np.ndarray | int,
        value: np.ndarray,
        *,
        low=None,
        high=None,
        reference=None,
        score=None,
        detail: Sequence[str | None] | None = None,
        severity: Sequence[str] | None = None,
    ) -> None:
        """``period``: month indices (int array) or period texts; ``item``: CODES index or -1 for none;
        ``severity``: per finding, when a check grades its findings (otherwise the rule's severity)."""
        n = len(ent)
        if n == 0:
            return
        ctx = self.ctx

        def column(v, dtype=np.float64):
            if v is None:
                return np.full(n, np.nan, dtype=dtype)
            if np.isscalar(v):
                return np.full(n, v, dtype=dtype)
            return np.asarray(v, dtype=dtype)

        items = np.broadcast_to(np.asarray(item, dtype=np.int64), (n,))
        facs = np.broadcast_to(np.asarray(fac, dtype=np.int64), (n,))
        if isinstance(period, np.ndarray) and period.dtype.kind in "iu":
            periods = pl.Series(ctx.months, dtype=pl.String).gather(pl.Series(period.astype(np.int64)))
        else:
            periods = pl.Series(list(period), dtype=pl.String)
        item_text = pl.Series([*CODES, ""], dtype=pl.String).gather(
            pl.Series(np.where(items >= 0, items, len(CODES)))
        )
        fac_text = pl.Series(["", *ctx.facilities], dtype=pl.String).gather(pl.Series(facs))
        frame = pl.DataFrame(
            {
                "credit_code": pl.Series(ctx.codes, dtype=pl.String).gather(
                    pl.Series(np.asarray(ent, np.int64))
                ),
                "period": periods,
                "item": item_text,
                "facility": fac_text,
                "value": column(value),
                "low": column(low),
                "high": column(high),
                "reference": column(reference),
                "score": column(score),
                "detail": pl.Series(list(detail), dtype=pl.String)
                if detail is not None
                else pl.Series([None] * n, dtype=pl.String),
            }
        ).with_columns(
            pl.lit(rule.rule_id, dtype=pl.String).alias("rule_id"),
            pl.lit(rule.version, dtype=pl.UInt16).alias("version"),
            pl.lit(rule.check, dtype=pl.String).alias("check"),
            pl.lit(rule.family, dtype=pl.String).alias("family"),
            pl.Series("severity", list(severity), dtype=pl.String)
            if severity is not None
            else pl.lit(rule.severity, dtype=pl.String).alias("severity"),
        )
        self.blocks.append(
            frame.select(list(FINDING_SCHEMA)).with_columns(
                pl.col(c).fill_nan(None) for c in ("value", "low", "high", "reference", "score")
            )
        )

    def frame(self) -> pl.DataFrame:
        if not self.blocks:
            return pl.DataFrame(schema=FINDING_SCHEMA)
        return pl.concat(self.blocks).sort("credit_code", "period", "rule_id", "item", "facility")


@dataclass
class Screening:
    findings: pl.DataFrame
    timings: dict[str, float]  # wall seconds per family (and "prepare")
    cpu: dict[str, float]  # process CPU seconds per family
    skipped: list[tuple[str, str]]  # (rule_id, reason) for rules that could not run
    counts: dict[str, int]


def _missing_inputs(ctx: Context, check: Check) -> list[str]:
    available = {
        "metered": ctx.metered is not None,
        "evidence": ctx.evidence is not None,
        "emissions": ctx.emissions is not None,
        "economic": ctx.economic is not None,
        "annual": ctx.annual is not None,
        "enterprises": bool(len(ctx.ent_industry)) and any(ctx.ent_industry),
    }
    return [n for n in check.needs if not available.get(n, False)]


def run(ctx: Context, rules: Iterable[Rule]) -> Screening:
    """Run every rule over the context; returns the findings with timings per family."""
    from kiln.engine import screening_checks

    rules = list(rules)
    out = Findings(ctx)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    skipped: list[tuple[str, str]] = []
    for rule in rules:
        if rule.check not in CHECKS:
            raise ValueError(f"{rule.rule_id}: unknown check {rule.check!r}")
        if rule.severity not in SEVERITIES:
            raise ValueError(f"{rule.rule_id}: unknown severity {rule.severity!r}")
    order = {name: i for i, name in enumerate(CHECKS)}
    for family in FAMILIES:
        wall, proc = time.perf_counter(), time.process_time()
        for rule in sorted((r for r in rules if r.family == family), key=lambda r: order[r.check]):
            check = CHECKS[rule.check]
            if not check.available:
                skipped.append((rule.rule_id, check.note))
                continue
            missing = _missing_inputs(ctx, check)
            if missing:
                skipped.append((rule.rule_id, "missing input: " + ", ".join(missing)))
                continue
            if ctx.n_streams == 0:
                continue
            screening_checks.RUNNERS[rule.check](ctx, rule, out)
        timings[family] = time.perf_counter() - wall
        cpu[family] = time.process_time() - proc
    wall, proc = time.perf_counter(), time.process_time()
    findings = out.frame()
    timings["collect"] = time.perf_counter() - wall
    cpu["collect"] = time.process_time() - proc
    if "prepare" in ctx.timings:
        timings = {"prepare": ctx.timings["prepare"], **timings}
        cpu = {"prepare": ctx.timings.get("prepare_cpu", 0.0), **cpu}
    per_rule = findings.group_by("rule_id").len()
    counts = dict(zip(per_rule["rule_id"].to_list(), per_rule["len"].to_list(), strict=True))
    return Screening(findings=findings, timings=timings, cpu=cpu, skipped=skipped, counts=counts)


def screen(activity: pl.DataFrame | pl.LazyFrame, rules: Iterable[Rule], **inputs) -> Screening:
    """``build`` then ``run``: the one call most callers need."""
    return run(build(activity, **inputs), rules)


def rules_from_records(records: Iterable[Mapping]) -> list[Rule]:
    """Rules from plain mappings (a CSV, a database row's values)."""
    out = []
    for r in records:
        out.append(
            Rule(
                rule_id=r["rule_id"],
                check=r["check"],
                severity=r.get("severity") or "warning",
                version=int(r.get("version") or 1),
                sector=r.get("sector") or "",
                item=r.get("item") or "",
                parameter=r.get("parameter") or "",
                low=_float(r.get("low")),
                high=_float(r.get("high")),
                params=dict(r.get("params") or {}),
            )
        )
    return out


def _float(v) -> float | None:
    if v is None or v == "":
        return None
    return float(v)


def is_parameter_code(code: int) -> bool:
    return code >= N_BASE


def estimated_emissions(activity: pl.DataFrame, factor_set: pl.DataFrame, **kwargs) -> pl.DataFrame | None:
    """tCO2 per enterprise-month for the intensity and peer checks: credit_code, period, co2_t.

    Rows the accounting engine cannot compute (a clinker row without its CaO, a parameter out of
    range) are left out and the rest is computed; ``None`` only when nothing can be. Screening
    compares enterprises; it does not account (the official figures come from calculation runs).
    """
    from kiln.engine.aggregate import enterprise_month
    from kiln.engine.emissions import compute

    for _attempt in range(3):
        try:
            rows = compute(activity, factor_set, check_credit_codes=False, **kwargs)
        except EngineError as exc:
            bad = exc.errors.get_column("row").drop_nulls().unique()
            if bad.is_empty():
                return None
            activity = activity.with_row_index("_r").filter(~pl.col("_r").is_in(bad.implode())).drop("_r")
            continue
        return enterprise_month(rows).select("credit_code", "period", pl.col("co2_total_t").alias("co2_t"))
    return None
