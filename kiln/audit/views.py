"""Audit log pages: search, event detail, CSV/XLSX export (itself audited), analysis with alerts.

Only memberships with ``view_audit`` get here (others: 404); each sees ``visible_events``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import ExtractHour
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiln.accounts.current import current_membership
from kiln.accounts.rules import allowed
from kiln.audit import alerts
from kiln.audit.events import EventType, Group
from kiln.audit.models import AuditEvent
from kiln.audit.queries import can_view_audit, visible_events
from kiln.audit.services import record
from kiln.registry.exports import neutralise

FILTER_KEYS = ("actor", "type", "date_from", "date_to", "target")
EXPORT_COLUMNS = [
    ("id", _("ID")),
    ("time", _("Time")),
    ("event_type", _("Code")),
    ("event", _("Event")),
    ("actor_label", _("Actor")),
    ("organisation_label", _("Organisation")),
    ("region_code", _("Region")),
    ("target_type", _("Target type")),
    ("target_id", _("Target ID")),
    ("target_label", _("Target")),
    ("ip", _("IP address")),
    ("user_agent", _("User agent")),
    ("before", _("Before")),
    ("after", _("After")),
    ("hash", _("Hash")),
]


def _auditor(request):
    membership = current_membership(request)
    if not can_view_audit(membership):
        raise Http404
    return membership


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _filters(request) -> dict[str, str]:
    return {
        key: request.GET.get(key, "").strip()[:200] for key in FILTER_KEYS if request.GET.get(key, "").strip()
    }


def filter_events(qs, filters: dict[str, str]):
    tz = timezone.get_current_timezone()
    if actor := filters.get("actor"):
        qs = qs.filter(actor_label__icontains=actor)
    if kind := filters.get("type"):
        if kind.isdigit() and int(kind) % 100 == 0:
            qs = qs.filter(event_type__gte=int(kind), event_type__lt=int(kind) + 100)
        elif kind.isdigit():
            qs = qs.filter(event_type=int(kind))
    if (start := _parse_date(filters.get("date_from", ""))) is not None:
        qs = qs.filter(time__gte=datetime.combine(start, time.min, tzinfo=tz))
    if (end := _parse_date(filters.get("date_to", ""))) is not None:
        qs = qs.filter(time__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))
    if target := filters.get("target"):
        qs = qs.filter(Q(target_label__icontains=target) | Q(target_id=target) | Q(target_type=target))
    return qs


def _type_choices():
    choices = []
    for group_value, group_label in Group.choices:
        choices.append((str(group_value), f"{group_value}s · {group_label}"))
        choices += [
            (str(v), f"{v} · {label}")
            for v, label in EventType.choices
            if group_value <= v < group_value + 100
        ]
    return choices


@login_required
def search(request):
    membership = _auditor(request)
    filters = _filters(request)
    qs = filter_events(visible_events(membership), filters)
    with transaction.atomic():
        record(EventType.AUDIT_VIEWED, actor=request.user, after={"filters": filters}, request=request)
    page = Paginator(qs.order_by("-id"), 50).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    context = {"page": page, "filters": filters, "type_choices": _type_choices(), "query": query}
    return render(request, "audit/search.html", context)


@login_required
def event_detail(request, pk: int):
    membership = _auditor(request)
    event = get_object_or_404(AuditEvent, pk=pk)
    if not allowed(membership, "audit.view_event", event):
        raise Http404
    return render(request, "audit/event_detail.html", {"event": event})


def _rows(events):
    import json

    for e in events.iterator(chunk_size=2000):
        yield [
            e.pk,
            timezone.localtime(e.time).isoformat(),
            e.event_type,
            str(e.get_event_type_display()),
            e.actor_label,
            e.organisation_label,
            e.region_code,
            e.target_type,
            e.target_id,
            e.target_label,
            e.ip or "",
            e.user_agent,
            json.dumps(e.before, ensure_ascii=False) if e.before is not None else "",
            json.dumps(e.after, ensure_ascii=False) if e.after is not None else "",
            e.hash,
        ]


@login_required
@reauthentication_required
def export(request):
    membership = _auditor(request)
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    filters = _filters(request)
    qs = filter_events(visible_events(membership), filters).order_by("id")[
        : settings.KILN_AUDIT_EXPORT_MAX_ROWS
    ]
    count = qs.count()
    with transaction.atomic():
        record(
            EventType.AUDIT_EXPORTED,
            actor=request.user,
            after={"format": fmt, "rows": count, "filters": filters},
            request=request,
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    header = [str(label) for _key, label in EXPORT_COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in _rows(qs):
            writer.writerow([neutralise(v) for v in row])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        import xlsxwriter

        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(
            buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        sheet = book.add_worksheet("audit")
        sheet.write_row(0, 0, header)
        for i, row in enumerate(_rows(qs), start=1):
            sheet.write_row(i, 0, [v if isinstance(v, int) else str(v) for v in row])
        book.close()
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="kiln-audit-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def analysis(request):
    membership = _auditor(request)
    try:
        days = min(max(int(request.GET.get("days", "7")), 1), 366)
    except ValueError:
        days = 7
    since = timezone.now() - timedelta(days=days)
    events = visible_events(membership)
    recent = events.filter(time__gte=since)
    tz = timezone.get_current_timezone()

    per_hour = dict(
        recent.filter(event_type=EventType.LOGIN)
        .annotate(hour=ExtractHour("time", tzinfo=tz))
        .values("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    )
    busiest = max(per_hour.values(), default=0)
    logins_by_hour = [{"hour": h, "count": per_hour.get(h, 0)} for h in range(24)]

    failed = recent.filter(event_type=EventType.LOGIN_FAILED)
    failed_by_account = (
        failed.values("target_label").annotate(n=Count("id")).order_by("-n", "target_label")[:20]
    )
    failed_by_ip = (
        failed.exclude(ip__isnull=True).values("ip").annotate(n=Count("id")).order_by("-n", "ip")[:20]
    )
    exports_by_user = (
        recent.filter(event_type__gte=400, event_type__lt=500)
        .values("actor_label")
        .annotate(n=Count("id"))
        .order_by("-n", "actor_label")[:20]
    )
    context = {
        "days": days,
        "logins_by_hour": logins_by_hour,
        "busiest": busiest,
        "failed_total": failed.count(),
        "failed_by_account": failed_by_account,
        "failed_by_ip": failed_by_ip,
        "exports_by_user": exports_by_user,
        "new_ips": new_ips(events, since),
        "alerts": alerts.detect(events),
    }
    return render(request, "audit/analysis.html", context)


def new_ips(events, since) -> list[dict]:
    """Logins from an address the user had never logged in from before ``since`` (users seen before only)."""
    logins = events.filter(event_type=EventType.LOGIN, actor__isnull=False).exclude(ip__isnull=True)
    first_by_pair = (
        logins.values("actor_id", "actor_label", "ip").annotate(first=Min("time")).filter(first__gte=since)
    )
    veterans = set(
        logins.values("actor_id")
        .annotate(first=Min("time"))
        .filter(first__lt=since)
        .values_list("actor_id", flat=True)
    )
    rows = [row for row in first_by_pair if row["actor_id"] in veterans]
    return sorted(rows, key=lambda r: r["first"], reverse=True)[:50]
