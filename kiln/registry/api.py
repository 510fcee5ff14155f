"""Registry API: the enterprises, regions and industries a caller may see."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from kiln.accounts.current import current_membership
from kiln.registry.models import Industry
from kiln.registry.queries import visible_enterprises, visible_regions

router = Router(tags=["registry"])


class RegionOut(Schema):
    code: str
    name: str
    name_en: str
    level: int
    parent_code: str | None


class IndustryOut(Schema):
    code: str
    name: str
    name_en: str
    level: int
    ets_sector: str


class EnterpriseOut(Schema):
    credit_code: str
    name: str
    name_en: str
    region_code: str
    industry_code: str
    size: str
    key_emitter: bool


def _enterprise(e) -> dict:
    return {
        "credit_code": e.credit_code,
        "name": e.name,
        "name_en": e.name_en,
        "region_code": e.region.code,
        "industry_code": e.industry.code,
        "size": e.size,
        "key_emitter": e.key_emitter,
    }


@router.get("/regions", response=list[RegionOut])
@paginate
def list_regions(request):
    qs = visible_regions(current_membership(request)).select_related("parent")
    return [
        {"code": r.code, "name": r.name, "name_en": r.name_en, "level": r.level,
         "parent_code": r.parent.code if r.parent else None}
        for r in qs
    ]


@router.get("/industries", response=list[IndustryOut])
@paginate
def list_industries(request):
    return Industry.objects.all()


@router.get("/enterprises", response=list[EnterpriseOut])
@paginate
def list_enterprises(request, region: str | None = None, industry: str | None = None):
    qs = visible_enterprises(current_membership(request))
    if region:
        qs = qs.filter(region__path__contains=f"{region}/")
    if industry:
        qs = qs.filter(industry__code__startswith=industry)
    return [_enterprise(e) for e in qs.order_by("credit_code")]


@router.get("/enterprises/{credit_code}", response=EnterpriseOut)
def get_enterprise(request, credit_code: str):
    e = get_object_or_404(visible_enterprises(current_membership(request)), credit_code=credit_code)
    return _enterprise(e)
