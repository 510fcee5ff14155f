"""What an emission report says: every section of GB/T 32150's report structure as plain data.

``build(enterprise, year, month=None, run=None)`` reads the **official calculation run** (or the
run given) and nothing else for figures: the totals and the breakdown by source category are the
run's ``Aggregate`` row for the enterprise and period, the source, activity and monthly tables are
sums of the run's per-row results. So every figure in a report is the engine's official result
(``tests/reports`` checks it figure by figure). Registry, evidence and measured-parameter rows
come from their apps.

The result is a dict usable by Django templates (PDF) and docxtpl (DOCX) alike; numbers stay
numbers (templates format them with the ``num`` filter). Sections, in GB/T 32150 order
(domain.md §1.1):

1. ``enterprise`` — reporting entity; 2. ``boundary`` — boundary, facilities, scope and gases;
3. ``sources`` — emission sources; 4. ``activity`` — activity data (and ``measured`` parameters);
5. ``factors`` — factors with their sources and confidence; 6. ``by_category``, ``by_gas``,
``monthly`` — emissions by source and by gas; 7. ``quality`` — data-quality management;
8. ``evidence`` — evidence list; 9. ``declaration``.
"""

from __future__ import annotations

import datetime
import hashlib
import re

import polars as pl
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kiln.accounting import labels
from kiln.accounting.models import Aggregate, CalculationRun
from kiln.accounting.queries import official_run, run_covers
from kiln.accounting.services import rows_of
from kiln.engine import items as catalogue
from kiln.factors import services as factor_services
from kiln.factors.models import Confidence
from kiln.intake import deadlines
from kiln.intake.models import ActivityRecord, EnterpriseMonth, EvidenceFile
from kiln.registry.models import Enterprise, Region
from kiln.reports import chart
from kiln.reports.errors import BAD_PERIOD, NO_OFFICIAL_RUN, NOT_IN_RUN, ReportError

# Source categories in the order of GB/T 32150's total-emission equation (domain.md §1.2).
CATEGORIES = [
    "combustion",
    "process",
    "electricity_purchased",
    "electricity_exported",
    "heat_purchased",
    "heat_exported",
    "recovery",
]
ENERGY_TYPES = ["coal", "oil", "gas", "electricity", "heat", "other"]
# Gases GB/T 32150 covers; the engine accounts CO2 and (aluminium) PFCs, the rest is not estimated.
GASES = ["CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3"]
PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")


def parse_period(text: str, today: datetime.date | None = None) -> tuple[int, str | None]:
    """``"2024"`` → (2024, None); ``"2024-03"`` → (2024, "2024-03"). The period must have ended."""
    match = PERIOD.match((text or "").strip())
    if not match:
        raise ReportError(BAD_PERIOD)
    year, month = int(match.group(1)), match.group(2)
    today = today or timezone.localdate()
    if month:
        period = f"{year}-{month}"
        if deadlines.month_end(period) >= today:
            raise ReportError(BAD_PERIOD)
        return year, period
    if year >= today.year:
        raise ReportError(BAD_PERIOD)
    return year, None


def periods_of(year: int, month: str | None) -> list[str]:
    return [month] if month else [f"{year}-{m:02d}" for m in range(1, 13)]


def _english() -> bool:
    return (get_language() or "").startswith("en")


def item_label(code: str) -> str:
    base, _dot, param = code.partition(".")
    item = catalogue.ITEMS.get(base)
    if item is None:
        return code
    name = item.name_en if _english() else item.name_zh
    if param:
        zh, en = catalogue.PARAMETERS.get(param, (param, param))
        return f"{name} · {en if _english() else zh}"
    return name


def parameter_label(code: str) -> str:
    """A measured or factor-set parameter's name (``ncv`` → 低位发热量); the code itself when unnamed."""
    names = catalogue.PARAMETERS.get(code)
    if names is None:
        return code
    return names[1] if _english() else names[0]


def region_names(region: Region) -> str:
    codes = [c for c in region.path.strip("/").split("/") if c]
    names = {r.code: r.label for r in Region.objects.filter(code__in=codes, level__gt=0)}
    return " ".join(names[c] for c in codes if c in names)


def _rows(run: CalculationRun, credit_code: str, periods: list[str]) -> pl.DataFrame:
    frame = (
        rows_of(run)
        .filter(pl.col("credit_code").cast(pl.String) == credit_code)
        .filter(pl.col("period").cast(pl.String).is_in(periods))
        .collect()
    )
    frame = frame.with_columns(
        pl.col(c).cast(pl.String)
        for c, dtype in frame.schema.items()
        if isinstance(dtype, pl.Categorical | pl.Enum)
    )
    for column in ("facility", "source"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit("").alias(column))
    return frame.with_columns(pl.col("facility", "source").fill_null(""))


def _sources(rows: pl.DataFrame) -> list[dict]:
    """Emission sources: one line per source category × item × facility × formula."""
    if rows.is_empty():
        return []
    emitting = rows.filter(pl.col("formula") != "none")
    grouped = (
        emitting.group_by("source_category", "item", "facility", "formula")
        .agg(
            pl.col("quantity_canonical").sum().alias("quantity"),
            pl.col("unit_canonical").first().alias("unit"),
            pl.col("co2_t").sum().alias("co2_t"),
            (pl.col("tier") == "measured").sum().alias("measured_months"),
            pl.col("period").n_unique().alias("months"),
        )
        .with_columns(
            pl.col("source_category")
            .replace_strict(
                {c: i for i, c in enumerate([*CATEGORIES, "biomass"])}, default=99, return_dtype=pl.Int32
            )
            .alias("_order")
        )
        .sort("_order", "item", "facility", "formula")
    )
    out = []
    for row in grouped.iter_rows(named=True):
        quantity = row["quantity"]
        out.append(
            {
                "category": row["source_category"],
                "category_label": str(labels.CATEGORY.get(row["source_category"], row["source_category"])),
                "item": row["item"],
                "item_label": item_label(row["item"]) + (" (PFCs)" if row["formula"] == "al_pfc" else ""),
                "facility": row["facility"],
                "formula": row["formula"],
                "formula_text": str(labels.FORMULA.get(row["formula"], row["formula"])),
                "tier_text": _tier_text(row["measured_months"], row["months"]),
                "quantity": quantity,
                "unit": row["unit"],
                "co2_t": row["co2_t"],
                # The factor the engine applied, averaged over the months (tCO2 per canonical unit).
                "effective_factor": (row["co2_t"] / quantity) if quantity else None,
            }
        )
    return out


def _tier_text(measured: int, months: int) -> str:
    if measured == 0:
        return str(labels.TIER["default"])
    if measured == months:
        return str(labels.TIER["measured"])
    return _("measured in %(measured)d of %(months)d months") % {"measured": measured, "months": months}


def _activity(rows: pl.DataFrame) -> list[dict]:
    """Activity data: every reported quantity row summed per item and facility (canonical unit)."""
    if rows.is_empty():
        return []
    quantities = rows.filter(pl.col("formula") != "al_pfc")  # the PFC row repeats the aluminium output row
    grouped = (
        quantities.group_by("item", "facility")
        .agg(
            pl.col("quantity_canonical").sum().alias("quantity"),
            pl.col("unit_canonical").first().alias("unit"),
            pl.col("unit").unique().sort().alias("reported_units"),
            pl.col("source").unique().sort().alias("data_sources"),
            pl.col("period").n_unique().alias("months"),
            pl.col("energy_tce").sum().alias("tce"),
        )
        .sort("item", "facility")
    )
    return [
        {
            "item": r["item"],
            "item_label": item_label(r["item"]),
            "facility": r["facility"],
            "quantity": r["quantity"],
            "unit": r["unit"],
            "reported_units": ", ".join(u for u in r["reported_units"] if u),
            "data_sources": ", ".join(s for s in r["data_sources"] if s) or "—",
            "months": r["months"],
            "tce": r["tce"],
        }
        for r in grouped.iter_rows(named=True)
    ]


def _measured(enterprise: Enterprise, periods: list[str]) -> list[dict]:
    """Measured parameters reported monthly (``raw_coal.ncv`` …): months, range and mean."""
    records = list(
        ActivityRecord.objects.filter(
            enterprise=enterprise, current=True, period__in=periods, item__contains="."
        ).values_list("item", "facility", "period", "canonical_quantity")
    )
    if not records:
        return []
    frame = pl.DataFrame(records, schema=["item", "facility", "period", "value"], orient="row")
    grouped = (
        frame.group_by("item", "facility")
        .agg(
            pl.len().alias("months"),
            pl.col("value").min().alias("low"),
            pl.col("value").max().alias("high"),
            pl.col("value").mean().alias("mean"),
        )
        .sort("item", "facility")
    )
    return [
        {**r, "item_label": item_label(r["item"]), "unit": catalogue.canonical_unit(r["item"]) or ""}
        for r in grouped.iter_rows(named=True)
    ]


def _factors(run: CalculationRun, rows: pl.DataFrame) -> tuple[list[dict], dict]:
    factor_set = run.factor_sets.first()
    if factor_set is None or rows.is_empty():
        return [], {}
    used = rows.get_column("item").unique().to_list()
    bases = {catalogue.ITEMS[i].parameter_item for i in used if i in catalogue.ITEMS}
    frame = factor_services.frame_of(factor_set)
    in_year = (pl.col("year_from").is_null() | (pl.col("year_from") <= run.year)) & (
        pl.col("year_to").is_null() | (pl.col("year_to") >= run.year)
    )
    grid = (pl.col("series") == "") | (pl.col("series") == run.grid_series)
    chosen = frame.filter(pl.col("item").is_in([*used, *bases, "*"]) & in_year & grid).sort(
        "item", "parameter"
    )
    confidence = dict(Confidence.choices)
    out = [
        {
            "item": r["item"],
            "item_label": _("all items") if r["item"] == "*" else item_label(r["item"]),
            "parameter": r["parameter"],
            "parameter_label": parameter_label(r["parameter"]),
            "series": r["series"],
            "value": r["value"],
            "unit": r["unit"],
            "source": r["source"],
            "confidence": r["confidence"],
            "confidence_label": str(confidence.get(r["confidence"], r["confidence"])),
        }
        for r in chosen.iter_rows(named=True)
    ]
    counts: dict[str, int] = {}
    for f in out:
        counts[f["confidence"]] = counts.get(f["confidence"], 0) + 1
    return out, counts


def _evidence(enterprise: Enterprise, periods: list[str]) -> list[dict]:
    files = EvidenceFile.objects.filter(enterprise=enterprise, period__in=periods).order_by(
        "period", "uploaded_at", "pk"
    )
    return [
        {
            "id": f.pk,
            "period": f.period,
            "kind": f.get_kind_display(),
            "name": f.original_name,
            "sha256": f.sha256,
            "size": f.size,
            "ledger_index": f.ledger_index,
            "cma_cnas": f.cma_cnas,
            "uploaded_at": timezone.localtime(f.uploaded_at).strftime("%Y-%m-%d %H:%M"),
        }
        for f in files
    ]


def _deposits(enterprise: Enterprise, periods: list[str]) -> list[dict]:
    months = {m.period: m for m in EnterpriseMonth.objects.filter(enterprise=enterprise, period__in=periods)}
    labels_ = dict(deadlines.DepositStatus.choices)
    out = []
    for period in periods:
        month = months.get(period)
        status = deadlines.status(period, month.first_deposit_at if month else None)
        out.append(
            {
                "period": period,
                "deadline": deadlines.deadline(period).isoformat(),
                "status": status,
                "status_label": str(labels_.get(status, status)),
                "files": month.evidence_count if month else 0,
                "frozen": bool(month and month.frozen),
            }
        )
    return out


def _aggregate_values(agg: Aggregate) -> dict:
    return {c: getattr(agg, f"co2_{c}_t") for c in [*CATEGORIES, "biomass"]}


def _review_extras(enterprise: Enterprise, year: int, month: str | None) -> dict:
    """Self-check results, acknowledged warnings and review state."""
    from kiln.review import queries as review_queries

    return review_queries.report_quality(enterprise, year, month)


def build(
    enterprise: Enterprise,
    year: int,
    month: str | None = None,
    *,
    run: CalculationRun | None = None,
    with_chart: bool = True,
) -> dict:
    """The report of ``enterprise`` for ``year`` (or for ``month``, "YYYY-MM", of that year)."""
    run = run or official_run(enterprise.region, year)
    if run is None or not run_covers(run, enterprise):
        raise ReportError(NO_OFFICIAL_RUN)
    period = month or str(year)
    code = enterprise.credit_code or ""
    agg = Aggregate.objects.filter(
        run=run, dimension=Aggregate.Dimension.ENTERPRISE, key=code, period=period
    ).first()
    if agg is None:
        raise ReportError(NOT_IN_RUN)
    periods = periods_of(year, month)
    rows = _rows(run, code, periods)
    category_labels = {c: str(labels.CATEGORY[c]) for c in [*CATEGORIES, "biomass"]}
    values = _aggregate_values(agg)
    by_category = [{"category": c, "label": category_labels[c], "co2_t": values[c]} for c in CATEGORIES]
    pfc_t = (
        float(rows.filter(pl.col("formula") == "al_pfc").get_column("co2_t").sum()) if rows.height else 0.0
    )
    by_gas = _by_gas(agg.co2_total_t, pfc_t)
    monthly, series = _monthly(run, code, year, month)
    factors, confidence_counts = _factors(run, rows)
    sources = _sources(rows)
    activity = _activity(rows)
    deposits = _deposits(enterprise, periods)
    reported = sorted(set(rows.get_column("period").to_list())) if rows.height else []
    measured_t = (
        float(rows.filter((pl.col("tier") == "measured") & (pl.col("co2_t") > 0)).get_column("co2_t").sum())
        if rows.height
        else 0.0
    )
    positive_t = float(rows.filter(pl.col("co2_t") > 0).get_column("co2_t").sum()) if rows.height else 0.0
    evidence = _evidence(enterprise, periods)
    factor_set = run.factor_sets.first()
    report = {
        "kind": "monthly" if month else "annual",
        "period": period,
        "year": year,
        "month": month,
        "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "language": get_language() or "zh-hans",
        "enterprise": {
            "name": enterprise.name,
            "name_en": enterprise.name_en,
            "credit_code": code,
            "region": region_names(enterprise.region),
            "region_code": enterprise.region.code,
            "industry_code": enterprise.industry.code,
            "industry": enterprise.industry.label,
            "ets_sector": enterprise.industry.get_ets_sector_display()
            if enterprise.industry.ets_sector
            else "",
            "size": enterprise.get_size_display(),
            "key_emitter": enterprise.key_emitter,
            "address": enterprise.address,
            "contact": enterprise.contact,
            "phone": enterprise.phone,
            "founded": enterprise.founded.isoformat() if enterprise.founded else "",
        },
        "facilities": [
            {"code": f.code, "name": f.label, "kind": f.kind, "capacity": f.capacity}
            for f in enterprise.facilities.all().order_by("code")
        ],
        "boundary": {
            "categories": [category_labels[c] for c in CATEGORIES],
            "gases": GASES,
            "reported_facilities": sorted({r["facility"] for r in activity if r["facility"]}),
        },
        "sources": sources,
        "activity": activity,
        "measured": _measured(enterprise, periods),
        "factors": factors,
        "factor_set": factor_set.label if factor_set else "",
        "factor_set_name": factor_set.name if factor_set else "",
        "grid_series": run.grid_series,
        "by_category": by_category,
        "by_gas": by_gas,
        "total_co2_t": agg.co2_total_t,
        "biomass_co2_t": agg.co2_biomass_t,
        "energy": [
            {"type": e, "label": str(labels.ENERGY[e]), "tce": getattr(agg, f"tce_{e}")} for e in ENERGY_TYPES
        ],
        "total_tce": agg.tce_total,
        "monthly": monthly,
        "quality": {
            "months_expected": len(periods),
            "months_reported": len(reported),
            "missing_months": [p for p in periods if p not in reported],
            "months_with_evidence": sum(1 for d in deposits if d["files"]),
            "deposits": deposits,
            "measured_share": (measured_t / positive_t) if positive_t else 0.0,
            "confidence_counts": [
                {"confidence": k, "label": str(dict(Confidence.choices).get(k, k)), "count": v}
                for k, v in sorted(confidence_counts.items())
            ],
            "corrected_rows": ActivityRecord.objects.filter(
                enterprise=enterprise, period__in=periods, current=True, version__gt=1
            ).count(),
            **_review_extras(enterprise, year, month),
        },
        "evidence": evidence,
        "run": {
            "id": run.pk,
            "region": run.region.label,
            "year": run.year,
            "engine_version": run.engine_version,
            "inputs_sha256": run.inputs_sha256,
            "rows_sha256": run.rows_sha256,
            "created": timezone.localtime(run.created).strftime("%Y-%m-%d %H:%M"),
        },
        "figures_sha256": "",
    }
    report["figures_sha256"] = figures_sha256(report)
    if with_chart:
        report["chart"] = _chart(month, monthly, series, values, category_labels)
    return report


def _by_gas(total_t: float, pfc_t: float) -> list[dict]:
    out = []
    for gas in GASES:
        if gas == "CO2":
            out.append({"gas": gas, "co2e_t": total_t - pfc_t, "estimated": True})
        elif gas == "PFCs":
            out.append({"gas": gas, "co2e_t": pfc_t, "estimated": pfc_t != 0})
        else:
            out.append({"gas": gas, "co2e_t": None, "estimated": False})
    return out


def _monthly(
    run: CalculationRun, code: str, year: int, month: str | None
) -> tuple[list[dict], dict[str, list[float]]]:
    aggregates = {
        a.period: a
        for a in Aggregate.objects.filter(
            run=run, dimension=Aggregate.Dimension.ENTERPRISE, key=code, period__startswith=f"{year}-"
        )
    }
    periods = periods_of(year, month)
    monthly = []
    series: dict[str, list[float]] = {c: [] for c in CATEGORIES}
    for period in periods:
        agg = aggregates.get(period)
        for c in CATEGORIES:
            series[c].append(getattr(agg, f"co2_{c}_t") if agg else 0.0)
        monthly.append(
            {
                "period": period,
                "co2_t": agg.co2_total_t if agg else None,
                "tce": agg.tce_total if agg else None,
            }
        )
    return monthly, series


def _chart(month, monthly, series, values, category_labels) -> dict:
    unit = "tCO2"
    if month:
        scene = chart.category_chart({c: values[c] for c in CATEGORIES}, category_labels, unit=unit)
        title = _("Emissions by source category")
    else:
        scene = chart.monthly_chart([m["period"] for m in monthly], series, category_labels, unit=unit)
        title = _("Monthly emissions by source category")
    return {"title": title, "scene": scene, "svg": scene.svg(title)}


def figures_sha256(report: dict) -> str:
    """A fingerprint of the report's figures (totals, categories, sources, activity, monthly values)."""
    parts = [report["period"], report["enterprise"]["credit_code"], f"{report['total_co2_t']:.6f}"]
    parts += [f"{c['category']}={c['co2_t']:.6f}" for c in report["by_category"]]
    parts += [
        f"{s['item']}|{s['facility']}|{s['formula']}|{s['quantity']:.6f}|{s['co2_t']:.6f}"
        for s in report["sources"]
    ]
    parts += [f"{a['item']}|{a['facility']}|{a['quantity']:.6f}" for a in report["activity"]]
    parts += [f"{m['period']}={(m['co2_t'] or 0):.6f}" for m in report["monthly"]]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def enterprise_rows_sha256(run: CalculationRun, credit_code: str, periods: list[str]) -> str:
    """SHA-256 of one enterprise's per-row results in a run (sorted), the 'rows hash' of a submission."""
    rows = _rows(run, credit_code, periods)
    if rows.is_empty():
        return hashlib.sha256(b"").hexdigest()
    tidy = rows.select(
        "period", "item", "facility", "formula", "quantity", "unit", "quantity_canonical", "co2_t"
    ).sort("period", "item", "facility", "formula")
    return hashlib.sha256(tidy.write_csv().encode()).hexdigest()
