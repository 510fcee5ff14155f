"""Calculation runs and their results.

A run freezes what made its numbers: the hash of its inputs, the factor-set versions, the
engine version. Results are never overwritten; recomputing makes a new run. Exactly one
run per region and year is *official* at a time; a what-if run (policy comparison) only
becomes official through an audited promotion with a stated reason.

Per-row results live in a Parquet file per run (``rows_path``, content-hashed); the
aggregates every page reads are rows of ``Aggregate``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CalculationRun(models.Model):
    class Kind(models.TextChoices):
        OFFICIAL = "official", _("official")
        WHAT_IF = "what_if", _("what-if (policy comparison)")

    class Status(models.TextChoices):
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    factor_sets = models.ManyToManyField(
        "factors.FactorSet", related_name="runs", verbose_name=_("factor sets")
    )
    grid_series = models.CharField(_("grid factor series"), max_length=32)
    engine_version = models.CharField(_("engine version"), max_length=20)
    inputs_sha256 = models.CharField(_("inputs SHA-256"), max_length=64)
    input_rows = models.PositiveIntegerField(_("input rows"), default=0)
    rows_path = models.CharField(_("per-row results file"), max_length=255, blank=True)
    rows_sha256 = models.CharField(_("per-row results SHA-256"), max_length=64, blank=True)
    total_co2_t = models.FloatField(_("total tCO2"), default=0.0)
    total_tce = models.FloatField(_("total tce"), default=0.0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    official = models.BooleanField(_("official"), default=False)
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    promotion_reason = models.TextField(_("reason for promotion"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year"], condition=Q(official=True), name="one_official_run_per_region_year"
            )
        ]
        verbose_name = _("calculation run")
        verbose_name_plural = _("calculation runs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.region.code} {self.year} ({self.get_kind_display()})"


class EmissionFigures(models.Model):
    """The engine's aggregate value columns (``kiln.engine.aggregate.VALUE_COLUMNS``): tCO2 by source
    category and tce by energy type. Shared by ``Aggregate`` and the monitoring digests of it."""

    co2_combustion_t = models.FloatField(default=0.0)
    co2_process_t = models.FloatField(default=0.0)
    co2_electricity_purchased_t = models.FloatField(default=0.0)
    co2_electricity_exported_t = models.FloatField(default=0.0)
    co2_heat_purchased_t = models.FloatField(default=0.0)
    co2_heat_exported_t = models.FloatField(default=0.0)
    co2_recovery_t = models.FloatField(default=0.0)
    co2_biomass_t = models.FloatField(default=0.0)
    co2_total_t = models.FloatField(default=0.0)
    tce_coal = models.FloatField(default=0.0)
    tce_oil = models.FloatField(default=0.0)
    tce_gas = models.FloatField(default=0.0)
    tce_electricity = models.FloatField(default=0.0)
    tce_heat = models.FloatField(default=0.0)
    tce_other = models.FloatField(default=0.0)
    tce_total = models.FloatField(default=0.0)

    class Meta:
        abstract = True


class Aggregate(EmissionFigures):
    """One run's emissions and energy summed along one dimension for one period.

    ``dimension`` is enterprise (key = credit code), industry (key = GB/T 4754 division such
    as C30), county or city (key = GB/T 2260 code); ``period`` is "YYYY" or "YYYY-MM". The
    value columns are the engine's (``kiln.engine.aggregate``): tCO2 by source category and
    tce by energy type. Pages read these rows and never aggregate raw data on request.
    """

    class Dimension(models.TextChoices):
        ENTERPRISE = "enterprise", _("enterprise")
        INDUSTRY = "industry", _("industry")
        COUNTY = "county", _("county/district")
        CITY = "city", _("city")

    run = models.ForeignKey(CalculationRun, on_delete=models.CASCADE, related_name="aggregates")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.CharField(max_length=18)
    period = models.CharField(max_length=7)
    n_enterprises = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            # one period across keys ("every county in March", rankings, yearly totals)
            models.Index(fields=["run", "dimension", "period", "key"], name="aggregate_lookup"),
            # one key across periods ("this enterprise's months", the monitoring enterprise pages)
            models.Index(fields=["run", "dimension", "key", "period"], name="aggregate_by_key"),
        ]
        verbose_name = _("aggregate")
        verbose_name_plural = _("aggregates")

    def __str__(self) -> str:
        return f"run {self.run_id} {self.dimension} {self.key} {self.period}"
