"""Calculation runs: list, detail, provenance of every figure, calculate, compare and promote."""

from __future__ import annotations

import polars as pl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiln.accounting import labels, queries, services
from kiln.accounting.forms import CalculateForm, PromoteForm
from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounts.current import current_membership, membership_with
from kiln.accounts.roles import Perm
from kiln.engine.aggregate import CO2_COLUMNS, TCE_COLUMNS
from kiln.factors import services as factor_services
from kiln.registry.models import Enterprise, Industry, Region
from kiln.registry.queries import visible_enterprises, visible_regions

DIMENSIONS = ("county", "industry", "enterprise")


def _run(request, pk: int) -> CalculationRun:
    return get_object_or_404(queries.visible_runs(current_membership(request)), pk=pk)


@login_required
def run_list(request):
    membership = membership_with(request, Perm.VIEW_REGISTRY)
    runs = queries.visible_runs(membership).prefetch_related("factor_sets")
    year = request.GET.get("year", "")
    if year.isdigit():
        runs = runs.filter(year=int(year))
    context = {"runs": runs[:200], "year": year, "can_calculate": membership.has_perm(Perm.CALCULATE)}
    return render(request, "accounting/run_list.html", context)


@login_required
def run_detail(request, pk: int):
    run = _run(request, pk)
    names = _names(run)
    tables = {}
    for dimension in DIMENSIONS:
        rows = queries.yearly(run, dimension).order_by("-co2_total_t")
        if dimension == "enterprise":
            rows = rows[:50]
        tables[dimension] = [(names[dimension].get(a.key, a.key), a) for a in rows]
    city = queries.yearly(run, "city").first()
    categories = [
        (labels.CATEGORY[c.removeprefix("co2_").removesuffix("_t")], getattr(city, c, 0.0) if city else 0.0)
        for c in CO2_COLUMNS
    ]
    energy = [
        (labels.ENERGY[c.removeprefix("tce_")], getattr(city, c, 0.0) if city else 0.0) for c in TCE_COLUMNS
    ]
    return render(
        request,
        "accounting/run_detail.html",
        {
            "run": run,
            "tables": tables,
            "categories": categories,
            "energy": energy,
            "total": city,
            "factor_sets": run.factor_sets.all(),
        },
    )


def _names(run: CalculationRun) -> dict[str, dict[str, str]]:
    keys = {d: list(queries.yearly(run, d).values_list("key", flat=True)) for d in DIMENSIONS}
    return {
        "county": {r.code: r.label for r in Region.objects.filter(code__in=keys["county"])},
        "industry": {i.code: i.label for i in Industry.objects.filter(code__in=keys["industry"])},
        "enterprise": {
            e.credit_code: e.label for e in Enterprise.objects.filter(credit_code__in=keys["enterprise"])
        },
    }


@login_required
def enterprise_provenance(request, pk: int, credit_code: str):
    """Every figure of one enterprise in one run, down to the rows, formulas and factors that made it."""
    membership = current_membership(request)
    enterprise = get_object_or_404(visible_enterprises(membership), credit_code=credit_code)
    run = get_object_or_404(CalculationRun.objects.select_related("region"), pk=pk)
    if not queries.run_covers(run, enterprise):
        raise Http404
    months = queries.monthly(run, Aggregate.Dimension.ENTERPRISE, credit_code)
    year = Aggregate.objects.filter(
        run=run, dimension="enterprise", key=credit_code, period=str(run.year)
    ).first()
    period = request.GET.get("period", "")
    rows = services.rows_of(run).filter(pl.col("credit_code").cast(pl.String) == credit_code)
    if period:
        rows = rows.filter(pl.col("period").cast(pl.String) == period)
    rows = (
        rows.sort("period", "item")
        .collect()
        .with_columns(
            pl.col("formula")
            .cast(pl.String)
            .replace_strict({k: str(v) for k, v in labels.FORMULA.items()}, default=None)
            .alias("formula_text"),
            pl.col("source_category")
            .cast(pl.String)
            .replace_strict({k: str(v) for k, v in labels.CATEGORY.items()}, default=None)
            .alias("category_text"),
            pl.col("tier")
            .cast(pl.String)
            .replace_strict({k: str(v) for k, v in labels.TIER.items()}, default=None)
            .alias("tier_text"),
        )
    )
    factor_set = run.factor_sets.first()
    factors = _factors_used(factor_set, rows, run) if factor_set else []
    return render(
        request,
        "accounting/enterprise_provenance.html",
        {
            "run": run,
            "enterprise": enterprise,
            "months": months,
            "year_total": year,
            "period": period,
            "rows": rows.head(2000).to_dicts(),
            "row_count": rows.height,
            "factor_set": factor_set,
            "factors": factors,
        },
    )


def _factors_used(factor_set, rows: pl.DataFrame, run: CalculationRun) -> list[dict]:
    """The factor-set values in force for the items of these rows (measured values are in the rows)."""
    if rows.is_empty():
        return []
    items = rows.get_column("item").cast(pl.String).unique().to_list()
    frame = factor_services.frame_of(factor_set)
    in_year = (pl.col("year_from").is_null() | (pl.col("year_from") <= run.year)) & (
        pl.col("year_to").is_null() | (pl.col("year_to") >= run.year)
    )
    grid = (pl.col("series") == "") | (pl.col("series") == run.grid_series)
    return (
        frame.filter(pl.col("item").is_in([*items, "*"]) & in_year & grid)
        .sort("item", "parameter")
        .to_dicts()
    )


@login_required
def calculate(request):
    membership = membership_with(request, Perm.CALCULATE)
    form = CalculateForm(request.POST or None, regions=visible_regions(membership))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = services.calculate(
                actor=request.user,
                region=data["region"],
                year=data["year"],
                factor_set=data["factor_set"],
                grid_series=data["grid_series"] or None,
                kind=data["kind"],
            )
        except services.RunError as exc:
            return render(request, "accounting/calculate.html", {"form": form, "error": exc}, status=422)
        messages.success(request, _("Calculation run #%(id)s is done.") % {"id": run.pk})
        return redirect("accounting:run-detail", pk=run.pk)
    return render(request, "accounting/calculate.html", {"form": form})


@login_required
def compare(request):
    """The policy-comparison tool: a run against another (e.g. the official one against a what-if)."""
    visible = queries.visible_runs(membership_with(request, Perm.VIEW_REGISTRY))
    base = get_object_or_404(visible, pk=request.GET.get("base") or 0)
    other = get_object_or_404(visible, pk=request.GET.get("other") or 0)
    dimension = request.GET.get("dimension", "enterprise")
    if dimension not in (*DIMENSIONS, "city"):
        raise Http404
    table = services.compare(base, other, dimension)
    names = _names(other) | _names(base)
    rows = [
        dict(r, name=names.get(dimension, {}).get(r["key"], r["key"])) for r in table.head(500).to_dicts()
    ]
    can_promote = (
        not other.official
        and current_membership(request).has_perm(Perm.CALCULATE)
        and (other.region_id, other.year) == (base.region_id, base.year)
    )
    return render(
        request,
        "accounting/compare.html",
        {
            "base": base,
            "other": other,
            "dimension": dimension,
            "rows": rows,
            "dimensions": (*DIMENSIONS, "city"),
            "total_difference": other.total_co2_t - base.total_co2_t,
            "can_promote": can_promote,
            "promote_form": PromoteForm(),
        },
    )


@login_required
@require_POST
def promote(request, pk: int):
    membership = membership_with(request, Perm.CALCULATE)
    run = get_object_or_404(queries.visible_runs(membership), pk=pk)
    form = PromoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why this recomputation becomes the official result."))
        return redirect("accounting:run-detail", pk=run.pk)
    try:
        services.promote(run, actor=request.user, reason=form.cleaned_data["reason"])
    except services.RunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Run #%(id)s is now the official result.") % {"id": run.pk})
    return redirect("accounting:run-detail", pk=run.pk)
