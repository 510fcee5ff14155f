from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "kiln.audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from kiln.audit import db, signals

        db.connect()
        signals.connect()
