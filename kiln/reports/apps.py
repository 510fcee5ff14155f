import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "kiln.reports"
    label = "reports"
    verbose_name = _("Emission reports")

    def ready(self) -> None:
        # WeasyPrint logs every layout step at INFO; keep the logs for what matters.
        for name in ("weasyprint", "weasyprint.progress", "fontTools"):
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.WARNING)
