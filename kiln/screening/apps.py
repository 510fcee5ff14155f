from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "kiln.screening"
    label = "screening"
    verbose_name = _("Screening, warnings and findings")

    def ready(self):
        from kiln.screening import signals  # noqa: F401  (screen each import after it commits)
