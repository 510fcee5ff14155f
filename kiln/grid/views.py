"""Metered electricity pages: upload (grid company), batch reports, an enterprise's meter against its reports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kiln.accounts.current import current_membership
from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.engine.screening import context_start
from kiln.grid import queries, services
from kiln.grid.forms import PeriodRangeForm, UploadForm
from kiln.grid.models import MeterBatch
from kiln.registry.queries import visible_enterprises


@login_required
def index(request):
    membership = current_membership(request)
    can_feed = membership is not None and membership.has_perm(Perm.FEED_GRID_DATA)
    if membership is None or not (can_feed or membership.role in PLATFORM_WIDE_ROLES):
        raise Http404
    batches = queries.visible_batches(membership)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_feed:
            raise Http404
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = services.import_readings(
                upload,
                actor=request.user,
                membership=membership,
                door=MeterBatch.Door.UPLOAD,
                dry_run=form.cleaned_data["dry_run"],
                file_name=upload.name,
            )
            if result.ok:
                messages.success(
                    request,
                    _("%(rows)s readings checked.") % {"rows": result.rows}
                    if result.dry_run
                    else _("%(rows)s readings imported (%(replaced)s replaced).")
                    % {"rows": result.rows, "replaced": result.replaced},
                )
            else:
                messages.error(request, _("The file was rejected: nothing was stored."))
            return redirect("grid:batch-detail", pk=result.batch_id)
    return render(request, "grid/index.html", {"form": form, "batches": batches[:100], "can_feed": can_feed})


@login_required
def batch_detail(request, pk: int):
    batch = get_object_or_404(queries.visible_batches(current_membership(request)), pk=pk)
    return render(
        request, "grid/batch_detail.html", {"batch": batch, "errors": services.rendered(batch.report)}
    )


@login_required
def enterprise(request, credit_code: str):
    """Monthly metered electricity beside the purchased electricity the enterprise reported."""
    membership = current_membership(request)
    ent = get_object_or_404(visible_enterprises(membership), credit_code=credit_code)
    form = PeriodRangeForm(request.GET or None)
    today = timezone.localdate()
    last = f"{today.year:04d}-{today.month:02d}"
    first = context_start(last, 24)
    if form.is_valid():
        first = form.cleaned_data["first"] or first
        last = form.cleaned_data["last"] or last
    return render(
        request,
        "grid/enterprise.html",
        {
            "enterprise": ent,
            "rows": queries.electricity_comparison(ent, first, last),
            "form": form,
            "first": first,
            "last": last,
        },
    )
