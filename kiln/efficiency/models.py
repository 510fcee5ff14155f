"""Economic data, the grading configuration and the graded results of the carbon-efficiency code (碳效码).

History is never overwritten (DESIGN.md rule 7): a changed value added is a new version of the
``EconomicRecord`` (the old one stays, not current); a changed configuration is a new
``EfficiencyConfig`` version; every computation is a new ``EfficiencyRun`` whose results keep the
configuration version, the accounting run and the economic record versions that made them.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kiln.engine import efficiency as engine

SOURCE = "S31 规上工业企业碳效等级评价方法 (secondary), DB33/T 1347-2023 text not at hand"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def default_colours() -> dict:
    """One hue from dark (best) to light; the standard's colours were NOT FOUND (domain.md §4.3)."""
    return {
        "level": {"low": "#0b4f6c", "medium": "#5aa3bd", "high": "#d6e8ef"},
        "grade": {"1": "#0b4f6c", "2": "#1f7a99", "3": "#5aa3bd", "4": "#9cc7d6", "5": "#d6e8ef"},
        "neutral": {"high": "#0b4f6c", "medium": "#5aa3bd", "low": "#d6e8ef"},
    }


def validate_colours(value) -> None:
    expected = default_colours()
    if not isinstance(value, dict) or set(value) != set(expected):
        raise ValidationError(_("Colours need the groups level, grade and neutral."), code="colours")
    for group, keys in expected.items():
        given = value[group]
        if not isinstance(given, dict) or set(given) != set(keys):
            raise ValidationError(
                _("Colour group %(group)s needs the keys %(keys)s."),
                code="colours",
                params={"group": group, "keys": ", ".join(keys)},
            )
        for colour in given.values():
            if not isinstance(colour, str) or not HEX_COLOUR.match(colour):
                raise ValidationError(
                    _("%(value)s is not a colour like #1f7a99."), code="colour", params={"value": colour}
                )


class EfficiencyConfig(models.Model):
    """One version of the grading rules. Immutable: a change is a new version (``services.new_config``)."""

    class IndustryLevel(models.TextChoices):
        SECTION = "section", _("section (门类)")
        DIVISION = "division", _("division (大类)")
        GROUP = "group", _("group (中类)")
        CLASS = "class", _("class (小类)")

    class MeanKind(models.TextChoices):
        WEIGHTED = "weighted", _("weighted: industry CO2 / industry value added")
        SIMPLE = "simple", _("simple: arithmetic mean of the enterprises' L")

    version = models.PositiveIntegerField(_("version"), unique=True)
    level_low_max = models.FloatField(_("low-carbon level: L at most"), default=0.6)
    level_medium_max = models.FloatField(_("medium-carbon level: L at most"), default=2.0)
    grade_1_max = models.FloatField(_("grade 1: K at most"), default=0.6)
    grade_2_max = models.FloatField(_("grade 2: K at most"), default=0.8)
    grade_3_max = models.FloatField(_("grade 3: K at most"), default=1.2)
    grade_4_max = models.FloatField(_("grade 4: K at most"), default=2.0)
    industry_level = models.CharField(
        _("industry grouping"), max_length=8, choices=IndustryLevel.choices, default=IndustryLevel.DIVISION
    )
    mean_kind = models.CharField(
        _("industry mean"), max_length=8, choices=MeanKind.choices, default=MeanKind.WEIGHTED
    )
    include_process = models.BooleanField(
        _("count process emissions"),
        default=False,
        help_text=_(
            "The Zhejiang method counts the CO2 of total energy use; process CO2 is left out by default."
        ),
    )
    min_industry_enterprises = models.PositiveSmallIntegerField(
        _("smallest industry group graded"), default=1
    )
    neutral_medium_min = models.FloatField(
        _("neutral rate, medium mark: at least (provisional)"), default=0.05
    )
    neutral_high_min = models.FloatField(_("neutral rate, high mark: at least (provisional)"), default=0.20)
    colours = models.JSONField(_("colours"), default=default_colours, validators=[validate_colours])
    code_validity_days = models.PositiveSmallIntegerField(_("QR code valid for (days)"), default=365)
    source = models.TextField(_("source"), default=SOURCE)
    note = models.TextField(_("note"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("carbon-efficiency configuration")
        verbose_name_plural = _("carbon-efficiency configurations")

    def __str__(self) -> str:
        return f"v{self.version}"

    def method(self) -> engine.Method:
        """The engine's view of this configuration; raises ``ValueError`` when it is inconsistent."""
        return engine.Method(
            level_low_max=self.level_low_max,
            level_medium_max=self.level_medium_max,
            grade_max=(self.grade_1_max, self.grade_2_max, self.grade_3_max, self.grade_4_max),
            industry_level=self.industry_level,
            mean_kind=self.mean_kind,
            include_process=self.include_process,
            min_industry_enterprises=self.min_industry_enterprises,
            neutral_mins=(self.neutral_medium_min, self.neutral_high_min),
        )

    def clean(self) -> None:
        try:
            self.method()
        except ValueError as exc:
            raise ValidationError(str(exc), code="method") from exc


class EconomicBatch(models.Model):
    """One import of economic data that was saved (rejected files and dry runs keep nothing)."""

    class Door(models.TextChoices):
        UPLOAD = "upload", _("file upload")
        CLI = "cli", _("command line")
        API = "api", _("REST API")
        DEMO = "demo", _("demo data")

    door = models.CharField(_("door"), max_length=8, choices=Door.choices)
    organisation = models.ForeignKey(
        "registry.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    source_format = models.CharField(_("format"), max_length=32, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("new"), default=0)
    corrected_count = models.PositiveIntegerField(_("corrected"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("economic data import")
        verbose_name_plural = _("economic data imports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.door} ({self.rows})"


class EconomicRecord(models.Model):
    """An enterprise's industrial value added and output value for one year (10^4 CNY)."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="economic_records", db_index=False
    )
    year = models.PositiveSmallIntegerField(_("year"))
    value_added_10k_cny = models.DecimalField(
        _("industrial value added (10^4 CNY)"), max_digits=18, decimal_places=4
    )
    output_value_10k_cny = models.DecimalField(
        _("industrial output value (10^4 CNY)"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    batch = models.ForeignKey(EconomicBatch, on_delete=models.PROTECT, related_name="records")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    current = models.BooleanField(_("current"), default=True)
    superseded_by = models.ForeignKey(
        EconomicBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded",
        db_index=False,
    )

    class Meta:
        ordering = ["enterprise", "-year", "-version"]
        indexes = [models.Index(fields=["enterprise", "year"], name="economic_enterprise_year")]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year"], condition=Q(current=True), name="economic_one_current_version"
            ),
            models.UniqueConstraint(fields=["enterprise", "year", "version"], name="economic_version_unique"),
        ]
        verbose_name = _("economic record")
        verbose_name_plural = _("economic records")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.year} v{self.version}"


class EfficiencyRun(models.Model):
    """One grading of every enterprise of an official accounting run's region, for one year.

    Exactly one run per region and year is current; older ones stay as history.
    """

    config = models.ForeignKey(EfficiencyConfig, on_delete=models.PROTECT, related_name="runs")
    calculation = models.ForeignKey(
        "accounting.CalculationRun",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("accounting run"),
    )
    previous_calculation = models.ForeignKey(
        "accounting.CalculationRun",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("accounting run of the year before (rolling 12 months)"),
    )
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    grid_factor = models.FloatField(_("grid emission factor (tCO2/MWh)"), null=True, blank=True)
    inputs_sha256 = models.CharField(_("inputs SHA-256"), max_length=64)
    current = models.BooleanField(_("current"), default=True)
    graded = models.PositiveIntegerField(_("graded"), default=0)
    not_graded = models.PositiveIntegerField(_("not graded"), default=0)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year"], condition=Q(current=True), name="efficiency_one_current_run"
            )
        ]
        verbose_name = _("carbon-efficiency grading")
        verbose_name_plural = _("carbon-efficiency gradings")

    def __str__(self) -> str:
        return f"#{self.pk} {self.region.code} {self.year}"


class EfficiencyResult(models.Model):
    """One enterprise's L, level, K, grade and neutral rate for one period of one grading."""

    class PeriodKind(models.TextChoices):
        YEAR = "year", _("calendar year")
        ROLLING = "rolling12", _("12 months ending")

    run = models.ForeignKey(EfficiencyRun, on_delete=models.CASCADE, related_name="results")
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=7)
    period_kind = models.CharField(_("period kind"), max_length=10, choices=PeriodKind.choices)
    industry_key = models.CharField(_("industry group"), max_length=5)
    co2_gross_t = models.FloatField(_("CO2 of energy use (t)"), null=True, blank=True)
    co2_process_t = models.FloatField(_("process CO2 (t)"), default=0.0)
    green_mwh = models.FloatField(_("self-generated zero-carbon power (MWh)"), default=0.0)
    co2_avoided_t = models.FloatField(_("CO2 avoided by zero-carbon power (t)"), default=0.0)
    sinks_t = models.FloatField(_("recognised carbon sinks (t)"), default=0.0)
    co2_net_t = models.FloatField(_("net CO2 (t)"), null=True, blank=True)
    tce_total = models.FloatField(_("energy use (tce)"), default=0.0)
    metered_mwh = models.FloatField(_("metered electricity (MWh)"), null=True, blank=True)
    estimated = models.BooleanField(_("estimated from metered electricity"), default=False)
    value_added_10k_cny = models.FloatField(_("value added (10^4 CNY)"), null=True, blank=True)
    economic_record = models.ForeignKey(
        EconomicRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    l_value = models.FloatField(_("L (tCO2 per 10^4 CNY)"), null=True, blank=True)
    level = models.CharField(_("carbon-efficiency level"), max_length=6, blank=True)
    industry_mean_l = models.FloatField(_("industry mean L"), null=True, blank=True)
    industry_n = models.PositiveIntegerField(_("enterprises in the industry group"), default=0)
    k_value = models.FloatField(_("K"), null=True, blank=True)
    grade = models.PositiveSmallIntegerField(_("carbon-efficiency grade"), null=True, blank=True)
    neutral_rate = models.FloatField(_("neutral rate (provisional)"), null=True, blank=True)
    neutral_mark = models.CharField(_("neutral mark (provisional)"), max_length=6, blank=True)
    reason = models.CharField(_("reason for no grade"), max_length=40, blank=True)

    class Meta:
        ordering = ["run", "period", "enterprise"]
        indexes = [
            models.Index(fields=["run", "period_kind", "period"], name="efficiency_result_period"),
            models.Index(fields=["enterprise", "period"], name="efficiency_result_enterprise"),
        ]
        verbose_name = _("carbon-efficiency result")
        verbose_name_plural = _("carbon-efficiency results")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.period} grade {self.grade or '-'}"

    @property
    def level_label(self) -> str:
        from kiln.efficiency.display import LEVEL_LABELS

        return str(LEVEL_LABELS.get(self.level, ""))
