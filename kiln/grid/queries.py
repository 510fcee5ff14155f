"""Scoped reads of metered electricity (DESIGN.md rule 5)."""

from __future__ import annotations

import polars as pl
from django.db.models import QuerySet

from kiln.accounts.roles import PLATFORM_WIDE_ROLES, Perm
from kiln.grid.models import MeterBatch


def visible_batches(membership) -> QuerySet[MeterBatch]:
    """Platform-wide roles see every batch; a grid company's feeders see their organisation's."""
    if membership is None or not membership.active:
        return MeterBatch.objects.none()
    if membership.role in PLATFORM_WIDE_ROLES:
        return MeterBatch.objects.all()
    if membership.has_perm(Perm.FEED_GRID_DATA):
        return MeterBatch.objects.filter(organisation=membership.organisation)
    return MeterBatch.objects.none()


def electricity_comparison(enterprise, first: str, last: str) -> list[dict]:
    """Per month from ``first`` to ``last`` that has either: the grid's metered MWh (and whether the month's
    readings are complete) beside the purchased electricity the enterprise reported (MWh, current rows),
    and the relative difference (reported − metered) / metered. Keys: period, metered_mwh, complete, mwh,
    difference; ``None`` where a side is missing."""
    from kiln.grid.services import monthly_frame
    from kiln.intake.models import ActivityRecord

    metered = monthly_frame(type(enterprise).objects.filter(pk=enterprise.pk), first, last)
    reported = (
        pl.DataFrame(
            list(
                ActivityRecord.objects.filter(
                    enterprise=enterprise,
                    current=True,
                    item="electricity_purchased",
                    period__gte=first,
                    period__lte=last,
                ).values_list("period", "canonical_quantity")
            ),
            schema={"period": pl.String, "mwh": pl.Float64},
            orient="row",
        )
        .group_by("period")
        .agg(pl.col("mwh").sum())
    )
    table = (
        metered.select("period", (pl.col("kwh") / 1000).alias("metered_mwh"), "complete")
        .join(reported, on="period", how="full", coalesce=True)
        .with_columns(((pl.col("mwh") - pl.col("metered_mwh")) / pl.col("metered_mwh")).alias("difference"))
        .sort("period")
    )
    return table.to_dicts()
