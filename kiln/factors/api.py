"""Factor library API: sets, their values with sources, and the diff of two sets."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from kiln.accounts.current import membership_with
from kiln.accounts.roles import Perm
from kiln.factors import services
from kiln.factors.models import FactorSet

router = Router(tags=["factors"])


class FactorSetOut(Schema):
    id: int
    code: str
    version: int
    label: str
    name: str
    default_grid_series: str
    locked: bool
    content_sha256: str
    supersedes: int | None


class FactorValueOut(Schema):
    item: str
    parameter: str
    series: str
    year_from: int | None
    year_to: int | None
    value: float
    unit: str
    source: str
    confidence: str
    note: str


class FactorSetDetail(FactorSetOut):
    values: list[FactorValueOut]


def _set(s: FactorSet) -> dict:
    return {
        "id": s.pk,
        "code": s.code,
        "version": s.version,
        "label": s.label,
        "name": s.name,
        "default_grid_series": s.default_grid_series,
        "locked": s.locked,
        "content_sha256": s.content_sha256,
        "supersedes": s.supersedes_id,
    }


@router.get("/sets", response=list[FactorSetOut])
def list_sets(request):
    membership_with(request, Perm.VIEW_REGISTRY)
    return [_set(s) for s in FactorSet.objects.order_by("code", "-version")]


@router.get("/sets/{set_id}", response=FactorSetDetail)
def get_set(request, set_id: int):
    membership_with(request, Perm.VIEW_REGISTRY)
    factor_set = get_object_or_404(FactorSet, pk=set_id)
    return {**_set(factor_set), "values": list(factor_set.values.values(*services.VALUE_COLUMNS))}


@router.get("/diff", response=list[dict])
def diff(request, a: int, b: int):
    membership_with(request, Perm.VIEW_REGISTRY)
    old, new = get_object_or_404(FactorSet, pk=a), get_object_or_404(FactorSet, pk=b)
    return services.diff(old, new).to_dicts()
