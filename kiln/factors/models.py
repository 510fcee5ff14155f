"""The versioned emission-factor library.

A *factor set* is a complete, versioned collection of values: fuel defaults, grid
electricity factors of every series (``MEE_ETS_GRID/CN``, ``MEE_NBS_AVG/330000`` …), the
heat factor, process constants. Its rows mirror the engine's factor-set frame
(``kiln.engine.factorset``) one to one. Every value cites its source and confidence. A set
becomes immutable the first time a calculation uses it: a change is a new version, never
an edit (DESIGN.md rule 7).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Confidence(models.TextChoices):
    PUBLISHED = "P", _("official text or verbatim press report")
    SECONDARY = "S", _("secondary source: verify before production use")
    UNVERIFIED = "U", _("unverified placeholder")
    DERIVED = "DERIVED", _("derived from read values")


class FactorSet(models.Model):
    code = models.SlugField(_("code"), max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    default_grid_series = models.CharField(_("default grid factor series"), max_length=48)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    source = models.TextField(_("source"))
    # Set the first time a calculation run uses the set; from then on its values never change.
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True, editable=False)
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64, editable=False)
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="factorset_code_version_unique")
        ]
        verbose_name = _("factor set")
        verbose_name_plural = _("factor sets")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name the engine and every result carry: ``CN-DEFAULT-2024@v2``."""
        return f"{self.code}@v{self.version}"

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


class FactorValue(models.Model):
    """One row of a set, as in the engine's factor-set frame."""

    factor_set = models.ForeignKey(FactorSet, on_delete=models.PROTECT, related_name="values")
    item = models.CharField(_("item"), max_length=64)
    parameter = models.CharField(_("parameter"), max_length=48)
    series = models.CharField(_("series"), max_length=48, blank=True)
    year_from = models.PositiveSmallIntegerField(_("from year"), null=True, blank=True)
    year_to = models.PositiveSmallIntegerField(_("to year"), null=True, blank=True)
    value = models.FloatField(_("value"))
    unit = models.CharField(_("unit"), max_length=48)
    source = models.TextField(_("source"))
    confidence = models.CharField(_("confidence"), max_length=7, choices=Confidence.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["factor_set", "item", "parameter", "series", "year_from"]
        verbose_name = _("factor value")
        verbose_name_plural = _("factor values")

    def __str__(self) -> str:
        return f"{self.item}.{self.parameter}{f' [{self.series}]' if self.series else ''} = {self.value} {self.unit}"

    def save(self, *args, **kwargs):
        self._refuse_if_locked()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_locked()
        return super().delete(*args, **kwargs)

    def _refuse_if_locked(self) -> None:
        if FactorSet.objects.filter(pk=self.factor_set_id, locked_at__isnull=False).exists():
            from kiln.factors.errors import LOCKED, refuse

            raise refuse(LOCKED)
