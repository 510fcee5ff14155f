"""Regions, industries and organisations: who and where everything in Kiln belongs to."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kiln.registry import credit_code


def validate_credit_code(value: str) -> None:
    reason = credit_code.problem(value)
    if reason:
        raise ValidationError(
            _("%(value)s is not a valid unified social credit code (%(reason)s)."),
            code=f"credit_code_{reason}",
            params={"value": value, "reason": reason},
        )


class Bilingual(models.Model):
    """A record with a Chinese name and an English name; ``label`` follows the UI language."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Region(Bilingual):
    """An administrative division (GB/T 2260): nation → province → city → county."""

    class Level(models.IntegerChoices):
        NATION = 0, _("nation")
        PROVINCE = 1, _("province")
        CITY = 2, _("city")
        COUNTY = 3, _("county/district")

    code = models.CharField(_("GB/T 2260 code"), max_length=6, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    # Materialised ancestry ("000000/330000/339900/"), so "this region and below" is one prefix query.
    path = models.CharField(max_length=64, db_index=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent else "") + self.code + "/"
        super().save(*args, **kwargs)


class Industry(Bilingual):
    """GB/T 4754-2017 national economic industry classification."""

    class Level(models.IntegerChoices):
        SECTION = 0, _("section")
        DIVISION = 1, _("division")
        GROUP = 2, _("group")
        CLASS = 3, _("class")

    class EtsSector(models.TextChoices):
        NONE = "", _("not covered")
        POWER = "power", _("power generation")
        STEEL = "steel", _("iron and steel")
        CEMENT = "cement", _("cement clinker")
        ALUMINIUM = "aluminium", _("aluminium smelting")

    code = models.CharField(_("GB/T 4754 code"), max_length=5, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    ets_sector = models.CharField(
        _("national ETS sector"), max_length=16, choices=EtsSector.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    @property
    def division_code(self) -> str:
        """The two-digit division (大类) this code belongs to ("C30" for "C3011")."""
        return self.code[:3]


class Organisation(Bilingual):
    """Anything users belong to: enterprise, government department, third party, grid company, operator."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("enterprise")
        GOVERNMENT = "government", _("government department")
        THIRD_PARTY = "third_party", _("third-party agency")
        GRID = "grid", _("grid company")
        OPERATOR = "operator", _("platform operator")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, db_index=True)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_credit_code],
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations", verbose_name=_("region"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")


class KindFixed(Organisation):
    """An organisation subtype whose ``kind`` follows from its class, whoever creates it."""

    KIND: str = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.kind = self.KIND
        super().save(*args, **kwargs)


class Enterprise(KindFixed):
    KIND = Organisation.Kind.ENTERPRISE

    class Size(models.TextChoices):
        LARGE = "large", _("large")
        MEDIUM = "medium", _("medium")
        SMALL = "small", _("small")
        MICRO = "micro", _("micro")

    industry = models.ForeignKey(Industry, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("industry"))
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, default=Size.MEDIUM)
    key_emitter = models.BooleanField(_("key emitter"), default=False)
    founded = models.DateField(_("founded"), null=True, blank=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")


class Facility(Bilingual):
    """A production unit of an enterprise (kiln, boiler, generating unit, electrolysis line …)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="facilities")
    code = models.CharField(_("code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    capacity = models.CharField(_("capacity"), max_length=80, blank=True)

    class Meta:
        ordering = ["enterprise", "code"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="facility_code_unique")]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")


class GovernmentDepartment(KindFixed):
    """A department at a level of government; its region is the one it governs."""

    KIND = Organisation.Kind.GOVERNMENT

    class Meta:
        verbose_name = _("government department")
        verbose_name_plural = _("government departments")

    @property
    def level(self) -> int:
        return self.region.level


class ThirdPartyAgency(KindFixed):
    KIND = Organisation.Kind.THIRD_PARTY

    class AgencyType(models.TextChoices):
        VERIFIER = "verifier", _("verification body")
        CONSULTANCY = "consultancy", _("consultancy")
        SERVICE = "service", _("service provider")

    agency_type = models.CharField(_("agency type"), max_length=16, choices=AgencyType.choices)
    accreditation_no = models.CharField(_("accreditation number"), max_length=60, blank=True)
    accreditation_scope = models.CharField(_("accreditation scope"), max_length=300, blank=True)
    accredited_until = models.DateField(_("accredited until"), null=True, blank=True)

    class Meta:
        verbose_name = _("third-party agency")
        verbose_name_plural = _("third-party agencies")
