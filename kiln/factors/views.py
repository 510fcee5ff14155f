"""The factor library: sets with their sources, a diff of two sets, upload of a new version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kiln.accounts.current import membership_with
from kiln.accounts.roles import Perm
from kiln.factors import errors, services
from kiln.factors.forms import FactorSetUploadForm
from kiln.factors.models import FactorSet
from kiln.registry.exports import csv_bytes


@login_required
def set_list(request):
    membership = membership_with(request, Perm.VIEW_REGISTRY)
    sets = FactorSet.objects.select_related("supersedes").order_by("code", "-version")
    return render(
        request,
        "factors/set_list.html",
        {"sets": sets, "can_manage": membership.has_perm(Perm.MANAGE_FACTORS)},
    )


@login_required
def set_detail(request, pk: int):
    membership_with(request, Perm.VIEW_REGISTRY)
    factor_set = get_object_or_404(FactorSet, pk=pk)
    values = factor_set.values.all()
    item = request.GET.get("item", "").strip()
    if item:
        values = values.filter(item__startswith=item)
    others = FactorSet.objects.exclude(pk=pk).order_by("code", "-version")
    return render(
        request,
        "factors/set_detail.html",
        {
            "set": factor_set,
            "values": values,
            "item": item,
            "others": others,
            "runs": factor_set.runs.count(),
        },
    )


@login_required
def set_export(request, pk: int):
    """The set as a CSV in the upload layout: edit it and upload it as the next version."""
    membership_with(request, Perm.VIEW_REGISTRY)
    factor_set = get_object_or_404(FactorSet, pk=pk)
    frame = services.frame_of(factor_set).select(services.VALUE_COLUMNS)
    body = csv_bytes(services.VALUE_COLUMNS, frame.iter_rows())
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{factor_set.code}-v{factor_set.version}.csv"'
    return response


@login_required
def set_diff(request):
    membership_with(request, Perm.VIEW_REGISTRY)
    old = get_object_or_404(FactorSet, pk=request.GET.get("a") or 0)
    new = get_object_or_404(FactorSet, pk=request.GET.get("b") or 0)
    rows = services.diff(old, new).to_dicts()
    return render(request, "factors/set_diff.html", {"old": old, "new": new, "rows": rows})


@login_required
def set_upload(request):
    membership_with(request, Perm.MANAGE_FACTORS)
    form = FactorSetUploadForm(request.POST or None, request.FILES or None)
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            frame = services.read_upload(data["file"].name, data["file"].read())
            factor_set = services.create_set(
                actor=request.user,
                code=data["code"],
                frame=frame,
                name=data["name"],
                name_en=data["name_en"],
                source=data["source"],
                default_grid_series=data["default_grid_series"],
            )
        except errors.FactorError as exc:
            error = exc
        else:
            messages.success(request, _("Factor set %(label)s saved.") % {"label": factor_set.label})
            return redirect("factors:detail", pk=factor_set.pk)
    status = 422 if error else 200
    return render(request, "factors/set_upload.html", {"form": form, "error": error}, status=status)
