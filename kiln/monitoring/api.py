"""Monitoring API: the numbers behind the portals, scoped exactly like the pages.

Every endpoint reads official results only (``Aggregate`` rows and this app's digests); a region or
enterprise the caller may not see, or a parameter out of range, is 404.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import get_language
from ninja import Router, Schema

from kiln.accounts.current import current_membership
from kiln.monitoring import health, memo, queries
from kiln.monitoring.dashboards import SORTABLE_RANKING
from kiln.monitoring.queries import CATEGORIES, ENERGY_TYPES, Firm, OfficialRuns, Period, Place
from kiln.monitoring.tables import change

router = Router(tags=["monitoring"])
MAX_LIMIT = 500


class Values(Schema):
    co2_total_t: float
    tce_total: float
    n_enterprises: int | None = None
    co2_by_source_t: dict[str, float]
    tce_by_type: dict[str, float]


class Overview(Schema):
    region_code: str
    region_name: str
    period: str | None
    run_ids: list[int]
    years: list[int]
    totals: Values | None
    previous_year: Values | None
    previous_month: Values | None
    co2_yoy: float | None
    tce_yoy: float | None
    co2_mom: float | None
    tce_mom: float | None


class PeriodValues(Schema):
    period: str
    values: Values | None


class Part(Schema):
    code: str
    name: str
    values: Values
    co2_yoy: float | None
    co2_share: float | None


class Ranked(Schema):
    rank: int
    credit_code: str
    name: str
    region_code: str
    industry_code: str
    co2_total_t: float
    tce_total: float
    co2_yoy: float | None


class Ranking(Schema):
    period: str | None
    total: int
    offset: int
    limit: int
    sort: str
    rows: list[Ranked]


class EnterpriseMonth(Schema):
    period: str
    values: Values | None
    industry_median_co2_t: float | None
    industry_p25_co2_t: float | None
    industry_p75_co2_t: float | None
    industry_enterprises: int | None


class EnterpriseMonths(Schema):
    credit_code: str
    name: str
    industry_code: str
    year: int | None
    run_id: int | None
    months: list[EnterpriseMonth]


class ActivityRow(Schema):
    item: str
    facility: str
    quantity: float | None
    unit: str
    quantity_canonical: float | None
    unit_canonical: str
    source: str
    co2_t: float | None
    energy_tce: float | None
    energy_type: str
    source_category: str
    formula: str
    tier: str
    factor_set: str


class ActivityRows(Schema):
    credit_code: str
    period: str
    run_id: int | None
    rows: list[ActivityRow]


class Check(Schema):
    label: str
    ok: bool
    detail: str


class Count(Schema):
    label: str
    value: int
    estimated: bool = False


class Platform(Schema):
    checks: list[Check]
    counts: list[Count]
    latest_batches: list[dict]
    official_runs: list[dict]


def values(row: dict | None) -> dict | None:
    if row is None:
        return None
    count = row.get("n_enterprises")
    return {
        "co2_total_t": row["co2_total_t"],
        "tce_total": row["tce_total"],
        "n_enterprises": int(count) if count is not None else None,
        "co2_by_source_t": {c: row[f"co2_{c}_t"] for c in CATEGORIES},
        "tce_by_type": {e: row[f"tce_{e}"] for e in ENERGY_TYPES},
    }


def _answer(name: str, runs: OfficialRuns, args: tuple, compute):
    """An answer computed once per official-runs version, language and parameters (the caller checked scope)."""
    return memo.shared(("api", name, args, get_language(), memo.runs_key(runs.runs)), compute)


def _place(request, code: str) -> Place:
    return Place.of(queries.region_or_404(current_membership(request), code), OfficialRuns())


def _period(place_years: list[int], year: str | None, month: str | None) -> Period | None:
    chosen = queries.parse_year(year, max(place_years) if place_years else None)
    chosen_month = queries.parse_month(month, chosen)
    return None if chosen is None else Period(chosen, chosen_month)


@router.get("/regions/{code}/overview", response=Overview)
def region_overview(request, code: str, year: str | None = None, month: str | None = None):
    place = _place(request, code)
    period = _period(place.years, year, month)
    return _answer("overview", place.runs, (code, period), lambda: _overview(place, period))


def _overview(place: Place, period: Period | None) -> dict:
    totals = place.totals(period)
    previous = place.totals(period.year_before()) if period else None
    last = place.totals(period.month_before()) if period and period.is_month else None
    return {
        "region_code": place.region.code, "region_name": place.region.label,
        "period": period.key if period else None,
        "run_ids": [r.pk for r in place.runs_for(period.year)] if period else [], "years": place.years,
        "totals": values(totals), "previous_year": values(previous), "previous_month": values(last),
        "co2_yoy": change(totals and totals["co2_total_t"], previous and previous["co2_total_t"]),
        "tce_yoy": change(totals and totals["tce_total"], previous and previous["tce_total"]),
        "co2_mom": change(totals and totals["co2_total_t"], last and last["co2_total_t"]),
        "tce_mom": change(totals and totals["tce_total"], last and last["tce_total"]),
    }


@router.get("/regions/{code}/months", response=list[PeriodValues])
def region_months(request, code: str, year: str | None = None):
    place = _place(request, code)
    period = _period(place.years, year, None)
    if period is None:
        return []
    return _answer("months", place.runs, (code, period), lambda: [
        {"period": f"{period.year}-{m:02d}", "values": values(row)} for m, row in enumerate(place.months(period.year), start=1)
    ])


@router.get("/regions/{code}/years", response=list[PeriodValues])
def region_years(request, code: str):
    place = _place(request, code)
    return _answer("years", place.runs, (code,),
                   lambda: [{"period": row["period"], "values": values(row)} for row in place.yearly()])


@router.get("/regions/{code}/subregions", response=list[Part])
def region_subregions(request, code: str, year: str | None = None, month: str | None = None):
    place = _place(request, code)
    period = _period(place.years, year, month)
    if period is None:
        return []
    return _answer("subregions", place.runs, (code, period), lambda: _subregions(place, period))


def _subregions(place: Place, period: Period) -> list[dict]:
    total = (place.totals(period) or {}).get("co2_total_t") or 0.0
    before = {r.code: v for r, v in place.by_child(period.year_before())}
    return [{"code": r.code, "name": r.label, "values": values(v),
             "co2_yoy": change(v["co2_total_t"], (before.get(r.code) or {}).get("co2_total_t")),
             "co2_share": v["co2_total_t"] / total if total else None} for r, v in place.by_child(period)]


@router.get("/regions/{code}/industries", response=list[Part])
def region_industries(request, code: str, year: str | None = None, month: str | None = None):
    place = _place(request, code)
    period = _period(place.years, year, month)
    if period is None:
        return []
    return _answer("industries", place.runs, (code, period), lambda: _industries(place, period))


def _industries(place: Place, period: Period) -> list[dict]:
    now = place.industries(period)
    before = {r["industry"]: r for r in place.industries(period.year_before())}
    names = queries.industry_names(r["industry"] for r in now)
    total = sum(r["co2_total_t"] for r in now)
    out = []
    for row in now:
        code_ = row["industry"]
        out.append({"code": code_, "name": names[code_].label if code_ in names else code_, "values": values(row),
                    "co2_yoy": change(row["co2_total_t"], (before.get(code_) or {}).get("co2_total_t")),
                    "co2_share": row["co2_total_t"] / total if total else None})
    return out


@router.get("/regions/{code}/enterprises", response=Ranking)
def region_enterprises(request, code: str, year: str | None = None, month: str | None = None,
                       industry: str | None = None, sort: str = "-co2_total_t", limit: int = 20, offset: int = 0):
    place = _place(request, code)
    period = _period(place.years, year, month)
    division = queries.industry_or_404(industry)
    if sort.lstrip("-") not in SORTABLE_RANKING or not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise Http404
    if period is None:
        return {"period": None, "total": 0, "offset": offset, "limit": limit, "sort": sort, "rows": []}
    industry_code = division.code if division else None
    answer = _answer("enterprises", place.runs, (code, period, industry_code, sort, limit, offset),
                     lambda: _ranking(place, period, industry_code, sort, limit, offset))
    if answer is None:
        raise Http404
    return answer


def _ranking(place: Place, period: Period, industry_code, sort: str, limit: int, offset: int) -> dict | None:
    qs = place.ranking(period, industry_code)
    total = qs.count()
    rows = list(qs.order_by(sort, "key").values("key", "co2_total_t", "tce_total")[offset : offset + limit])
    if offset and offset >= total and total:
        return None
    keys = [r["key"] for r in rows]
    names = queries.enterprise_names(keys)
    before = queries.previous_values(place.runs, place.region, keys, period)
    out = []
    for i, row in enumerate(rows, start=offset + 1):
        firm = names.get(row["key"])
        out.append({"rank": i, "credit_code": row["key"], "name": firm.label if firm else row["key"],
                    "region_code": firm.region.code if firm else "", "industry_code": firm.industry.code if firm else "",
                    "co2_total_t": row["co2_total_t"], "tce_total": row["tce_total"],
                    "co2_yoy": change(row["co2_total_t"], (before.get(row["key"]) or {}).get("co2_total_t"))})
    return {"period": period.key, "total": total, "offset": offset, "limit": limit, "sort": sort, "rows": out}


def _firm(request, credit_code: str) -> Firm:
    membership = current_membership(request)
    if queries.portal_of(membership) not in ("government", "platform", "enterprise", "verifier"):
        raise Http404
    return Firm(queries.enterprise_or_404(membership, credit_code), OfficialRuns())


@router.get("/enterprises/{credit_code}/months", response=EnterpriseMonths)
def enterprise_months(request, credit_code: str, year: str | None = None):
    firm = _firm(request, credit_code)
    chosen = queries.parse_year(year, max(firm.years) if firm.years else None)
    return _answer("enterprise-months", firm.runs, (credit_code, chosen), lambda: _enterprise_months(firm, chosen))


def _enterprise_months(firm: Firm, chosen: int | None) -> dict:
    run = firm.runs_by_year.get(chosen) if chosen else None
    months = []
    if chosen is not None:
        for m, (row, bench) in enumerate(zip(firm.months(chosen), firm.benchmarks(chosen), strict=True), start=1):
            months.append({"period": f"{chosen}-{m:02d}", "values": values(row),
                           "industry_median_co2_t": bench.co2_median_t if bench else None,
                           "industry_p25_co2_t": bench.co2_p25_t if bench else None,
                           "industry_p75_co2_t": bench.co2_p75_t if bench else None,
                           "industry_enterprises": bench.n_enterprises if bench else None})
    e = firm.enterprise
    return {"credit_code": e.credit_code, "name": e.label, "industry_code": e.industry.code, "year": chosen,
            "run_id": run.pk if run else None, "months": months}


@router.get("/enterprises/{credit_code}/rows", response=ActivityRows)
def enterprise_rows(request, credit_code: str, period: str):
    firm = _firm(request, credit_code)
    month = queries.parse_period_key(period)
    run = firm.runs_by_year.get(month.year)
    rows = []
    if run is not None:
        for row in queries.activity_rows_cached(run, credit_code, month.key):
            rows.append({k: (row.get(k) if row.get(k) is not None else ("" if k not in NUMERIC else None))
                         for k in ActivityRow.model_fields})
    return {"credit_code": credit_code, "period": month.key, "run_id": run.pk if run else None, "rows": rows}


NUMERIC = {"quantity", "quantity_canonical", "co2_t", "energy_tce"}


@router.get("/platform", response=Platform)
def platform(request):
    if queries.portal_of(current_membership(request)) != "platform":
        raise Http404
    report = health.Report.collect()
    return {
        "checks": [{"label": str(c["label"]), "ok": c["ok"], "detail": str(c["detail"])} for c in report.checks],
        "counts": [{"label": str(c["label"]), "value": c["value"], "estimated": c.get("estimated", False)}
                   for c in report.counts],
        "latest_batches": report.batch_rows,
        "official_runs": report.run_rows,
    }
