from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "kiln.monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from kiln.monitoring import signals  # noqa: F401  (digest new runs once they are committed)
