"""What each portal page shows, built lazily: a template (or an htmx partial) only computes what it renders.

Charts are plain dicts (``json_script`` in the page, drawn by ``kiln/static/kiln/js/monitoring.js``);
tables are ``kiln.monitoring.tables.Table`` objects that sort, page and export themselves.
"""

from __future__ import annotations

from functools import cached_property

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.dates import MONTHS_AP
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kiln.accounting import labels
from kiln.accounting.models import Aggregate, CalculationRun
from kiln.engine import items as catalogue
from kiln.monitoring import memo, queries
from kiln.monitoring.queries import CATEGORIES, ENERGY_TYPES, Firm, Period, Place
from kiln.monitoring.tables import Column, Table, change
from kiln.registry.models import Enterprise, Industry, Region

CATEGORY_COLOURS = {
    "combustion": "#c2410c",
    "process": "#7c3aed",
    "electricity_purchased": "#2563eb",
    "electricity_exported": "#93c5fd",
    "heat_purchased": "#d97706",
    "heat_exported": "#fcd34d",
    "recovery": "#059669",
    "biomass": "#65a30d",
}
ENERGY_COLOURS = {
    "coal": "#44403c",
    "oil": "#b45309",
    "gas": "#0891b2",
    "electricity": "#2563eb",
    "heat": "#d97706",
    "other": "#9ca3af",
}
# Biomass CO2 is reported but not in the total; the stacks show what the total is made of.
STACKED = [c for c in CATEGORIES if c != "biomass"]
SORTABLE_RANKING = ("co2_total_t", "tce_total", "co2_combustion_t", "co2_process_t", "co2_electricity_purchased_t",
                    "co2_heat_purchased_t")
TOP_INDUSTRIES = 12


def url(name: str, *args, query: str = "") -> str:
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{path}?{query}" if query else path


def month_labels() -> list[str]:
    """Jan … Dec in the UI language (Django's own translations: 一月 … 十二月)."""
    return [str(MONTHS_AP[m]).rstrip(".") for m in range(1, 13)]


def _r(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _get(row: dict | None, key: str) -> float | None:
    return None if row is None else row.get(key)


def category_label(code: str) -> str:
    return str(labels.CATEGORY.get(code, code))


def energy_label(code: str) -> str:
    return str(labels.ENERGY.get(code, code))


def item_label(code: str) -> str:
    base, _dot, parameter = code.partition(".")
    item = catalogue.ITEMS.get(base)
    if item is None:
        return code
    english = (get_language() or "").startswith("en")
    name = item.name_en if english else item.name_zh
    if parameter:
        names = catalogue.PARAMETERS.get(parameter, (parameter, parameter))
        name = f"{name} · {names[1] if english else names[0]}"
    return name


# ------------------------------------------------------------------ chart specs


def stack_chart(rows: list[dict | None], kind: str, *, previous: list[dict | None] | None = None,
                highlight: int | None = None, links: list[str] | None = None) -> dict:
    """Twelve months stacked by source category (kind "co2") or energy type (kind "tce")."""
    if kind == "co2":
        parts = [(c, f"co2_{c}_t", category_label(c), CATEGORY_COLOURS[c]) for c in STACKED]
        total, unit = "co2_total_t", "tCO2"
    else:
        parts = [(e, f"tce_{e}", energy_label(e), ENERGY_COLOURS[e]) for e in ENERGY_TYPES]
        total, unit = "tce_total", "tce"
    series = []
    for _code, column, name, colour in parts:
        data = [_r(_get(r, column)) for r in rows]
        if any(v for v in data if v):
            series.append({"name": name, "type": "bar", "stack": "total", "data": data, "color": colour})
    if previous is not None and any(r for r in previous):
        series.append({"name": str(_("Previous year")), "type": "line", "data": [_r(_get(r, total)) for r in previous],
                       "color": "#6b7280", "dashed": True})
    return {"kind": "bars", "categories": month_labels(), "series": series, "unit": unit, "highlight": highlight,
            "links": links or []}


def donut_chart(row: dict | None, kind: str) -> dict:
    if kind == "co2":
        parts = [(f"co2_{c}_t", category_label(c), CATEGORY_COLOURS[c]) for c in STACKED]
        unit = "tCO2"
    else:
        parts = [(f"tce_{e}", energy_label(e), ENERGY_COLOURS[e]) for e in ENERGY_TYPES]
        unit = "tce"
    data = [{"name": name, "value": _r(_get(row, column)), "color": colour}
            for column, name, colour in parts if (_get(row, column) or 0) > 0]
    return {"kind": "donut", "data": data, "unit": unit}


def years_chart(rows: list[dict], *, key: str = "period") -> dict:
    return {
        "kind": "bars",
        "categories": [r[key] for r in rows],
        "series": [
            {"name": str(_("Emissions")), "type": "bar", "data": [_r(r["co2_total_t"]) for r in rows], "color": "#b4441f"},
            {"name": str(_("Energy")), "type": "line", "data": [_r(r["tce_total"]) for r in rows], "color": "#1f6fb4",
             "yAxis": 1},
        ],
        "unit": "tCO2",
        "unit2": "tce",
    }


def ranking_chart(pairs: list[tuple[str, float | None, str]], unit: str = "tCO2") -> dict:
    """Horizontal bars, largest on top: (label, value, link)."""
    pairs = [p for p in pairs if p[1] is not None][:TOP_INDUSTRIES]
    pairs.reverse()
    return {"kind": "hbars", "categories": [p[0] for p in pairs], "unit": unit,
            "series": [{"name": str(_("Emissions")), "type": "bar", "data": [_r(p[1]) for p in pairs],
                        "color": "#b4441f"}],
            "links": [p[2] for p in pairs]}


# ------------------------------------------------------------------ tables


def value_columns(*, share: bool = True, yoy: bool = True) -> list[Column]:
    columns = [Column("co2_total_t", _("Emissions (tCO2)"))]
    if yoy:
        columns.append(Column("co2_yoy", _("Year on year"), kind="percent", decimals=1))
    if share:
        columns.append(Column("co2_share", _("Share"), kind="share", decimals=1))
    columns += [Column("tce_total", _("Energy (tce)")), Column("n_enterprises", _("Enterprises"))]
    return columns


def month_table(rows: list[dict | None], previous: list[dict | None], year: int, *, links: list[str] | None = None,
                name: str = "months", count: bool = True) -> Table:
    body = []
    for m, (row, before) in enumerate(zip(rows, previous, strict=True), start=1):
        if row is None:
            continue
        entry = {"month": f"{year}-{m:02d}", "month_url": (links or [""] * 12)[m - 1],
                 "co2_yoy": change(row["co2_total_t"], _get(before, "co2_total_t")),
                 "tce_yoy": change(row["tce_total"], _get(before, "tce_total"))}
        entry.update(row)
        body.append(entry)
    columns = [Column("month", _("Month"), kind="code", link="month_url"),
               Column("co2_total_t", _("Emissions (tCO2)")), Column("co2_yoy", _("Year on year"), "percent", 1)]
    columns += [Column(f"co2_{c}_t", labels.CATEGORY[c]) for c in STACKED
                if any((r or {}).get(f"co2_{c}_t") for r in rows)]
    columns += [Column("tce_total", _("Energy (tce)")), Column("tce_yoy", _("Energy year on year"), "percent", 1)]
    if count:
        columns.append(Column("n_enterprises", _("Enterprises")))
    return Table(name, _("Months"), columns, rows=body, default_sort="month", per_page=12,
                 empty=_("No monthly results for this year."))


def year_table(rows: list[dict], name: str = "years") -> Table:
    body, before = [], None
    for row in rows:
        body.append(dict(row, year=row["period"], co2_yoy=change(row["co2_total_t"], _get(before, "co2_total_t")),
                         tce_yoy=change(row["tce_total"], _get(before, "tce_total"))))
        before = row
    columns = [Column("year", _("Year"), kind="code"), Column("co2_total_t", _("Emissions (tCO2)")),
               Column("co2_yoy", _("Year on year"), "percent", 1), Column("tce_total", _("Energy (tce)")),
               Column("tce_yoy", _("Energy year on year"), "percent", 1)]
    return Table(name, _("Years"), columns, rows=body, default_sort="-year", per_page=20)


# ------------------------------------------------------------------ dashboards


class PeriodDashboard:
    """A page about one period (a year or a month) of something that has totals and months: the
    request's parameters, the totals of the period, of the year before and of the month before, the
    months of the year and of the year before. Subclasses say where totals and months come from."""

    request: HttpRequest
    period: Period | None

    def totals_of(self, period: Period | None) -> dict | None:
        raise NotImplementedError

    def months_of(self, year: int) -> list[dict | None]:
        raise NotImplementedError

    @property
    def path(self) -> str:
        return self.request.path

    def bind(self, table: Table) -> Table:
        return table.bind(self.request.GET, self.path)

    def query(self, **changes) -> str:
        params = {"year": str(self.period.year) if self.period else ""}
        if self.period and self.period.month:
            params["month"] = str(self.period.month)
        params.update(changes)
        return "&".join(f"{k}={v}" for k, v in params.items() if v not in (None, ""))

    @cached_property
    def totals(self) -> dict | None:
        return self.totals_of(self.period)

    @cached_property
    def previous(self) -> dict | None:
        return self.totals_of(self.period.year_before()) if self.period else None

    @cached_property
    def last_month(self) -> dict | None:
        return self.totals_of(self.period.month_before()) if self.period and self.period.is_month else None

    @cached_property
    def month_rows(self) -> list[dict | None]:
        return self.months_of(self.period.year) if self.period else []

    @cached_property
    def previous_month_rows(self) -> list[dict | None]:
        return self.months_of(self.period.year - 1) if self.period else []

    @cached_property
    def highlight(self) -> int | None:
        return self.period.month - 1 if self.period and self.period.month else None

    def month_charts(self, links: list[str]) -> dict:
        """The stacked months of the year against the year before, in tCO2 and in tce."""
        return {
            f"months_{kind}": stack_chart(self.month_rows, kind, previous=self.previous_month_rows,
                                          highlight=self.highlight, links=links)
            for kind in ("co2", "tce")
        }


class Dashboard(PeriodDashboard):
    """Shared by the region and industry pages: a place, a period and the request's parameters."""

    def __init__(self, request, membership, place: Place, period: Period | None):
        self.request, self.membership, self.place, self.period = request, membership, place, period
        self.region = place.region

    @cached_property
    def runs(self) -> list[CalculationRun]:
        return self.place.runs_for(self.period.year) if self.period else []

    @cached_property
    def run_info(self) -> list[dict]:
        out = []
        for run in self.runs:
            sets = ", ".join(s.label for s in run.factor_sets.all())
            out.append({"run": run, "factor_sets": sets, "url": url("accounting:run-detail", run.pk)})
        return out

    @cached_property
    def breadcrumbs(self) -> list[Region]:
        codes = [c for c in self.region.path.strip("/").split("/") if c and c != self.region.code]
        visible = queries.visible_regions(self.membership).filter(code__in=codes)
        return sorted(visible, key=lambda r: r.level)

    @cached_property
    def month_links(self) -> list[str]:
        if not self.period:
            return []
        return [f"{self.path}?{self.query(month=str(m))}" for m in range(1, 13)]

    @cached_property
    def months_available(self) -> list[int]:
        if not self.period:
            return []
        return [m for m, row in enumerate(self.month_rows, start=1) if row]

    def kpis_of(self, totals: dict | None, previous: dict | None, last_month: dict | None) -> list[dict]:
        if totals is None:
            return []
        co2, tce = totals["co2_total_t"], totals["tce_total"]
        indirect = sum(totals.get(f"co2_{c}_t", 0.0) for c in ("electricity_purchased", "heat_purchased"))
        return [
            {"key": "co2", "label": _("Emissions"), "value": co2, "unit": "tCO2",
             "yoy": change(co2, _get(previous, "co2_total_t")), "mom": change(co2, _get(last_month, "co2_total_t"))},
            {"key": "tce", "label": _("Energy consumption"), "value": tce, "unit": "tce",
             "yoy": change(tce, _get(previous, "tce_total")), "mom": change(tce, _get(last_month, "tce_total"))},
            {"key": "enterprises", "label": _("Enterprises reporting"), "value": totals.get("n_enterprises") or 0,
             "unit": "", "yoy": change(totals.get("n_enterprises"), _get(previous, "n_enterprises")), "mom": None,
             "integer": True},
            {"key": "indirect", "label": _("Purchased electricity and heat"), "value": (indirect / co2) if co2 else None,
             "unit": "%", "percent": True, "yoy": None, "mom": None},
        ]


class RegionDashboard(Dashboard):
    """Government portal: a region (and below) for a year or a month."""

    def totals_of(self, period: Period | None) -> dict | None:
        return self.place.totals(period)

    def months_of(self, year: int) -> list[dict | None]:
        return self.place.months(year)

    @cached_property
    def kpis(self) -> list[dict]:
        return self.kpis_of(self.totals, self.previous, self.last_month)

    @cached_property
    def charts(self) -> dict:
        if self.totals is None:
            return {}
        children = self.children
        charts = {
            **self.month_charts(self.month_links),
            "sources": donut_chart(self.totals, "co2"),
            "energy": donut_chart(self.totals, "tce"),
            "years": years_chart(self.place.yearly()),
            "industries": ranking_chart([(r["name"], r["co2_total_t"], r["url"]) for r in self.industry_rows]),
        }
        if children:
            charts["children"] = ranking_chart([(r["name"], r["co2_total_t"], r["url"]) for r in children])
            region_map = self.place.map()
            if region_map is not None:
                charts["map"] = {
                    "kind": "map", "geojson": url("monitoring:map-data", self.region.code),
                    "map": f"region-{self.region.code}-{region_map.pk}", "unit": "tCO2",
                    "data": [{"name": r["code"], "label": r["name"], "value": _r(r["co2_total_t"]), "url": r["url"]}
                             for r in children]
                    + [{"name": code, "label": region.label, "value": None,
                        "url": f"{url('monitoring:region', code)}?{self.query()}"}
                       for code, region in self.place.children.items() if code not in {r["code"] for r in children}],
                }
        return charts

    # -------------------------------------------------- sub-regions

    @cached_property
    def children(self) -> list[dict]:
        if not self.period or self.totals is None:
            return []
        before = {r.code: v for r, v in self.place.by_child(self.period.year_before())}
        total = self.totals["co2_total_t"] or 0.0
        rows = []
        for region, values in self.place.by_child(self.period):
            rows.append(dict(values, code=region.code, name=region.label,
                             url=f"{url('monitoring:region', region.code)}?{self.query()}",
                             co2_yoy=change(values["co2_total_t"], _get(before.get(region.code), "co2_total_t")),
                             co2_share=(values["co2_total_t"] / total) if total else None))
        return rows

    @cached_property
    def child_level(self) -> str:
        first = next(iter(self.place.children.values()), None)
        return first.get_level_display() if first else ""

    @cached_property
    def children_table(self) -> Table:
        columns = [Column("name", _("Region"), kind="text", link="url"), Column("code", _("Code"), kind="code"),
                   *value_columns()]
        return self.bind(Table("regions", _("Sub-regions"), columns, rows=self.children, default_sort="-co2_total_t",
                               empty=_("No sub-region has results for this period.")))

    # -------------------------------------------------- industries

    @cached_property
    def industry_rows(self) -> list[dict]:
        if not self.period or self.totals is None:
            return []
        now = self.place.industries(self.period)
        before = {r["industry"]: r for r in self.place.industries(self.period.year_before())}
        names = queries.industry_names(r["industry"] for r in now)
        total = self.totals["co2_total_t"] or 0.0
        rows = []
        for row in now:
            code = row["industry"]
            industry = names.get(code)
            link = url("monitoring:industry", self.region.code, code, query=self.query()) if industry else ""
            rows.append(dict(row, code=code or "—", name=industry.label if industry else str(_("Unclassified")),
                             url=link, co2_yoy=change(row["co2_total_t"], _get(before.get(code), "co2_total_t")),
                             co2_share=(row["co2_total_t"] / total) if total else None))
        return rows

    @cached_property
    def industry_table(self) -> Table:
        columns = [Column("name", _("Industry"), kind="text", link="url"), Column("code", _("Code"), kind="code"),
                   *value_columns()]
        return self.bind(Table("industries", _("Industries"), columns, rows=self.industry_rows,
                               default_sort="-co2_total_t", empty=_("No industry has results for this period.")))

    @cached_property
    def industry_choices(self) -> list[Industry]:
        return [Industry(code=r["code"], name=r["name"]) for r in self.industry_rows if r["url"]]

    # -------------------------------------------------- enterprises

    industry_filter: str | None = None

    @cached_property
    def ranking_table(self) -> Table:
        period = self.period
        total = (self.totals or {}).get("co2_total_t") or 0.0
        columns = [
            Column("rank", "#", kind="code", sortable=False),
            Column("name", _("Enterprise"), kind="text", link="url", sortable=False),
            Column("credit_code", _("Credit code"), kind="code", sortable=False),
            Column("county", _("Region"), kind="text", sortable=False),
            Column("industry", _("Industry"), kind="text", sortable=False),
            Column("co2_total_t", _("Emissions (tCO2)")),
            Column("co2_yoy", _("Year on year"), "percent", 1, sortable=False),
            Column("co2_share", _("Share"), "share", 2, sortable=False),
            Column("co2_combustion_t", labels.CATEGORY["combustion"]),
            Column("co2_process_t", labels.CATEGORY["process"]),
            Column("co2_electricity_purchased_t", labels.CATEGORY["electricity_purchased"]),
            Column("co2_heat_purchased_t", labels.CATEGORY["heat_purchased"]),
            Column("tce_total", _("Energy (tce)")),
        ]
        qs = self.place.ranking(period, self.industry_filter) if period else Aggregate.objects.none()
        scope = ("ranking", memo.runs_key(self.runs), self.region.path, self.industry_filter or "",
                 period.key if period else "")

        def fetch(order: str, offset: int, limit: int) -> list[dict]:
            key = order.lstrip("-")
            ordering = [f"-{key}" if order.startswith("-") else key, "key"]

            def read() -> tuple[list[dict], dict, dict, dict]:
                rows = list(qs.order_by(*ordering).values("key", *SORTABLE_RANKING)[offset : offset + limit])
                keys = [r["key"] for r in rows]
                names = queries.enterprise_names(keys)
                before = queries.previous_values(self.place.runs, self.region, keys, period)
                industries = queries.industry_names({e.industry.code[:3] for e in names.values()})
                return rows, names, before, industries

            rows, names, before, industries = memo.remember((*scope, order, offset, limit), read,
                                                            seconds=memo.REGISTRY_SECONDS)
            out = []
            for i, row in enumerate(rows, start=offset + 1):
                firm = names.get(row["key"])
                division = industries.get(firm.industry.code[:3]) if firm else None
                out.append(dict(
                    row, rank=i, credit_code=row["key"], name=firm.label if firm else row["key"],
                    url=f"{url('monitoring:enterprise', row['key'])}?{self.query()}" if firm else "",
                    county=firm.region.label if firm else "", industry=division.label if division else "",
                    co2_yoy=change(row["co2_total_t"], _get(before.get(row["key"]), "co2_total_t")),
                    co2_share=(row["co2_total_t"] / total) if total else None,
                ))
            return out

        def count() -> int:
            return memo.remember((*scope, "count"), qs.count, seconds=memo.REGISTRY_SECONDS)

        return self.bind(Table("ranking", _("Enterprises"), columns, fetch=fetch, count=count,
                               default_sort="-co2_total_t", empty=_("No enterprise has results for this period.")))

    @cached_property
    def top_enterprises(self) -> list[dict]:
        return self.ranking_table.page_rows[:10]

    @cached_property
    def months_table(self) -> Table:
        return self.bind(month_table(self.month_rows, self.previous_month_rows, self.period.year,
                                     links=self.month_links) if self.period else month_table([], [], 0))

    @cached_property
    def years_table(self) -> Table:
        return self.bind(year_table(self.place.yearly()))

    def tables(self) -> dict:
        return {"regions": lambda: self.children_table, "industries": lambda: self.industry_table,
                "ranking": lambda: self.ranking_table, "months": lambda: self.months_table,
                "years": lambda: self.years_table}


class IndustryDashboard(RegionDashboard):
    """One industry division within a region."""

    def __init__(self, request, membership, place: Place, period: Period | None, industry: Industry):
        super().__init__(request, membership, place, period)
        self.industry = industry
        self.industry_filter = industry.code

    def totals_of(self, period: Period | None) -> dict | None:
        return self.place.industry_totals(self.industry.code, period)

    def months_of(self, year: int) -> list[dict | None]:
        return self.place.industry_months(self.industry.code, year)

    @cached_property
    def region_totals(self) -> dict | None:
        return self.place.totals(self.period)

    @cached_property
    def share_of_region(self) -> float | None:
        if not self.totals or not self.region_totals or not self.region_totals["co2_total_t"]:
            return None
        return self.totals["co2_total_t"] / self.region_totals["co2_total_t"]

    @cached_property
    def children(self) -> list[dict]:
        if not self.period or self.totals is None:
            return []
        before = {r.code: v for r, v in self.place.industry_by_child(self.industry.code, self.period.year_before())}
        total = self.totals["co2_total_t"] or 0.0
        rows = []
        for region, values in self.place.industry_by_child(self.industry.code, self.period):
            rows.append(dict(values, code=region.code, name=region.label,
                             url=url("monitoring:industry", region.code, self.industry.code, query=self.query()),
                             co2_yoy=change(values["co2_total_t"], _get(before.get(region.code), "co2_total_t")),
                             co2_share=(values["co2_total_t"] / total) if total else None))
        return rows

    @cached_property
    def charts(self) -> dict:
        if self.totals is None:
            return {}
        charts = {
            **self.month_charts(self.month_links),
            "sources": donut_chart(self.totals, "co2"),
            "energy": donut_chart(self.totals, "tce"),
        }
        if self.children:
            charts["children"] = ranking_chart([(r["name"], r["co2_total_t"], r["url"]) for r in self.children])
        return charts

    def tables(self) -> dict:
        return {"regions": lambda: self.children_table, "ranking": lambda: self.ranking_table,
                "months": lambda: self.months_table}


class EnterpriseDashboard(PeriodDashboard):
    """One enterprise: its months against its industry's median; the enterprise portal adds its intake status."""

    def __init__(self, request, membership, firm: Firm, period: Period | None, *, own: bool):
        self.request, self.membership, self.firm, self.period, self.own = request, membership, firm, period, own
        self.enterprise: Enterprise = firm.enterprise

    def totals_of(self, period: Period | None) -> dict | None:
        return self.firm.totals(period)

    def months_of(self, year: int) -> list[dict | None]:
        return self.firm.months(year)

    @cached_property
    def run(self) -> CalculationRun | None:
        return self.firm.runs_by_year.get(self.period.year) if self.period else None

    @cached_property
    def run_info(self) -> list[dict]:
        if self.run is None:
            return []
        sets = ", ".join(s.label for s in self.run.factor_sets.all())
        return [{"run": self.run, "factor_sets": sets, "url": url("accounting:run-detail", self.run.pk)}]

    @cached_property
    def division(self) -> Industry | None:
        return Industry.objects.filter(code=self.firm.division).first()

    @cached_property
    def breadcrumbs(self) -> list[dict]:
        """Region › county › industry › enterprise, for government users (only what they may see)."""
        if self.own or not queries.can_monitor_regions(self.membership):
            return []
        codes = [c for c in self.enterprise.region.path.strip("/").split("/") if c]
        crumbs = [{"label": r.label, "url": url("monitoring:region", r.code, query=self.query())}
                  for r in sorted(queries.visible_regions(self.membership).filter(code__in=codes), key=lambda r: r.level)]
        if self.division is not None and crumbs:
            crumbs.append({"label": self.division.label,
                           "url": url("monitoring:industry", self.enterprise.region.code, self.division.code,
                                      query=self.query())})
        return crumbs

    @cached_property
    def benchmark_rows(self):
        return self.firm.benchmarks(self.period.year) if self.period else []

    @cached_property
    def benchmark(self) -> dict | None:
        """The industry median for the selected period (a year: the median of yearly totals)."""
        if not self.period:
            return None
        found = self.firm.benchmark(self.period)
        return None if found is None else {"median": found.co2_median_t, "n": found.n_enterprises,
                                           "tce_median": found.tce_median}

    @cached_property
    def kpis(self) -> list[dict]:
        if self.totals is None:
            return []
        co2, tce = self.totals["co2_total_t"], self.totals["tce_total"]
        median = (self.benchmark or {}).get("median")
        return [
            {"key": "co2", "label": _("Emissions"), "value": co2, "unit": "tCO2",
             "yoy": change(co2, _get(self.previous, "co2_total_t")),
             "mom": change(co2, _get(self.last_month, "co2_total_t"))},
            {"key": "tce", "label": _("Energy consumption"), "value": tce, "unit": "tce",
             "yoy": change(tce, _get(self.previous, "tce_total")),
             "mom": change(tce, _get(self.last_month, "tce_total"))},
            {"key": "median", "label": _("Industry median"), "value": median, "unit": "tCO2",
             "note": (_("%(n)s enterprises in %(industry)s")
                      % {"n": self.benchmark["n"], "industry": self.division.label if self.division else ""})
             if self.benchmark else "", "yoy": None, "mom": None},
            {"key": "vs_median", "label": _("Against the median"), "value": change(co2, median), "unit": "%",
             "percent": True, "signed": True, "yoy": None, "mom": None},
        ]

    @cached_property
    def row_links(self) -> list[str]:
        if not self.period:
            return []
        return [url("monitoring:rows", self.enterprise.credit_code, f"{self.period.year}-{m:02d}") if row else ""
                for m, row in enumerate(self.month_rows, start=1)]

    @cached_property
    def charts(self) -> dict:
        if self.totals is None and not any(self.month_rows):
            return {}
        bench = self.benchmark_rows
        median = {"kind": "bars", "categories": month_labels(), "unit": "tCO2", "links": self.row_links, "series": [
            {"name": str(_("This enterprise")), "type": "line", "data": [_r(_get(r, "co2_total_t")) for r in self.month_rows],
             "color": "#b4441f", "width": 3},
            {"name": str(_("Industry median")), "type": "line", "data": [_r(b.co2_median_t) if b else None for b in bench],
             "color": "#1f6fb4", "dashed": True},
            {"name": str(_("Industry 25th percentile")), "type": "band-low",
             "data": [_r(b.co2_p25_t) if b else None for b in bench], "color": "#1f6fb4"},
            {"name": str(_("Industry 75th percentile")), "type": "band-high",
             "data": [_r(b.co2_p75_t - b.co2_p25_t) if b else None for b in bench], "color": "#1f6fb4"},
        ]}
        return {
            "median": median,
            **self.month_charts(self.row_links),
            "sources": donut_chart(self.totals, "co2"),
            "years": years_chart(self.firm.yearly()),
        }

    @cached_property
    def months_table(self) -> Table:
        if not self.period:
            return self.bind(month_table([], [], 0, count=False))
        table = month_table(self.month_rows, self.previous_month_rows, self.period.year, links=self.row_links,
                            count=False)
        bench = {f"{self.period.year}-{m:02d}": b for m, b in enumerate(self.benchmark_rows, start=1)}
        for row in table.rows or []:
            b = bench.get(row["month"])
            row["median"] = b.co2_median_t if b else None
            row["vs_median"] = change(row["co2_total_t"], row["median"])
        table.columns[3:3] = [Column("median", _("Industry median (tCO2)")),
                              Column("vs_median", _("Against the median"), "percent", 1)]
        return self.bind(table)

    @cached_property
    def years_table(self) -> Table:
        return self.bind(year_table(self.firm.yearly()))

    def tables(self) -> dict:
        out = {"months": lambda: self.months_table, "years": lambda: self.years_table}
        if self.own:
            out["submissions"] = lambda: self.submissions_table
            out["deposits"] = lambda: self.deposits_table
        return out

    # -------------------------------------------------- the enterprise's own status (enterprise portal)

    @cached_property
    def submissions_table(self) -> Table:
        from kiln.intake.queries import visible_batches

        batches = visible_batches(self.membership).order_by("-created")[:50]
        rows = [{"id": b.pk, "created": b.created.strftime("%Y-%m-%d %H:%M"), "door": str(b.get_door_display()),
                 "status": str(b.get_status_display()), "row_count": b.row_count, "error_count": b.error_count,
                 "url": url("intake:batch-detail", b.pk)} for b in batches]
        columns = [Column("id", _("Batch"), kind="code", link="url"), Column("created", _("Time"), kind="code"),
                   Column("door", _("Channel"), kind="text"), Column("status", _("Status"), kind="text"),
                   Column("row_count", _("Rows")), Column("error_count", _("Errors"))]
        return self.bind(Table("submissions", _("Submissions"), columns, rows=rows, default_sort="-created",
                               per_page=10, empty=_("Nothing submitted yet.")))

    @cached_property
    def deposits_table(self) -> Table:
        from kiln.intake import deadlines
        from kiln.intake.models import EnterpriseMonth

        year = self.period.year if self.period else queries.today().year
        periods = [f"{year}-{m:02d}" for m in range(1, 13)]
        stored = {m.period: m for m in EnterpriseMonth.objects.filter(enterprise=self.enterprise, period__in=periods)}
        rows = []
        for period in periods:
            month = stored.get(period)
            state = deadlines.status(period, month.first_deposit_at if month else None)
            rows.append({"month": period, "status": str(deadlines.DepositStatus(state).label), "state": state,
                         "deadline": deadlines.deadline(period).isoformat(),
                         "evidence": month.evidence_count if month else 0,
                         "frozen": str(_("yes")) if month and month.frozen else "",
                         "url": url("intake:deposit-month", self.enterprise.credit_code, period)})
        columns = [Column("month", _("Month"), kind="code", link="url"), Column("status", _("Deposit"), kind="text", state="state"),
                   Column("deadline", _("Deadline"), kind="code"), Column("evidence", _("Evidence files")),
                   Column("frozen", _("Frozen"), kind="text")]
        return self.bind(Table("deposits", _("Monthly evidence deposits"), columns, rows=rows, default_sort="month",
                               per_page=12))

    @property
    def intake_links(self) -> dict:
        return {"upload": url("intake:upload"), "batches": url("intake:batch-list"), "deposits": url("intake:deposits")}

    @property
    def findings_url(self) -> str:
        return url("screening:mine")

    @property
    def efficiency_url(self) -> str:
        return url("efficiency:index")


def rows_table(request, found: list[dict], run: CalculationRun, *, name: str = "rows") -> Table:
    """The activity rows of an enterprise-month with their provenance (formula, tier, factor set, run)."""
    rows = []
    for i, row in enumerate(found, start=1):
        rows.append({
            "line": i,
            "item_code": row.get("item"),
            "item": item_label(row.get("item") or ""),
            "facility": row.get("facility") or "",
            "quantity": row.get("quantity"),
            "unit": row.get("unit") or "",
            "quantity_canonical": row.get("quantity_canonical"),
            "unit_canonical": row.get("unit_canonical") or "",
            "source": row.get("source") or "",
            "co2_t": row.get("co2_t"),
            "energy_tce": row.get("energy_tce"),
            "category": category_label(row.get("source_category") or "none"),
            "formula": str(labels.FORMULA.get(row.get("formula") or "", row.get("formula") or "")),
            "tier": str(labels.TIER.get(row.get("tier") or "", row.get("tier") or "")),
            "factor_set": row.get("factor_set") or "",
            "run": run.pk,
            "note": row.get("note") or "",
        })
    columns = [
        Column("line", "#", kind="code"),
        Column("item", _("Item"), kind="text"),
        Column("item_code", _("Item code"), kind="code"),
        Column("facility", _("Facility"), kind="code"),
        Column("quantity", _("Quantity"), decimals=3),
        Column("unit", _("Unit"), kind="code", sortable=False),
        Column("quantity_canonical", _("Canonical quantity"), decimals=3),
        Column("unit_canonical", _("Canonical unit"), kind="code", sortable=False),
        Column("source", _("Data source"), kind="code"),
        Column("co2_t", _("Emissions (tCO2)"), decimals=3),
        Column("energy_tce", _("Energy (tce)"), decimals=3),
        Column("category", _("Source category"), kind="text"),
        Column("formula", _("Formula"), kind="text", sortable=False),
        Column("tier", _("Tier"), kind="text"),
        Column("factor_set", _("Factor set"), kind="code"),
        Column("run", _("Run"), kind="code", sortable=False),
    ]
    return Table(name, _("Activity rows"), columns, rows=rows, default_sort="line", per_page=50,
                 empty=_("This month has no activity rows in the official run.")).bind(request.GET, request.path)
