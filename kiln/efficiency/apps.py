from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EfficiencyConfig(AppConfig):
    name = "kiln.efficiency"
    label = "efficiency"
    verbose_name = _("Carbon-efficiency code")
