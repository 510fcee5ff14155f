"""Readiness probe, Prometheus metrics and the platform admin's System page.

``/readyz`` is public (load balancers and orchestrators probe it without credentials) and says only
which check failed, never why in detail. ``/metrics`` answers 404 unless the request carries
``Authorization: Bearer <KILN_METRICS_TOKEN>`` or comes from a network in ``KILN_METRICS_ALLOW``.
``/ops/`` is for memberships with ``operate_platform`` (platform admins); everyone else gets 404.
"""

from __future__ import annotations

import ipaddress
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST

from kiln.accounts.current import membership_with
from kiln.accounts.roles import Perm
from kiln.ops import backups, readiness, services
from kiln.ops.metrics import exposition
from kiln.ops.versions import database_version, versions


@never_cache
@require_GET
def readyz(request):
    with translation.override("en"):  # a probe reads the same words whatever the Accept-Language
        results = readiness.run_checks()
    ready = readiness.is_ready(results)
    body = {"status": "ready" if ready else "not_ready", "checks": {r.name: r.as_dict() for r in results}}
    return JsonResponse(body, status=200 if ready else 503)


def _client_address(request):
    try:
        return ipaddress.ip_address((request.META.get("REMOTE_ADDR") or "").strip())
    except ValueError:
        return None


def metrics_allowed(request) -> bool:
    token = getattr(settings, "KILN_METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and secrets.compare_digest(given[7:].strip().encode(), token.encode()):
            return True
    address = _client_address(request)
    if address is None:
        return False
    for network in getattr(settings, "KILN_METRICS_ALLOW", []):
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


@never_cache
@require_GET
def metrics(request):
    if not metrics_allowed(request):
        raise Http404
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def _operator(request):
    return membership_with(request, Perm.OPERATE_PLATFORM)


def _metrics_protection() -> str:
    if getattr(settings, "KILN_METRICS_TOKEN", "") and getattr(settings, "KILN_METRICS_ALLOW", []):
        return _("bearer token or allow-listed networks")
    if getattr(settings, "KILN_METRICS_TOKEN", ""):
        return _("bearer token")
    if getattr(settings, "KILN_METRICS_ALLOW", []):
        return _("allow-listed networks")
    return _("off (set KILN_METRICS_TOKEN or KILN_METRICS_ALLOW)")


@login_required
@never_cache
def system(request):
    _operator(request)
    results = readiness.run_checks()
    queue = next((r for r in results if r.name == "queue"), None)
    archives = backups.list_backups()
    context = {
        "checks": results,
        "ready": readiness.is_ready(results),
        "versions": versions(),
        "database_version": _safe_database_version(),
        "backups": archives[:20],
        "backup_count": len(archives),
        "last_failure": backups.last_failure(),
        "queue_length": queue.value if queue and queue.status == readiness.OK else None,
        "backup_dir": backups.backup_dir(),
        "backup_keep": getattr(settings, "KILN_BACKUP_KEEP", 7),
        "backup_at": getattr(settings, "KILN_BACKUP_AT", "02:00"),
        "metrics_protection": _metrics_protection(),
    }
    return render(request, "ops/system.html", context)


def _safe_database_version() -> str:
    try:
        return database_version(connection)
    except Exception:
        return connection.vendor


@login_required
@require_POST
def backup(request):
    _operator(request)
    services.request_backup(actor=request.user, request=request)
    messages.success(
        request, _("Backup requested. The background worker writes it; it appears in the list when done.")
    )
    return redirect("ops:system")
