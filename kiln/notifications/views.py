"""One's own notifications: the list (newest first, unread highlighted) and mark-as-read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kiln.notifications import services
from kiln.notifications.models import Notification

PAGE = 50


@login_required
def inbox(request):
    qs = Notification.objects.filter(user=request.user)
    if request.GET.get("unread"):
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_only": bool(request.GET.get("unread"))},
    )


@login_required
@require_POST
def mark_read(request):
    """All unread ones, or those posted as ``id`` (one button per notification)."""
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] if "id" in request.POST else None
    services.mark_read(request.user, ids)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/notifications/") else "notifications:list")
