"""What the monitoring portals keep beside the accounting results.

Nothing here is a source of truth: ``Slice`` and ``IndustryBenchmark`` are digests of one
calculation run's enterprise aggregates (``kiln.accounting.models.Aggregate``), computed once per
run so no page ever sums thousands of rows on request. ``RegionMap`` holds the boundaries an
operator uploaded for the choropleth map.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kiln.accounting.models import EmissionFigures


class RegionMap(models.Model):
    """Boundaries of a region's sub-regions (the counties of a city) as a GeoJSON FeatureCollection.

    ``geojson`` is the validated upload, normalised: each feature's properties are only
    ``code`` (GB/T 2260) and ``name``. Uploads are never overwritten; the newest is ``current``.
    """

    region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    geojson = models.JSONField(_("boundaries (GeoJSON)"))
    feature_count = models.PositiveSmallIntegerField(_("areas"), default=0)
    sha256 = models.CharField(_("SHA-256 of the uploaded file"), max_length=64)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    current = models.BooleanField(_("current"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["region__code", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["region"], condition=Q(current=True), name="one_current_map_per_region")
        ]
        verbose_name = _("region map")
        verbose_name_plural = _("region maps")

    def __str__(self) -> str:
        return f"{self.region.code} ({self.feature_count})"


class RunDigest(models.Model):
    """Marks a run whose slices and benchmarks are stored (written in the same transaction)."""

    run = models.OneToOneField(
        "accounting.CalculationRun", on_delete=models.CASCADE, primary_key=True, related_name="monitoring_digest"
    )
    enterprises = models.PositiveIntegerField(default=0)
    elapsed_ms = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("run digest")
        verbose_name_plural = _("run digests")

    def __str__(self) -> str:
        return f"digest of run {self.run_id}"


class Slice(EmissionFigures):
    """One run's enterprise aggregates summed by (the enterprise's own region, industry division, period).

    ``county`` is the region the enterprise is registered in (usually a county); ``industry`` a
    GB/T 4754 division such as ``C30``; ``period`` is "YYYY" or "YYYY-MM". Any region's industry
    breakdown is the sum of its sub-regions' slices.
    """

    run = models.ForeignKey("accounting.CalculationRun", on_delete=models.CASCADE, related_name="+")
    county = models.CharField(max_length=6)
    industry = models.CharField(max_length=5)
    period = models.CharField(max_length=7)
    n_enterprises = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["run", "period", "county"], name="slice_lookup")]
        verbose_name = _("region-industry slice")
        verbose_name_plural = _("region-industry slices")

    def __str__(self) -> str:
        return f"run {self.run_id} {self.county} {self.industry} {self.period}"


class IndustryBenchmark(models.Model):
    """Distribution of enterprise totals within one industry division of one run, per period.

    Medians and quartiles over the enterprises of the division that reported in the period
    (tCO2 and tce): what an enterprise's trend is compared with.
    """

    run = models.ForeignKey("accounting.CalculationRun", on_delete=models.CASCADE, related_name="+")
    industry = models.CharField(max_length=5)
    period = models.CharField(max_length=7)
    n_enterprises = models.PositiveIntegerField(default=0)
    co2_median_t = models.FloatField(default=0.0)
    co2_p25_t = models.FloatField(default=0.0)
    co2_p75_t = models.FloatField(default=0.0)
    tce_median = models.FloatField(default=0.0)
    tce_p25 = models.FloatField(default=0.0)
    tce_p75 = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "industry", "period"], name="one_benchmark_per_run_industry_period")
        ]
        verbose_name = _("industry benchmark")
        verbose_name_plural = _("industry benchmarks")

    def __str__(self) -> str:
        return f"run {self.run_id} {self.industry} {self.period}"
