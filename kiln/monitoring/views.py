"""Monitoring portals: government (region, industry, enterprise, month rows, big screen), enterprise,
verifier and platform admin. Thin: the numbers come from ``queries``, the page parts from ``dashboards``.

Every page answers 404 to anyone who may not see it, and to parameters out of range.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kiln.accounts.current import current_membership
from kiln.accounts.roles import Perm
from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.monitoring import exports, geo, health, memo, queries, services
from kiln.monitoring.dashboards import EnterpriseDashboard, IndustryDashboard, RegionDashboard, rows_table
from kiln.monitoring.forms import MapUploadForm
from kiln.monitoring.models import RegionMap
from kiln.monitoring.queries import Firm, OfficialRuns, Period, Place
from kiln.monitoring.tables import Table

SCREEN_REFRESH_SECONDS = 60


def _period(request, years: list[int]) -> Period | None:
    year = queries.parse_year(request.GET.get("year"), max(years) if years else None)
    month = queries.parse_month(request.GET.get("month"), year)
    return None if year is None else Period(year, month)


def _go(request, target: str) -> HttpResponse:
    """A redirect that htmx follows as a full page load."""
    if request.htmx:
        reply = HttpResponse(status=204)
        reply["HX-Redirect"] = target
        return reply
    return redirect(target)


def _export(request, tables: dict, filename: str, scope: dict) -> HttpResponse:
    name, fmt = request.GET.get("export", ""), request.GET.get("format", "csv")
    if name not in tables or fmt not in exports.FORMATS:
        raise Http404
    table: Table = tables[name]()
    reply = exports.response(table, fmt, f"{filename}-{name}")
    record(EventType.DATA_EXPORTED, actor=request.user, target=("monitoring_table", name, str(table.title)),
           after={**scope, "table": name, "format": fmt, "rows": table.total}, request=request)
    return reply


IGNORED_PARAMETERS = ("partial", "export", "format")


def _fragment(request, template: str, name: str, context: dict, version: tuple) -> str:
    """A rendered part of a page, shared between users, workers and requests until the official runs change.

    What the part shows depends only on the URL, the language and the official runs (the viewer's
    right to see it was checked before), so that is its key.
    """
    params = tuple(sorted((k, v) for k, v in request.GET.items() if k not in IGNORED_PARAMETERS))
    key = ("html", template, name, request.path, params, get_language(), version)
    return mark_safe(  # noqa: S308 - rendered by the template engine, which escaped it
        memo.shared(key, lambda: render_to_string(f"{template}#{name}" if name else template, context, request))
    )


def _page(request, template: str, context: dict, *, partials: tuple[str, ...] = (), cached: str = "",
          version: tuple = ()) -> HttpResponse:
    """The page, or the part of it htmx asks for: its target (``dashboard``, ``table-<name>``) or ``?partial=``.

    ``cached`` names the part that is the same for every viewer (rendered once per version).
    """
    target = (request.htmx.target or "") if request.htmx else ""
    partial = request.GET.get("partial") or target
    if cached and not partial.startswith("table-"):
        context[f"{cached}_html"] = _fragment(request, template, cached, context, version)
    if partial.startswith("table-"):
        factory = context["d"].tables().get(partial.removeprefix("table-")) if context.get("d") else None
        if factory is None:
            raise Http404
        if version:
            reply = HttpResponse(_fragment(request, "monitoring/_table.html", "", {"table": factory()}, version))
        else:
            reply = render(request, "monitoring/_table.html", {"table": factory()})
    elif partial == cached and cached:
        reply = HttpResponse(context[f"{cached}_html"])
    elif partial in partials:
        reply = render(request, f"{template}#{partial}", context)
    elif request.GET.get("partial"):
        raise Http404
    else:
        reply = render(request, template, context)
    patch_vary_headers(reply, ("HX-Request", "HX-Target", "Accept-Language", "Cookie"))
    return reply


@login_required
def index(request):
    """Each role's landing page."""
    membership = current_membership(request)
    portal = queries.portal_of(membership)
    if portal == "government":
        return redirect("monitoring:region", membership.organisation.region.code)
    if portal == "platform":
        return redirect("monitoring:platform")
    if portal == "enterprise":
        return redirect("monitoring:enterprise", membership.organisation.credit_code)
    if portal == "verifier":
        return redirect("monitoring:verifier")
    raise Http404


def _region_dashboard(request, code: str, *, industry_code: str | None = None):
    membership = current_membership(request)
    region = queries.region_or_404(membership, code)
    place = Place.of(region, OfficialRuns())
    period = _period(request, place.years)
    if industry_code is None:
        return RegionDashboard(request, membership, place, period)
    industry = queries.industry_or_404(industry_code)
    return IndustryDashboard(request, membership, place, period, industry)


def _context(d, **extra) -> dict:
    years = sorted(set(d.place.years) | ({d.period.year} if d.period else set()), reverse=True)
    return {"d": d, "years": years, "months": range(1, 13), **extra}


@login_required
def region(request, code: str):
    chosen = request.GET.get("industry")
    if chosen:
        queries.region_or_404(current_membership(request), code)
        industry = queries.industry_or_404(chosen)
        query = request.GET.copy()
        query.pop("industry")
        query.pop("partial", None)
        return _go(request, reverse("monitoring:industry", args=[code, industry.code]) + "?" + query.urlencode())
    d = _region_dashboard(request, code)
    if request.GET.get("export"):
        return _export(request, d.tables(), f"{d.region.code}-{d.period.key if d.period else 'none'}",
                       {"region": d.region.code, "period": d.period.key if d.period else None})
    return _page(request, "monitoring/region.html", _context(d), cached="dashboard", version=_version(d.place.runs))


def _version(runs: OfficialRuns) -> tuple:
    return memo.runs_key(runs.runs)


@login_required
def industry(request, code: str, division: str):
    if "industry" in request.GET and not request.GET["industry"]:
        query = request.GET.copy()
        query.pop("industry")
        query.pop("partial", None)
        return _go(request, reverse("monitoring:region", args=[code]) + "?" + query.urlencode())
    d = _region_dashboard(request, code, industry_code=division)
    if request.GET.get("export"):
        return _export(request, d.tables(), f"{d.region.code}-{division}-{d.period.key if d.period else 'none'}",
                       {"region": d.region.code, "industry": division, "period": d.period.key if d.period else None})
    return _page(request, "monitoring/region.html", _context(d), cached="dashboard", version=_version(d.place.runs))


@login_required
def screen(request, code: str):
    """The big screen (大屏): dark, full-screen, refreshing itself."""
    d = _region_dashboard(request, code)
    return _page(request, "monitoring/screen.html", _context(d, refresh=SCREEN_REFRESH_SECONDS), cached="screen",
                 version=_version(d.place.runs))


@login_required
def map_data(request, code: str):
    region = queries.region_or_404(current_membership(request), code)
    region_map = RegionMap.objects.filter(region=region, current=True).first()
    if region_map is None:
        raise Http404
    reply = JsonResponse(region_map.geojson)
    reply["Cache-Control"] = "private, max-age=300"
    return reply


def _enterprise(request, credit_code: str):
    membership = current_membership(request)
    portal = queries.portal_of(membership)
    if portal not in ("government", "platform", "enterprise", "verifier"):
        raise Http404
    enterprise = queries.enterprise_or_404(membership, credit_code)
    return membership, enterprise, portal == "enterprise"


@login_required
def enterprise(request, credit_code: str):
    membership, firm_row, own = _enterprise(request, credit_code)
    firm = Firm(firm_row, OfficialRuns())
    period = _period(request, firm.years)
    d = EnterpriseDashboard(request, membership, firm, period, own=own)
    if request.GET.get("export"):
        return _export(request, d.tables(), f"{credit_code}-{period.key if period else 'none'}",
                       {"enterprise": credit_code, "period": period.key if period else None})
    years = sorted(set(firm.years) | ({period.year} if period else set()), reverse=True)
    context = {"d": d, "years": years, "months": range(1, 13)}
    context["results_html"] = _fragment(request, "monitoring/enterprise.html", "results", context,
                                        _version(firm.runs))
    return _page(request, "monitoring/enterprise.html", context, partials=("dashboard",),
                 version=() if own else _version(firm.runs))


class _RowsPage:
    def __init__(self, table: Table):
        self.table = table

    def tables(self) -> dict:
        return {"rows": lambda: self.table}


@login_required
def rows(request, credit_code: str, period: str):
    """One enterprise-month's activity rows as the official run computed them, with their provenance."""
    membership, firm_row, own = _enterprise(request, credit_code)
    month = queries.parse_period_key(period)
    firm = Firm(firm_row, OfficialRuns())
    run = firm.runs_by_year.get(month.year)
    found = queries.activity_rows_cached(run, credit_code, month.key) if run else None
    table = rows_table(request, found, run) if run and found is not None else None
    page = _RowsPage(table) if table else None
    if request.GET.get("export"):
        if page is None:
            raise Http404
        return _export(request, page.tables(), f"{credit_code}-{month.key}-rows",
                       {"enterprise": credit_code, "period": month.key, "run": run.pk})
    totals = firm.totals(month)
    context = {"d": page, "table": table, "enterprise": firm_row, "period": month, "run": run, "totals": totals,
               "own": own, "provenance_url": _provenance_url(run, credit_code, month.key),
               "back": reverse("monitoring:enterprise", args=[credit_code]) + f"?year={month.year}&month={month.month}"}
    return _page(request, "monitoring/rows.html", context)


def _provenance_url(run, credit_code: str, period: str) -> str:
    if run is None:
        return ""
    from kiln.monitoring.dashboards import url

    return url("accounting:provenance", run.pk, credit_code, query=f"period={period}")


@login_required
def verifier(request):
    """A verifier's assigned enterprises (from the review app's verification assignments, when installed)."""
    membership = current_membership(request)
    if queries.portal_of(membership) != "verifier":
        raise Http404
    return render(request, "monitoring/verifier.html", {"assigned": queries.assignments(membership)})


@login_required
def platform(request):
    membership = current_membership(request)
    if queries.portal_of(membership) != "platform":
        raise Http404
    report = health.Report.collect()
    top = queries.home_region(membership)
    report.bind(request)
    context = {"report": report, "top": top, "d": report}
    if request.GET.get("export"):
        return _export(request, report.tables(), "platform", {"page": "platform"})
    return _page(request, "monitoring/platform.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def maps(request):
    """Region boundaries for the choropleth maps: the current ones, and uploading a new file."""
    membership = current_membership(request)
    if membership is None or not membership.has_perm(Perm.MANAGE_REGISTRY):
        raise Http404
    form = MapUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        region = form.cleaned_data["region"]
        try:
            region_map = services.upload_map(actor=request.user, region=region, data=upload.read(),
                                             file_name=upload.name, request=request)
        except geo.MapError as exc:
            form.add_error("file", f"{exc.message} ({exc.code})")
            status = 422
        else:
            messages.success(request, _("The map of %(region)s now shows %(count)s areas.")
                             % {"region": region.label, "count": region_map.feature_count})
            return redirect("monitoring:maps")
    elif request.method == "POST":
        status = 422
    current = RegionMap.objects.filter(current=True).select_related("region", "uploaded_by")
    return render(request, "monitoring/maps.html", {"form": form, "maps": current}, status=status)
