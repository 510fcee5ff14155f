from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from kiln.accounts.current import current_membership
from kiln.registry.queries import visible_enterprises


@login_required
def enterprise_list(request):
    qs = visible_enterprises(current_membership(request))
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(credit_code__startswith=q.upper())
    page = Paginator(qs.order_by("region__code", "name"), 50).get_page(request.GET.get("page"))
    return render(request, "registry/enterprise_list.html", {"page": page, "q": q})


@login_required
def enterprise_detail(request, credit_code: str):
    enterprise = get_object_or_404(visible_enterprises(current_membership(request)), credit_code=credit_code)
    return render(request, "registry/enterprise_detail.html", {"enterprise": enterprise})
