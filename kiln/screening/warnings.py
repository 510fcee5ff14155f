"""Red / yellow / blue warning levels for the dashboard: open findings rolled up per enterprise, county and
industry with ``kiln.engine.screening_rollup`` (its docstring states the rule)."""

from __future__ import annotations

import datetime

import polars as pl
from django.utils import timezone
from django.utils.translation import get_language

from kiln.engine.screening_rollup import RollupPolicy, enterprise_levels, group_levels
from kiln.registry.models import Industry, Region
from kiln.registry.queries import visible_enterprises
from kiln.screening.models import OPEN_STATUSES, Finding
from kiln.screening.queries import visible_findings, visible_scores

SCORE_DAYS = 40  # anomaly scores of runs this recent count towards "blue"


def warning_tables(
    membership, *, first: str = "", last: str = "", policy: RollupPolicy | None = None
) -> dict:
    policy = policy or RollupPolicy()
    findings = visible_findings(membership)
    if first:
        findings = findings.filter(period__gte=first)
    if last:
        findings = findings.filter(period__lte=last)
    rows = list(
        findings.filter(status__in=[*OPEN_STATUSES, Finding.Status.ACKNOWLEDGED]).values_list(
            "enterprise__credit_code", "severity", "status"
        )
    )
    frame = pl.DataFrame(
        rows, schema={"credit_code": pl.String, "severity": pl.String, "status": pl.String}, orient="row"
    ).with_columns(
        pl.col("status").is_in([str(s) for s in OPEN_STATUSES]).alias("open"),
        (pl.col("status") == Finding.Status.ACKNOWLEDGED).alias("acknowledged"),
    )
    since = timezone.now() - datetime.timedelta(days=SCORE_DAYS)
    scores = pl.DataFrame(
        list(
            visible_scores(membership)
            .filter(run__created__gte=since)
            .values_list("enterprise__credit_code", "score")
        ),
        schema={"credit_code": pl.String, "score": pl.Float64},
        orient="row",
    )
    ents = list(
        visible_enterprises(membership).values_list(
            "credit_code", "name", "name_en", "region__code", "industry__code"
        )
    )
    mapping = pl.DataFrame(
        ents,
        schema={
            "credit_code": pl.String,
            "name": pl.String,
            "name_en": pl.String,
            "region_code": pl.String,
            "industry_code": pl.String,
        },
        orient="row",
    ).with_columns(pl.col("industry_code").str.slice(0, 3).alias("division"))
    levels = enterprise_levels(
        frame, scores=scores, enterprises=mapping.get_column("credit_code"), policy=policy
    )
    # the most urgent first: red before yellow before blue, then by blocking errors, warnings and score
    levels = levels.join(mapping, on="credit_code", how="inner").sort(
        ["level", "errors", "warnings", "max_score", "credit_code"],
        descending=[False, True, True, True, False],
        nulls_last=True,
    )
    counties = group_levels(levels, mapping, "region_code", policy)
    industries = group_levels(levels, mapping, "division", policy)
    region_names = {
        r.code: r.label for r in Region.objects.filter(code__in=counties.get_column("region_code").to_list())
    }
    industry_names = {
        i.code: i.label for i in Industry.objects.filter(code__in=industries.get_column("division").to_list())
    }
    english = (get_language() or "").startswith("en")
    return {
        "enterprises": [
            dict(r, label=r["name_en"] if english and r["name_en"] else r["name"])
            for r in levels.filter(pl.col("level") != "none").to_dicts()
        ],
        "counties": [
            dict(r, name=region_names.get(r["region_code"], r["region_code"])) for r in counties.to_dicts()
        ],
        "industries": [
            dict(r, name=industry_names.get(r["division"], r["division"])) for r in industries.to_dicts()
        ],
        "totals": {lv: int((levels.get_column("level") == lv).sum()) for lv in ("red", "yellow", "blue")},
        "policy": policy,
    }
