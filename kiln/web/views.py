"""The shell: a role-aware home page and a liveness probe."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from kiln.accounts.current import current_membership
from kiln.accounts.roles import Role
from kiln.registry.queries import visible_enterprises, visible_regions

# Which home-page panel each role sees first.
PORTAL = {
    Role.ENTERPRISE_REPORTER: "enterprise",
    Role.ENTERPRISE_MANAGER: "enterprise",
    Role.GOV_VIEWER: "government",
    Role.GOV_REVIEWER: "government",
    Role.VERIFIER: "third_party",
    Role.CONSULTANT: "third_party",
    Role.GRID_MAINTAINER: "grid",
    Role.TECH_EXPERT: "admin",
    Role.PLATFORM_ADMIN: "admin",
}


def home(request):
    if not request.user.is_authenticated:
        return render(request, "web/landing.html")
    membership = current_membership(request)
    enterprises = visible_enterprises(membership)
    context = {
        "portal": PORTAL.get(membership.role, "none") if membership else "none",
        "enterprise_count": enterprises.count(),
        "key_emitter_count": enterprises.filter(key_emitter=True).count(),
        "region_count": visible_regions(membership).count(),
    }
    return render(request, "web/home.html", context)


def healthz(request):
    """Liveness: the process answers and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
