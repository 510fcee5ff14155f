"""Scoped reads for the monitoring portals. Every page and API endpoint goes through here.

Pages never aggregate raw activity rows: they read the ``Aggregate`` rows of the *official*
calculation runs (one per region and year) and this app's digests of them (``Slice``,
``IndustryBenchmark``). Which run answers for a region and year:

- the official run of the region itself or of its nearest ancestor (it covers the region whole);
- otherwise the official runs of its sub-regions that are not inside another one (a province
  whose cities each ran their own calculation).

Region totals are sums of the runs' ``county`` aggregates over the region's subtree (the key of
a county aggregate is the enterprise's own region, whatever its level), so any region at any
level is answered from a few dozen rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounts.models import Membership
from kiln.accounts.roles import Role
from kiln.engine.aggregate import CO2_COLUMNS, TCE_COLUMNS, VALUE_COLUMNS
from kiln.monitoring import digest, memo
from kiln.monitoring.models import IndustryBenchmark, RegionMap, Slice
from kiln.registry.models import Enterprise, Industry, Organisation, Region
from kiln.registry.queries import PLATFORM_WIDE, visible_enterprises, visible_regions

MIN_YEAR = 2000  # years before this are out of range (404), later ones without data are empty states
COUNT = "n_enterprises"
NUMBERS = [COUNT, *VALUE_COLUMNS]
CATEGORIES = [c.removeprefix("co2_").removesuffix("_t") for c in CO2_COLUMNS]
ENERGY_TYPES = [c.removeprefix("tce_") for c in TCE_COLUMNS]


# ------------------------------------------------------------------ who sees what


def portal_of(membership: Membership | None) -> str:
    """Which portal a membership lands on: government, enterprise, verifier, platform or none."""
    if membership is None or not membership.active:
        return "none"
    if membership.role in PLATFORM_WIDE:
        return "platform"
    kind = membership.organisation.kind
    if kind == Organisation.Kind.GOVERNMENT:
        return "government"
    if kind == Organisation.Kind.ENTERPRISE:
        return "enterprise"
    if membership.role == Role.VERIFIER:
        return "verifier"
    return "none"


def can_monitor_regions(membership: Membership | None) -> bool:
    """Government users (their region and below) and platform-wide roles (everything)."""
    return portal_of(membership) in ("government", "platform")


def region_or_404(membership: Membership | None, code: str) -> Region:
    if not can_monitor_regions(membership):
        raise Http404
    region = visible_regions(membership).filter(code=code).first()
    if region is None:
        raise Http404
    return region


def enterprise_or_404(membership: Membership | None, credit_code: str) -> Enterprise:
    enterprise = visible_enterprises(membership).filter(credit_code=credit_code).first()
    if enterprise is None:
        raise Http404
    return enterprise


def industry_or_404(code: str | None) -> Industry | None:
    """A GB/T 4754 division ("C30") from a URL parameter; empty means all industries."""
    if not code:
        return None
    industry = Industry.objects.filter(code=code, level=Industry.Level.DIVISION).first()
    if industry is None:
        raise Http404
    return industry


def home_region(membership: Membership | None) -> Region | None:
    """The region a government user watches; for platform-wide roles the top of the tree."""
    if not can_monitor_regions(membership):
        return None
    if membership.role in PLATFORM_WIDE:
        with_runs = CalculationRun.objects.filter(official=True).select_related("region")
        top = min(with_runs, key=lambda r: (len(r.region.path), r.region.code), default=None)
        return top.region if top else Region.objects.order_by("level", "code").first()
    return membership.organisation.region


# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """A year, or a month of it. ``key`` is the aggregate period ("2024" or "2024-03")."""

    year: int
    month: int | None = None

    @property
    def key(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"

    @property
    def is_month(self) -> bool:
        return self.month is not None

    def year_before(self) -> Period:
        return Period(self.year - 1, self.month)

    def month_before(self) -> Period | None:
        if self.month is None:
            return None
        return Period(self.year, self.month - 1) if self.month > 1 else Period(self.year - 1, 12)


def latest_month() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, today.month


def parse_year(value: str | None, default: int | None) -> int | None:
    """A year URL parameter: missing gives ``default``; not a number or outside MIN_YEAR..now is 404."""
    if value in (None, ""):
        return default
    if not value.isdigit() or len(value) != 4:
        raise Http404
    year = int(value)
    if not MIN_YEAR <= year <= latest_month()[0]:
        raise Http404
    return year


def parse_month(value: str | None, year: int | None) -> int | None:
    if value in (None, ""):
        return None
    if year is None or not value.isdigit() or not 1 <= int(value) <= 12:
        raise Http404
    if (year, int(value)) > latest_month():
        raise Http404
    return int(value)


def parse_period_key(value: str) -> Period:
    """``YYYY-MM`` from a URL path; anything else, or a future month, is 404."""
    if len(value) != 7 or value[4] != "-":
        raise Http404
    year = parse_year(value[:4], None)
    month = parse_month(value[5:], year)
    assert year is not None and month is not None
    return Period(year, month)


# ------------------------------------------------------------------ official runs


class OfficialRuns:
    """Every official run, read once per request (a few rows per region and year)."""

    def __init__(self) -> None:
        self.runs = list(
            CalculationRun.objects.filter(official=True, status=CalculationRun.Status.DONE)
            .select_related("region")
            .order_by("year", "region__path")
        )

    def covering(self, region: Region, year: int) -> list[CalculationRun]:
        same_year = [r for r in self.runs if r.year == year]
        above = [r for r in same_year if region.path.startswith(r.region.path)]
        if above:
            return [max(above, key=lambda r: len(r.region.path))]
        below = [r for r in same_year if r.region.path.startswith(region.path)]
        # Keep the outermost: a county run inside a city run would count its enterprises twice.
        return [r for r in below if not any(o is not r and r.region.path.startswith(o.region.path) for o in below)]

    def years(self, region: Region) -> list[int]:
        years = {r.year for r in self.runs}
        return sorted(y for y in years if self.covering(region, y))

    def by_year(self, region: Region) -> dict[int, list[CalculationRun]]:
        return {y: self.covering(region, y) for y in self.years(region)}


def _add(into: dict, key, values) -> None:
    """Add a row of NUMBERS into ``into[key]`` (plain Python: these are tens or hundreds of rows)."""
    row = into.get(key)
    if row is None:
        into[key] = list(values)
    else:
        for i, value in enumerate(values):
            row[i] += value


def _named(values, **extra) -> dict:
    return dict(zip(NUMBERS, values, strict=True), **extra)


def _largest_first(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["co2_total_t"], reverse=True)


# ------------------------------------------------------------------ a region


@dataclass
class Place:
    """A region with its subtree: the codes whose aggregates add up to it and its direct children."""

    region: Region
    runs: OfficialRuns
    codes: list[str] = field(default_factory=list)
    child_of: dict[str, str] = field(default_factory=dict)
    children: dict[str, Region] = field(default_factory=dict)

    @classmethod
    def of(cls, region: Region, runs: OfficialRuns | None = None) -> Place:
        place = cls(region=region, runs=runs or OfficialRuns())
        depth = len(region.path)
        for sub in Region.objects.filter(path__startswith=region.path).only("code", "name", "name_en", "path", "level"):
            place.codes.append(sub.code)
            if sub.pk != region.pk:
                child = sub.path[depth:].split("/", 1)[0]
                place.child_of[sub.code] = child
                if child == sub.code:
                    place.children[sub.code] = sub
        return place

    @cached_property
    def runs_by_year(self) -> dict[int, list[CalculationRun]]:
        return self.runs.by_year(self.region)

    @property
    def years(self) -> list[int]:
        return sorted(self.runs_by_year)

    def runs_for(self, year: int) -> list[CalculationRun]:
        return self.runs_by_year.get(year, [])

    @cached_property
    def _cube(self) -> tuple[dict[str, list], dict[tuple[str, str], list]]:
        """County aggregates of every covering run of every year over the subtree (a few hundred rows),
        summed per period and per (direct child, period)."""
        runs = [r for runs in self.runs_by_year.values() for r in runs]
        if not runs:
            return {}, {}

        def read() -> tuple[dict, dict]:
            by_period: dict[str, list] = {}
            by_child: dict[tuple[str, str], list] = {}
            rows = Aggregate.objects.filter(
                run_id__in=[r.pk for r in runs], dimension=Aggregate.Dimension.COUNTY, key__in=self.codes
            ).values_list("key", "period", *NUMBERS)
            for key, period, *values in rows:
                _add(by_period, period, values)
                child = self.child_of.get(key)
                if child is not None:
                    _add(by_child, (child, period), values)
            return by_period, by_child

        key = ("cube", memo.runs_key(runs), tuple(self.codes), tuple(sorted(self.child_of.items())))
        return memo.remember(key, read)

    def totals(self, period: Period | None) -> dict | None:
        """Summed values of the region for a period; ``None`` when no official run has it."""
        if period is None:
            return None
        found = self._cube[0].get(period.key)
        return None if found is None else _named(found)

    def months(self, year: int) -> list[dict | None]:
        """The twelve months of ``year`` (``None`` for a month without data)."""
        return [self.totals(Period(year, m)) for m in range(1, 13)]

    def yearly(self) -> list[dict]:
        """Each year with an official run: the region's totals (for the long-term trend)."""
        found = self._cube[0]
        return [_named(found[str(y)], period=str(y)) for y in self.years if str(y) in found]

    def by_child(self, period: Period) -> list[tuple[Region, dict]]:
        """Totals per direct sub-region (county of a city, city of a province), largest first."""
        by_child = self._cube[1]
        rows = [(region, _named(by_child[(code, period.key)])) for code, region in self.children.items()
                if (code, period.key) in by_child]
        return sorted(rows, key=lambda pair: pair[1]["co2_total_t"], reverse=True)

    # -------------------------------------------------- industries (from the run digests)

    def _slices(self, runs: list[CalculationRun], **filters) -> list[tuple]:
        if not runs:
            return []

        def read() -> list[tuple]:
            digest.ensure_all(runs)
            return list(
                Slice.objects.filter(run__in=runs, **filters).values_list("county", "industry", "period", *NUMBERS)
            )

        frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in filters.items()))
        return memo.remember(("slices", memo.runs_key(runs), frozen), read)

    def industries(self, period: Period) -> list[dict]:
        """Totals per industry division in the region for ``period``, largest first."""
        summed: dict[str, list] = {}
        for _county, industry, _period, *values in self._slices(self.runs_for(period.year), period=period.key,
                                                                 county__in=self.codes):
            _add(summed, industry, values)
        return _largest_first([_named(v, industry=k) for k, v in summed.items()])

    def industry_months(self, industry: str, year: int) -> list[dict | None]:
        summed: dict[str, list] = {}
        for _county, _industry, period, *values in self._slices(
            self.runs_for(year), industry=industry, county__in=self.codes, period__gte=f"{year}-01",
            period__lte=f"{year}-12",
        ):
            _add(summed, period, values)
        return [_named(summed[p]) if p in summed else None for p in (f"{year:04d}-{m:02d}" for m in range(1, 13))]

    def industry_totals(self, industry: str, period: Period | None) -> dict | None:
        if period is None:
            return None
        summed: dict[str, list] = {}
        for _county, _industry, _period, *values in self._slices(
            self.runs_for(period.year), industry=industry, county__in=self.codes, period=period.key
        ):
            _add(summed, "all", values)
        return _named(summed["all"]) if summed else None

    def industry_by_child(self, industry: str, period: Period) -> list[tuple[Region, dict]]:
        if not self.children:
            return []
        summed: dict[str, list] = {}
        for county, _industry, _period, *values in self._slices(
            self.runs_for(period.year), industry=industry, period=period.key, county__in=list(self.child_of)
        ):
            _add(summed, self.child_of[county], values)
        rows = [(self.children[c], _named(v)) for c, v in summed.items() if c in self.children]
        return sorted(rows, key=lambda pair: pair[1]["co2_total_t"], reverse=True)

    # -------------------------------------------------- enterprises

    def enterprise_codes(self, industry: str | None = None) -> QuerySet:
        qs = Enterprise.objects.filter(region__path__startswith=self.region.path)
        if industry:
            qs = qs.filter(industry__code__startswith=industry)
        return qs.values("credit_code")

    def ranking(self, period: Period, industry: str | None = None) -> QuerySet[Aggregate]:
        """Enterprise aggregates of the region for ``period`` (unsorted; the caller orders and pages)."""
        runs = self.runs_for(period.year)
        qs = Aggregate.objects.filter(run__in=runs, dimension=Aggregate.Dimension.ENTERPRISE, period=period.key)
        whole = all(r.region.path.startswith(self.region.path) for r in runs)
        if industry or not whole:
            qs = qs.filter(key__in=self.enterprise_codes(industry))
        return qs

    def map(self) -> RegionMap | None:
        return RegionMap.objects.filter(region=self.region, current=True).only("id", "uploaded_at").first()


def previous_values(runs: OfficialRuns, region: Region, keys: list[str], period: Period) -> dict[str, dict]:
    """Enterprise values for the same period a year earlier (for year-on-year columns of a page of rows)."""
    before = period.year_before()
    prior = runs.covering(region, before.year)
    if not prior or not keys:
        return {}
    rows = Aggregate.objects.filter(
        run__in=prior, dimension=Aggregate.Dimension.ENTERPRISE, period=before.key, key__in=keys
    ).values("key", "co2_total_t", "tce_total")
    return {r["key"]: r for r in rows}


def enterprise_names(keys: list[str]) -> dict[str, Enterprise]:
    return {
        e.credit_code: e
        for e in Enterprise.objects.filter(credit_code__in=keys).select_related("region", "industry")
    }


def industry_names(codes) -> dict[str, Industry]:
    codes = tuple(sorted(set(codes)))
    return memo.remember(("industries", codes), lambda: {i.code: i for i in Industry.objects.filter(code__in=codes)},
                         seconds=memo.REGISTRY_SECONDS)


# ------------------------------------------------------------------ one enterprise


@dataclass
class Firm:
    """An enterprise with its official results: every year's run that covers it."""

    enterprise: Enterprise
    runs: OfficialRuns

    @cached_property
    def runs_by_year(self) -> dict[int, CalculationRun]:
        found = {}
        for year in sorted({r.year for r in self.runs.runs}):
            covering = self.runs.covering(self.enterprise.region, year)
            covering = [r for r in covering if self.enterprise.region.path.startswith(r.region.path)]
            if covering:
                found[year] = covering[0]
        return found

    @property
    def years(self) -> list[int]:
        return sorted(self.runs_by_year)

    @property
    def division(self) -> str:
        return self.enterprise.industry.code[:3]

    @cached_property
    def cube(self) -> dict[str, dict]:
        """Every official period of this enterprise: ``{"2024-03": values, "2024": values, ...}``."""
        runs = list(self.runs_by_year.values())
        if not runs:
            return {}

        def read() -> dict[str, dict]:
            rows = Aggregate.objects.filter(
                run_id__in=[r.pk for r in runs], dimension=Aggregate.Dimension.ENTERPRISE,
                key=self.enterprise.credit_code,
            ).values("period", *VALUE_COLUMNS)
            return {r["period"]: r for r in rows}

        return memo.remember(("firm", memo.runs_key(runs), self.enterprise.credit_code), read)

    def totals(self, period: Period | None) -> dict | None:
        return None if period is None else self.cube.get(period.key)

    def months(self, year: int) -> list[dict | None]:
        return [self.cube.get(f"{year:04d}-{m:02d}") for m in range(1, 13)]

    def yearly(self) -> list[dict]:
        return [self.cube[str(y)] for y in self.years if str(y) in self.cube]

    def benchmarks(self, year: int) -> list[IndustryBenchmark | None]:
        run = self.runs_by_year.get(year)
        if run is None:
            return [None] * 12
        found = self._benchmarks(run)
        return [found.get(f"{year:04d}-{m:02d}") for m in range(1, 13)]

    def _benchmarks(self, run: CalculationRun) -> dict[str, IndustryBenchmark]:
        def read() -> dict[str, IndustryBenchmark]:
            digest.ensure(run)
            return {b.period: b for b in IndustryBenchmark.objects.filter(run=run, industry=self.division)}

        return memo.remember(("benchmarks", memo.runs_key([run]), self.division), read)

    def benchmark(self, period: Period) -> IndustryBenchmark | None:
        run = self.runs_by_year.get(period.year)
        if run is None:
            return None
        return self._benchmarks(run).get(period.key)


def activity_rows(run: CalculationRun, credit_code: str, period: str) -> pl.DataFrame:
    """The per-row results of one enterprise-month in a run (its activity rows with their provenance)."""
    from kiln.accounting.services import rows_of

    try:
        scan = rows_of(run)
    except (FileNotFoundError, OSError):
        return pl.DataFrame()
    code, month = pl.col("credit_code").cast(pl.String), pl.col("period").cast(pl.String)
    try:
        rows = scan.filter((code == credit_code) & (month == period)).collect()
    except (FileNotFoundError, OSError, pl.exceptions.ComputeError):
        return pl.DataFrame()
    return rows.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))


def activity_rows_cached(run: CalculationRun, credit_code: str, period: str) -> list[dict]:
    """``activity_rows`` as dicts, kept per run (a run's rows never change)."""
    return memo.shared(("rows", memo.runs_key([run]), credit_code, period),
                       lambda: activity_rows(run, credit_code, period).to_dicts())


def assignments(membership: Membership | None) -> list:
    """A verifier's live verification assignments."""
    from kiln.review.queries import assignments_for

    return list(assignments_for(membership).select_related("enterprise__industry").order_by("-year", "enterprise__name"))


def today() -> datetime.date:
    return timezone.localdate()
