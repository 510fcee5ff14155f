from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "kiln.ledger"
    verbose_name = _("Evidence ledger")

    def ready(self) -> None:
        from kiln.ledger import checks  # noqa: F401 - registers the signing-key check
