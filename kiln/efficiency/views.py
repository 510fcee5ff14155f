"""Pages of the carbon-efficiency code: the card per enterprise, the regional views, the economic import,
and the public verification page behind the QR code (the only page here without login)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from kiln.accounts.current import current_membership
from kiln.accounts.roles import PLATFORM_WIDE_ROLES
from kiln.audit.events import EventType
from kiln.audit.services import record
from kiln.efficiency import codes, display, exports, qr, queries
from kiln.efficiency.economic import ECONOMIC_COLUMNS
from kiln.efficiency.errors import REASONS, EfficiencyError, reason_text
from kiln.efficiency.forms import EconomicImportForm, GradeForm
from kiln.efficiency.models import EfficiencyResult
from kiln.efficiency.services import grade_year, import_economic, official_run
from kiln.registry.errors import RowError
from kiln.registry.exports import csv_bytes, error_report_headers, error_report_rows, xlsx_bytes
from kiln.registry.models import Enterprise, Organisation
from kiln.registry.queries import visible_enterprises, visible_regions

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG_TYPE = "image/svg+xml"
REPORT_SESSION_KEY = "kiln_economic_import_report"
MAX_STORED_ERRORS = 5000
ERRORS_SHOWN = 200
LIST_LIMIT = 500


def _overseer(request):
    membership = current_membership(request)
    if not queries.is_overseer(membership):
        raise Http404
    return membership


def _year(request, membership) -> int | None:
    years = queries.graded_years()
    raw = request.GET.get("year", "")
    if raw.isdigit():
        return int(raw)
    return years[0] if years else None


def _region(request, membership) -> str:
    """The ``region`` filter, which must be a region the membership may see (else 404)."""
    code = request.GET.get("region", "").strip()
    if code and not visible_regions(membership).filter(code=code).exists():
        raise Http404
    return code


def _regions(membership):
    return visible_regions(membership).filter(level__gte=2).order_by("code")


def _scoped(request):
    membership = _overseer(request)
    year = _year(request, membership)
    region = _region(request, membership)
    qs = (
        queries.in_region(queries.results(membership, year), region)
        if year
        else EfficiencyResult.objects.none()
    )
    return membership, year, region, qs


@login_required
def index(request):
    membership = current_membership(request)
    if not queries.is_overseer(membership):
        if membership is not None and membership.organisation.kind == Organisation.Kind.ENTERPRISE:
            enterprise = visible_enterprises(membership).first()
            if enterprise is not None:
                return redirect("efficiency:card", credit_code=enterprise.credit_code)
        raise Http404
    membership, year, region, qs = _scoped(request)
    context = {
        "year": year,
        "years": queries.graded_years(),
        "region": region,
        "regions": _regions(membership),
        "total": qs.count(),
        "levels": queries.level_counts(qs),
        "level_labels": display.LEVEL_LABELS,
        "reasons": [(code, n, reason_text(code)) for code, n in queries.reason_counts(qs)],
        "by_region": queries.distribution(qs, "region"),
        "by_industry": queries.distribution(qs, "industry"),
        "grades": [1, 2, 3, 4, 5],
        "can_compute": queries.can_compute(membership),
        "can_import": queries.can_import(membership),
        "grade_form": GradeForm(initial={"year": year or timezone.localdate().year - 1}),
        "runs": queries.counting_runs(year) if year else [],
    }
    return render(request, "efficiency/index.html", context)


@login_required
@require_POST
def grade(request):
    """Grade a year from its official accounting run (users who may calculate, within their region)."""
    membership = current_membership(request)
    if not queries.can_compute(membership) or not queries.is_overseer(membership):
        raise Http404
    form = GradeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a year such as 2024."))
        return redirect("efficiency:index")
    year = form.cleaned_data["year"]
    platform_wide = membership.role in PLATFORM_WIDE_ROLES
    own_region = membership.organisation.region
    run = official_run(year, None if platform_wide else own_region)
    if run is not None and not platform_wide and not run.region.path.startswith(own_region.path):
        messages.error(
            request,
            _(
                "The official accounting run of %(year)s covers %(region)s, beyond your region: it is graded there."
            )
            % {"year": year, "region": run.region},
        )
        return redirect(f"{reverse('efficiency:index')}?year={year}")
    try:
        eff_run = grade_year(actor=request.user, year=year, region=None if platform_wide else own_region)
    except EfficiencyError as exc:
        messages.error(request, f"{exc.code}: {exc.message}")
        return redirect("efficiency:index")
    messages.success(
        request,
        _("%(year)s graded: %(graded)s enterprises with a grade, %(not_graded)s without.")
        % {"year": year, "graded": eff_run.graded, "not_graded": eff_run.not_graded},
    )
    return redirect(f"{reverse('efficiency:index')}?year={year}")


def _run_url(run) -> str | None:
    """The accounting run's page, once the accounting app has one."""
    try:
        return reverse("accounting:run-detail", args=[run.pk])
    except NoReverseMatch:
        return None


def _claim(result: EfficiencyResult, today: dt.date) -> codes.Claim:
    return codes.Claim(
        credit_code=result.enterprise.credit_code or "",
        period=result.period,
        level=result.level,
        grade=result.grade,
        neutral_mark=result.neutral_mark,
        issued=today,
        expires=today + dt.timedelta(days=result.run.config.code_validity_days),
    )


def _card_enterprise(request, credit_code: str) -> Enterprise:
    return get_object_or_404(visible_enterprises(current_membership(request)), credit_code=credit_code)


@login_required
def card(request, credit_code: str):
    enterprise = _card_enterprise(request, credit_code)
    history = queries.history(enterprise)
    current = history[0] if history else None
    context: dict = {"enterprise": enterprise, "history": history, "current": current}
    if current is not None:
        config = current.run.config
        context.update(
            config=config,
            badges=display.badges(current, config),
            reason=reason_text(current.reason),
            run=current.run,
            calculation=current.run.calculation,
            calculation_url=_run_url(current.run.calculation),
            rolling=queries.rolling(enterprise, current.run.year),
            level_label=display.LEVEL_LABELS.get(current.level, ""),
            grade_label=display.GRADE_LABELS.get(current.grade, "") if current.grade else "",
            marks=display.MARKS,
            history_rows=[(r, reason_text(r.reason)) for r in history],
        )
        if current.level:
            token = codes.issue(_claim(current, timezone.localdate()))
            url = request.build_absolute_uri(reverse("efficiency-verify", args=[token]))
            context.update(token=token, verify_url=url, qr_svg=qr.svg(url, title="碳效码"))
    return render(request, "efficiency/card.html", context)


@login_required
def card_qr(request, credit_code: str):
    """The current code as a standalone SVG file (for printing)."""
    enterprise = _card_enterprise(request, credit_code)
    history = queries.history(enterprise)
    if not history or not history[0].level:
        raise Http404
    token = codes.issue(_claim(history[0], timezone.localdate()))
    url = request.build_absolute_uri(reverse("efficiency-verify", args=[token]))
    response = HttpResponse(qr.svg_document(url), SVG_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        True, f"carbon-efficiency-{enterprise.credit_code}-{history[0].period}.svg"
    )
    return response


@login_required
def movers(request):
    membership, year, region, _qs = _scoped(request)
    moves = queries.movers(membership, year) if year else []
    if region:
        moves = [m for m in moves if f"{region}/" in m["result"].enterprise.region.path]
    return render(
        request,
        "efficiency/movers.html",
        {
            "year": year,
            "region": region,
            "moves": moves[:LIST_LIMIT],
            "total": len(moves),
            "years": queries.graded_years(),
            "regions": _regions(membership),
        },
    )


@login_required
def diagnosis(request):
    membership, year, region, qs = _scoped(request)
    rows = queries.diagnosis(qs)
    return render(
        request,
        "efficiency/diagnosis.html",
        {
            "year": year,
            "region": region,
            "rows": rows[:LIST_LIMIT],
            "total": rows.count(),
            "years": queries.graded_years(),
            "regions": _regions(membership),
        },
    )


@login_required
def export(request, fmt: str):
    """``list``: all (default), diagnosis (grades 4–5) or movers; ``year`` and ``region`` as on the pages."""
    membership, year, region, qs = _scoped(request)
    which = request.GET.get("list", "all")
    if which not in ("all", "diagnosis", "movers") or year is None:
        raise Http404
    with translation.override("zh-hans"):
        if which == "movers":
            moves = queries.movers(membership, year)
            if region:
                moves = [m for m in moves if f"{region}/" in m["result"].enterprise.region.path]
            headers, rows, count = exports.MOVER_HEADERS, list(exports.mover_rows(moves)), len(moves)
        else:
            chosen = queries.diagnosis(qs) if which == "diagnosis" else qs
            headers, rows = exports.RESULT_HEADERS, list(exports.result_rows(chosen))
            count = len(rows)
    record(
        EventType.DATA_EXPORTED,
        actor=request.user,
        request=request,
        target=("efficiency_export", f"{which}-{year}", f"carbon-efficiency {which} {year} {region}".strip()),
        after={"list": which, "year": year, "region": region, "format": fmt, "rows": count},
    )
    filename = f"carbon-efficiency-{which}-{year}{'-' + region if region else ''}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(csv_bytes(headers, rows), CSV_TYPE)
    else:
        response = HttpResponse(xlsx_bytes(headers, rows, f"碳效码{year}"), XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def economic_import(request):
    membership = current_membership(request)
    if not queries.can_import(membership):
        raise Http404
    result = None
    if request.method == "POST":
        form = EconomicImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = import_economic(
                upload.read(),
                actor=request.user,
                membership=membership,
                door="upload",
                dry_run=form.cleaned_data["dry_run"],
                file_name=upload.name or "",
                reason=form.cleaned_data["reason"],
            )
            if result.ok:
                request.session.pop(REPORT_SESSION_KEY, None)
            else:
                request.session[REPORT_SESSION_KEY] = {
                    "errors": [e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]],
                }
    else:
        form = EconomicImportForm()
    context = {
        "form": form,
        "result": result,
        "errors_shown": result.errors[:ERRORS_SHOWN] if result else [],
        "columns": ECONOMIC_COLUMNS,
        "recent": queries.economic_records(membership)
        .select_related("enterprise", "batch")
        .order_by("-uploaded_at", "-id")[:20],
    }
    return render(request, "efficiency/economic_import.html", context)


@login_required
def economic_report(request):
    if not queries.can_import(current_membership(request)):
        raise Http404
    report = request.session.get(REPORT_SESSION_KEY)
    if not report:
        raise Http404
    errors = [RowError.from_dict(d) for d in report["errors"]]
    response = HttpResponse(csv_bytes(error_report_headers(), error_report_rows(errors)), CSV_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "economic-import-errors.csv")
    return response


@never_cache
def verify(request, token: str):
    """Public: is this carbon-efficiency code genuine, in date, and still what the platform holds?"""
    verdict = codes.verify(token, today=timezone.localdate())
    context: dict = {"verdict": verdict, "reasons": REASONS}
    claim = verdict.claim
    if claim is not None and verdict.status != codes.NOT_GENUINE:
        enterprise = Enterprise.objects.filter(credit_code=claim.credit_code).first()
        context.update(
            enterprise=enterprise,
            level_label=display.LEVEL_LABELS.get(claim.level, ""),
            grade_label=display.GRADE_LABELS.get(claim.grade, "") if claim.grade else "",
            neutral_label=display.NEUTRAL_LABELS.get(claim.neutral_mark, ""),
        )
        if enterprise is not None:
            latest = queries.history(enterprise)
            now = next((r for r in latest if r.period == claim.period), None)
            context["superseded"] = now is not None and (now.grade != claim.grade or now.level != claim.level)
            context["current_result"] = now
            context["newer"] = latest[0] if latest and latest[0].period > claim.period else None
    response = render(request, "efficiency/verify.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response
